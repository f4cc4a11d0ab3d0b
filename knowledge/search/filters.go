// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	xlanguage "golang.org/x/text/language"
)

// FacetValues returns the values of one facet (topic, region, country,
// stage, language, year) present in the index, sorted.
func (ix *Index) FacetValues(name string) (out []string, err error) {
	err = ix.reader(func(b bleve.Index) error {
		d, err := b.FieldDictPrefix(fieldFacet, []byte(name+"="))
		if err != nil {
			return err
		}
		defer d.Close()
		for {
			e, err := d.Next()
			if err != nil {
				return err
			}
			if e == nil {
				return nil
			}
			out = append(out, strings.TrimPrefix(e.Term, name+"="))
		}
	})
	sort.Strings(out)
	return out, err
}

// ValidLanguage checks a language filter or reader language: an ISO 639
// code or BCP 47 tag whose language is known ("nb", "nn-NO", "ga"). It
// returns the normalised primary subtag.
func ValidLanguage(code string) (string, error) {
	c := normLanguage(code)
	if c == "" {
		return "", fmt.Errorf("%w: empty language", ErrBadQuery)
	}
	if _, err := xlanguage.ParseBase(c); err != nil || len(c) < 2 || len(c) > 3 {
		return "", fmt.Errorf("%w: unknown language %q, want an ISO 639-1 code such as en, fi, sv, nb, da, is, ga", ErrBadQuery, code)
	}
	return c, nil
}

// normalizeFilters checks the filter values and brings them to the form
// they are indexed in: topics are lower-case slugs, languages known codes
// ("no" also matches "nb" and "nn"; "nb" and "nn" also match "no"), regions
// match the index's values whatever their case.
func (ix *Index) normalizeFilters(q *Query) error {
	for i, t := range q.Topics {
		t = strings.ToLower(strings.TrimSpace(t))
		if !validSlug(t) {
			return fmt.Errorf("%w: unknown topic %q, topics are lower-case slugs such as elderly-care", ErrBadQuery, q.Topics[i])
		}
		q.Topics[i] = t
	}
	var langs []string
	for _, l := range q.Languages {
		c, err := ValidLanguage(l)
		if err != nil {
			return err
		}
		langs = append(langs, c)
		switch c {
		case "no":
			langs = append(langs, "nb", "nn")
		case "nb", "nn":
			langs = append(langs, "no")
		}
	}
	q.Languages = dedupStrings(langs)
	if len(q.Regions) > 0 {
		indexed, err := ix.FacetValues(fieldRegion)
		if err != nil {
			return err
		}
		var regions []string
		for _, r := range q.Regions {
			r = strings.TrimSpace(r)
			matched := false
			for _, v := range indexed {
				if strings.EqualFold(v, r) {
					regions = append(regions, v)
					matched = true
				}
			}
			if !matched {
				regions = append(regions, r) // the caller decides whether it is unknown
			}
		}
		q.Regions = dedupStrings(regions)
	}
	return nil
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func dedupStrings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Match is one matching record with its facet values, for merging the
// results of several indexes (federated search): counting a record once
// and its facets once however many members hold it.
type Match struct {
	CID    string              `cbor:"cid" json:"cid"`
	Facets map[string][]string `cbor:"facets" json:"facets"`
}

// MaxMatches is the most matches Matches returns.
const MaxMatches = 2000

// Matches returns every record matching q's text and filters (paging and
// sort ignored), up to limit (at most MaxMatches), with its facet values,
// and whether that is all of them.
func (ix *Index) Matches(ctx context.Context, q Query, limit int) ([]Match, bool, error) {
	limit = min(max(limit, 1), MaxMatches)
	if err := ix.normalizeFilters(&q); err != nil {
		return nil, false, err
	}
	filters, err := buildFilters(q)
	if err != nil {
		return nil, false, err
	}
	clauses, err := parseText(q.Text)
	if err != nil {
		return nil, false, err
	}
	var out []Match
	var total uint64
	err = ix.reader(func(b bleve.Index) error {
		pl := ix.newPlanner(b)
		defer pl.close()
		p, err := pl.plan(clauses, pl.languages(q.Languages))
		if err != nil {
			return err
		}
		req := bleve.NewSearchRequestOptions(p.query(filters), limit, 0, false)
		req.Score = "none"
		req.SortByCustom(bsearch.SortOrder{&bsearch.SortDocID{}})
		req.Fields = []string{fieldTopic, fieldRegion, fieldCountry, fieldLanguage, fieldCreated, fieldKind}
		res, err := b.SearchInContext(ctx, req)
		if err != nil {
			return err
		}
		total = res.Total
		for _, h := range res.Hits {
			m := Match{CID: h.ID, Facets: map[string][]string{}}
			for _, f := range []string{fieldRegion, fieldCountry, fieldLanguage} {
				if v := fieldString(h.Fields[f]); v != "" {
					m.Facets[f] = []string{v}
				}
			}
			if ts := fieldStrings(h.Fields[fieldTopic]); len(ts) > 0 {
				m.Facets[fieldTopic] = ts
			}
			if c := fieldString(h.Fields[fieldCreated]); len(c) >= 4 {
				m.Facets[fieldYear] = []string{c[:4]}
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, uint64(len(out)) == total, nil
}

// MergeFacets counts facet values over matches, each CID once, most
// frequent first. names limits the facets (nil: all but stage, which
// matches do not carry).
func MergeFacets(matches []Match, names []string) map[string][]FacetCount {
	if names == nil {
		names = FacetNames
	}
	counts := map[string]map[string]int{}
	seen := map[string]bool{}
	for _, m := range matches {
		if seen[m.CID] {
			continue
		}
		seen[m.CID] = true
		for _, n := range names {
			for _, v := range m.Facets[n] {
				if counts[n] == nil {
					counts[n] = map[string]int{}
				}
				counts[n][v]++
			}
		}
	}
	out := map[string][]FacetCount{}
	for _, n := range names {
		fcs := []FacetCount{}
		for v, c := range counts[n] {
			fcs = append(fcs, FacetCount{Value: v, Count: c})
		}
		sortFacetCounts(fcs)
		out[n] = fcs
	}
	return out
}
