// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// copyRepo copies the repository's files (tracked, or new and not ignored)
// into dst.
func copyRepo(t *testing.T, dst string) {
	t.Helper()
	files, err := gitFiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("../..", f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join("../..", f))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReleaseIsReproducible builds the program twice from two copies of
// the source in different places and compares the bytes, then packs the
// Debian package twice.
func TestReleaseIsReproducible(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("release builds run on Linux")
	}
	ctx := context.Background()
	tmp := t.TempDir()
	srcA := filepath.Join(tmp, "a")
	srcB := filepath.Join(tmp, "another", "checkout", "of", "the", "source")
	copyRepo(t, srcA)
	copyRepo(t, srcB)
	st := stamp{Version: "1.2.3~test", Commit: "0123456789abcdef0123456789abcdef01234567", Date: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	binA, binB := filepath.Join(tmp, "out-a", "livinglab"), filepath.Join(tmp, "out-b", "livinglab")
	if err := buildBinary(ctx, srcA, runtime.GOARCH, st, binA); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TZ", "Pacific/Auckland") // the machine's time zone must not matter
	if err := buildBinary(ctx, srcB, runtime.GOARCH, st, binB); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(binA)
	b, _ := os.ReadFile(binB)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("two builds of the same source differ (%d and %d bytes)", len(a), len(b))
	}
	for _, dir := range []string{srcA, srcB, "/root", os.Getenv("HOME")} {
		if dir != "" && dir != "/" && bytes.Contains(a, []byte(dir+"/")) {
			t.Errorf("the binary holds the path %s", dir)
		}
	}

	out, err := exec.Command(binA, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	for _, want := range []string{"livinglab 1.2.3~test\n", "commit: " + st.Commit + "\n", "built: 2026-11-28T10:00:00Z\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}

	lic := map[string]string{"github.com/spf13/cobra": "Apache-2.0", "std": "BSD-3-Clause", "github.com/ipfs/boxo": "Apache-2.0 OR MIT"}
	sbomA, sbomB := filepath.Join(tmp, "a.cdx.json"), filepath.Join(tmp, "b.cdx.json")
	if err := writeSBOM(binA, sbomA, st, lic); err != nil {
		t.Fatal(err)
	}
	if err := writeSBOM(binB, sbomB, st, lic); err != nil {
		t.Fatal(err)
	}
	sa, _ := os.ReadFile(sbomA)
	sb, _ := os.ReadFile(sbomB)
	if len(sa) == 0 || !bytes.Equal(sa, sb) {
		t.Fatal("the SBOMs of the same binary differ")
	}
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Version string `json:"version"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name     string            `json:"name"`
			Licenses []json.RawMessage `json:"licenses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(sa, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Timestamp != "2026-11-28T10:00:00Z" || bom.Metadata.Component.Version != st.Version {
		t.Errorf("SBOM metadata: %+v", bom)
	}
	found := map[string]string{}
	for _, c := range bom.Components {
		if len(c.Licenses) > 0 {
			found[c.Name] = string(c.Licenses[0])
		}
	}
	if !strings.Contains(found["github.com/spf13/cobra"], `"Apache-2.0"`) || !strings.Contains(found["std"], "BSD-3-Clause") ||
		!strings.Contains(found["github.com/ipfs/boxo"], `"expression": "Apache-2.0 OR MIT"`) || len(bom.Components) < 50 {
		t.Errorf("SBOM licences: %v (%d components)", found, len(bom.Components))
	}

	debA, debB := filepath.Join(tmp, "a.deb"), filepath.Join(tmp, "b.deb")
	if err := buildDeb(srcA, runtime.GOARCH, binA, debA, st); err != nil {
		t.Fatal(err)
	}
	if err := buildDeb(srcB, runtime.GOARCH, binB, debB, st); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(debA)
	db, _ := os.ReadFile(debB)
	if len(da) == 0 || !bytes.Equal(da, db) {
		t.Fatalf("two packs of the same binary differ (%d and %d bytes)", len(da), len(db))
	}
	if _, err := exec.LookPath("dpkg-deb"); err == nil {
		list := exec.Command("dpkg-deb", "--contents", debA)
		list.Env = append(os.Environ(), "TZ=UTC")
		out, err := list.CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg-deb: %v\n%s", err, out)
		}
		for _, want := range []string{"./usr/bin/livinglab", "./lib/systemd/system/livinglab.service", "./usr/lib/sysusers.d/livinglab.conf",
			"./usr/lib/tmpfiles.d/livinglab.conf", "./usr/share/doc/livinglab/OPERATIONS.md", "./usr/share/doc/livinglab/copyright",
			"./etc/default/livinglab", "2026-11-28 10:00"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("package lacks %q:\n%s", want, out)
			}
		}
		out, _ = exec.Command("dpkg-deb", "--info", debA, "conffiles").CombinedOutput()
		if strings.TrimSpace(string(out)) != "/etc/default/livinglab" {
			t.Errorf("conffiles: %q", out)
		}
		out, _ = exec.Command("dpkg-deb", "--fsys-tarfile", debA).Output()
		if len(out) == 0 {
			t.Fatal("no data archive")
		}
	}
}

func TestWriteSums(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b"), []byte("bee\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a"), []byte("ay\n"), 0o644)
	if err := writeSums(filepath.Join(dir, "SHA256SUMS"), []string{filepath.Join(dir, "b"), filepath.Join(dir, "a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "a: OK\nb: OK") {
			t.Fatalf("sha256sum --check: %v\n%s", err, out)
		}
	}
}

func TestVersionNames(t *testing.T) {
	for v, ok := range map[string]bool{"1.2.0": true, "0.1.0~git20261206.1a2b": true, "v1.2.0": false, "1.2.0 rc": false, "1.2/0": false, "": false} {
		if versionRE.MatchString(v) != ok {
			t.Errorf("version %q: accepted %v", v, !ok)
		}
	}
}
