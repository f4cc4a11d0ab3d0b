// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/node"
)

func opsCmds() []*cobra.Command {
	return []*cobra.Command{backupCmd(), restoreCmd(), exportCmd(), healthCmd()}
}

// rawCall sends one request to the daemon, with the API token and, when
// body is not nil, size bytes of contentType, through hc (nil: the
// client's own, which gives up after a while). It returns the answer when
// it is 200 OK; any other answer becomes an error with the daemon's message.
func rawCall(cx context.Context, hc *http.Client, method, path string, body io.Reader, size int64, contentType string) (*http.Response, error) {
	cl, err := client()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(cx, method, cl.Base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+cl.Token)
	if hc == nil {
		hc = cl.HTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", node.ErrNoDaemon, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e node.APIError
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return nil, fmt.Errorf("%s", e.Error)
	}
	return resp, nil
}

// download streams an API answer into a file, atomically.
func download(path, out string) (int64, error) {
	cx, cancel := ctx()
	defer cancel()
	// A backup or an export takes as long as it takes: no time limit.
	resp, err := rawCall(cx, http.DefaultClient, "GET", path, nil, 0, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".part*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, &progressReader{r: resp.Body, label: "downloading"})
	if err != nil {
		tmp.Close()
		return n, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), out)
}

func backupCmd() *cobra.Command {
	var since uint64
	var incremental, encrypt bool
	c := command("backup FILE [--incremental]", "Write a consistent backup of the running node (store, identity, config)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		state := filepath.Join(homeDir, "backup.last")
		if incremental && since == 0 {
			b, err := os.ReadFile(state)
			if err != nil {
				return fmt.Errorf("no earlier backup recorded in %s: make a full backup first", state)
			}
			since, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
		var passphrase string
		if encrypt {
			var err error
			if passphrase, err = readPassphrase(true); err != nil {
				return err
			}
		}
		plain := args[0]
		if encrypt {
			tmp, err := os.CreateTemp(dirOf(args[0]), ".backup-*.tar.part")
			if err != nil {
				return err
			}
			tmp.Close()
			defer os.Remove(tmp.Name())
			plain = tmp.Name()
		}
		n, err := download("/api/v1/backup?since="+strconv.FormatUint(since, 10), plain)
		if err != nil {
			return err
		}
		m, err := readManifest(plain)
		if err != nil {
			return err
		}
		if encrypt {
			if err := encryptFile(plain, args[0], passphrase); err != nil {
				return fmt.Errorf("encrypt backup: %w", err)
			}
		}
		if m.Until > 0 {
			os.WriteFile(state, []byte(strconv.FormatUint(m.Until, 10)+"\n"), 0o600)
		}
		kind := "full"
		if m.Since > 0 {
			kind = fmt.Sprintf("incremental since %d", m.Since)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Backup written to %s (%d bytes, %s, up to version %d).\n", args[0], n, kind, m.Until)
		if encrypt {
			fmt.Fprintln(cmd.OutOrStdout(), "It is encrypted with your passphrase: restore asks for it.")
		} else {
			fmt.Fprintln(cmd.OutOrStdout(), "It holds the node's private key: keep it safe (--encrypt seals it with a passphrase).")
		}
		return nil
	})
	c.Long = "Writes a tar archive while the daemon runs. With --incremental, only what changed since the\n" +
		"last backup of this home is written; restore the full backup, then each incremental one in order."
	c.Flags().BoolVar(&encrypt, "encrypt", false, "seal the backup with a passphrase (asked on the terminal, or "+passphraseEnv+")")
	c.Flags().BoolVar(&incremental, "incremental", false, "only what changed since the last backup")
	c.Flags().Uint64Var(&since, "since", 0, "only what changed after this backup version")
	return c
}

func dirOf(path string) string { return filepath.Dir(path) }

func readManifest(path string) (node.BackupManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return node.BackupManifest{}, err
	}
	defer f.Close()
	return node.ReadManifest(f)
}

func restoreCmd() *cobra.Command {
	var keepDamaged bool
	c := command("restore FILE [FILE...] --home EMPTYDIR", "Restore a backup (then incremental backups in order) into an empty home", cobra.MinimumNArgs(1), func(cmd *cobra.Command, args []string) error {
		var rs []io.Reader
		for _, a := range args {
			f, err := os.Open(a)
			if err != nil {
				return err
			}
			defer f.Close()
			st, _ := f.Stat()
			r, err := openBackup(&progressReader{r: f, total: st.Size(), label: "restoring " + filepath.Base(a)}, a)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		m, err := node.RestoreWith(homeDir, rs, node.RestoreOptions{KeepDamaged: keepDamaged})
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Restored %s (%s) into %s.\nNext: livinglab run --home %s\n", m.Region, m.PeerID, homeDir, homeDir)
		return nil
	})
	c.Long = "Restores and verifies: every file against the checksum in its archive's manifest and every\n" +
		"record against its CID and signature. A damaged archive is refused with the list of what is\n" +
		"damaged and the home is left empty. --keep-damaged restores the rest when only records are\n" +
		"damaged; the node then fetches those records from the members."
	c.Flags().BoolVar(&keepDamaged, "keep-damaged", false, "restore an archive with damaged records, leaving those for the members to supply")
	return c
}

func exportCmd() *cobra.Command {
	var format, topic, out, base string
	var private bool
	c := command("export --format json|csv|dcat [--topic T] [--base URL] [--out FILE]", "Export the public knowledge this node holds (open data)", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		if format != "json" && format != "csv" && format != "dcat" {
			return fmt.Errorf("--format must be json, csv or dcat")
		}
		path := "/api/v1/export?" + url.Values{"format": {format}, "topic": {topic}}.Encode()
		if format == "dcat" {
			// The DCAT-AP catalogue (JSON-LD) of the public practices.
			v := url.Values{"topic": {topic}}
			if base != "" {
				v.Set("base", base)
			}
			path = "/api/v1/catalog?" + v.Encode()
		}
		if private {
			if out == "" {
				return fmt.Errorf("--private writes only to a local file: give --out FILE")
			}
			if format != "json" {
				return fmt.Errorf("--private exports JSON only")
			}
			path = "/api/v1/lab/export"
		}
		if out != "" {
			n, err := download(path, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Exported %d bytes to %s\n", n, out)
			return nil
		}
		tmp, err := os.CreateTemp("", "livinglab-export-*")
		if err != nil {
			return err
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		if _, err := download(path, tmp.Name()); err != nil {
			return err
		}
		b, err := os.ReadFile(tmp.Name())
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	})
	c.Long = "Exports signed public records only. --private exports the region's private lab data instead,\nfor the local administrator, and only into a local file (--out)."
	c.Flags().StringVar(&format, "format", "json", "json, csv or dcat (a DCAT-AP 3.0 catalogue in JSON-LD)")
	c.Flags().StringVar(&base, "base", "", "with dcat: the public URL the catalogue's links start with (default: the daemon's address)")
	c.Flags().StringVar(&topic, "topic", "", "only this topic")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	c.Flags().BoolVar(&private, "private", false, "export the private lab data (local administrator, file only)")
	return c
}

func healthCmd() *cobra.Command {
	return command("health", "Exit 0 when the daemon answers its health check (for container and service probes)", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var h node.Health
		if err := call("GET", "/api/v1/health", nil, &h); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, %d peers\n", h.Status, h.PeerID, h.Peers)
		return nil
	})
}
