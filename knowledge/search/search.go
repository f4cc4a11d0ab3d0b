package search

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

	Sort     string // SortRelevance (default) or SortDate (newest first)
	Page     int    // 1-based; 0 means 1
	PageSize int    // 1..MaxPageSize; 0 means DefaultPageSize

	// Facets asks for counts over the whole result set. FacetFields limits
	// them to some of FacetNames; empty means all.
	Facets      bool
	FacetFields []string
}

// Hit is one record in a result page.
type Hit struct {
	CID, PracticeID, Kind, Title, Language, Region, Country string
	Topics                                                  []string
	Created                                                 time.Time
	Score                                                   float64 // 0 when sorted by date
	// Snippets maps a field (title, summary, lessons, body) to fragments of
	// its text, HTML-escaped, with the matched words in <mark>...</mark>.
	// Only fields with a match are present; nil without query text.
	Snippets map[string][]string
}

// FacetCount is one facet value with the number of matching records.
type FacetCount struct {
	Value string
	Count int
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
	Took   time.Duration
}

// facetSize bounds the values returned per facet; it is far above the
// number of topics, regions or years a federation has.
const facetSize = 200

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
	filters, err := buildFilters(q)
	if err != nil {
		return nil, err
	}
	clauses, err := parseText(q.Text)
	if err != nil {
		return nil, err
	}
	p := ix.plan(clauses, q.Languages)

	var bq query.Query
	switch {
	case len(p.must) == 0 && len(p.not) == 0 && len(filters) == 0:
		bq = query.NewMatchAllQuery()
	case len(p.must) == 0 && len(p.not) == 0:
		bq = query.NewConjunctionQuery(filters)
	default:
		b := query.NewBooleanQuery(nil, nil, nil)
		must := append(append([]query.Query{}, p.must...), filters...)
		if len(must) == 0 {
			must = []query.Query{query.NewMatchAllQuery()}
		}
		b.AddMust(must...)
		if len(p.not) > 0 {
			b.AddMustNot(p.not...)
		}
		bq = b
	}

	req := bleve.NewSearchRequestOptions(bq, size, (page-1)*size, false)
	req.Fields = []string{fieldPracticeID, fieldKind, "title", fieldLanguage, fieldRegion, fieldCountry, fieldTopic, fieldCreated}
	if sortOrder == SortDate || len(p.must) == 0 {
		// Without words to rank by, newest first is the useful order.
		req.Score = "none"
		req.SortByCustom(bsearch.SortOrder{
			&bsearch.SortField{Field: fieldCreated, Desc: true, Type: bsearch.SortFieldAsDate, Missing: bsearch.SortFieldMissingLast},
		})
	}
	for _, f := range facets {
		req.AddFacet(f, bleve.NewFacetRequest(f, facetSize))
	}

	var res *bleve.SearchResult
	err = ix.reader(func(b bleve.Index) error {
		var err error
		res, err = b.SearchInContext(ctx, req)
		if err != nil {
			return err
		}
		if len(p.highlight) > 0 && len(res.Hits) > 0 {
			return ix.addLocations(ctx, b, res, p.highlight)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("search: %w", err)
	}

	out := &Result{Total: res.Total, Page: page, PageSize: size, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, toHit(h, len(p.highlight) > 0))
	}
	if len(facets) > 0 {
		out.Facets = make(map[string][]FacetCount, len(facets))
		for _, f := range facets {
			out.Facets[f] = facetCounts(res.Facets[f])
		}
	}
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

// filterQuery makes a non-scoring query matching any of the values.
func filterQuery(field string, values []string) query.Query {
	qs := make([]query.Query, 0, len(values))
	seen := map[string]bool{}
	for _, v := range values {
		if seen[v] {
			continue
		}
		seen[v] = true
		t := query.NewTermQuery(v)
		t.SetField(field)
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
	add := func(field string, values []string, norm func(string) string) {
		var vs []string
		for _, v := range values {
			if v = norm(v); v != "" {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			out = append(out, filterQuery(field, vs))
		}
	}
	add(fieldTopic, q.Topics, normKeyword)
	add(fieldRegion, q.Regions, normKeyword)
	add(fieldCountry, q.Countries, normCountry)
	var langs []string
	for _, l := range q.Languages {
		l = normLanguage(l)
		langs = append(langs, l)
		if l == "no" {
			langs = append(langs, "nb", "nn")
		}
	}
	add(fieldLanguage, langs, normLanguage)
	var stages []string
	for _, s := range q.Stages {
		if s < 1 || s > 5 {
			return nil, fmt.Errorf("%w: stage %d, stages are 1..5", ErrBadQuery, s)
		}
		stages = append(stages, strconv.Itoa(s))
	}
	add(fieldStage, stages, normKeyword)
	var years []string
	for _, y := range q.Years {
		if y < 1 || y > 9999 {
			return nil, fmt.Errorf("%w: year %d", ErrBadQuery, y)
		}
		years = append(years, strconv.Itoa(y))
	}
	add(fieldYear, years, normKeyword)
	if k := normKind(q.Kind); k != "" {
		out = append(out, filterQuery(fieldKind, []string{k}))
	}
	return out, nil
}

// plan is the text part of a query compiled for bleve.
type plan struct {
	must      []query.Query // one per required word or phrase
	not       []query.Query // one per excluded word or phrase
	highlight []query.Query // the positive clauses, for snippet locations
}

// compiled is one clause analysed for every field it is searched in.
type compiled struct {
	q    query.Query
	stop bool // a stop word in at least one language searched
}

// plan compiles the clauses against the languages to search: those of the
// language filter if given, otherwise every language present in the index.
//
// Every word must match (AND). A word that is a stop word in one of the
// languages searched ("the", "och", "og", "ja") is dropped when the query
// has other words, as the stemmed fields do not index it; a query of stop
// words only searches them in the cross-language fields.
func (ix *Index) plan(clauses []clause, filterLangs []string) plan {
	var langs []language
	if len(filterLangs) > 0 {
		seen := map[string]bool{}
		for _, fl := range filterLangs {
			if l, ok := languageFor(normLanguage(fl)); ok && !seen[l.code] {
				seen[l.code] = true
				langs = append(langs, l)
			}
		}
		sort.Slice(langs, func(i, j int) bool { return langs[i].code < langs[j].code })
	} else {
		for _, c := range ix.presentLanguages() {
			langs = append(langs, languageByCode[c])
		}
	}

	var p plan
	var words, stops []query.Query
	for _, c := range clauses {
		cc, ok := ix.compile(c, langs)
		if !ok {
			continue
		}
		switch {
		case c.exclude:
			p.not = append(p.not, cc.q)
		case cc.stop:
			stops = append(stops, cc.q)
		default:
			words = append(words, cc.q)
		}
	}
	if len(words) == 0 {
		words = stops
	}
	p.must = words
	p.highlight = words
	return p
}

// Weight of a stem-prefix match relative to an exact stem match.
const prefixBoost = 0.4

// compile turns one clause into a disjunction over the text fields of every
// language searched plus the cross-language fields. ok is false when the
// clause has no searchable text (punctuation only).
func (ix *Index) compile(c clause, langs []language) (compiled, bool) {
	fold := ix.mapping.AnalyzerNamed(foldAnalyzerName)
	folded := analyze(fold, c.text)
	if len(folded) == 0 {
		return compiled{}, false
	}
	phrase := c.phrase || len(folded) > 1
	var out compiled
	var qs []query.Query

	addTerm := func(term, field string, boost float64) {
		t := query.NewTermQuery(term)
		t.SetField(field)
		t.SetBoost(boost)
		qs = append(qs, t)
	}
	addPhrase := func(text, field string, boost float64) {
		m := query.NewMatchPhraseQuery(text)
		m.SetField(field)
		m.SetBoost(boost)
		qs = append(qs, m)
	}

	for _, l := range langs {
		toks := analyze(ix.mapping.AnalyzerNamed(l.analyzer), c.text)
		switch {
		case len(toks) == 0:
			out.stop = true
		case phrase || len(toks) > 1:
			for _, tf := range textFields {
				addPhrase(c.text, langField(tf.name, l.code), tf.boost)
			}
		default:
			stem := toks[0].term
			pfx := ""
			if l.prefix {
				pfx = stemPrefix(stem)
			}
			for _, tf := range textFields {
				f := langField(tf.name, l.code)
				addTerm(stem, f, tf.boost)
				if pfx != "" {
					pq := query.NewPrefixQuery(pfx)
					pq.SetField(f)
					pq.SetBoost(tf.boost * prefixBoost)
					qs = append(qs, pq)
				}
			}
		}
	}
	for _, tf := range textFields {
		if phrase {
			addPhrase(c.text, tf.name, tf.boost*crossBoost)
		} else {
			addTerm(folded[0].term, tf.name, tf.boost*crossBoost)
		}
	}
	out.q = query.NewDisjunctionQuery(qs)
	return out, true
}

// addLocations runs the positive clauses once more, restricted to the hits
// of the page and with term locations, and copies the locations into the
// hits for snippets. Asking for locations in the main search would read
// term vectors for every match, not just the page.
func (ix *Index) addLocations(ctx context.Context, b bleve.Index, res *bleve.SearchResult, clauses []query.Query) error {
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	parts := append([]query.Query{query.NewDocIDQuery(ids)}, clauses...)
	req := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(parts), len(ids), 0, false)
	req.IncludeLocations = true
	req.Fields = []string{"summary", "lessons", "body"}
	loc, err := b.SearchInContext(ctx, req)
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
			for k, v := range l.Fields {
				if h.Fields == nil {
					h.Fields = map[string]interface{}{}
				}
				h.Fields[k] = v
			}
		}
	}
	return nil
}

func toHit(h *bsearch.DocumentMatch, snippets bool) Hit {
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

func facetCounts(fr *bsearch.FacetResult) []FacetCount {
	if fr == nil || fr.Terms == nil {
		return []FacetCount{}
	}
	terms := fr.Terms.Terms()
	out := make([]FacetCount, 0, len(terms))
	for _, t := range terms {
		out = append(out, FacetCount{Value: t.Term, Count: t.Count})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}
