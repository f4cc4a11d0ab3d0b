package node

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
}

const backupFormat = 1

// WriteBackup writes a consistent snapshot (a tar archive: manifest,
// config, identity, API token, and the store's Badger backup stream of the
// changes after since) while the node keeps running.
func (n *Node) WriteBackup(w io.Writer, since uint64) (BackupManifest, error) {
	tw := tar.NewWriter(w)
	add := func(name string, b []byte, mode int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	schema, _ := n.store.SchemaOf()
	m := BackupManifest{Format: backupFormat, PeerID: n.id.String(), Region: n.Config().Region, Created: time.Now().UTC(), Since: since, Schema: schema}
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
	if _, err := io.Copy(tw, tmp); err != nil {
		return m, err
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := add("manifest.json", mb, 0o644); err != nil {
		return m, err
	}
	return m, tw.Close()
}

// Restore restores backup archives (a full one, then incremental ones in
// order) into an empty home.
func Restore(dir string, archives []io.Reader, progress func(string)) (_ BackupManifest, err error) {
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
				if err := db.Load(tr); err != nil {
					return last, fmt.Errorf("load store from archive %d: %w", i+1, err)
				}
			case fileConfig, fileKey, fileToken, "manifest.json":
				if hdr.Size > 1<<20 {
					return last, fmt.Errorf("archive %d: %s too large", i+1, hdr.Name)
				}
				b, err := io.ReadAll(tr)
				if err != nil {
					return last, err
				}
				files[hdr.Name] = b
			}
		}
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Format != backupFormat {
			return last, fmt.Errorf("archive %d has no valid manifest", i+1)
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
		st, err := knowledge.Open(h.Store(), knowledge.Options{})
		if err != nil {
			return last, err
		}
		if err := st.Close(); err != nil {
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
