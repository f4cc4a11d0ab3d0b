// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/google/licensecheck"
	"github.com/spf13/cobra"
)

// noticesFile is the committed notices file, at the repository root.
const noticesFile = "THIRD_PARTY_NOTICES"

// mainPackage is the program whose build list the notices cover.
const mainPackage = "./cmd/livinglab"

// releaseArches are the architectures of a release.
var releaseArches = []string{"amd64", "arm64"}

// minCoverage is how much of a licence file, in percent of its words, must
// match known licence texts for the file to count as identified.
const minCoverage = 75

func noticesCmd(root *string) *cobra.Command {
	var check bool
	c := &cobra.Command{
		Use:   "notices [--check]",
		Short: "Write " + noticesFile + ": the licence of every Go module in livinglab and of every bundled data file",
		Long: "notices lists every Go module linked into livinglab (linux/amd64 and linux/arm64) with the licence\n" +
			"found in its licence files, and every bundled data file from the SOURCES.json files of the\n" +
			"repository, followed by the licence and notice texts. It fails when a licence is unknown or not\n" +
			"allowed beside the EUPL-1.2 (see licences.go). --check also fails when " + noticesFile + " is not\n" +
			"what the command writes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := gatherNotices(cmd.Context(), *root)
			if err != nil {
				return err
			}
			for _, w := range n.unlisted {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if probs := n.problems(); len(probs) > 0 {
				for _, p := range probs {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				return fmt.Errorf("%d licence problems", len(probs))
			}
			out := n.render()
			dst := filepath.Join(*root, noticesFile)
			if check {
				old, err := os.ReadFile(dst)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				if !bytes.Equal(old, out) {
					return fmt.Errorf("%s is not up to date with the modules and data: regenerate it with go run ./cmd/livinglab-release notices", noticesFile)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "notices: %s is up to date (%d modules, %d data entries, all licences allowed)\n",
					noticesFile, len(n.modules), len(n.data))
				return nil
			}
			if err := os.WriteFile(dst, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d modules, %d data entries\n", dst, len(n.modules), len(n.data))
			return nil
		},
	}
	c.Flags().BoolVar(&check, "check", false, "fail when "+noticesFile+" differs from what would be written")
	return c
}

// licenceFile is one licence or notice file of a module or data entry.
type licenceFile struct {
	Name string
	Text []byte
	IDs  []string // licences whose text it holds, or that its SPDX line names
	Expr string   // the SPDX expression it states, if any
	// Mentions are licences named (by URL or a few words) in a file too
	// short to hold them, such as a note pointing at LICENSE-MIT and
	// LICENSE-APACHE beside it.
	Mentions []string
}

// module is one Go module of the build list.
type module struct {
	Path, Version string
	Licences      []licenceFile
	Notices       []licenceFile // NOTICE files (Apache-2.0 section 4)
}

// licence is the module's licence as an SPDX expression, or "" when a
// licence file could not be identified.
func (m module) licence() string {
	if len(m.Licences) == 0 {
		return ""
	}
	var exprs, ids []string
	for _, f := range m.Licences {
		if f.Expr != "" && !slices.Contains(exprs, f.Expr) {
			exprs = append(exprs, f.Expr)
		}
		ids = append(ids, f.IDs...)
	}
	for _, f := range m.Licences {
		if len(f.IDs) > 0 {
			continue
		}
		// A note that only names licences is identified by the files that
		// hold them.
		if len(f.Mentions) == 0 {
			return ""
		}
		for _, id := range f.Mentions {
			if !slices.Contains(ids, id) {
				return ""
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(exprs) > 0 {
		var named []string
		for _, e := range exprs {
			l, _ := spdxexp.ExtractLicenses(e)
			named = append(named, l...)
		}
		all := true
		for _, id := range ids {
			all = all && slices.Contains(named, id)
		}
		if all {
			if len(exprs) == 1 {
				return exprs[0]
			}
			slices.Sort(exprs)
			return "(" + strings.Join(exprs, ") AND (") + ")"
		}
	}
	return strings.Join(ids, " AND ")
}

// dataEntry is one object of a SOURCES.json file.
type dataEntry struct {
	Dir         string   `json:"-"`
	Files       []string `json:"files"`
	Source      string   `json:"source"`
	License     string   `json:"license"`
	LicenseFile string   `json:"license_file"`
	Command     string   `json:"command"`
	text        []byte
	err         error
}

type notices struct {
	stdlib  licenceFile
	modules []module
	data    []dataEntry
	// unlisted names directories that hold a licence or copyright file of
	// their own but no SOURCES.json: bundled data the notices do not cover.
	unlisted []string
}

func gatherNotices(ctx context.Context, root string) (*notices, error) {
	goroot, err := goEnv(ctx, root, "GOROOT")
	if err != nil {
		return nil, err
	}
	std, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return nil, fmt.Errorf("the Go standard library's licence: %w", err)
	}
	mods, err := buildList(ctx, root)
	if err != nil {
		return nil, err
	}
	n := &notices{stdlib: identify("LICENSE", std)}
	for _, m := range mods {
		sm, err := scanModule(m.Path, m.Version, m.Dir)
		if err != nil {
			return nil, err
		}
		n.modules = append(n.modules, sm)
	}
	if n.data, err = bundledData(root); err != nil {
		return nil, err
	}
	if n.unlisted, err = unlistedData(root); err != nil {
		return nil, err
	}
	return n, nil
}

func goEnv(ctx context.Context, root, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

type listedModule struct {
	Path, Version, Dir string
	Main               bool
	Replace            *listedModule
}

// buildList lists the modules whose packages are linked into mainPackage
// for any release architecture, sorted by path.
func buildList(ctx context.Context, root string) ([]listedModule, error) {
	byPath := map[string]listedModule{}
	for _, arch := range releaseArches {
		cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-json=Module", mainPackage)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list (linux/%s): %w: %s", arch, err, stderr.String())
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var p struct{ Module *listedModule }
			if err := dec.Decode(&p); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("go list output: %w", err)
			}
			m := p.Module
			if m == nil || m.Main {
				continue
			}
			if m.Replace != nil {
				m.Version, m.Dir = m.Replace.Version, m.Replace.Dir
			}
			if m.Dir == "" {
				return nil, fmt.Errorf("module %s %s is not in the module cache: run go mod download", m.Path, m.Version)
			}
			byPath[m.Path] = *m
		}
	}
	var mods []listedModule
	for _, m := range byPath {
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b listedModule) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

var (
	licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)([-._].*)?$`)
	noticeName  = regexp.MustCompile(`(?i)^notice([-._].*)?$`)
)

// scanModule reads the licence and notice files at the top of a module's
// directory and identifies their licences.
func scanModule(modPath, version, dir string) (module, error) {
	m := module{Path: modPath, Version: version}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m, fmt.Errorf("module %s: %w", modPath, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		isLicence, isNotice := licenceName.MatchString(name), noticeName.MatchString(name)
		if !isLicence && !isNotice || strings.HasSuffix(name, ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return m, fmt.Errorf("module %s: %w", modPath, err)
		}
		if isNotice {
			m.Notices = append(m.Notices, licenceFile{Name: name, Text: b})
			continue
		}
		m.Licences = append(m.Licences, identify(name, b))
	}
	return m, nil
}

var spdxLineRE = regexp.MustCompile(`SPDX-License-Identifier:\s*([A-Za-z0-9.+()\- ]+)`)

// identify finds the licences in a licence file's text: an SPDX line it
// states, else the licence texts it holds, else the licences it names.
func identify(name string, text []byte) licenceFile {
	f := licenceFile{Name: name, Text: text}
	for _, m := range spdxLineRE.FindAllSubmatch(text, -1) {
		expr := strings.TrimRight(string(m[1]), " -")
		if ids, err := spdxexp.ExtractLicenses(expr); err == nil {
			f.Expr, f.IDs = expr, ids
			slices.Sort(f.IDs)
			return f
		}
	}
	cov := licensecheck.Scan(text)
	var found []string
	for _, m := range cov.Match {
		if !slices.Contains(found, m.ID) {
			found = append(found, m.ID)
		}
	}
	slices.Sort(found)
	if cov.Percent >= minCoverage {
		f.IDs = found
	} else {
		f.Mentions = found
	}
	return f
}

// bundledData reads every SOURCES.json in the repository (tracked by git
// or new and not ignored). An entry that cannot be read is kept with its
// error, for problems to report.
func bundledData(root string) ([]dataEntry, error) {
	files, err := gitFiles(root)
	if err != nil {
		return nil, err
	}
	var all []dataEntry
	for _, f := range files {
		if path.Base(f) != "SOURCES.json" {
			continue
		}
		dir := path.Dir(f)
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		var entries []dataEntry
		if err := json.Unmarshal(b, &entries); err != nil {
			all = append(all, dataEntry{Dir: dir, err: fmt.Errorf("%s: not a JSON array of sources: %w", f, err)})
			continue
		}
		for i, e := range entries {
			e.Dir = dir
			e.err = e.validate(root, i)
			all = append(all, e)
		}
	}
	return all, nil
}

func (e *dataEntry) validate(root string, i int) error {
	where := fmt.Sprintf("%s/SOURCES.json entry %d", e.Dir, i+1)
	if len(e.Files) == 0 {
		return fmt.Errorf("%s: no files", where)
	}
	for _, f := range e.Files {
		if !filepath.IsLocal(f) {
			return fmt.Errorf("%s: file %q is not inside %s", where, f, e.Dir)
		}
		if _, err := os.Stat(filepath.Join(root, e.Dir, f)); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if strings.TrimSpace(e.Source) == "" {
		return fmt.Errorf("%s (%s): no source", where, strings.Join(e.Files, ", "))
	}
	if strings.TrimSpace(e.License) == "" {
		return fmt.Errorf("%s (%s): no licence", where, strings.Join(e.Files, ", "))
	}
	if e.LicenseFile == "" {
		if e.License == spdxID {
			return nil // the project's own licence, in LICENSE
		}
		return fmt.Errorf("%s (%s): no license_file with the text of %s", where, strings.Join(e.Files, ", "), e.License)
	}
	if !filepath.IsLocal(e.LicenseFile) {
		return fmt.Errorf("%s: license_file %q is not inside %s", where, e.LicenseFile, e.Dir)
	}
	b, err := os.ReadFile(filepath.Join(root, e.Dir, e.LicenseFile))
	if err != nil {
		return fmt.Errorf("%s: licence text: %w", where, err)
	}
	e.text = b
	return nil
}

var copyrightName = regexp.MustCompile(`(?i)(^|[-_.])(copyright|licen[cs]e|copying)([-_.]|$)`)

// unlistedData lists directories below the root that hold a licence or
// copyright file but no SOURCES.json.
func unlistedData(root string) ([]string, error) {
	files, err := gitFiles(root)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, f := range files {
		if path.Base(f) == "SOURCES.json" {
			listed[path.Dir(f)] = true
		}
	}
	var out []string
	for _, f := range files {
		dir, base := path.Dir(f), path.Base(f)
		if dir == "." || listed[dir] || strings.HasSuffix(base, ".go") || strings.Contains("/"+f, "/testdata/") || !copyrightName.MatchString(base) {
			continue
		}
		out = append(out, fmt.Sprintf("%s holds %s but no SOURCES.json: its data is not in %s", dir, base, noticesFile))
	}
	return out, nil
}

// gitFiles lists the project's files relative to root, sorted.
func gitFiles(root string) ([]string, error) {
	files, err := gitList(root)
	slices.Sort(files)
	return files, err
}

// gitList lists the project's files relative to root in git's order:
// tracked files and new ones that are not ignored, each once.
func gitList(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list files with git in %s: %w", root, err)
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	return files, nil
}

// problems lists every licence that is unknown or not allowed.
func (n *notices) problems() []string {
	var probs []string
	for _, m := range n.modules {
		lic := m.licence()
		switch {
		case len(m.Licences) == 0:
			probs = append(probs, fmt.Sprintf("module %s %s: no licence file", m.Path, m.Version))
		case lic == "":
			for _, f := range m.Licences {
				if len(f.IDs) == 0 {
					probs = append(probs, fmt.Sprintf("module %s %s: unknown licence in %s", m.Path, m.Version, f.Name))
				}
			}
		default:
			if ok, err := spdxexp.Satisfies(lic, moduleLicenceIDs()); err != nil || !ok {
				probs = append(probs, fmt.Sprintf("module %s %s: licence %s is not allowed in the program (see cmd/livinglab-release/licences.go)", m.Path, m.Version, lic))
			}
		}
	}
	for _, e := range n.data {
		if e.err != nil {
			probs = append(probs, "data "+e.err.Error())
			continue
		}
		ok, err := spdxexp.Satisfies(e.License, allowedDataLicences())
		where := fmt.Sprintf("data %s/SOURCES.json (%s)", e.Dir, strings.Join(e.Files, ", "))
		switch {
		case err != nil:
			probs = append(probs, fmt.Sprintf("%s: licence %q is not a valid SPDX expression: %v", where, e.License, err))
		case !ok:
			probs = append(probs, fmt.Sprintf("%s: licence %s is unknown or not allowed (see cmd/livinglab-release/licences.go)", where, e.License))
		}
	}
	return probs
}

// licences maps module paths, and "std" for the standard library, to
// their licences.
func (n *notices) licences() map[string]string {
	m := map[string]string{"std": strings.Join(n.stdlib.IDs, " AND ")}
	for _, mod := range n.modules {
		m[mod.Path] = mod.licence()
	}
	return m
}

// render writes the notices file. It depends only on the modules, the
// data and the texts, so that the same tree gives the same file.
func (n *notices) render() []byte {
	var b bytes.Buffer
	texts := map[[32]byte]int{}
	var order []struct {
		label string
		text  []byte
	}
	ref := func(label string, text []byte) string {
		text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
		h := sha256.Sum256(bytes.TrimSpace(text))
		if i, ok := texts[h]; ok {
			order[i].label += "\n" + label
			return fmt.Sprintf("[%d]", i+1)
		}
		texts[h] = len(order)
		order = append(order, struct {
			label string
			text  []byte
		}{label, text})
		return fmt.Sprintf("[%d]", len(order))
	}

	fmt.Fprintf(&b, "Third-party notices for livinglab\n\n")
	fmt.Fprintf(&b, "livinglab is licensed under the European Union Public Licence v. 1.2 (EUPL-1.2); see LICENSE.\n\n")
	fmt.Fprintf(&b, "The livinglab program is built from the Go standard library and the Go modules in part 1,\n")
	fmt.Fprintf(&b, "each under its own licence. The data files in part 2 are bundled with the program as separate\n")
	fmt.Fprintf(&b, "works, each under its own licence, which the EUPL does not replace. Part 3 holds each licence\n")
	fmt.Fprintf(&b, "and notice text once; the numbers in brackets point to it.\n\n")
	fmt.Fprintf(&b, "This file is generated by: go run ./cmd/livinglab-release notices\n\n")

	fmt.Fprintf(&b, "1. Go modules linked into livinglab (linux/%s)\n\n", strings.Join(releaseArches, ", linux/"))
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "   module\tversion\tlicence\ttexts\n")
	fmt.Fprintf(tw, "   Go standard library\t(the Go release that built it)\t%s\t%s\n",
		strings.Join(n.stdlib.IDs, " AND "), ref("Go standard library: LICENSE", n.stdlib.Text))
	for _, m := range n.modules {
		var refs []string
		for _, f := range append(slices.Clone(m.Licences), m.Notices...) {
			refs = append(refs, ref(m.Path+": "+f.Name, f.Text))
		}
		lic := m.licence()
		if lic == "" {
			lic = "unknown"
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", m.Path, m.Version, lic, strings.Join(refs, " "))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\n2. Bundled data\n\n")
	if len(n.data) == 0 {
		fmt.Fprintf(&b, "   none\n")
	}
	for _, e := range n.data {
		fmt.Fprintf(&b, "   %s: %s\n", e.Dir, strings.Join(e.Files, ", "))
		fmt.Fprintf(&b, "     source: %s\n", e.Source)
		if e.LicenseFile == "" {
			fmt.Fprintf(&b, "     licence: %s (LICENSE)\n", e.License)
		} else {
			fmt.Fprintf(&b, "     licence: %s %s\n", e.License, ref(e.Dir+": "+e.LicenseFile, e.text))
		}
		if e.Command != "" {
			fmt.Fprintf(&b, "     regenerated by: %s\n", e.Command)
		}
	}

	fmt.Fprintf(&b, "\n3. Licence and notice texts\n")
	for i, t := range order {
		fmt.Fprintf(&b, "\n%s\n[%d] %s\n\n", strings.Repeat("-", 78), i+1, t.label)
		b.Write(bytes.TrimRight(t.text, "\n\t "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}
