// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
)

// facetCollector counts facets with bitmaps instead of per-hit doc values.
//
// It hooks into bleve's top-N collector and records the index-wide number
// of every matching document in a bitmap, keeping a reference to the index
// snapshot the search ran on. Afterwards each facet value's postings (one
// bitmap per segment of the facet field) are intersected with it. This
// costs a few nanoseconds per hit and microseconds per facet value, where
// reading doc values costs hundreds of nanoseconds per hit and field.
type facetCollector struct {
	matches  *roaring.Bitmap
	snapshot *scorch.IndexSnapshot
	err      error
}

// context returns ctx carrying the hook for bleve's collector.
func (fc *facetCollector) context(ctx context.Context) context.Context {
	fc.matches = roaring.New()
	maker := func(sctx *bsearch.SearchContext) (bsearch.DocumentMatchHandler, bool, error) {
		next, loadID, err := collector.MakeTopNDocumentMatchHandler(sctx)
		if err != nil {
			return nil, false, err
		}
		if is, ok := sctx.IndexReader.(*scorch.IndexSnapshot); ok && fc.snapshot == nil {
			is.AddRef()
			fc.snapshot = is
		} else if !ok {
			fc.err = fmt.Errorf("facets: unsupported index reader %T", sctx.IndexReader)
		}
		return func(d *bsearch.DocumentMatch) error {
			if d != nil {
				fc.matches.Add(uint32(d.IndexInternalID.Value()))
			}
			return next(d)
		}, loadID, nil
	}
	return context.WithValue(ctx, bsearch.MakeDocumentMatchHandlerKey, bsearch.MakeDocumentMatchHandler(maker))
}

// useMatches records matches found on snapshot s without bleve's collector.
func (fc *facetCollector) useMatches(s *scorch.IndexSnapshot, matches *roaring.Bitmap) {
	fc.release()
	s.AddRef()
	fc.snapshot, fc.matches = s, matches
}

// release drops the snapshot reference.
func (fc *facetCollector) release() {
	if fc.snapshot != nil {
		_ = fc.snapshot.DecRef()
		fc.snapshot = nil
	}
}

// orInto is implemented by zap postings lists.
type orInto interface{ OrInto(*roaring.Bitmap) }

// counts returns the facet counts of the recorded matches for the facets in
// names.
func (fc *facetCollector) counts(names []string) (map[string][]FacetCount, error) {
	if fc.err != nil {
		return nil, fc.err
	}
	out := make(map[string][]FacetCount, len(names))
	want := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = []FacetCount{}
		want[n] = true
	}
	if fc.snapshot == nil || fc.matches.IsEmpty() {
		return out, nil
	}

	// The facet terms present in the snapshot.
	dict, err := fc.snapshot.FieldDict(fieldFacet)
	if err != nil {
		return nil, err
	}
	var terms []string
	for {
		e, err := dict.Next()
		if err != nil {
			_ = dict.Close()
			return nil, err
		}
		if e == nil {
			break
		}
		if name, _, ok := strings.Cut(e.Term, "="); ok && want[name] {
			terms = append(terms, e.Term)
		}
	}
	_ = dict.Close()

	counts := make([]uint64, len(terms))
	var offset uint64
	postings := roaring.New()
	for _, ss := range fc.snapshot.Segments() {
		seg := ss.Segment()
		n := seg.Count()
		lo, hi := offset, offset+n
		offset = hi
		if n == 0 {
			continue
		}
		if fc.matches.Rank(uint32(hi-1))-rankBefore(fc.matches, lo) == 0 {
			continue // no match in this segment
		}
		d, err := seg.Dictionary(fieldFacet)
		if err != nil {
			return nil, err
		}
		for i, t := range terms {
			pl, err := d.PostingsList([]byte(t), nil, nil)
			if err != nil {
				return nil, err
			}
			oi, ok := pl.(orInto)
			if !ok {
				return nil, fmt.Errorf("facets: unsupported postings list %T", pl)
			}
			postings.Clear()
			oi.OrInto(postings)
			if postings.IsEmpty() {
				continue
			}
			if lo > 0 {
				postings = roaring.AddOffset64(postings, int64(lo))
			}
			counts[i] += postings.AndCardinality(fc.matches)
		}
	}
	for i, t := range terms {
		if counts[i] == 0 {
			continue
		}
		name, value, _ := strings.Cut(t, "=")
		out[name] = append(out[name], FacetCount{Value: value, Count: int(counts[i])})
	}
	for _, fcs := range out {
		sortFacetCounts(fcs)
	}
	return out, nil
}

// rankBefore returns the number of values in b smaller than x.
func rankBefore(b *roaring.Bitmap, x uint64) uint64 {
	if x == 0 {
		return 0
	}
	return b.Rank(uint32(x - 1))
}

// sortFacetCounts orders by count, most frequent first, then by value.
func sortFacetCounts(fc []FacetCount) {
	sort.Slice(fc, func(i, j int) bool {
		if fc[i].Count != fc[j].Count {
			return fc[i].Count > fc[j].Count
		}
		return fc[i].Value < fc[j].Value
	})
}
