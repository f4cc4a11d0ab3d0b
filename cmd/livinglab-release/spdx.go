// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// spdxID is the licence of the project's own files.
const spdxID = "EUPL-1.2"

const spdxTag = "SPDX-License-Identifier:"

// spdxLines is how far from the top a file's identifier may stand.
const spdxLines = 10

func spdxCmd(root *string) *cobra.Command {
	var fix, check bool
	c := &cobra.Command{
		Use:   "spdx --check | --fix",
		Short: "Check or add the SPDX licence identifier (" + spdxID + ") in the project's source files",
		Long: "spdx lists the project's source files (Go files, shell scripts, service, config and container files\n" +
			"tracked by git or new and not ignored) that carry no SPDX-License-Identifier line near the top.\n" +
			"--fix adds \"SPDX-License-Identifier: " + spdxID + "\" to them; running it again changes nothing.\n" +
			"A file that names another licence is left as it is.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fix == check {
				return fmt.Errorf("give exactly one of --check and --fix")
			}
			files, err := spdxFiles(*root)
			if err != nil {
				return err
			}
			missing, err := spdxMissing(*root, files)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if check {
				if len(missing) == 0 {
					fmt.Fprintf(w, "spdx: all %d source files carry a licence identifier\n", len(files))
					return nil
				}
				for _, f := range missing {
					fmt.Fprintf(w, "no SPDX-License-Identifier: %s\n", f)
				}
				return fmt.Errorf("%d source files carry no licence identifier; add them with: go run ./cmd/livinglab-release spdx --fix", len(missing))
			}
			for _, f := range missing {
				if err := spdxAdd(*root, f); err != nil {
					return err
				}
				fmt.Fprintf(w, "added: %s\n", f)
			}
			fmt.Fprintf(w, "spdx: %d files changed, %d checked\n", len(missing), len(files))
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "fail when a source file carries no identifier")
	c.Flags().BoolVar(&fix, "fix", false, "add the identifier where it is missing")
	return c
}

// commentStyle is the line comment a file takes, or "" when it takes none.
func commentStyle(name string, head []byte) string {
	base := path.Base(name)
	if strings.Contains("/"+name, "/testdata/") {
		return ""
	}
	switch {
	case strings.HasSuffix(base, ".go"):
		return "//"
	case strings.HasSuffix(base, ".sh"), strings.HasSuffix(base, ".service"),
		strings.HasSuffix(base, ".conf") && strings.HasPrefix(name, "deploy/"),
		strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"),
		base == "Dockerfile", strings.HasPrefix(base, "Dockerfile."), strings.HasSuffix(base, ".dockerignore"):
		return "#"
	case bytes.HasPrefix(head, []byte("#!")) && (bytes.Contains(head[:min(len(head), 64)], []byte("sh")) || strings.HasPrefix(name, ".ci/")):
		return "#"
	}
	return ""
}

// spdxFiles lists the project's source files, relative to root, in git's
// order: tracked files and new ones that are not ignored.
func spdxFiles(root string) ([]string, error) {
	listed, err := gitList(root)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range listed {
		head, err := readHead(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			return nil, err
		}
		if commentStyle(f, head) != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, err
	}
	b := make([]byte, 4096)
	n, err := io.ReadFull(f, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}

// hasSPDX says whether an identifier stands in the first lines of b.
func hasSPDX(b []byte) bool {
	for i, line := range bytes.SplitN(b, []byte("\n"), spdxLines+1) {
		if i == spdxLines {
			break
		}
		if bytes.Contains(line, []byte(spdxTag)) {
			return true
		}
	}
	return false
}

func spdxMissing(root string, files []string) ([]string, error) {
	var missing []string
	for _, f := range files {
		head, err := readHead(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		if !hasSPDX(head) {
			missing = append(missing, f)
		}
	}
	return missing, nil
}

// withSPDX returns b with the identifier added: after a "#!" line or a
// Dockerfile parser directive, else first; Go files keep a blank line after
// it so that it is not read as the package documentation.
func withSPDX(name string, b []byte) []byte {
	if hasSPDX(b) {
		return b
	}
	style := commentStyle(name, b)
	line := []byte(style + " " + spdxTag + " " + spdxID + "\n")
	if style == "//" {
		line = append(line, '\n')
	}
	at := 0
	for at < len(b) {
		end := bytes.IndexByte(b[at:], '\n')
		if end < 0 {
			break
		}
		first := b[at : at+end]
		if !(at == 0 && bytes.HasPrefix(first, []byte("#!"))) && !isDockerDirective(name, first) {
			break
		}
		at += end + 1
	}
	out := make([]byte, 0, len(b)+len(line))
	out = append(out, b[:at]...)
	out = append(out, line...)
	return append(out, b[at:]...)
}

func isDockerDirective(name string, line []byte) bool {
	base := path.Base(name)
	if base != "Dockerfile" && !strings.HasPrefix(base, "Dockerfile.") {
		return false
	}
	l := strings.ToLower(strings.TrimSpace(string(line)))
	return strings.HasPrefix(l, "# syntax=") || strings.HasPrefix(l, "# escape=") || strings.HasPrefix(l, "# check=")
}

func spdxAdd(root, name string) error {
	p := filepath.Join(root, name)
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	out := withSPDX(name, b)
	if bytes.Equal(out, b) {
		return nil
	}
	tmp := p + ".spdx-tmp"
	if err := os.WriteFile(tmp, out, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
