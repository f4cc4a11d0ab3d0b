// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
)

// SearchResult is the latency of the node's own search index on the
// records of the catch-up scenario, and the fragment of knowledge/search's
// comparison with SQLite FTS5 when that benchmark is present.
type SearchResult struct {
	Docs    uint64          `json:"docs"`
	Classes map[string]Dist `json:"classes"` // per query class, facets included
	All     Dist            `json:"all"`
	Facets  Dist            `json:"facets"` // the searches that asked for facets
	Samples []float64       `json:"samples_ms"`
	// FTS5 comparison (knowledge/search TestSearchBenchReport).
	FTS5Markdown string    `json:"fts5_markdown,omitempty"`
	FTS5Rows     []FTS5Row `json:"fts5_rows,omitempty"`
	FTS5Error    string    `json:"fts5_error,omitempty"`
	FTS5Took     float64   `json:"fts5_took_s,omitempty"`
}

// FTS5Row is one line of the bleve vs FTS5 table.
type FTS5Row struct {
	Class    string  `json:"class"`
	Facets   bool    `json:"facets"`
	BleveP50 float64 `json:"bleve_p50_ms"`
	BleveP99 float64 `json:"bleve_p99_ms"`
	FTSP50   float64 `json:"fts5_p50_ms"`
	FTSP99   float64 `json:"fts5_p99_ms"`
}

var searchQueries = map[string][]string{
	"one-term": {"telecare", "volunteer", "broadband", "physiotherapy", "cooperative", "loneliness", "island",
		"carers", "energy", "schoolchildren"},
	"two-term": {"village transport", "mobile unit", "older residents", "grocery pickup", "booking app",
		"fishing villages", "peer network", "job matching"},
	"phrase": {`"meal delivery"`, `"home repairs"`, `"social prescribing"`, `"fall prevention"`,
		`"shared vehicle"`, `"language cafe"`},
}

// RunSearch measures query latency on a node's index (home must not be in
// use): every query of each class, with and without facets, rounds times.
func RunSearch(ctx context.Context, home string, rounds int, log Logf) (*SearchResult, error) {
	ix, err := search.Open(node.Home{Dir: home}.Index())
	if errors.Is(err, search.ErrStale) {
		// A kept home from an earlier version: rebuild its index from the
		// store, as the daemon does on start.
		log("search: %v; rebuilding it", err)
		if err = reindexHome(home); err == nil {
			ix, err = search.Open(node.Home{Dir: home}.Index())
		}
	}
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	res := &SearchResult{Classes: map[string]Dist{}}
	res.Docs, _ = ix.Count()
	log("search: %d documents, %d rounds", res.Docs, rounds)
	BeforeMeasure("search")
	var all, withFacets []float64
	for _, class := range []string{"one-term", "two-term", "phrase"} {
		var s []float64
		for r := 0; r <= rounds; r++ {
			for _, q := range searchQueries[class] {
				for _, facets := range []bool{false, true} {
					t := time.Now()
					if _, err := ix.Search(ctx, search.Query{Text: q, Facets: facets}); err != nil {
						return nil, fmt.Errorf("search %q: %w", q, err)
					}
					if r > 0 { // round 0 warms the caches
						s = append(s, Ms(time.Since(t)))
						if facets {
							withFacets = append(withFacets, s[len(s)-1])
						}
					}
				}
			}
		}
		res.Classes[class] = Summarise(s)
		all = append(all, s...)
	}
	res.All = Summarise(all)
	res.Facets = Summarise(withFacets)
	res.Samples = roundAll(all)
	return res, nil
}

// RunFTS5Comparison runs knowledge/search's comparison with SQLite FTS5 if
// the module has it, and returns its markdown fragment.
func RunFTS5Comparison(ctx context.Context, repo, dir string, res *SearchResult, log Logf) {
	if !fileContains(filepath.Join(repo, "knowledge", "search"), "func TestSearchBenchReport") {
		res.FTS5Error = "knowledge/search has no TestSearchBenchReport"
		return
	}
	out := filepath.Join(dir, "search-fts5.md")
	BeforeMeasure("search vs SQLite FTS5")
	log("search: running knowledge/search's bleve vs SQLite FTS5 benchmark (minutes)")
	t := time.Now()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^TestSearchBenchReport$", "-count=1", "-timeout", "90m",
		"./knowledge/search/")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "LIVINGLAB_BENCH=1", "LIVINGLAB_BENCH_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		res.FTS5Error = fmt.Sprintf("%v: %s", err, testkit.Tail(string(b), 15))
		return
	}
	res.FTS5Took = round(time.Since(t).Seconds(), 0)
	b, err := os.ReadFile(out)
	if err != nil {
		res.FTS5Error = err.Error()
		return
	}
	res.FTS5Markdown = strings.TrimSpace(string(b))
	res.FTS5Rows = parseFTS5Table(res.FTS5Markdown)
}

func parseFTS5Table(md string) []FTS5Row {
	var rows []FTS5Row
	col := map[string]int{}
	cells := func(l string) []string {
		f := strings.Split(strings.Trim(strings.TrimSpace(l), "|"), "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		return f
	}
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "|") {
			continue
		}
		f := cells(l)
		if len(col) == 0 {
			for i, h := range f {
				col[strings.ToLower(h)] = i
			}
			continue
		}
		get := func(name string) (float64, bool) {
			i, ok := col[name]
			if !ok || i >= len(f) {
				return 0, false
			}
			v, err := strconv.ParseFloat(f[i], 64)
			return v, err == nil
		}
		fi, ok := col["facets"]
		if !ok || fi >= len(f) || (f[fi] != "true" && f[fi] != "false") {
			continue
		}
		r := FTS5Row{Class: f[0], Facets: f[fi] == "true"}
		var ok1, ok2, ok3, ok4 bool
		r.BleveP50, ok1 = get("bleve p50 ms")
		r.BleveP99, ok2 = get("bleve p99 ms")
		r.FTSP50, ok3 = get("fts5 p50 ms")
		r.FTSP99, ok4 = get("fts5 p99 ms")
		if ok1 && ok2 && ok3 && ok4 {
			rows = append(rows, r)
		}
	}
	return rows
}

// AnonResult is the anonymisation gate's benchmark on a 5,000-word text.
type AnonResult struct {
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	Output      string  `json:"output"`
	Error       string  `json:"error,omitempty"`
}

var benchLine = regexp.MustCompile(`^BenchmarkScrub5000Words\S*\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)

// RunAnonBench runs knowledge/anon's BenchmarkScrub5000Words if present.
func RunAnonBench(ctx context.Context, repo string, log Logf) *AnonResult {
	res := &AnonResult{}
	if !fileContains(filepath.Join(repo, "knowledge", "anon"), "func BenchmarkScrub5000Words") {
		res.Error = "knowledge/anon has no BenchmarkScrub5000Words"
		return res
	}
	BeforeMeasure("anonymisation gate")
	log("anon: go test -bench Scrub5000 ./knowledge/anon/")
	cmd := exec.CommandContext(ctx, "go", "test", "-bench", "Scrub5000", "-run", "x", "-benchmem", "-count=1",
		"./knowledge/anon/")
	cmd.Dir = repo
	b, err := cmd.CombinedOutput()
	res.Output = strings.TrimSpace(string(b))
	if err != nil {
		res.Error = fmt.Sprintf("%v: %s", err, testkit.Tail(res.Output, 10))
		return res
	}
	for _, l := range strings.Split(res.Output, "\n") {
		if m := benchLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			res.NsPerOp, _ = strconv.ParseFloat(m[1], 64)
			res.BytesPerOp, _ = strconv.ParseFloat(m[2], 64)
			res.AllocsPerOp, _ = strconv.ParseFloat(m[3], 64)
		}
	}
	if res.NsPerOp == 0 {
		res.Error = "no BenchmarkScrub5000Words line in the output"
	}
	return res
}

func fileContains(dir, s string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// reindexHome rebuilds the search index of home (not in use) from its store.
func reindexHome(home string) error {
	n, err := node.New(node.Home{Dir: home}, node.Options{})
	if err != nil {
		return fmt.Errorf("open %s: %w", home, err)
	}
	defer n.Close()
	return n.Reindex(nil)
}
