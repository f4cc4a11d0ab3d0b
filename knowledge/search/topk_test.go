// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestRankedMatchesBleve checks the term-at-a-time evaluator against bleve's
// own searchers on the same index: the same totals, facets, hits in the
// same order with the same scores, and the same snippets, for the project's
// relevance queries and words of a generated corpus, with filters, pages,
// required, excluded and quoted words, over several segments with deleted
// and replaced records, on one goroutine and split between several, and
// through zap's own types and the interface other formats use.
func TestRankedMatchesBleve(t *testing.T) {
	rel, relQueries := loadRelevance(t)
	docs := append(GenerateCorpus(1200, 17), rel...)
	ix, _ := indexOf(t, nil)
	for i := 0; i < len(docs); i += 250 {
		if err := ix.PutBatch(docs[i:min(i+250, len(docs))]); err != nil {
			t.Fatal(err)
		}
	}
	// Deleted and replaced records leave deletions in the segments.
	var gone []string
	for i := 3; i < len(docs); i += 41 {
		gone = append(gone, docs[i].CID)
	}
	if err := ix.DeleteBatch(gone); err != nil {
		t.Fatal(err)
	}
	changed := docs[10]
	changed.Title += " rewritten with telecare and volunteers"
	if err := ix.Put(changed); err != nil {
		t.Fatal(err)
	}

	var texts []string
	for _, q := range relQueries {
		texts = append(texts, q.Text)
	}
	for i := 0; i < 1200; i += 97 {
		w := strings.Fields(docs[i].Title)
		if len(w) >= 3 {
			texts = append(texts, w[0], strings.Join(w[:3], " "), "+"+w[0]+" "+w[1], w[0]+" -"+w[1], fmt.Sprintf("%q %s", w[0]+" "+w[1], w[2]),
				// Phrases: three words, excluded, and words of the
				// record out of order (found in it, but not as a phrase).
				fmt.Sprintf("%q", strings.Join(w[:3], " ")), fmt.Sprintf("%s -%q", w[0], w[1]+" "+w[2]), fmt.Sprintf("%q", w[2]+" "+w[0]))
		}
	}
	topic, lang := docs[5].Topics[0], docs[5].Language
	variants := []Query{
		{},
		{Facets: true},
		{Page: 2, PageSize: 5, Facets: true},
		{Topics: []string{topic}, Facets: true},
		{Languages: []string{lang}},
		{TieByCID: true, PageSize: 30},
	}

	ctx := context.Background()
	supported, compared := 0, 0
	type mode struct {
		split  uint64
		direct bool
	}
	for _, m := range []mode{{parallelMinRecords, true}, {0, true}, {0, false}} {
		split := m.split
		old := parallelMinRecords
		parallelMinRecords, readZapDirectly = split, m.direct
		for _, text := range texts {
			for vi, v := range variants {
				q := v
				q.Text = text
				ix.bleveOnly = true
				want, werr := ix.Search(ctx, q)
				ix.bleveOnly = false
				got, gerr := ix.Search(ctx, q)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("%q variant %d: errors differ: %v / %v", text, vi, gerr, werr)
				}
				if werr != nil {
					continue
				}
				compared++
				compareResults(t, fmt.Sprintf("%q variant %d split %v zap %v", text, vi, split == 0, m.direct), got, want)
			}
			if rankedShape(t, ix, text) {
				supported++
			}
		}
		parallelMinRecords, readZapDirectly = old, true
	}
	if compared < 500 || supported < len(texts) {
		t.Fatalf("compared %d searches, %d of %d query texts evaluated term at a time", compared, supported/3, len(texts))
	}
}

// rankedShape reports whether text compiles for the evaluator: every query
// here does.
func rankedShape(t *testing.T, ix *Index, text string) bool {
	t.Helper()
	ok := false
	err := ix.reader(func(b bleve.Index) error {
		pl := ix.newPlanner(b)
		defer pl.close()
		clauses, err := parseText(text)
		if err != nil {
			return err
		}
		p, err := pl.plan(clauses, pl.languages(nil))
		if err != nil {
			return err
		}
		_, err = newEvaluator(pl.r, p.query(nil), false)
		if errors.Is(err, errUnsupported) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil && !errors.Is(err, ErrOnlyStopWords) {
		t.Fatalf("%q: %v", text, err)
	}
	return ok || errors.Is(err, ErrOnlyStopWords)
}

func compareResults(t *testing.T, name string, got, want *Result) {
	t.Helper()
	if got.Total != want.Total || len(got.Hits) != len(want.Hits) {
		t.Fatalf("%s: total %d, %d hits; bleve %d, %d hits", name, got.Total, len(got.Hits), want.Total, len(want.Hits))
	}
	if !reflect.DeepEqual(got.Facets, want.Facets) {
		t.Fatalf("%s: facets %v\nbleve %v", name, got.Facets, want.Facets)
	}
	for i := range want.Hits {
		g, w := got.Hits[i], want.Hits[i]
		if math.Abs(g.Score-w.Score) > 1e-9*math.Abs(w.Score) {
			t.Fatalf("%s: hit %d scores %.15g, bleve %.15g", name, i, g.Score, w.Score)
		}
		if g.CID != w.CID {
			// Equal scores may add up to a different last bit; then
			// the order between them may differ, nothing else.
			if !nearlyTied(got, want, i) {
				t.Fatalf("%s: hit %d is %s (%.15g), bleve has %s (%.15g)", name, i, g.CID, g.Score, w.CID, w.Score)
			}
			continue
		}
		// bleve's snippets come from one conjunctive search over the
		// page, which gives a hit that lacks one of the words none.
		if len(w.Snippets) > 0 && !reflect.DeepEqual(g.Snippets, w.Snippets) {
			t.Fatalf("%s: hit %d snippets %v\nbleve %v", name, i, g.Snippets, w.Snippets)
		}
		g.Snippets, w.Snippets, g.Score = nil, nil, w.Score
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: hit %d %+v\nbleve %+v", name, i, g, w)
		}
	}
}

// nearlyTied reports whether the hit at i in got is also in want at an
// equal score (within rounding).
func nearlyTied(got, want *Result, i int) bool {
	g := got.Hits[i]
	for _, w := range want.Hits {
		if w.CID == g.CID {
			return math.Abs(g.Score-w.Score) <= 1e-9*math.Abs(w.Score) &&
				math.Abs(g.Score-want.Hits[i].Score) <= 1e-9*math.Abs(w.Score)
		}
	}
	return false
}

// TestRankedUnsupportedShapes checks that query shapes the evaluator does
// not handle are refused for bleve to run, not evaluated wrongly.
func TestRankedUnsupportedShapes(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	err := ix.reader(func(b bleve.Index) error {
		pl := ix.newPlanner(b)
		defer pl.close()
		// A phrase left to analysis at search time (the planner makes one
		// where the words' positions have gaps).
		m := query.NewMatchPhraseQuery("home care workers")
		m.SetField(fieldAll)
		if _, err := newEvaluator(pl.r, m, false); !errors.Is(err, errUnsupported) {
			return fmt.Errorf("match phrase: %v, want errUnsupported", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And the search still answers it.
	res := search(t, ix, Query{Text: `"home care workers"`})
	if res.Total == 0 {
		t.Fatal("no hits for the phrase")
	}
}

// TestRankingAdmission checks that ranked evaluations beyond the bound
// wait for a turn, and give up with their context.
func TestRankingAdmission(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	for range cap(ix.ranking) {
		ix.ranking <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := ix.Search(ctx, Query{Text: "telecare"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("search with every turn taken: %v, want the context's deadline", err)
	}
	// A search that needs no ranking does not wait.
	if _, err := ix.Search(context.Background(), Query{Text: "telecare", Sort: SortDate}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ix.Search(context.Background(), Query{Text: "telecare"})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("search ran with every turn taken: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-ix.ranking
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for len(ix.ranking) > 0 {
		<-ix.ranking
	}
}

// TestRankedMemoryBound checks that a query whose accumulators would pass
// the bound is answered by bleve's searchers, with the same result.
func TestRankedMemoryBound(t *testing.T) {
	ix, _, _ := newFixtureIndex(t)
	q := Query{Text: "telecare village volunteers", Facets: true}
	ranked := search(t, ix, q)
	old := maxAccumulatorBytes
	maxAccumulatorBytes = 1
	defer func() { maxAccumulatorBytes = old }()
	err := ix.reader(func(b bleve.Index) error {
		pl := ix.newPlanner(b)
		defer pl.close()
		clauses, err := parseText(q.Text)
		if err != nil {
			return err
		}
		p, err := pl.plan(clauses, pl.languages(nil))
		if err != nil {
			return err
		}
		if _, err := pl.ranked(context.Background(), p.query(nil), 1, 10, false, nil, nil, nil); !errors.Is(err, errUnsupported) {
			return fmt.Errorf("ranked past the memory bound: %v, want errUnsupported", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	compareResults(t, "memory bound", ranked, search(t, ix, q))
}
