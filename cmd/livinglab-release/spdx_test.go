// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithSPDXPlacesTheIdentifier(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"a.go", "// Package a does things.\npackage a\n",
			"// SPDX-License-Identifier: EUPL-1.2\n\n// Package a does things.\npackage a\n"},
		{"b_test.go", "//go:build linux\n\npackage b\n",
			"// SPDX-License-Identifier: EUPL-1.2\n\n//go:build linux\n\npackage b\n"},
		{".ci/run", "#!/usr/bin/env bash\nset -e\n",
			"#!/usr/bin/env bash\n# SPDX-License-Identifier: EUPL-1.2\nset -e\n"},
		{"deploy/Dockerfile", "# syntax=docker/dockerfile:1\nFROM x\n",
			"# syntax=docker/dockerfile:1\n# SPDX-License-Identifier: EUPL-1.2\nFROM x\n"},
		{"deploy/x.service", "[Unit]\n", "# SPDX-License-Identifier: EUPL-1.2\n[Unit]\n"},
		{"c.go", "// SPDX-License-Identifier: MIT\n\npackage c\n", "// SPDX-License-Identifier: MIT\n\npackage c\n"},
	}
	for _, c := range cases {
		got := string(withSPDX(c.name, []byte(c.in)))
		if got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
		if again := string(withSPDX(c.name, []byte(got))); again != got {
			t.Errorf("%s: a second pass changed the file: %q", c.name, again)
		}
	}
}

func TestCommentStyleSkipsDataAndTestdata(t *testing.T) {
	for name, want := range map[string]string{
		"knowledge/a.go":                 "//",
		"knowledge/testdata/x.go":        "",
		"README.md":                      "",
		"knowledge/anon/words/en.txt":    "",
		"deploy/nfpm.yaml":               "#",
		"deploy/livinglab.tmpfiles.conf": "#",
	} {
		if got := commentStyle(name, nil); got != want {
			t.Errorf("commentStyle(%s) = %q, want %q", name, got, want)
		}
	}
	if got := commentStyle(".ci/package", []byte("#!/usr/bin/env bash\n")); got != "#" {
		t.Errorf("a script in .ci takes %q", got)
	}
}

// TestSPDXCommand runs check, fix, check and fix again in a repository.
func TestSPDXCommand(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.org/x\n")
	write("a/a.go", "// Package a.\npackage a\n")
	write("b/b.go", "// SPDX-License-Identifier: EUPL-1.2\n\npackage b\n")
	write("run.sh", "#!/bin/sh\necho hi\n")
	write("notes.md", "# notes\n")
	write("ignored/c.go", "package c\n")
	write(".gitignore", "/ignored/\n")
	if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	run := func(args ...string) (string, error) {
		c := newRoot()
		var out bytes.Buffer
		c.SetOut(&out)
		c.SetErr(&out)
		c.SetArgs(append(args, "--root", root))
		err := c.Execute()
		return out.String(), err
	}
	out, err := run("spdx", "--check")
	if err == nil || !strings.Contains(out, "a/a.go") || !strings.Contains(out, "run.sh") || strings.Contains(out, "b/b.go") || strings.Contains(out, "ignored") {
		t.Fatalf("check before fix: err %v, output:\n%s", err, out)
	}
	if out, err := run("spdx", "--fix"); err != nil || !strings.Contains(out, "2 files changed") {
		t.Fatalf("fix: %v\n%s", err, out)
	}
	if out, err := run("spdx", "--check"); err != nil {
		t.Fatalf("check after fix: %v\n%s", err, out)
	}
	before, _ := os.ReadFile(filepath.Join(root, "a/a.go"))
	if out, err := run("spdx", "--fix"); err != nil || !strings.Contains(out, "0 files changed") {
		t.Fatalf("second fix: %v\n%s", err, out)
	}
	after, _ := os.ReadFile(filepath.Join(root, "a/a.go"))
	if !bytes.Equal(before, after) || !bytes.HasPrefix(after, []byte("// SPDX-License-Identifier: EUPL-1.2\n\n// Package a.")) {
		t.Fatalf("a/a.go after two fixes:\n%s", after)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "ignored/c.go")); string(b) != "package c\n" {
		t.Fatalf("an ignored file was changed: %q", b)
	}
}
