// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/livinglab/livinglab/knowledge"
)

// BackupManifest describes a backup archive.
type BackupManifest struct {
	Format  int       `json:"format"`
	PeerID  string    `json:"peer_id"`
	Region  string    `json:"region"`
	Created time.Time `json:"created"`
	// Since and Until are Badger versions: an incremental backup holds the
	// changes after Since; Until is the Since of the next incremental one.
	Since  uint64 `json:"since"`
	Until  uint64 `json:"until"`
	Schema int    `json:"schema"`
	// SHA256 holds the hex SHA-256 of every other file in the archive
	// (format 2 on): the store stream has no checksums of its own, so this
	// is what finds a damaged or tampered archive before it is trusted.
	SHA256 map[string]string `json:"sha256,omitempty"`
}

// backupFormat 2 adds the files' checksums to the manifest; restore reads
// format 1 archives too, checking their records by CID.
const backupFormat = 2

// ErrDamagedBackup is returned by Restore for an archive whose checksums or
// records do not verify.
var ErrDamagedBackup = errors.New("the backup is damaged")

// RestoreOptions adjust Restore.
type RestoreOptions struct {
	Progress func(string)
	// KeepDamaged restores an archive some of whose records are damaged:
	// they are left out, and the node fetches them from the members at its
	// next sync. Damage outside the records (lab data, config, identity)
	// is still refused.
	KeepDamaged bool
}

// WriteBackup writes a consistent snapshot (a tar archive: manifest,
// config, identity, API token, and the store's Badger backup stream of the
// changes after since) while the node keeps running.
func (n *Node) WriteBackup(w io.Writer, since uint64) (BackupManifest, error) {
	tw := tar.NewWriter(w)
	schema, _ := n.store.SchemaOf()
	m := BackupManifest{Format: backupFormat, PeerID: n.id.String(), Region: n.Config().Region, Created: time.Now().UTC(), Since: since, Schema: schema,
		SHA256: map[string]string{}}
	add := func(name string, b []byte, mode int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
			return err
		}
		if name != "manifest.json" {
			sum := sha256.Sum256(b)
			m.SHA256[name] = hex.EncodeToString(sum[:])
		}
		_, err := tw.Write(b)
		return err
	}
	for _, f := range []struct {
		name, path string
	}{{fileConfig, n.home.Config()}, {fileKey, n.home.Key()}, {fileToken, n.home.Token()}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return m, fmt.Errorf("backup %s: %w", f.name, err)
		}
		if err := add(f.name, b, 0o600); err != nil {
			return m, err
		}
	}
	// The store stream goes to a temporary file first: tar needs its size.
	tmp, err := os.CreateTemp(n.home.Dir, ".backup-*.tmp")
	if err != nil {
		return m, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriter(tmp)
	until, err := n.store.Dump(bw, since)
	if err != nil {
		return m, fmt.Errorf("backup store: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return m, err
	}
	m.Until = until
	size, _ := tmp.Seek(0, io.SeekCurrent)
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "store.badger", Mode: 0o600, Size: size, ModTime: time.Now()}); err != nil {
		return m, err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), tmp); err != nil {
		return m, err
	}
	m.SHA256["store.badger"] = hex.EncodeToString(h.Sum(nil))
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := add("manifest.json", mb, 0o644); err != nil {
		return m, err
	}
	return m, tw.Close()
}

// Restore restores backup archives (a full one, then incremental ones in
// order) into an empty home, refusing any damage (see RestoreWith).
func Restore(dir string, archives []io.Reader, progress func(string)) (BackupManifest, error) {
	return RestoreWith(dir, archives, RestoreOptions{Progress: progress})
}

// RestoreWith restores backup archives into an empty home and verifies
// them: every file against the checksum in its archive's manifest, and
// every restored record against its CID and signature. A damaged archive
// is refused with the list of what is damaged, and the home is left empty;
// with o.KeepDamaged, damage confined to records is accepted and those
// records are left for the members to supply.
func RestoreWith(dir string, archives []io.Reader, o RestoreOptions) (_ BackupManifest, err error) {
	progress := o.Progress
	h := Home{Dir: dir}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return BackupManifest{}, fmt.Errorf("%w: restore needs an empty home, %s is not empty", ErrHomeExists, dir)
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return BackupManifest{}, err
	}
	var last BackupManifest
	var db *knowledge.Loader
	storeDamaged := false
	defer func() {
		if db != nil {
			db.Close()
		}
		if err != nil {
			// The home was empty: leave it so, ready for a corrected restore.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
			if statErr != nil {
				os.Remove(dir)
			}
		}
	}()
	var files map[string][]byte
	for i, a := range archives {
		tr := tar.NewReader(a)
		files = map[string][]byte{}
		sums := map[string]string{}
		var m BackupManifest
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return last, fmt.Errorf("archive %d is not a livinglab backup: %w", i+1, err)
			}
			switch hdr.Name {
			case "store.badger":
				if db == nil {
					var err error
					db, err = knowledge.NewLoader(h.Store())
					if err != nil {
						return last, err
					}
				}
				if progress != nil {
					progress(fmt.Sprintf("loading store from archive %d (%d bytes)", i+1, hdr.Size))
				}
				h := sha256.New()
				if err := db.Load(io.TeeReader(tr, h)); err != nil {
					return last, fmt.Errorf("%w: archive %d: load store: %v", ErrDamagedBackup, i+1, err)
				}
				// Load may stop before the end of a stream it accepts.
				if _, err := io.Copy(h, tr); err != nil {
					return last, err
				}
				sums["store.badger"] = hex.EncodeToString(h.Sum(nil))
			case fileConfig, fileKey, fileToken, "manifest.json":
				if hdr.Size > 1<<20 {
					return last, fmt.Errorf("archive %d: %s too large", i+1, hdr.Name)
				}
				b, err := io.ReadAll(tr)
				if err != nil {
					return last, err
				}
				files[hdr.Name] = b
				sum := sha256.Sum256(b)
				sums[hdr.Name] = hex.EncodeToString(sum[:])
			}
		}
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Format < 1 || m.Format > backupFormat {
			return last, fmt.Errorf("%w: archive %d has no valid manifest", ErrDamagedBackup, i+1)
		}
		if m.Format >= 2 {
			var bad []string
			for name, want := range m.SHA256 {
				if got, ok := sums[name]; !ok {
					bad = append(bad, name+" is missing")
				} else if got != want {
					bad = append(bad, name+" does not match its checksum")
				}
			}
			for name := range sums {
				if _, ok := m.SHA256[name]; !ok && name != "manifest.json" {
					bad = append(bad, name+" has no checksum")
				}
			}
			if len(bad) > 0 {
				slices.Sort(bad)
				storeOnly := len(bad) == 1 && strings.HasPrefix(bad[0], "store.badger ")
				if !o.KeepDamaged || !storeOnly {
					return last, fmt.Errorf("%w: archive %d: %s", ErrDamagedBackup, i+1, strings.Join(bad, "; "))
				}
				storeDamaged = true
			}
		}
		if i > 0 && (m.PeerID != last.PeerID || m.Since != last.Until) {
			return last, fmt.Errorf("archive %d does not follow archive %d (since %d, expected %d from the same node)", i+1, i, m.Since, last.Until)
		}
		if i == 0 && m.Since != 0 {
			return last, fmt.Errorf("the first archive must be a full backup (it is incremental since %d)", m.Since)
		}
		last = m
	}
	if files == nil {
		return last, errors.New("no archive given")
	}
	if db != nil {
		// Load the archives' schema, then let the store migrate from it.
		err := db.Close()
		db = nil
		if err != nil {
			return last, err
		}
		st, err := knowledge.Open(h.Store(), knowledge.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return last, err
		}
		if progress != nil {
			progress("verifying every record against its CID and signature")
		}
		err = verifyRestored(st, o.KeepDamaged, storeDamaged)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return last, err
		}
	}
	for _, f := range []string{fileConfig, fileKey, fileToken} {
		if len(files[f]) == 0 {
			return last, fmt.Errorf("the backup lacks %s", f)
		}
		if err := writeFileAtomic(filepath.Join(dir, f), files[f], 0o600); err != nil {
			return last, err
		}
	}
	return last, nil
}

// verifyRestored checks every restored record. Damaged records are refused,
// or with keep, dropped (with their index entries, so that sync fetches them
// again). A store stream whose checksum failed while every record verifies
// holds its damage elsewhere (lab data, indexes) and is always refused.
func verifyRestored(st *knowledge.Store, keep, streamDamaged bool) error {
	rep, err := st.Check(context.Background(), knowledge.CheckOptions{Signatures: true})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamagedBackup, err)
	}
	damaged := rep.DamagedRecords()
	if len(damaged) == 0 {
		if streamDamaged {
			return fmt.Errorf("%w: the store does not match its checksum, but every record verifies: the damage is in lab data or indexes, which no member can supply", ErrDamagedBackup)
		}
		return nil
	}
	if !keep {
		var list []string
		for _, p := range rep.Problems {
			if p.Where == "record" {
				list = append(list, p.CID.String())
			}
		}
		const show = 20
		more := ""
		if len(list) > show {
			more = fmt.Sprintf(" and %d more", len(list)-show)
			list = list[:show]
		}
		return fmt.Errorf("%w: %d of %d records do not verify: %s%s (restore with --keep-damaged to restore the rest and fetch these from the members)",
			ErrDamagedBackup, len(damaged), rep.Records, strings.Join(list, ", "), more)
	}
	if err := st.Discard(damaged); err != nil {
		return err
	}
	if _, err := st.Check(context.Background(), knowledge.CheckOptions{FixIndex: true}); err != nil {
		return err
	}
	return nil
}

// ExportRow is one public record in an open-data export.
type ExportRow struct {
	PracticeView
	Kind string `json:"kind"`
}

// ReadManifest reads the manifest of a backup archive.
func ReadManifest(r io.Reader) (BackupManifest, error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return BackupManifest{}, fmt.Errorf("not a livinglab backup: %w", err)
		}
		if hdr.Name == "manifest.json" {
			var m BackupManifest
			err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m)
			return m, err
		}
	}
}
