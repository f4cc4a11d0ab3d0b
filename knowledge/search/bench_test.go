// SPDX-License-Identifier: EUPL-1.2

// This file is long on purpose: the SQLite FTS5 baseline (schema, loading,
// queries) and the bleve side of the comparison must stay together so that
// both engines see the same corpus, queries and measurement.

package search

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// benchQuery is one query of the latency benchmark.
type benchQuery struct {
	class string // "one-term", "two-term", "phrase"
	text  string
}

// benchQueries are words and phrases of GenerateCorpus's vocabulary in all
// its languages, from very common to fairly rare.
var benchQueries = func() []benchQuery {
	var out []benchQuery
	add := func(class string, texts ...string) {
		for _, t := range texts {
			out = append(out, benchQuery{class, t})
		}
	}
	add("one-term", "service", "telecare", "broadband", "heritage", "energy", "palvelu", "kotihoito", "ikääntynyt",
		"äldreomsorg", "kollektivtrafik", "eldreomsorg", "velferdsteknologi", "ældrepleje", "borgerbudget",
		"heimaþjónusta", "íbúaþing", "teileachúram", "rannpháirtíocht")
	add("two-term", "older people", "digital skills", "bus timetable", "energy efficiency", "youth council",
		"housing insulation", "kotihoito palvelu", "äldreomsorg kommun", "eldreomsorg kommune", "ældrepleje kommune",
		"aldraðir þjónusta", "seirbhís pobal")
	add("phrase", `"home care"`, `"local champions"`, `"living lab"`, `"public services"`, `"digital services"`,
		`"julkiset palvelut"`, `"offentliga tjänster"`, `"digitale tjenester"`, `"lokale ildsjæle"`,
		`"stafræn þjónusta"`, `"daoine scothaosta"`, `"fuel poverty"`)
	return out
}()

var benchClasses = []string{"one-term", "two-term", "phrase"}

// fts5Match turns our query syntax (words and quoted phrases) into an FTS5
// MATCH expression with the same AND semantics.
func fts5Match(text string) string {
	cs, err := parseText(text)
	if err != nil {
		panic(err)
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = `"` + strings.ReplaceAll(c.text, `"`, `""`) + `"`
	}
	return strings.Join(parts, " ")
}

// ftsIndex is the SQLite FTS5 baseline: the same records, porter stemming
// over unicode61 with diacritics removed, bm25 with the same field weights,
// facets as GROUP BY counts over side tables.
type ftsIndex struct {
	db                             *sql.DB
	page, count, facets, topicsFor *sql.Stmt
}

func buildFTS(path string, docs []Doc) (*ftsIndex, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	stmts := []string{
		`PRAGMA journal_mode=WAL`,
		`PRAGMA synchronous=OFF`,
		`PRAGMA cache_size=-262144`,
		`PRAGMA mmap_size=1073741824`,
		`PRAGMA temp_store=MEMORY`,
		`CREATE TABLE docs(id INTEGER PRIMARY KEY, cid TEXT, practice_id TEXT, kind TEXT, title TEXT, language TEXT,
			region TEXT, country TEXT, stage INTEGER, year INTEGER, created INTEGER)`,
		`CREATE TABLE doc_topics(id INTEGER, topic TEXT)`,
		`CREATE VIRTUAL TABLE fts USING fts5(title, summary, lessons, body, tokenize='porter unicode61 remove_diacritics 2')`,
		`INSERT INTO fts(fts, rank) VALUES('rank', 'bm25(5.0, 3.0, 2.0, 1.0)')`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	insDoc, _ := tx.Prepare(`INSERT INTO docs VALUES(?,?,?,?,?,?,?,?,?,?,?)`)
	insTopic, _ := tx.Prepare(`INSERT INTO doc_topics VALUES(?,?)`)
	insFTS, _ := tx.Prepare(`INSERT INTO fts(rowid, title, summary, lessons, body) VALUES(?,?,?,?,?)`)
	for i, d := range docs {
		id := i + 1
		if _, err := insDoc.Exec(id, d.CID, d.PracticeID, d.Kind, d.Title, d.Language, d.Region, d.Country, d.Stage,
			d.Created.Year(), d.Created.Unix()); err != nil {
			return nil, err
		}
		for _, t := range d.Topics {
			if _, err := insTopic.Exec(id, t); err != nil {
				return nil, err
			}
		}
		if _, err := insFTS.Exec(id, d.Title, d.Summary, d.Lessons, d.Body); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	for _, s := range []string{
		`CREATE INDEX doc_topics_id ON doc_topics(id, topic)`,
		`INSERT INTO fts(fts) VALUES('optimize')`,
		`ANALYZE`,
	} {
		if _, err := db.Exec(s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	f := &ftsIndex{db: db}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.Prepare(q)
		return st
	}
	f.page = prep(`SELECT d.id, d.cid, d.practice_id, d.kind, d.title, d.language, d.region, d.country, d.created, m.snip, m.r
		FROM (SELECT rowid AS id, snippet(fts, -1, '<mark>', '</mark>', '…', 24) AS snip, rank AS r
		      FROM fts WHERE fts MATCH ?1 ORDER BY rank LIMIT 20) m
		JOIN docs d ON d.id = m.id ORDER BY m.r`)
	f.topicsFor = prep(`SELECT topic FROM doc_topics WHERE id = ?1`)
	f.count = prep(`SELECT count(*) FROM fts WHERE fts MATCH ?1`)
	f.facets = prep(`WITH m AS MATERIALIZED (
		      SELECT d.id AS id, d.region AS region, d.country AS country, d.stage AS stage, d.language AS language, d.year AS year
		      FROM fts CROSS JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?1)
		SELECT 'topic', t.topic, count(*) FROM m CROSS JOIN doc_topics t ON t.id = m.id GROUP BY t.topic
		UNION ALL SELECT 'region', region, count(*) FROM m GROUP BY region
		UNION ALL SELECT 'country', country, count(*) FROM m GROUP BY country
		UNION ALL SELECT 'stage', stage, count(*) FROM m WHERE stage > 0 GROUP BY stage
		UNION ALL SELECT 'language', language, count(*) FROM m GROUP BY language
		UNION ALL SELECT 'year', year, count(*) FROM m GROUP BY year`)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// search does what Index.Search does for one page: hits with their fields
// and a snippet, the total, and optionally facet counts.
func (f *ftsIndex) search(match string, facets bool) (total int, hits int, err error) {
	rows, err := f.page.Query(match)
	if err != nil {
		return 0, 0, err
	}
	var ids []int64
	for rows.Next() {
		var id, created int64
		var cid, pid, kind, title, lang, region, country, snip string
		var r float64
		if err := rows.Scan(&id, &cid, &pid, &kind, &title, &lang, &region, &country, &created, &snip, &r); err != nil {
			rows.Close()
			return 0, 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, 0, err
	}
	for _, id := range ids {
		trows, err := f.topicsFor.Query(id)
		if err != nil {
			return 0, 0, err
		}
		for trows.Next() {
			var t string
			_ = trows.Scan(&t)
		}
		trows.Close()
	}
	if err := f.count.QueryRow(match).Scan(&total); err != nil {
		return 0, 0, err
	}
	if facets {
		frows, err := f.facets.Query(match)
		if err != nil {
			return 0, 0, err
		}
		for frows.Next() {
			var name, value string
			var n int
			if err := frows.Scan(&name, &value, &n); err != nil {
				frows.Close()
				return 0, 0, err
			}
		}
		if err := frows.Close(); err != nil {
			return 0, 0, err
		}
	}
	return total, len(ids), nil
}

// QueryBenchConfig configures RunQueryBench.
type QueryBenchConfig struct {
	Docs   int    // corpus size; 100000 for the report
	Seed   int64  // corpus seed
	Rounds int    // passes over the query list per measured cell
	Dir    string // working directory for both indexes
	Log    func(format string, args ...any)
}

// latency summarises samples.
type latency struct {
	P50, P99, Max time.Duration
	N             int
}

func summarise(ds []time.Duration) latency {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(ds) {
			i = len(ds) - 1
		}
		return ds[i]
	}
	return latency{P50: pct(0.50), P99: pct(0.99), Max: ds[len(ds)-1], N: len(ds)}
}

// QueryBenchCell is one measured combination.
type QueryBenchCell struct {
	Class               string
	Facets              bool
	Ours, FTS5          latency // wall clock
	OursCPU, FTS5CPU    latency // CPU time of the process during the call
	OurTotal, FTS5Total float64 // mean matches per query
}

// QueryBenchReport is the outcome of RunQueryBench.
type QueryBenchReport struct {
	Docs                   int
	AvgWords               int
	Languages              map[string]int
	OurBuild, FTS5Build    time.Duration
	OurBuildCPU            time.Duration
	OurBytes, FTS5Bytes    int64
	Cells                  []QueryBenchCell
	GoVersion, CPU, Remark string
	LoadBefore, LoadAfter  string // 1-minute load average around the measurements
}

func dirSize(p string) int64 {
	var n int64
	_ = filepath.Walk(p, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// RunQueryBench builds a cfg.Docs-record corpus into this index (with
// Rebuild) and into SQLite FTS5, then measures the latency of one-term,
// two-term and phrase queries, each with and without facets, on both. Each
// measured call returns a first page of 20 hits with stored fields and
// snippets, the total, and facet counts when asked.
func RunQueryBench(cfg QueryBenchConfig) (*QueryBenchReport, error) {
	if cfg.Rounds <= 0 {
		cfg.Rounds = 20
	}
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	docs := GenerateCorpus(cfg.Docs, cfg.Seed)
	rep := &QueryBenchReport{Docs: len(docs), Languages: map[string]int{}, GoVersion: runtime.Version(),
		CPU: fmt.Sprintf("%d CPUs (GOMAXPROCS %d), %s/%s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)}
	words := 0
	for _, d := range docs {
		words += len(strings.Fields(d.Title)) + len(strings.Fields(d.Summary)) + len(strings.Fields(d.Lessons)) + len(strings.Fields(d.Body))
		rep.Languages[d.Language]++
	}
	if len(docs) > 0 {
		rep.AvgWords = words / len(docs)
	}

	logf("indexing %d records with Rebuild", len(docs))
	start, startCPU := time.Now(), processCPU()
	ourDir := filepath.Join(cfg.Dir, "bleve")
	ix, err := Rebuild(ourDir, len(docs), func(yield func(Doc) error) error {
		for _, d := range docs {
			if err := yield(d); err != nil {
				return err
			}
		}
		return nil
	}, func(done, total int) {
		if done%20000 == 0 {
			logf("  %d/%d", done, total)
		}
	})
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	rep.OurBuild, rep.OurBuildCPU = time.Since(start), processCPU()-startCPU
	rep.OurBytes = dirSize(ourDir)

	logf("indexing %d records into SQLite FTS5", len(docs))
	start = time.Now()
	ftsPath := filepath.Join(cfg.Dir, "fts5.db")
	fts, err := buildFTS(ftsPath, docs)
	if err != nil {
		return nil, fmt.Errorf("fts5: %w", err)
	}
	defer fts.db.Close()
	rep.FTS5Build = time.Since(start)
	rep.FTS5Bytes = dirSize(cfg.Dir) - rep.OurBytes
	// Measure with the corpus released, as a node would not hold it.
	docs = nil
	runtime.GC()
	rep.LoadBefore = loadAverage()

	ctx := context.Background()
	ours := func(q benchQuery, facets bool) (uint64, error) {
		res, err := ix.Search(ctx, Query{Text: q.text, Facets: facets})
		if err != nil {
			return 0, err
		}
		return res.Total, nil
	}
	theirs := func(q benchQuery, facets bool) (uint64, error) {
		n, _, err := fts.search(fts5Match(q.text), facets)
		return uint64(n), err
	}

	for _, class := range benchClasses {
		var qs []benchQuery
		for _, q := range benchQueries {
			if q.class == class {
				qs = append(qs, q)
			}
		}
		for _, facets := range []bool{false, true} {
			cell := QueryBenchCell{Class: class, Facets: facets}
			engines := []func(benchQuery, bool) (uint64, error){ours, theirs}
			var totals [2]uint64
			for e, run := range engines {
				// Warm up caches and record the number of matches.
				for _, q := range qs {
					n, err := run(q, facets)
					if err != nil {
						return nil, fmt.Errorf("%s %q: %w", class, q.text, err)
					}
					totals[e] += n
				}
			}
			runtime.GC()
			// Interleave the engines query by query, so that whatever else
			// the machine does hits both alike.
			var wall, cpu [2][]time.Duration
			for r := 0; r < cfg.Rounds; r++ {
				for _, q := range qs {
					for e, run := range engines {
						t0, c0 := time.Now(), processCPU()
						if _, err := run(q, facets); err != nil {
							return nil, err
						}
						wall[e] = append(wall[e], time.Since(t0))
						cpu[e] = append(cpu[e], processCPU()-c0)
					}
				}
			}
			cell.Ours, cell.OursCPU = summarise(wall[0]), summarise(cpu[0])
			cell.FTS5, cell.FTS5CPU = summarise(wall[1]), summarise(cpu[1])
			cell.OurTotal = float64(totals[0]) / float64(len(qs))
			cell.FTS5Total = float64(totals[1]) / float64(len(qs))
			logf("%-8s facets=%-5v ours p50 %v p99 %v (cpu p99 %v) | fts5 p50 %v p99 %v (cpu p99 %v)", class, facets,
				cell.Ours.P50, cell.Ours.P99, cell.OursCPU.P99, cell.FTS5.P50, cell.FTS5.P99, cell.FTS5CPU.P99)
			rep.Cells = append(rep.Cells, cell)
		}
	}
	rep.LoadAfter = loadAverage()
	return rep, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// Markdown renders the report as a fragment for the benchmark results page.
func (r *QueryBenchReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Local full-text search (knowledge/search): bleve vs SQLite FTS5\n\n")
	langs := make([]string, 0, len(r.Languages))
	for l := range r.Languages {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var lp []string
	for _, l := range langs {
		lp = append(lp, fmt.Sprintf("%s %d", l, r.Languages[l]))
	}
	fmt.Fprintf(&b, "Corpus: %d generated records (GenerateCorpus seed 1, %d words on average; %s). %s, %s.\n\n",
		r.Docs, r.AvgWords, strings.Join(lp, ", "), r.CPU, r.GoVersion)
	fmt.Fprintf(&b, "Build: bleve Rebuild %.1f s wall, %.1f s CPU (%.0f docs/s wall), %.0f MiB on disk; "+
		"FTS5 %.1f s, %.0f MiB.\n\n",
		r.OurBuild.Seconds(), r.OurBuildCPU.Seconds(), float64(r.Docs)/r.OurBuild.Seconds(), float64(r.OurBytes)/(1<<20),
		r.FTS5Build.Seconds(), float64(r.FTS5Bytes)/(1<<20))
	fmt.Fprintf(&b, "Each call returns page 1 (20 hits with stored fields and snippets) and the total; "+
		"\"facets\" adds exact counts for topic, region, country, stage, language and year. "+
		"bleve searches the stemmed fields of every language in the index plus the cross-language field; "+
		"FTS5 (modernc.org/sqlite, pure Go) uses one porter/unicode61 (remove_diacritics 2) table, bm25 with the same "+
		"field weights, facets as GROUP BY over side tables. Wall-clock percentiles include whatever else the machine "+
		"runs (1-minute load average %s before, %s after); CPU is the process's CPU time during the call, on all its "+
		"threads (a bleve search reads its term lists on every CPU).\n\n",
		orDash(r.LoadBefore), orDash(r.LoadAfter))
	fmt.Fprintf(&b, "| queries | facets | bleve p50 ms | bleve p99 ms | bleve CPU p99 ms | FTS5 p50 ms | FTS5 p99 ms | FTS5 CPU p99 ms | p99 bleve/FTS5 | mean matches bleve / FTS5 |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Cells {
		fmt.Fprintf(&b, "| %s | %v | %s | %s | %s | %s | %s | %s | %.2f | %.0f / %.0f |\n", c.Class, c.Facets,
			ms(c.Ours.P50), ms(c.Ours.P99), ms(c.OursCPU.P99), ms(c.FTS5.P50), ms(c.FTS5.P99), ms(c.FTS5CPU.P99),
			float64(c.Ours.P99)/float64(c.FTS5.P99), c.OurTotal, c.FTS5Total)
	}
	if len(r.Cells) > 0 {
		fmt.Fprintf(&b, "\n%d samples per cell and engine (every query of the class, %d rounds, the two engines interleaved query by query).\n",
			r.Cells[0].Ours.N, r.Cells[0].Ours.N/max(1, classSize(r.Cells[0].Class)))
	}
	if r.Remark != "" {
		fmt.Fprintf(&b, "\n%s\n", r.Remark)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func classSize(class string) int {
	n := 0
	for _, q := range benchQueries {
		if q.class == class {
			n++
		}
	}
	return n
}

// TestSearchBenchReport runs the 100,000-record comparison and writes a
// markdown fragment. It takes minutes, so it runs only with
// LIVINGLAB_BENCH=1; the fragment goes to $LIVINGLAB_BENCH_OUT (default: a
// file in the system temporary directory).
func TestSearchBenchReport(t *testing.T) {
	if os.Getenv("LIVINGLAB_BENCH") != "1" {
		t.Skip("set LIVINGLAB_BENCH=1 to run the search benchmark report")
	}
	n := 100000
	if v := os.Getenv("LIVINGLAB_BENCH_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := RunQueryBench(QueryBenchConfig{Docs: n, Seed: 1, Rounds: 30, Dir: t.TempDir(), Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("LIVINGLAB_BENCH_OUT")
	if out == "" {
		out = filepath.Join(os.TempDir(), "livinglab-search-bench.md")
	}
	md := rep.Markdown()
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s\n%s", out, md)
}

func putInBatches(tb testing.TB, ix *Index, docs []Doc, size int) {
	for i := 0; i < len(docs); i += size {
		if err := ix.PutBatch(docs[i:min(i+size, len(docs))]); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkIndex measures online indexing with PutBatch (batches of 500),
// including Close, which waits for the data to be on disk.
func BenchmarkIndex(b *testing.B) {
	docs := GenerateCorpus(5000, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "ix")
		ix, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		putInBatches(b, ix, docs, 500)
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkRebuild measures the offline rebuild path.
func BenchmarkRebuild(b *testing.B) {
	docs := GenerateCorpus(5000, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "ix")
		ix, err := Rebuild(dir, len(docs), fixtureSource(docs), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkSearch runs the query classes of RunQueryBench on a 20,000-record
// index (set LIVINGLAB_BENCH_DOCS to change it).
func BenchmarkSearch(b *testing.B) {
	n := 20000
	if v := os.Getenv("LIVINGLAB_BENCH_DOCS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	benchIx, err := Rebuild(filepath.Join(b.TempDir(), "ix"), n, fixtureSource(GenerateCorpus(n, 1)), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer benchIx.Close()
	for _, class := range benchClasses {
		for _, facets := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/facets=%v", class, facets), func(b *testing.B) {
				var qs []benchQuery
				for _, q := range benchQueries {
					if q.class == class {
						qs = append(qs, q)
					}
				}
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := benchIx.Search(ctx, Query{Text: qs[i%len(qs)].text, Facets: facets}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestGenerateCorpusDeterministic(t *testing.T) {
	a := GenerateCorpus(50, 7)
	b := GenerateCorpus(50, 7)
	for i := range a {
		if a[i].CID != b[i].CID || a[i].Body != b[i].Body || !a[i].Created.Equal(b[i].Created) {
			t.Fatalf("record %d differs between runs", i)
		}
	}
	langs := map[string]bool{}
	for _, d := range GenerateCorpus(500, 1) {
		langs[d.Language] = true
		if d.CID == "" || d.Title == "" || len(d.Topics) == 0 || d.Country == "" || d.Region == "" {
			t.Fatalf("incomplete record %+v", d)
		}
	}
	for _, l := range []string{"en", "fi", "sv", "nb", "nn", "da", "is", "ga"} {
		if !langs[l] {
			t.Fatalf("no %s records", l)
		}
	}
}

func TestSmallCorpusQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 3000 records")
	}
	dir := filepath.Join(t.TempDir(), "ix")
	docs := GenerateCorpus(3000, 3)
	ix, err := Rebuild(dir, len(docs), fixtureSource(docs), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, q := range benchQueries {
		res, err := ix.Search(context.Background(), Query{Text: q.text, Facets: true})
		if err != nil {
			t.Fatalf("%q: %v", q.text, err)
		}
		if res.Total == 0 {
			t.Errorf("%q finds nothing in the generated corpus", q.text)
		}
	}
	// Facet counts agree with a filter on every value.
	res, err := ix.Search(context.Background(), Query{Text: "service", Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, fc := range res.Facets["language"] {
		r2, err := ix.Search(context.Background(), Query{Text: "service", Languages: []string{fc.Value}})
		if err != nil {
			t.Fatal(err)
		}
		if fc.Value != "no" && r2.Total != uint64(fc.Count) {
			t.Fatalf("language %s: facet %d, filter %d", fc.Value, fc.Count, r2.Total)
		}
	}
}
