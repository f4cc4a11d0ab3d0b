// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Sort orders accepted in Query.Sort.
const (
	SortRelevance = "relevance"
	SortDate      = "date"
)

// Query is a search request.
type Query struct {
	// Text uses the syntax described in the package documentation. Empty
	// text matches every record that passes the filters.
	Text string

	// Filters. Values within one filter are alternatives (OR); different
	// filters must all hold (AND). Matching is exact after the same
	// normalisation as indexing (country upper-case, language primary subtag
	// lower-case; the language "no" also matches "nb" and "nn").
	Topics, Regions, Countries, Languages []string
	Stages, Years                         []int
	Kind                                  string // "" for any
	// Adapted keeps only practices that adapt other practices.
	Adapted bool `cbor:"adapted,omitempty"`

	// Reader is the reader's language: hits with a translation into it
	// show the translated title and summary. Empty shows titles as written.
	Reader string

	Sort     string // SortRelevance (default) or SortDate (newest first)
	Page     int    // 1-based; 0 means 1
	PageSize int    // 1..MaxPageSize; 0 means DefaultPageSize

	// TieByCID orders records of equal score by CID, so that the best n of
	// several indexes merge into the best n of their union (federated
	// search). It costs a little: leave it off otherwise.
	TieByCID bool `cbor:"tie_by_cid,omitempty"`

	// Facets asks for counts over the whole result set. FacetFields limits
	// them to some of FacetNames; empty means all.
	Facets      bool
	FacetFields []string
}

// Hit is one record in a result page. JSON names are snake_case like the
// rest of the API.
type Hit struct {
	CID        string `json:"cid"`
	PracticeID string `json:"practice_id"`
	Kind       string `json:"kind"`
	// Title is in the reader's language (Query.Reader) when the record has
	// a translation into it, else as written; TitleLanguage says which.
	Title         string `json:"title"`
	TitleLanguage string `json:"title_language"`
	// OriginalTitle is the title as written, set when Title is a
	// translation.
	OriginalTitle string `json:"original_title,omitempty"`
	// Summary is the translated summary, set when Title is a translation.
	Summary  string    `json:"summary,omitempty"`
	Language string    `json:"language"`
	Region   string    `json:"region"`
	Country  string    `json:"country"`
	Topics   []string  `json:"topics"`
	Created  time.Time `json:"created"`
	Score    float64   `json:"score"` // 0 when sorted by date
	// Snippets maps a field (title, summary, lessons, body) to fragments of
	// its text, HTML-escaped, with the matched words in <mark>...</mark>.
	// Only fields with a match are present; nil without query text.
	Snippets map[string][]string `json:"snippets,omitempty"`
}

// Localize shows the hit in the reader's language when one of the
// translations is in it ("nb" and "nn" readers also take "no" and each
// other's translations, after their own).
func (h *Hit) Localize(translations map[string]Translation, reader string) {
	h.TitleLanguage = h.Language
	reader = normLanguage(reader)
	if reader == "" || len(translations) == 0 || sameLanguage(reader, h.Language) {
		return
	}
	want := []string{reader}
	if l, ok := languageFor(reader); ok && l.code == "no" {
		want = append(want, "nb", "nn", "no")
	}
	for _, code := range want {
		for tc, tr := range translations {
			if normLanguage(tc) == code && strings.TrimSpace(tr.Title) != "" {
				h.OriginalTitle = h.Title
				h.Title, h.Summary, h.TitleLanguage = tr.Title, tr.Summary, normLanguage(tc)
				return
			}
		}
	}
}

// sameLanguage reports whether two codes name the same language for
// display ("nb" and "nb-NO"; not "nb" and "nn").
func sameLanguage(a, b string) bool { return normLanguage(a) == normLanguage(b) }

// FacetCount is one facet value with the number of matching records.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Result is one page of search results.
type Result struct {
	Total    uint64 // records matching, over all pages
	Page     int
	PageSize int
	Hits     []Hit
	// Facets maps a facet name (topic, region, country, stage, language,
	// year) to its values, most frequent first, ties by value. Counts are
	// exact over the whole result set.
	Facets map[string][]FacetCount
	// QueryLanguage is the language the query text was detected to be in
	// ("" if none stood out, or if the search was limited to languages).
	// It decides which stop words are dropped and, without Query.Reader,
	// the language hits are shown in.
	QueryLanguage string
	Took          time.Duration
}

// Search runs q and returns one page of results.
func (ix *Index) Search(ctx context.Context, q Query) (*Result, error) {
	start := time.Now()
	page, size, err := paging(q)
	if err != nil {
		return nil, err
	}
	sortOrder := q.Sort
	switch sortOrder {
	case "", SortRelevance:
		sortOrder = SortRelevance
	case SortDate:
	default:
		return nil, fmt.Errorf("%w: unknown sort %q (use %q or %q)", ErrBadQuery, q.Sort, SortRelevance, SortDate)
	}
	facets, err := facetFields(q)
	if err != nil {
		return nil, err
	}
	if err := ix.normalizeFilters(&q); err != nil {
		return nil, err
	}
	filters, err := buildFilters(q)
	if err != nil {
		return nil, err
	}
	clauses, err := parseText(q.Text)
	if err != nil {
		return nil, err
	}
	detected := ""
	if len(q.Languages) == 0 && len(clauses) > 0 {
		detected = DetectLanguage(q.Text)
	}
	if q.Reader == "" {
		q.Reader = detected
	}

	var res *bleve.SearchResult
	var p plan
	var fc facetCollector
	defer fc.release()
	var counts map[string][]FacetCount
	err = ix.reader(func(b bleve.Index) error {
		pl := ix.newPlanner(b)
		defer pl.close()
		pl.detected = detected
		var err error
		if p, err = pl.plan(clauses, pl.languages(q.Languages)); err != nil {
			return err
		}
		req := bleve.NewSearchRequestOptions(p.query(filters), size, (page-1)*size, false)
		req.Fields = []string{fieldPracticeID, fieldKind, "title", fieldLanguage, fieldRegion, fieldCountry, fieldTopic, fieldCreated, fieldTranslations}
		if len(p.kept) > 0 {
			req.Fields = append(req.Fields, "summary", "lessons", "body")
		}
		if sortOrder == SortRelevance && p.scored && q.TieByCID {
			req.SortBy([]string{"-_score", "_id"})
		}
		if sortOrder == SortDate || !p.scored {
			// Without words to rank by, newest first is the useful order.
			req.Score = "none"
			req.SortByCustom(bsearch.SortOrder{
				&bsearch.SortField{Field: fieldCreated, Desc: true, Type: bsearch.SortFieldAsDate, Missing: bsearch.SortFieldMissingLast},
			})
		}
		// A best-match query is ranked term at a time (topk.go), with
		// the page's snippets; other queries, and query shapes it does
		// not evaluate, go to bleve.
		if sortOrder == SortRelevance && p.scored && !ix.bleveOnly {
			var rfc *facetCollector
			if len(facets) > 0 {
				rfc = &fc
			}
			res, err = pl.ranked(ctx, req.Query, page, size, q.TieByCID, req.Fields, rfc, p.kept)
			if err != nil && !errors.Is(err, errUnsupported) {
				return err
			}
		}
		if res == nil {
			sctx := ctx
			if len(facets) > 0 {
				sctx = fc.context(ctx)
			}
			if res, err = b.SearchInContext(sctx, req); err != nil {
				return err
			}
			if len(p.kept) > 0 && len(res.Hits) > 0 {
				if err := pl.addLocations(ctx, res, p.kept); err != nil {
					return err
				}
			}
		}
		if len(facets) > 0 {
			if counts, err = fc.counts(facets); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrClosed) || errors.Is(err, ErrBadQuery) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("search: %w", err)
	}

	out := &Result{Total: res.Total, Page: page, PageSize: size, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, toHit(h, len(p.kept) > 0, q.Reader))
	}
	out.Facets = counts
	out.QueryLanguage = detected
	out.Took = time.Since(start)
	return out, nil
}

func paging(q Query) (page, size int, err error) {
	page, size = q.Page, q.PageSize
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = DefaultPageSize
	}
	if page < 1 {
		return 0, 0, fmt.Errorf("%w: page %d, pages start at 1", ErrBadQuery, q.Page)
	}
	if size < 1 || size > MaxPageSize {
		return 0, 0, fmt.Errorf("%w: page size %d, allowed 1..%d", ErrBadQuery, q.PageSize, MaxPageSize)
	}
	if page > MaxResultWindow/size {
		return 0, 0, fmt.Errorf("%w: page %d of %d is beyond the first %d results; narrow the search", ErrBadQuery, page, size, MaxResultWindow)
	}
	return page, size, nil
}

func facetFields(q Query) ([]string, error) {
	if !q.Facets {
		if len(q.FacetFields) > 0 {
			return nil, fmt.Errorf("%w: facet fields given but facets not requested", ErrBadQuery)
		}
		return nil, nil
	}
	if len(q.FacetFields) == 0 {
		return FacetNames, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range q.FacetFields {
		known := false
		for _, n := range FacetNames {
			known = known || n == f
		}
		if !known {
			return nil, fmt.Errorf("%w: unknown facet %q (known: %v)", ErrBadQuery, f, FacetNames)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// filterQuery makes a non-scoring query matching any of the values of one
// facet.
func filterQuery(name string, values []string) query.Query {
	qs := make([]query.Query, 0, len(values))
	seen := map[string]bool{}
	for _, v := range values {
		if seen[v] {
			continue
		}
		seen[v] = true
		t := query.NewTermQuery(facetTerm(name, v))
		t.SetField(fieldFacet)
		t.SetBoost(0)
		qs = append(qs, t)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	d := query.NewDisjunctionQuery(qs)
	d.SetBoost(0)
	return d
}

func buildFilters(q Query) ([]query.Query, error) {
	var out []query.Query
	add := func(name string, values []string, norm func(string) string) {
		var vs []string
		for _, v := range values {
			if v = norm(v); v != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			out = append(out, filterQuery(name, vs))
		}
	}
	add(fieldTopic, q.Topics, normKeyword)
	add(fieldRegion, q.Regions, normKeyword)
	add(fieldCountry, q.Countries, normCountry)
	add(fieldLanguage, q.Languages, normLanguage)
	stages, err := numberTerms(q.Stages, 1, 5, "stage %d, stages are 1..5")
	if err != nil {
		return nil, err
	}
	add(fieldStage, stages, normKeyword)
	years, err := numberTerms(q.Years, 1, 9999, "year %d")
	if err != nil {
		return nil, err
	}
	add(fieldYear, years, normKeyword)
	if q.Adapted {
		add(fieldAdapted, []string{"true"}, normKeyword)
	}
	if k := normKind(q.Kind); k != "" {
		out = append(out, filterQuery(fieldKind, []string{k}))
	}
	return out, nil
}

// numberTerms returns ns as keyword terms, or ErrBadQuery saying bad (a
// format for the number) for the first one outside lo..hi.
func numberTerms(ns []int, lo, hi int, bad string) ([]string, error) {
	var out []string
	for _, n := range ns {
		if n < lo || n > hi {
			return nil, fmt.Errorf("%w: "+bad, ErrBadQuery, n)
		}
		out = append(out, strconv.Itoa(n))
	}
	return out, nil
}

// addLocations finds where the query's words occur in the hits of the page,
// for snippets. It runs the kept clauses once more, restricted to these
// hits and to the languages they are written in, with term locations.
// Asking for locations in the main search would read term vectors for
// every match, not just the page.
func (pl *planner) addLocations(ctx context.Context, res *bleve.SearchResult, clauses []clause) error {
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	langs := pl.pageLanguages(res.Hits)
	parts := []query.Query{query.NewDocIDQuery(ids)}
	for _, c := range clauses {
		parts = append(parts, pl.highlightQuery(c, langs))
	}
	req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(parts), len(ids), 0, false)
	req.IncludeLocations = true
	loc, err := pl.b.SearchInContext(ctx, req)
	if err != nil {
		return err
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(loc.Hits))
	for _, h := range loc.Hits {
		byID[h.ID] = h
	}
	for _, h := range res.Hits {
		if l, ok := byID[h.ID]; ok {
			h.Locations = l.Locations
		}
	}
	// The record's own text fields keep no term locations: look for the
	// clauses' terms of those fields in each hit's texts, and keep those
	// whose clause matches there, as locate does.
	var roots []*tnode
	for _, part := range parts[1:] {
		n, err := compileQuery(part)
		if err != nil {
			continue // a phrase, located by bleve in "all"
		}
		roots = append(roots, n)
	}
	leaves := numberLeaves(roots)
	want := map[string]map[string]bool{}
	for _, t := range leaves {
		if isTextField(t.field) {
			if want[t.field] == nil {
				want[t.field] = map[string]bool{}
			}
			want[t.field][string(t.term)] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	texts := pl.textLocationsOf(res.Hits, false, func(int) map[string]map[string]bool { return want })
	for h, hit := range res.Hits {
		found := make([][]*bsearch.Location, len(leaves))
		for i, t := range leaves {
			src := hit.Locations
			if isTextField(t.field) {
				src = texts[h]
			}
			found[i] = src[t.field][string(t.term)]
		}
		for field, terms := range matchedLocations(roots, found) {
			if !isTextField(field) {
				continue
			}
			if hit.Locations == nil {
				hit.Locations = bsearch.FieldTermLocationMap{}
			}
			hit.Locations[field] = terms
		}
	}
	return nil
}

func toHit(h *bsearch.DocumentMatch, snippets bool, reader string) Hit {
	out := Hit{
		CID:        h.ID,
		PracticeID: fieldString(h.Fields[fieldPracticeID]),
		Kind:       fieldString(h.Fields[fieldKind]),
		Title:      fieldString(h.Fields["title"]),
		Language:   fieldString(h.Fields[fieldLanguage]),
		Region:     fieldString(h.Fields[fieldRegion]),
		Country:    fieldString(h.Fields[fieldCountry]),
		Topics:     fieldStrings(h.Fields[fieldTopic]),
		Score:      h.Score,
	}
	if c := fieldString(h.Fields[fieldCreated]); c != "" {
		if t, err := time.Parse(time.RFC3339Nano, c); err == nil {
			out.Created = t
		}
	}
	if snippets {
		out.Snippets = makeSnippets(h)
	}
	var trs map[string]Translation
	if raw := fieldString(h.Fields[fieldTranslations]); raw != "" {
		_ = json.Unmarshal([]byte(raw), &trs)
	}
	out.Localize(trs, reader)
	return out
}

func fieldString(v interface{}) string {
	switch x := v.(type) {
	case string:
		return x
	case []interface{}:
		if len(x) > 0 {
			s, _ := x[0].(string)
			return s
		}
	}
	return ""
}

func fieldStrings(v interface{}) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []interface{}:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
