// SPDX-License-Identifier: EUPL-1.2

// This file is long on purpose: it holds the behaviour tests of Index.Search,
// one per part of the query language and of the results, most of them on
// the fixture (testdata/fixture.json) loaded at its top, so that a change
// of the fixture is seen by every test at once.

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func loadFixture(t testing.TB) []Doc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// newFixtureIndex opens a fresh index in a temporary directory holding the
// fixture corpus.
func newFixtureIndex(t testing.TB) (*Index, []Doc, string) {
	t.Helper()
	docs := loadFixture(t)
	ix, dir := indexOf(t, docs)
	return ix, docs, dir
}

// indexOf opens a fresh index in a temporary directory holding docs; it is
// closed when the test ends.
func indexOf(t testing.TB, docs []Doc) (*Index, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "search")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := ix.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	return ix, dir
}

func search(t testing.TB, ix *Index, q Query) *Result {
	t.Helper()
	res, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return res
}

func cids(res *Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.CID
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func docByCID(docs []Doc, cid string) Doc {
	for _, d := range docs {
		if d.CID == cid {
			return d
		}
	}
	return Doc{}
}

func TestLanguageAwareMatching(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)

	// The test is only meaningful if the records do not contain the query
	// form itself.
	for _, c := range []struct{ cid, absent string }{
		{"fi-1", "ikääntynyt"},
		{"sv-1", "äldreomsorg "},
		{"is-1", "aldraðra"},
	} {
		d := docByCID(docs, c.cid)
		all := strings.ToLower(d.Title + " " + d.Summary + " " + d.Lessons + " " + d.Body + " ")
		if strings.Contains(all, c.absent) {
			t.Fatalf("fixture %s contains %q", c.cid, c.absent)
		}
	}

	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"finnish inflection via stem prefix", "ikääntynyt", "fi-1"},
		{"finnish exact form", "ikääntyneiden", "fi-1"},
		{"swedish definite form", "äldreomsorg", "sv-1"},
		{"norwegian definite form", "eldreomsorg", "no-1"},
		{"danish definite form", "ældrepleje", "da-1"},
		{"icelandic inflection via stem prefix", "aldraðra", "is-1"},
		{"icelandic without diacritics", "aldrada", "is-1"},
		{"irish initial mutation", "Gaeilge", "ga-1"},
		{"english plural and possessive", "carer", "en-6"},
		{"cross-language exact word", "Borgarbyggð", "is-1"},
		{"folded query finds accented text", "Vasternorrland aldreomsorgen", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, ix, Query{Text: tc.query})
			if tc.want == "" {
				return
			}
			if !contains(cids(res), tc.want) {
				t.Fatalf("query %q: got %v, want %s among them", tc.query, cids(res), tc.want)
			}
		})
	}

	// The Irish mutation test must find both Irish records, written with
	// "Ghaeilge" and "nGaeilge".
	res := search(t, ix, Query{Text: "Gaeilge"})
	if got := cids(res); !contains(got, "ga-1") || !contains(got, "ga-2") {
		t.Fatalf("Gaeilge: got %v", got)
	}
	// Diacritics-free surface form in the cross-language field.
	res = search(t, ix, Query{Text: "aldreomsorgen"})
	if !contains(cids(res), "sv-1") {
		t.Fatalf("aldreomsorgen: got %v", cids(res))
	}
}

func TestFieldBoostRanking(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	// "timetable" is in en-5's title and only in en-4's body.
	res := search(t, ix, Query{Text: "timetable"})
	got := cids(res)
	if len(got) < 2 || got[0] != "en-5" || !contains(got, "en-4") {
		t.Fatalf("timetable: got %v, want en-5 first, en-4 present", got)
	}
	if res.Hits[0].Score <= res.Hits[1].Score {
		t.Fatalf("scores not descending: %v", res.Hits)
	}
}

func TestBestMatchPhraseRequireExclude(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)

	// Best match: the record with both words first, records with one of
	// them after it.
	res := search(t, ix, Query{Text: "rural households"})
	if got := cids(res); len(got) < 2 || got[0] != "en-7" || res.Hits[0].Score <= res.Hits[1].Score {
		t.Fatalf("rural households: got %v", got)
	}
	// +word is required.
	res = search(t, ix, Query{Text: "+rural +households"})
	if got := cids(res); !reflect.DeepEqual(got, []string{"en-7"}) {
		t.Fatalf("+rural +households: got %v", got)
	}
	res = search(t, ix, Query{Text: "rural +households"})
	if got := cids(res); !reflect.DeepEqual(got, []string{"en-7"}) {
		t.Fatalf("rural +households: got %v", got)
	}
	// A word no record has does not empty the result.
	res = search(t, ix, Query{Text: "rural households zyxwvut"})
	if got := cids(res); len(got) == 0 || got[0] != "en-7" {
		t.Fatalf("rural households zyxwvut: got %v", got)
	}

	res = search(t, ix, Query{Text: `"home care"`})
	if got := cids(res); !contains(got, "en-6") || contains(got, "en-1") {
		t.Fatalf(`"home care": got %v`, got)
	}
	res = search(t, ix, Query{Text: `"care home"`})
	if got := cids(res); contains(got, "en-6") {
		t.Fatalf(`"care home" should not match "home care": got %v`, got)
	}
	// Typographic quotes.
	res = search(t, ix, Query{Text: "“home care”"})
	if got := cids(res); !contains(got, "en-6") {
		t.Fatalf("typographic quotes: got %v", got)
	}

	all := cids(search(t, ix, Query{Text: "rural"}))
	excl := cids(search(t, ix, Query{Text: "rural -bus"}))
	if !contains(all, "en-4") || contains(excl, "en-4") || !contains(excl, "en-7") {
		t.Fatalf("rural %v, rural -bus %v", all, excl)
	}
	// Exclusion only: everything but. An exclusion removes the word as
	// written (in any language's analysis), not its glossary expansions,
	// so compare with the word's matches without expansion.
	ix.SetGlossary(nil)
	all = cids(search(t, ix, Query{Text: "rural", PageSize: 100}))
	res = search(t, ix, Query{Text: "-rural", PageSize: 100})
	if res.Total != 30-uint64(len(all)) {
		t.Fatalf("-rural: total %d, want %d", res.Total, 30-len(all))
	}

	// Stop words are dropped next to content words.
	a := cids(search(t, ix, Query{Text: "energy cafés"}))
	b := cids(search(t, ix, Query{Text: "the energy cafés for"}))
	if !reflect.DeepEqual(a, b) || len(a) == 0 {
		t.Fatalf("stop words changed results: %v vs %v", a, b)
	}
	// A hyphenated word is a phrase.
	res = search(t, ix, Query{Text: "drop-in"})
	if got := cids(res); !contains(got, "en-2") || !contains(got, "en-7") {
		t.Fatalf("drop-in: got %v", got)
	}
}

// expectedFacets counts facet values over docs the way the index should.
func expectedFacets(docs []Doc) map[string][]FacetCount {
	counts := map[string]map[string]int{}
	add := func(f, v string) {
		if v == "" {
			return
		}
		if counts[f] == nil {
			counts[f] = map[string]int{}
		}
		counts[f][v]++
	}
	for _, d := range docs {
		for _, tp := range d.Topics {
			add("topic", tp)
		}
		add("region", d.Region)
		add("country", d.Country)
		if d.Stage > 0 {
			add("stage", strconv.Itoa(d.Stage))
		}
		add("language", d.Language)
		if !d.Created.IsZero() {
			add("year", strconv.Itoa(d.Created.Year()))
		}
	}
	out := map[string][]FacetCount{}
	for _, f := range FacetNames {
		fc := []FacetCount{}
		for v, n := range counts[f] {
			fc = append(fc, FacetCount{v, n})
		}
		sort.Slice(fc, func(i, j int) bool {
			if fc[i].Count != fc[j].Count {
				return fc[i].Count > fc[j].Count
			}
			return fc[i].Value < fc[j].Value
		})
		out[f] = fc
	}
	return out
}

func TestFacetsExact(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)

	res := search(t, ix, Query{Facets: true})
	if res.Total != 30 {
		t.Fatalf("total %d", res.Total)
	}
	want := expectedFacets(docs)
	if !reflect.DeepEqual(res.Facets, want) {
		t.Fatalf("facets\n got %v\nwant %v", res.Facets, want)
	}
	// Spot checks against hand counts.
	country := map[string]int{}
	for _, fc := range res.Facets["country"] {
		country[fc.Value] = fc.Count
	}
	if country["FI"] != 5 || country["SE"] != 5 || country["IE"] != 6 || country["IS"] != 3 {
		t.Fatalf("country facet %v", res.Facets["country"])
	}

	// Facets over a filtered text search.
	res = search(t, ix, Query{Text: "care", Facets: true, Countries: []string{"ie"}})
	var sub []Doc
	for _, h := range res.Hits {
		sub = append(sub, docByCID(docs, h.CID))
	}
	if uint64(len(sub)) != res.Total || len(sub) == 0 {
		t.Fatalf("care in IE: %d hits, total %d", len(sub), res.Total)
	}
	if want := expectedFacets(sub); !reflect.DeepEqual(res.Facets, want) {
		t.Fatalf("filtered facets\n got %v\nwant %v", res.Facets, want)
	}

	// Only some facets.
	res = search(t, ix, Query{Facets: true, FacetFields: []string{"stage", "year"}})
	if len(res.Facets) != 2 || res.Facets["stage"] == nil || res.Facets["year"] == nil {
		t.Fatalf("facet selection: %v", res.Facets)
	}
}

func TestFilters(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)

	count := func(pred func(Doc) bool) uint64 {
		var n uint64
		for _, d := range docs {
			if pred(d) {
				n++
			}
		}
		return n
	}
	hasTopic := func(d Doc, ts ...string) bool {
		for _, a := range d.Topics {
			for _, b := range ts {
				if a == b {
					return true
				}
			}
		}
		return false
	}
	tests := []struct {
		name string
		q    Query
		pred func(Doc) bool
	}{
		{"country", Query{Countries: []string{"FI"}}, func(d Doc) bool { return d.Country == "FI" }},
		{"two countries", Query{Countries: []string{"se", "DK"}}, func(d Doc) bool { return d.Country == "SE" || d.Country == "DK" }},
		{"norwegian incl nb nn", Query{Languages: []string{"no"}}, func(d Doc) bool { return d.Country == "NO" }},
		// nb and nn also match records tagged only "no".
		{"nynorsk and unspecified norwegian", Query{Languages: []string{"nn"}}, func(d Doc) bool { return d.Language == "nn" || d.Language == "no" }},
		{"bokmål case-insensitive", Query{Languages: []string{"NB"}}, func(d Doc) bool { return d.Language == "nb" || d.Language == "no" }},
		{"topic case-insensitive", Query{Topics: []string{"Youth"}}, func(d Doc) bool { return hasTopic(d, "youth") }},
		{"topic OR", Query{Topics: []string{"youth", "energy"}}, func(d Doc) bool { return hasTopic(d, "youth", "energy") }},
		{"stage", Query{Stages: []int{4, 5}}, func(d Doc) bool { return d.Stage >= 4 }},
		{"year", Query{Years: []int{2021}}, func(d Doc) bool { return d.Created.Year() == 2021 }},
		{"kind", Query{Kind: "lesson"}, func(d Doc) bool { return d.Kind == "lesson" }},
		{"region", Query{Regions: []string{"Donegal"}}, func(d Doc) bool { return d.Region == "Donegal" }},
		{"region case-insensitive", Query{Regions: []string{"donegal"}}, func(d Doc) bool { return d.Region == "Donegal" }},
		{"filters AND", Query{Topics: []string{"elderly-care"}, Countries: []string{"IE"}}, func(d Doc) bool { return hasTopic(d, "elderly-care") && d.Country == "IE" }},
		{"text and filter", Query{Text: "transport", Languages: []string{"en"}}, func(d Doc) bool {
			return d.Language == "en" && strings.Contains(strings.ToLower(d.Title+d.Summary+d.Lessons+d.Body), "transport")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.PageSize = 100
			res := search(t, ix, tc.q)
			want := count(tc.pred)
			if res.Total != want || uint64(len(res.Hits)) != want {
				t.Fatalf("total %d hits %d want %d: %v", res.Total, len(res.Hits), want, cids(res))
			}
			for _, h := range res.Hits {
				if !tc.pred(docByCID(docs, h.CID)) {
					t.Fatalf("hit %s does not pass the filter", h.CID)
				}
			}
		})
	}

	// Filters do not change scores.
	a := search(t, ix, Query{Text: "care"})
	b := search(t, ix, Query{Text: "care", Countries: []string{"IE", "UK", "FI", "SE", "NO", "DK", "IS"}})
	if !reflect.DeepEqual(cids(a), cids(b)) {
		t.Fatalf("all-pass filter changed order: %v vs %v", cids(a), cids(b))
	}
	for i := range a.Hits {
		if a.Hits[i].Score != b.Hits[i].Score {
			t.Fatalf("filter changed score of %s", a.Hits[i].CID)
		}
	}
}

func TestHitFields(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)
	res := search(t, ix, Query{Text: "Borgarbyggð"})
	if len(res.Hits) != 1 {
		t.Fatalf("got %v", cids(res))
	}
	h := res.Hits[0]
	d := docByCID(docs, "is-1")
	if h.CID != "is-1" || h.PracticeID != "is-1" || h.Kind != "practice" || h.Title != d.Title ||
		h.Language != "is" || h.Region != "Vesturland" || h.Country != "IS" ||
		!reflect.DeepEqual(h.Topics, d.Topics) || !h.Created.Equal(d.Created) || h.Score <= 0 {
		t.Fatalf("hit %+v", h)
	}
}

func TestPaginationAndDateSort(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)

	seen := map[string]bool{}
	var order []string
	for page := 1; page <= 5; page++ {
		res := search(t, ix, Query{Page: page, PageSize: 7, Sort: SortDate})
		if res.Total != 30 || res.Page != page || res.PageSize != 7 {
			t.Fatalf("page %d: %+v", page, res)
		}
		wantLen := 7
		if page == 5 {
			wantLen = 2
		}
		if len(res.Hits) != wantLen {
			t.Fatalf("page %d: %d hits", page, len(res.Hits))
		}
		for _, h := range res.Hits {
			if seen[h.CID] {
				t.Fatalf("%s on two pages", h.CID)
			}
			seen[h.CID] = true
			order = append(order, h.CID)
		}
	}
	sorted := append([]Doc(nil), docs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Created.After(sorted[j].Created) })
	for i, d := range sorted {
		if order[i] != d.CID {
			t.Fatalf("date order at %d: got %s want %s", i, order[i], d.CID)
		}
	}

	// Text query sorted by date.
	res := search(t, ix, Query{Text: "care", Sort: SortDate})
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Created.After(res.Hits[i-1].Created) {
			t.Fatalf("not newest first: %v", cids(res))
		}
	}
	// Relevance pages do not overlap either.
	p1 := cids(search(t, ix, Query{Text: "care", PageSize: 2}))
	p2 := cids(search(t, ix, Query{Text: "care", PageSize: 2, Page: 2}))
	all := cids(search(t, ix, Query{Text: "care", PageSize: 4}))
	if !reflect.DeepEqual(append(p1, p2...), all) {
		t.Fatalf("pages %v + %v != %v", p1, p2, all)
	}
}

func TestSnippets(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	if err := ix.Put(Doc{
		CID: "x-1", Kind: "practice", Language: "en", Title: "Safe <b>markup</b> & telecare",
		Body: strings.Repeat("filler words here ", 30) + "the telecare pilot used <script>alert(1)</script> sensors. " +
			strings.Repeat("more filler text ", 30) + "Telecare again at the end.",
	}); err != nil {
		t.Fatal(err)
	}
	res := search(t, ix, Query{Text: "telecare"})
	var hit *Hit
	for i := range res.Hits {
		if res.Hits[i].CID == "x-1" {
			hit = &res.Hits[i]
		}
	}
	if hit == nil {
		t.Fatalf("x-1 not found: %v", cids(res))
	}
	title := hit.Snippets["title"]
	if len(title) != 1 || title[0] != "Safe &lt;b&gt;markup&lt;/b&gt; &amp; <mark>telecare</mark>" {
		t.Fatalf("title snippet %q", title)
	}
	body := hit.Snippets["body"]
	if len(body) != 2 {
		t.Fatalf("body fragments %q", body)
	}
	if !strings.Contains(body[0], "<mark>telecare</mark>") || !strings.Contains(body[0], "&lt;script&gt;") ||
		strings.Contains(body[0], "<script>") || !strings.HasPrefix(body[0], "…") {
		t.Fatalf("body fragment %q", body[0])
	}
	if !strings.Contains(body[1], "<mark>Telecare</mark> again") {
		t.Fatalf("second fragment %q", body[1])
	}

	// Stemmed and per-language matches are highlighted on the original text.
	res = search(t, ix, Query{Text: "ikääntynyt"})
	if len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Snippets["title"][0], "<mark>ikääntyneiden</mark>") {
		t.Fatalf("finnish snippet: %+v", res.Hits)
	}
	// Far into a long text, found by analysing it again a part at a time:
	// the first three fragments, each form of the word marked.
	long := strings.Repeat("Kunta järjesti tapaamisen torilla. ", 80)
	if err := ix.Put(Doc{CID: "x-2", Kind: "practice", Language: "fi", Title: "Kyläilta",
		Body: long + "Palvelu ikääntyneille asukkaille. " + long + "Ikääntyneiden kotihoito. " + long +
			"Ikääntyneet mukana. " + long + "Ikääntyneistä lopuksi."}); err != nil {
		t.Fatal(err)
	}
	res = search(t, ix, Query{Text: "ikääntynyt kyläilta"})
	if len(res.Hits) == 0 || res.Hits[0].CID != "x-2" {
		t.Fatalf("x-2 not first: %v", cids(res))
	}
	body = res.Hits[0].Snippets["body"]
	if len(body) != 3 || !strings.Contains(body[0], "<mark>ikääntyneille</mark>") ||
		!strings.Contains(body[1], "<mark>Ikääntyneiden</mark>") || !strings.Contains(body[2], "<mark>Ikääntyneet</mark>") {
		t.Fatalf("long finnish body fragments %q", body)
	}
	res = search(t, ix, Query{Text: `"home care" workers`})
	if len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Snippets["summary"][0], "<mark>home care</mark> <mark>workers</mark>") &&
		!strings.Contains(res.Hits[0].Snippets["summary"][0], "<mark>home</mark> <mark>care</mark> <mark>workers</mark>") {
		t.Fatalf("phrase snippet: %+v", res.Hits)
	}
	// No text, no snippets.
	res = search(t, ix, Query{})
	if res.Hits[0].Snippets != nil {
		t.Fatalf("snippets without text: %v", res.Hits[0].Snippets)
	}
}

func TestDeleteAndSupersede(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)

	if got := cids(search(t, ix, Query{Text: "clinics"})); !reflect.DeepEqual(got, []string{"en-8"}) {
		t.Fatalf("clinics before delete: %v", got)
	}
	if err := ix.Delete("en-8"); err != nil {
		t.Fatal(err)
	}
	if got := cids(search(t, ix, Query{Text: "clinics"})); len(got) != 0 {
		t.Fatalf("clinics after delete: %v", got)
	}
	if ok, err := ix.Has("en-8"); err != nil || ok {
		t.Fatalf("Has after delete: %v %v", ok, err)
	}
	if err := ix.Delete("no-such-cid"); err != nil {
		t.Fatalf("delete missing: %v", err)
	}

	// A new version of en-1 supersedes the old one.
	v2 := docByCID(docs, "en-1")
	v2.CID, v2.PracticeID = "en-1-v2", "en-1"
	v2.Title = "Telecare and video calls for older people living alone in Donegal"
	v2.Created = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := ix.Put(v2); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete("en-1"); err != nil {
		t.Fatal(err)
	}
	res := search(t, ix, Query{Text: "+telecare +donegal", Facets: true})
	if got := cids(res); !reflect.DeepEqual(got, []string{"en-1-v2"}) {
		t.Fatalf("after supersede: %v", got)
	}
	if got := cids(search(t, ix, Query{Text: "telecare donegal"})); got[0] != "en-1-v2" || contains(got, "en-1") {
		t.Fatalf("after supersede, best match: %v", got)
	}
	if res.Hits[0].PracticeID != "en-1" || res.Hits[0].Created.Year() != 2024 {
		t.Fatalf("superseding hit %+v", res.Hits[0])
	}
	if n, err := ix.Count(); err != nil || n != 29 {
		t.Fatalf("count %d %v", n, err)
	}
	// Facets follow deletions.
	res = search(t, ix, Query{Facets: true})
	var left []Doc
	for _, d := range docs {
		if d.CID != "en-8" && d.CID != "en-1" {
			left = append(left, d)
		}
	}
	left = append(left, v2)
	if want := expectedFacets(left); !reflect.DeepEqual(res.Facets, want) {
		t.Fatalf("facets after delete\n got %v\nwant %v", res.Facets, want)
	}
	// Re-putting the same CID replaces, not duplicates.
	if err := ix.Put(v2); err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.Count(); n != 29 {
		t.Fatalf("count after re-put %d", n)
	}
}

func TestReopen(t *testing.T) {
	ix, _, dir := newFixtureIndex(t)
	before := cids(search(t, ix, Query{Text: "ikääntynyt äldreomsorg"}))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Count(); !errors.Is(err, ErrClosed) {
		t.Fatalf("count after close: %v", err)
	}
	ix2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if n, err := ix2.Count(); err != nil || n != 30 {
		t.Fatalf("count after reopen %d %v", n, err)
	}
	if ok, err := ix2.Has("sv-1"); err != nil || !ok {
		t.Fatalf("Has after reopen %v %v", ok, err)
	}
	// Languages seen before the restart are still searched.
	if got := cids(search(t, ix2, Query{Text: "ikääntynyt"})); !contains(got, "fi-1") {
		t.Fatalf("after reopen: %v", got)
	}
	if after := cids(search(t, ix2, Query{Text: "ikääntynyt äldreomsorg"})); !reflect.DeepEqual(before, after) {
		t.Fatalf("before %v after %v", before, after)
	}
}

func fixtureSource(docs []Doc) func(yield func(Doc) error) error {
	return func(yield func(Doc) error) error {
		for _, d := range docs {
			if err := yield(d); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestCorruptAndRebuild(t *testing.T) {
	damage := map[string]func(t *testing.T, dir string){
		"garbage in every index file": func(t *testing.T, dir string) {
			err := filepath.Walk(filepath.Join(dir, indexDir), func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return err
				}
				return os.WriteFile(p, []byte(strings.Repeat("garbage\x00\xff", 64)), 0o600)
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		"truncated segments": func(t *testing.T, dir string) {
			n := 0
			err := filepath.Walk(filepath.Join(dir, indexDir), func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() || !strings.HasSuffix(p, ".zap") {
					return err
				}
				n++
				return os.Truncate(p, info.Size()/2)
			})
			if err != nil || n == 0 {
				t.Fatalf("truncate: %v, %d segments", err, n)
			}
		},
		"garbage meta file": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, metaFile), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"missing meta file": func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, metaFile)); err != nil {
				t.Fatal(err)
			}
		},
		"index files removed": func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, indexDir)); err != nil {
				t.Fatal(err)
			}
		},
		"interrupted rebuild": func(t *testing.T, dir string) {
			if err := writeMeta(dir, stateWork, 0); err != nil {
				t.Fatal(err)
			}
		},
	}
	docs := loadFixture(t)
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "search")
			ix, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := ix.PutBatch(docs); err != nil {
				t.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			f(t, dir)
			if ix, err := Open(dir); !errors.Is(err, ErrCorrupt) {
				if err == nil {
					ix.Close()
				}
				t.Fatalf("Open on damaged index: %v, want ErrCorrupt", err)
			}
			var calls, last int
			ix, err = Rebuild(dir, len(docs), fixtureSource(docs), func(done, total int) { calls++; last = done })
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if calls == 0 || last != len(docs) {
				t.Fatalf("progress: %d calls, last %d", calls, last)
			}
			if n, err := ix.Count(); err != nil || n != 30 {
				t.Fatalf("count after rebuild %d %v", n, err)
			}
			if got := cids(search(t, ix, Query{Text: "äldreomsorg"})); !contains(got, "sv-1") {
				t.Fatalf("search after rebuild: %v", got)
			}
		})
	}
}

func TestStaleSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	b, _ := json.Marshal(meta{Schema: SchemaVersion + 1, State: stateOK})
	if err := os.WriteFile(filepath.Join(dir, metaFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	if !errors.Is(err, ErrStale) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with other schema: %v", err)
	}
}

func TestOpenEmptyAndUnknownDir(t *testing.T) {
	// An existing empty directory is initialised.
	dir := t.TempDir()
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 0 {
		t.Fatalf("count %d %v", n, err)
	}
	res := search(t, ix, Query{Text: "anything", Facets: true})
	if res.Total != 0 || len(res.Hits) != 0 {
		t.Fatalf("empty index: %+v", res)
	}
	ix.Close()

	// A directory holding something else is not silently reused.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open on foreign dir: %v", err)
	}
}

func TestRebuildSourceError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	boom := errors.New("store read failed")
	_, err := Rebuild(dir, 0, func(yield func(Doc) error) error {
		if err := yield(Doc{CID: "a", Title: "one"}); err != nil {
			return err
		}
		return boom
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("rebuild: %v", err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open after failed rebuild: %v", err)
	}
	// A source failing before the first record.
	if _, err := Rebuild(dir, 0, func(func(Doc) error) error { return boom }, nil); !errors.Is(err, boom) {
		t.Fatalf("rebuild: %v", err)
	}
	if _, err := Rebuild("", 0, fixtureSource(nil), nil); err == nil {
		t.Fatal("Rebuild of empty path succeeded")
	}
	// An empty store rebuilds to an empty, usable index.
	ix, err := Rebuild(dir, 0, fixtureSource(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != 0 {
		t.Fatalf("count %d %v", n, err)
	}
	if err := ix.Put(Doc{CID: "a", Title: "after rebuild", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := cids(search(t, ix, Query{Text: "rebuild"})); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestBadQueries(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	tests := []struct {
		name string
		q    Query
		msg  string
	}{
		{"unbalanced quote", Query{Text: `"home care`}, "unbalanced quote"},
		{"unbalanced excluded phrase", Query{Text: `care -"home`}, "unbalanced quote"},
		{"too long", Query{Text: strings.Repeat("a", MaxQueryLength+1)}, "limit is 512"},
		{"too many words", Query{Text: strings.Repeat("care ", MaxQueryClauses+1)}, "words or phrases"},
		{"page size too big", Query{PageSize: 101}, "page size"},
		{"negative page size", Query{PageSize: -1}, "page size"},
		{"negative page", Query{Page: -1}, "page -1"},
		{"too deep", Query{Page: 1000, PageSize: 100}, "beyond"},
		{"unknown sort", Query{Sort: "popularity"}, "unknown sort"},
		{"unknown facet", Query{Facets: true, FacetFields: []string{"colour"}}, "unknown facet"},
		{"stage out of range", Query{Stages: []int{6}}, "stage 6"},
		{"bad year", Query{Years: []int{-3}}, "year"},
		{"invalid utf8", Query{Text: "care \xff"}, "UTF-8"},
		{"stop words only", Query{Text: "the and of"}, "only stop words"},
		{"unknown language", Query{Languages: []string{"xx"}}, "unknown language"},
		{"topic not a slug", Query{Topics: []string{"elderly care!"}}, "unknown topic"},
		{"stop words only, Swedish", Query{Text: "och i"}, "only stop words"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ix.Search(context.Background(), tc.q)
			if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrBadQuery mentioning %q", err, tc.msg)
			}
		})
	}
	// Exactly at the limits is fine.
	search(t, ix, Query{Text: strings.Repeat("a", MaxQueryLength)})
	search(t, ix, Query{PageSize: MaxPageSize})
	// Punctuation only is not an error; it matches everything.
	if res := search(t, ix, Query{Text: "& - ! ?"}); res.Total != 30 {
		t.Fatalf("punctuation query total %d", res.Total)
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		in   string
		want []clause
	}{
		{"", nil},
		{"care", []clause{{text: "care"}}},
		{"  elderly   care ", []clause{{text: "elderly"}, {text: "care"}}},
		{`"home care" -pilot +rural`, []clause{{text: "home care", phrase: true}, {text: "pilot", exclude: true}, {text: "rural", require: true}}},
		{`-"night visits" x`, []clause{{text: "night visits", phrase: true, exclude: true}, {text: "x"}}},
		{`a - b`, []clause{{text: "a"}, {text: "b"}}},
		{`e-care`, []clause{{text: "e-care"}}},
		{`""`, nil},
		{`„äldreomsorg i kommunen“`, []clause{{text: "äldreomsorg i kommunen", phrase: true}}},
		{`word"phrase here"`, []clause{{text: "word"}, {text: "phrase here", phrase: true}}},
	}
	for _, tc := range tests {
		got, err := parseText(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%q: got %+v want %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"care", `"home care" -pilot`, `"`, `-"x`, "ikääntynyt", "– — “”", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseText(s)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error not ErrBadQuery: %v", err)
			}
			return
		}
		for _, c := range cs {
			if c.text == "" {
				t.Fatalf("empty clause from %q", s)
			}
		}
	})
}

func TestSearchFuzzedTextNeverFails(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	for i, s := range []string{
		"ikääntynyt äldreomsorg", "*", "title:care", "care^5", "(care OR home)", "\\", "'", "d'fhéach",
		"ñ", "日本語", "🙂", "-", "--care", "+-care", "\"\"", "a\"b\"c", strings.Repeat("x", 300),
	} {
		if _, err := ix.Search(context.Background(), Query{Text: s, Facets: true}); err != nil && !errors.Is(err, ErrBadQuery) {
			t.Fatalf("%d %q: %v", i, s, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Query{Text: "care"}); err == nil {
		t.Log("search on canceled context returned no error (small index finished first)")
	}
}

func ExampleIndex_Search() {
	dir, _ := os.MkdirTemp("", "search-example")
	defer os.RemoveAll(dir)
	ix, err := Open(dir)
	if err != nil {
		panic(err)
	}
	defer ix.Close()
	_ = ix.Put(Doc{CID: "c1", Kind: "practice", Language: "sv", Title: "Digital tillsyn i äldreomsorgen",
		Country: "SE", Topics: []string{"elderly-care"}, Created: time.Date(2017, 9, 9, 0, 0, 0, 0, time.UTC)})
	res, _ := ix.Search(context.Background(), Query{Text: "äldreomsorg", Facets: true, FacetFields: []string{"country"}})
	for _, h := range res.Hits {
		fmt.Println(h.CID, h.Snippets["title"][0])
	}
	fmt.Println(res.Facets["country"])
	// Output:
	// c1 Digital tillsyn i <mark>äldreomsorgen</mark>
	// [{SE 1}]
}

func TestConcurrentUse(t *testing.T) {
	ix, docs, _ := newFixtureIndex(t)
	extra := GenerateCorpus(200, 5)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 0; i < len(extra); i += 20 {
			if err := ix.PutBatch(extra[i : i+20]); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			if _, err := ix.Search(context.Background(), Query{Text: "care", Facets: true}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for _, d := range docs[:10] {
			if err := ix.Delete(d.CID); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != uint64(len(docs)-10+len(extra)) {
		t.Fatalf("count %d %v", n, err)
	}
	// Facet counts still add up: every record has exactly one language.
	res := search(t, ix, Query{Facets: true, FacetFields: []string{"language"}})
	sum := 0
	for _, fc := range res.Facets["language"] {
		sum += fc.Count
	}
	if uint64(sum) != res.Total {
		t.Fatalf("language facet sums to %d, total %d", sum, res.Total)
	}
}

func TestOpenTwiceIsLockedNotCorrupt(t *testing.T) {
	ix, _, dir := newFixtureIndex(t)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("second Open: %v, want ErrLocked only", err)
	}
}

func TestFragmentsValidUTF8(t *testing.T) {
	text := strings.Repeat("Kotihoidon asiakkaat kokivat olonsa turvallisemmaksi – ääriviivat ja ööt. ", 12)
	words := []span{}
	for i := 0; i < len(text); {
		j := strings.Index(text[i:], "olonsa")
		if j < 0 {
			break
		}
		words = append(words, span{i + j, i + j + len("olonsa")})
		i += j + 1
	}
	frags := fragments(text, mergeSpans(words, len(text)))
	if len(frags) != maxFragments {
		t.Fatalf("%d fragments", len(frags))
	}
	for _, f := range frags {
		if !utf8.ValidString(f) {
			t.Fatalf("invalid UTF-8: %q", f)
		}
		if strings.Count(f, "<mark>") != strings.Count(f, "</mark>") || !strings.Contains(f, "<mark>olonsa</mark>") {
			t.Fatalf("marks: %q", f)
		}
		if len(f) > fragmentBytes*2 {
			t.Fatalf("fragment too long: %d", len(f))
		}
	}
	// Spans at the very start and end, and overlapping ones.
	got := markup("abc def", 0, 7, mergeSpans([]span{{0, 3}, {4, 7}, {5, 6}}, 7))
	if got != "<mark>abc</mark> <mark>def</mark>" {
		t.Fatalf("markup %q", got)
	}
}

func TestTranslationsSearchedAndShown(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	d := Doc{CID: "fi-tr", Kind: "practice", Language: "fi", Region: "North Karelia", Country: "FI",
		Title:   "Yöajan etähoiva kylien vapaaehtoisten kanssa",
		Summary: "Kylien vapaaehtoiset vastaavat hälytyksiin yöllä.",
		Body:    "Hoitajat ja vapaaehtoiset suunnittelivat yöhoivan yhdessä.",
		Translations: map[string]Translation{
			"en": {Title: "Night-time telecare with village volunteers", Summary: "Village volunteers answer alarms at night."},
			"sv": {Title: "Nattlig distansomsorg med byarnas frivilliga"},
		}}
	if err := ix.Put(d); err != nil {
		t.Fatal(err)
	}
	res := search(t, ix, Query{Text: "night telecare", Reader: "en"})
	if len(res.Hits) == 0 || res.Hits[0].CID != "fi-tr" {
		t.Fatalf("night telecare: got %v", cids(res))
	}
	h := res.Hits[0]
	if h.Title != d.Translations["en"].Title || h.TitleLanguage != "en" || h.OriginalTitle != d.Title || h.Summary == "" {
		t.Fatalf("hit not shown in English: %+v", h)
	}
	// A Finnish reader sees the original.
	res = search(t, ix, Query{Text: "etähoiva", Reader: "fi"})
	if len(res.Hits) == 0 || res.Hits[0].Title != d.Title || res.Hits[0].OriginalTitle != "" {
		t.Fatalf("etähoiva: %+v", res.Hits)
	}
	// Without a reader language, hits are shown in the query's language.
	res = search(t, ix, Query{Text: "volunteers"})
	if res.QueryLanguage != "en" || !contains(cids(res), "fi-tr") {
		t.Fatalf("volunteers: language %q, got %v", res.QueryLanguage, cids(res))
	}
	for _, h := range res.Hits {
		if h.CID == "fi-tr" && h.Title != d.Translations["en"].Title {
			t.Fatalf("English query: title %q", h.Title)
		}
	}
	// Limited to languages, no detection: titles as written.
	res = search(t, ix, Query{Text: "vapaaehtoiset", Languages: []string{"fi"}})
	if res.QueryLanguage != "" || len(res.Hits) == 0 || res.Hits[0].Title != d.Title {
		t.Fatalf("Finnish only: %q %+v", res.QueryLanguage, res.Hits)
	}
}

func TestCompoundsAndLemmas(t *testing.T) {
	ix, _ := indexOf(t, []Doc{
		{CID: "sv-c", Language: "sv", Title: "Nytt äldreboende i Sollefteå", Body: "Kommunen byggde om skolan."},
		{CID: "sv-p", Language: "sv", Title: "Trygg boende för äldre på landsbygden", Body: "Grannar hjälper varandra."},
		{CID: "da-c", Language: "da", Title: "Ungdomsrådet i Hjørring", Body: "De unge mødes hver måned."},
		{CID: "no-c", Language: "nb", Title: "Bestillingstransport i distriktene", Body: "Bussen kommer når du ringer."},
		{CID: "fi-c", Language: "fi", Title: "Kotihoidon yöpartio", Body: "Hoitajat käyvät öisin."},
		{CID: "is-c", Language: "is", Title: "Heimaþjónusta fyrir aldraða", Body: "Sveitarfélagið skipulagði þjónustuna."},
	})
	for _, tc := range []struct{ q, want string }{
		{"boende för äldre", "sv-c"},
		{"äldreboende", "sv-p"},
		{"ungdomsråd", "da-c"},
		{"råd for unge", "da-c"},
		{"transport", "no-c"},
		{"kotihoito", "fi-c"},
		{"hoito", "fi-c"},
		{"aldraðir", "is-c"},
		{"þjónusta", "is-c"},
	} {
		res := search(t, ix, Query{Text: tc.q})
		if !contains(cids(res), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.q, cids(res), tc.want)
		}
	}
}

func TestGlossaryExpansion(t *testing.T) {
	ix, _ := indexOf(t, []Doc{
		{CID: "en-x", Language: "en", Title: "Home care for people living alone", Body: "Care workers visit twice a day."},
		{CID: "fi-x", Language: "fi", Title: "Kotihoidon uusi toimintamalli", Body: "Hoitajat käyvät asiakkaiden luona."},
		{CID: "sv-x", Language: "sv", Title: "Hemtjänst på landsbygden", Body: "Personalen åker långa sträckor."},
		{CID: "da-y", Language: "da", Title: "Ungdomsråd i kommunen", Body: "De unge giver råd til byrådet."},
		{CID: "en-z", Language: "en", Title: "Timetables for the village bus", Body: "The bus runs twice a day."},
	})
	res := search(t, ix, Query{Text: "home care"})
	got := cids(res)
	if len(got) < 3 || got[0] != "en-x" || !contains(got, "fi-x") || !contains(got, "sv-x") {
		t.Fatalf("home care: got %v, want en-x first, then the Finnish and Swedish home care records", got)
	}
	if contains(got, "en-z") {
		t.Fatalf("home care found the bus timetable: %v", got)
	}
	// A Finnish query finds the Swedish and English records.
	got = cids(search(t, ix, Query{Text: "kotihoito"}))
	if len(got) < 3 || got[0] != "fi-x" || !contains(got, "sv-x") || !contains(got, "en-x") {
		t.Fatalf("kotihoito: got %v", got)
	}
	got = cids(search(t, ix, Query{Text: "youth council"}))
	if !contains(got, "da-y") {
		t.Fatalf("youth council: got %v", got)
	}
	// Without the glossary, no expansion.
	ix.SetGlossary(nil)
	got = cids(search(t, ix, Query{Text: "kotihoito"}))
	if contains(got, "sv-x") {
		t.Fatalf("kotihoito without glossary: got %v", got)
	}
}
