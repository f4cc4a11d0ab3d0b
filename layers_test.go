// SPDX-License-Identifier: EUPL-1.2

package livinglab_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The project's layers, checked on every non-test Go file's imports and
// calls (ARCHITECTURE.md explains them):
//
//   - protocol/ and knowledge/ never import node/ or cmd/;
//   - only knowledge/ imports Badger;
//   - node/ never imports cmd/, and the package node never imports its
//     front ends (node/api, node/web, node/server);
//   - the front ends (node/api, node/web, node/server, cmd/) never import
//     libp2p and never open a store: they use the node's exported API. The
//     simulator alone builds libp2p mock networks and prepares stopped
//     nodes' stores, as its measurements need;
//   - internal/testkit and internal/testrec serve tests and the simulator,
//     never the product's own code.
const module = "github.com/livinglab/livinglab"

type goFile struct {
	dir     string // slash-separated, relative to the module root
	imports []string
	calls   []string // pkg.Func selectors called, by import path: "github.com/.../knowledge.Open"
}

func readTree(t *testing.T) []goFile {
	t.Helper()
	var out []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		gf := goFile{dir: filepath.ToSlash(filepath.Dir(path))}
		names := map[string]string{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			gf.imports = append(gf.imports, p)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] != "" {
						gf.calls = append(gf.calls, names[id.Name]+"."+sel.Sel.Name)
					}
				}
			}
			return true
		})
		out = append(out, gf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("read only %d Go files: not run from the module root?", len(out))
	}
	return out
}

func under(dir string, roots ...string) bool {
	for _, r := range roots {
		if dir == r || strings.HasPrefix(dir, r+"/") {
			return true
		}
	}
	return false
}

func TestLayers(t *testing.T) {
	frontEnds := []string{"node/api", "node/web", "node/server", "cmd"}
	storeOpeners := map[string]bool{module + "/knowledge.Open": true, module + "/knowledge.OpenRawKV": true,
		module + "/knowledge.NewLoader": true}
	checked := 0
	for _, f := range readTree(t) {
		for _, im := range f.imports {
			checked++
			inModule := strings.HasPrefix(im, module+"/")
			rel := strings.TrimPrefix(im, module+"/")
			switch {
			case under(f.dir, "protocol", "knowledge") && inModule && under(rel, "node", "cmd"):
				t.Errorf("%s imports %s: protocol and knowledge never import the node or the programs", f.dir, im)
			case strings.HasPrefix(im, "github.com/dgraph-io/badger") && !under(f.dir, "knowledge"):
				t.Errorf("%s imports %s: only knowledge/ uses Badger", f.dir, im)
			case under(f.dir, "node") && inModule && under(rel, "cmd"):
				t.Errorf("%s imports %s: the node never imports a program", f.dir, im)
			case f.dir == "node" && inModule && under(rel, "node/api", "node/web", "node/server"):
				t.Errorf("%s imports %s: the node never imports its front ends", f.dir, im)
			case under(f.dir, frontEnds...) && !under(f.dir, "cmd/livinglab-sim") && strings.HasPrefix(im, "github.com/libp2p/"):
				t.Errorf("%s imports %s: front ends reach the network through the node's API", f.dir, im)
			case inModule && under(rel, "internal/testkit", "internal/testrec") && !under(f.dir, "cmd/livinglab-sim", "internal"):
				t.Errorf("%s imports %s: the test-support packages are for tests and the simulator only", f.dir, im)
			}
		}
		for _, c := range f.calls {
			if storeOpeners[c] && under(f.dir, frontEnds...) && !under(f.dir, "cmd/livinglab-sim") {
				t.Errorf("%s calls %s: front ends reach the store through the node's API", f.dir, c)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}
