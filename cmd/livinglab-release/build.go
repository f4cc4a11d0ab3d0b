// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/node"
)

// stamp is what a release build writes into the binary.
type stamp struct {
	Version string
	Commit  string
	Date    time.Time // the commit's date (SOURCE_DATE_EPOCH)
}

func (s stamp) dateString() string { return s.Date.UTC().Format(time.RFC3339) }

var versionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

func buildCmd(root *string) *cobra.Command {
	var (
		out, version              string
		arches                    []string
		noDeb, noSBOM, allowDirty bool
	)
	c := &cobra.Command{
		Use:   "build [--version V] [--out DIR]",
		Short: "Build a release: binaries for linux/amd64 and linux/arm64, SHA256SUMS, CycloneDX SBOMs, Debian packages",
		Long: "build makes the release of the checked-out commit in --out (default dist/):\n" +
			"  livinglab_V_linux_ARCH           the program, static (CGO_ENABLED=0), trimmed and stamped\n" +
			"  livinglab_V_linux_ARCH.cdx.json  its CycloneDX SBOM\n" +
			"  livinglab_V_ARCH.deb             the Debian package\n" +
			"  SHA256SUMS                       checksums of the above\n" +
			"The build is reproducible: file dates come from the commit's date (SOURCE_DATE_EPOCH), paths are\n" +
			"trimmed, and two builds of the same commit give the same bytes. V defaults to the tag vV on the\n" +
			"commit, else to the next release with the commit's date and hash (0.1.0~git20261206170000.1a2b3c4d5e6f).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := gitStamp(ctx, *root, version, allowDirty)
			if err != nil {
				return err
			}
			n, err := gatherNotices(ctx, *root)
			if err != nil {
				return err
			}
			if probs := n.problems(); len(probs) > 0 {
				return fmt.Errorf("licence problems, see: go run ./cmd/livinglab-release notices: %s", strings.Join(probs, "; "))
			}
			notes := n.render()
			if old, err := os.ReadFile(filepath.Join(*root, noticesFile)); err != nil || !bytes.Equal(old, notes) {
				return fmt.Errorf("%s is not up to date: regenerate it with go run ./cmd/livinglab-release notices and commit it", noticesFile)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "release %s (commit %s, %s)\n", st.Version, st.Commit, st.dateString())
			var files []string
			for _, arch := range arches {
				bin := filepath.Join(out, fmt.Sprintf("livinglab_%s_linux_%s", st.Version, arch))
				if err := buildBinary(ctx, *root, arch, st, bin); err != nil {
					return err
				}
				files = append(files, bin)
				if !noSBOM {
					sbom := bin + ".cdx.json"
					if err := writeSBOM(bin, sbom, st, n.licences()); err != nil {
						return err
					}
					files = append(files, sbom)
				}
				if !noDeb {
					deb := filepath.Join(out, fmt.Sprintf("livinglab_%s_%s.deb", st.Version, arch))
					if err := buildDeb(*root, arch, bin, deb, st); err != nil {
						return err
					}
					files = append(files, deb)
				}
			}
			if err := writeSums(filepath.Join(out, "SHA256SUMS"), files); err != nil {
				return err
			}
			for _, f := range append(files, filepath.Join(out, "SHA256SUMS")) {
				fmt.Fprintln(w, f)
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "dist", "directory for the release files")
	c.Flags().StringVar(&version, "version", "", "release version (digits first, Debian style, e.g. 1.2.0)")
	c.Flags().StringSliceVar(&arches, "arch", releaseArches, "architectures to build")
	c.Flags().BoolVar(&noDeb, "no-deb", false, "skip the Debian packages")
	c.Flags().BoolVar(&noSBOM, "no-sbom", false, "skip the SBOMs")
	c.Flags().BoolVar(&allowDirty, "allow-dirty", false, "build even when the work tree has uncommitted changes (the result is then not the commit's)")
	return c
}

func git(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// gitStamp reads the commit, its date and the release version.
func gitStamp(ctx context.Context, root, version string, allowDirty bool) (stamp, error) {
	var st stamp
	var err error
	if st.Commit, err = git(ctx, root, "rev-parse", "HEAD"); err != nil {
		return st, err
	}
	ct, err := git(ctx, root, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return st, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return st, fmt.Errorf("commit date %q: %w", ct, err)
	}
	st.Date = time.Unix(sec, 0).UTC()
	if dirty, err := git(ctx, root, "status", "--porcelain", "--untracked-files=no"); err != nil {
		return st, err
	} else if dirty != "" && !allowDirty {
		return st, fmt.Errorf("the work tree has uncommitted changes; commit them (or pass --allow-dirty for a build that is not a release)")
	}
	switch {
	case version != "":
		st.Version = version
	default:
		if tag, err := git(ctx, root, "describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD"); err == nil {
			st.Version = strings.TrimPrefix(tag, "v")
		} else {
			st.Version = fmt.Sprintf("%s~git%s.%s", strings.TrimSuffix(node.Version, "-dev"), st.Date.Format("20060102150405"), st.Commit[:12])
		}
	}
	if !versionRE.MatchString(st.Version) {
		return st, fmt.Errorf("version %q: use digits first and only letters, digits and . + ~ (e.g. 1.2.0)", st.Version)
	}
	return st, nil
}

// buildEnv is the environment of a release build: the caller's, less
// what would make the binary depend on the machine.
func buildEnv(arch string, st stamp) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GOOS", "GOARCH", "CGO_ENABLED", "GOAMD64", "GOARM64", "GOEXPERIMENT", "GOTOOLCHAIN", "SOURCE_DATE_EPOCH":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0",
		"GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly", "SOURCE_DATE_EPOCH="+strconv.FormatInt(st.Date.Unix(), 10))
}

// buildBinary builds the livinglab program of root for linux/arch into out.
func buildBinary(ctx context.Context, root, arch string, st stamp, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	ldflags := strings.Join([]string{"-s", "-w",
		"-X", "github.com/livinglab/livinglab/node.Version=" + st.Version,
		"-X", "main.commit=" + st.Commit,
		"-X", "main.buildDate=" + st.dateString()}, " ")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", abs, mainPackage)
	cmd.Dir = root
	cmd.Env = buildEnv(arch, st)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build linux/%s: %w: %s", arch, err, stderr.String())
	}
	return os.Chtimes(abs, st.Date, st.Date)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeSums writes a SHA256SUMS file (sha256sum -c reads it) for files,
// which must be in its directory.
func writeSums(dst string, files []string) error {
	var b strings.Builder
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	for _, f := range files {
		if filepath.Dir(f) != filepath.Dir(dst) {
			return errors.New("checksummed files must be beside SHA256SUMS")
		}
		sum, err := fileSHA256(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, filepath.Base(f))
	}
	return os.WriteFile(dst, []byte(b.String()), 0o644)
}
