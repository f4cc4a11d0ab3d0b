// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func goLicence(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIdentifyLicences(t *testing.T) {
	if f := identify("LICENSE", goLicence(t)); strings.Join(f.IDs, ",") != "BSD-3-Clause" {
		t.Errorf("Go's licence: %v", f.IDs)
	}
	f := identify("LICENSE.md", []byte("Dual licensed.\n<!--- SPDX-License-Identifier: Apache-2.0 OR MIT -->\n"))
	if f.Expr != "Apache-2.0 OR MIT" || strings.Join(f.IDs, ",") != "Apache-2.0,MIT" {
		t.Errorf("SPDX line: %q %v", f.Expr, f.IDs)
	}
	if f := identify("LICENSE", []byte("Copyright 2026 Example Corp. All rights reserved.\nNo part of this software may be copied.\n")); len(f.IDs) != 0 || f.Expr != "" {
		t.Errorf("a proprietary notice was identified as %v %q", f.IDs, f.Expr)
	}
}

// TestNoticesRejectPlantedModules plants modules and data with licences
// that must fail the check, beside ones that pass.
func TestNoticesRejectPlantedModules(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"good/LICENSE":        string(goLicence(t)),
		"secret/LICENSE":      "Copyright 2026 Example Corp. All rights reserved.\nNo part of this software may be copied, modified or distributed.\n",
		"bare/main.go":        "package bare\n",
		"pointer/LICENSE":     "Licensed under MIT or Apache-2.0, see LICENSE-MIT and LICENSE-APACHE.\n",
		"pointer/LICENSE-MIT": string(goLicence(t)), // stands in for the files the note points to
	})
	var n notices
	for _, name := range []string{"good", "secret", "bare"} {
		m, err := scanModule("example.org/"+name, "v1.0.0", filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		n.modules = append(n.modules, m)
	}
	probs := strings.Join(n.problems(), "\n")
	for _, want := range []string{"example.org/secret v1.0.0: unknown licence in LICENSE", "example.org/bare v1.0.0: no licence file"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
	if strings.Contains(probs, "example.org/good") {
		t.Errorf("a BSD-licensed module was rejected:\n%s", probs)
	}
	// A note naming licences whose texts are not beside it stays unknown.
	m, err := scanModule("example.org/pointer", "v1.0.0", filepath.Join(dir, "pointer"))
	if err != nil {
		t.Fatal(err)
	}
	if lic := m.licence(); lic != "" {
		t.Errorf("a note naming MIT and Apache-2.0 beside a BSD text was read as %q", lic)
	}

	// A licence that is known but not allowed in the program.
	gpl := module{Path: "example.org/gpl", Version: "v2.0.0", Licences: []licenceFile{{Name: "COPYING", IDs: []string{"GPL-3.0-only"}}}}
	n = notices{modules: []module{gpl}}
	if probs := strings.Join(n.problems(), "\n"); !strings.Contains(probs, "example.org/gpl v2.0.0: licence GPL-3.0-only is not allowed") {
		t.Errorf("GPL module: %s", probs)
	}
	if b, err := os.ReadFile("/usr/share/common-licenses/GPL-3"); err == nil {
		if f := identify("COPYING", b); strings.Join(f.IDs, ",") != "GPL-3.0" && !strings.HasPrefix(strings.Join(f.IDs, ","), "GPL-3.0") {
			t.Errorf("GPL-3 text identified as %v", f.IDs)
		} else if ok := (&notices{modules: []module{{Path: "x", Licences: []licenceFile{f}}}}).problems(); len(ok) != 1 {
			t.Errorf("GPL-3 text: problems %v", ok)
		}
	}
}

func TestNoticesCheckBundledData(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod":                  "module example.org/x\n",
		"ok/words.txt":            "a\n",
		"ok/LICENSE.words":        "Attribution text\n",
		"ok/own.txt":              "b\n",
		"ok/SOURCES.json":         `[{"files":["words.txt"],"source":"Debian package words 1.0","license":"CC-BY-4.0","license_file":"LICENSE.words","command":"make words"},{"files":["own.txt"],"source":"written for this project","license":"EUPL-1.2"}]`,
		"mystery/list.txt":        "c\n",
		"mystery/LICENSE.list":    "Some terms\n",
		"mystery/SOURCES.json":    `[{"files":["list.txt"],"source":"somewhere","license":"LicenseRef-Mystery","license_file":"LICENSE.list"}]`,
		"broken/SOURCES.json":     `{"files": []}`,
		"incomplete/a.txt":        "d\n",
		"incomplete/SOURCES.json": `[{"files":["a.txt","gone.txt"],"source":"x","license":"MIT","license_file":"LICENSE"}]`,
		"notext/a.txt":            "e\n",
		"notext/SOURCES.json":     `[{"files":["a.txt"],"source":"x","license":"MIT"}]`,
		"later/new/SOURCES.json":  `[{"files":["n.txt"],"source":"Debian package n","license":"GPL-2.0-or-later","license_file":"COPYING"}]`,
		"bad/b.txt":               "g\n",
		"bad/LICENSE.b":           "terms\n",
		"bad/SOURCES.json":        `[{"files":["b.txt"],"source":"x","license":"MIT OR Proprietary-Thing","license_file":"LICENSE.b"}]`,
		"later/new/n.txt":         "f\n",
		"later/new/COPYING":       "text\n",
	})
	if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	data, err := bundledData(root)
	if err != nil {
		t.Fatal(err)
	}
	n := notices{data: data}
	probs := strings.Join(n.problems(), "\n")
	for _, want := range []string{
		"data mystery/SOURCES.json (list.txt): licence LicenseRef-Mystery is unknown or not allowed",
		"broken/SOURCES.json: not a JSON array",
		"incomplete/SOURCES.json entry 1",
		"notext/SOURCES.json entry 1 (a.txt): no license_file",
		"data bad/SOURCES.json (b.txt): licence \"MIT OR Proprietary-Thing\" is not a valid SPDX expression",
	} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
	if strings.Contains(probs, "ok/") || strings.Contains(probs, "later/new") {
		t.Errorf("allowed data was rejected:\n%s", probs)
	}
	unlisted, err := unlistedData(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(unlisted) != 0 {
		t.Errorf("directories with SOURCES.json reported as unlisted: %v", unlisted)
	}
	writeFiles(t, root, map[string]string{"words/SCOWL-COPYRIGHT": "notice\n", "words/en.txt": "a\n", "docs/licences.md": "x\n"})
	if unlisted, _ := unlistedData(root); len(unlisted) != 1 || !strings.HasPrefix(unlisted[0], "words holds SCOWL-COPYRIGHT but no SOURCES.json") {
		t.Errorf("unlisted: %v", unlisted)
	}
	out := string((&notices{stdlib: identify("LICENSE", goLicence(t)), data: data[:0]}).render())
	if !strings.Contains(out, "2. Bundled data\n\n   none") {
		t.Errorf("render without data:\n%s", out)
	}
	var okData []dataEntry
	for _, e := range data {
		if e.Dir == "ok" {
			okData = append(okData, e)
		}
	}
	out = string((&notices{stdlib: identify("LICENSE", goLicence(t)), data: okData}).render())
	for _, want := range []string{"ok: words.txt\n     source: Debian package words 1.0\n     licence: CC-BY-4.0 [2]", "ok: own.txt", "licence: EUPL-1.2 (LICENSE)", "[2] ok: LICENSE.words\n\nAttribution text\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("notices lack %q:\n%s", want, out)
		}
	}
}
