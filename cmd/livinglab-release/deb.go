// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager

	"github.com/livinglab/livinglab/internal/gzbest"
)

// nfpmConfig is the package description, in nfpm's format; ${NAME} in it
// are the values of debValues.
const nfpmConfig = "deploy/nfpm.yaml"

// buildDeb packs the Debian package of a built binary with nfpm.
func buildDeb(root, arch, binary, out string, st stamp) error {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	absBin, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp("", "livinglab-deb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	values := map[string]string{"ROOT": absRoot, "STAGE": stage, "BINARY": absBin, "ARCH": arch, "VERSION": st.Version}
	cfgFile, err := os.Open(filepath.Join(absRoot, nfpmConfig))
	if err != nil {
		return err
	}
	defer cfgFile.Close()
	var unknown []string
	cfg, err := nfpm.ParseWithEnvMapping(cfgFile, func(k string) string {
		v, ok := values[k]
		if !ok && !strings.HasPrefix(k, "NFPM_") { // nfpm asks for signing passphrases
			unknown = append(unknown, k)
		}
		return v
	})
	if err != nil {
		return fmt.Errorf("%s: %w", nfpmConfig, err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s: unknown variables %s", nfpmConfig, strings.Join(unknown, ", "))
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return fmt.Errorf("%s: %w", nfpmConfig, err)
	}
	if err := stageDebFiles(absRoot, stage, st, info.Maintainer); err != nil {
		return err
	}
	for _, s := range []*string{&info.Scripts.PreInstall, &info.Scripts.PostInstall, &info.Scripts.PreRemove, &info.Scripts.PostRemove} {
		if *s != "" && !filepath.IsAbs(*s) {
			*s = filepath.Join(absRoot, *s)
		}
	}
	info.MTime = st.Date
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return fmt.Errorf("%s: %w", nfpmConfig, err)
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := pkg.Package(info, &b); err != nil {
		return fmt.Errorf("package linux/%s: %w", arch, err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Chtimes(out, st.Date, st.Date)
}

// stageDebFiles writes the package's files that differ from the ones in
// deploy/: the systemd unit with the package's paths, and the copyright
// file in Debian's format with the licence text.
func stageDebFiles(root, stage string, st stamp, maintainer string) error {
	unit, err := os.ReadFile(filepath.Join(root, "deploy/livinglab.service"))
	if err != nil {
		return err
	}
	// The unit in deploy/ opens with how to install it by hand; the
	// package installs it.
	body := string(unit)
	if i := strings.Index(body, "\n[Unit]"); i >= 0 {
		body = body[i+1:]
	}
	body = strings.NewReplacer("/usr/local/bin/livinglab", "/usr/bin/livinglab",
		"/usr/local/share/doc/livinglab", "/usr/share/doc/livinglab").Replace(body)
	header := "# systemd unit of the livinglab regional node, installed by the livinglab package.\n" +
		"# Guide: /usr/share/doc/livinglab/OPERATIONS.md. Local changes belong in a\n" +
		"# drop-in (systemctl edit livinglab): an upgrade replaces this file.\n\n"
	if err := os.WriteFile(filepath.Join(stage, "livinglab.service"), []byte(header+body), 0o644); err != nil {
		return err
	}

	licence, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		return err
	}
	var c strings.Builder
	c.WriteString("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
	c.WriteString("Upstream-Name: livinglab\n")
	c.WriteString("Comment: The program links Go modules and bundles data files under their own\n")
	c.WriteString(" licences; they are listed, with their licence texts, in\n")
	c.WriteString(" /usr/share/doc/livinglab/THIRD_PARTY_NOTICES.gz.\n\n")
	c.WriteString("Files: *\nCopyright: the livinglab authors\nLicense: EUPL-1.2\n\n")
	c.WriteString("License: EUPL-1.2\n")
	for _, line := range strings.Split(strings.TrimRight(string(licence), "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			c.WriteString(" .\n")
		} else {
			c.WriteString(" " + line + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "copyright"), []byte(c.String()), 0o644); err != nil {
		return err
	}
	// A native package's changelog: this release and its commit. The
	// changes themselves are in the repository's history.
	changelog := fmt.Sprintf("livinglab (%s) stable; urgency=medium\n\n  * Release of commit %s.\n\n -- %s  %s\n",
		st.Version, st.Commit, maintainer, st.Date.UTC().Format(time.RFC1123Z))
	if err := os.WriteFile(filepath.Join(stage, "changelog"), []byte(changelog), 0o644); err != nil {
		return err
	}
	if err := gzipFile(filepath.Join(stage, "changelog"), filepath.Join(stage, "changelog.gz")); err != nil {
		return err
	}
	return gzipFile(filepath.Join(root, noticesFile), filepath.Join(stage, "THIRD_PARTY_NOTICES.gz"))
}

// gzipFile compresses src into dst reproducibly (no name, no date).
func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, gzbest.Compress(b), 0o644)
}
