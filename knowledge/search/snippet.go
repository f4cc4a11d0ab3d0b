// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"html"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	bsearch "github.com/blevesearch/bleve/v2/search"
)

// Snippet shape.
const (
	fragmentBytes   = 180 // target length of a fragment
	fragmentLead    = 60  // context kept before the first match of a fragment
	maxFragments    = 3   // per field
	markOpen        = "<mark>"
	markClose       = "</mark>"
	snippetEllipsis = "…"
)

// span is a byte range [start, end) of a field's text.
type span struct{ start, end int }

// makeSnippets builds highlighted fragments from the term locations of a
// hit.
func makeSnippets(h *bsearch.DocumentMatch) map[string][]string {
	spans := textSpans(h)
	out := map[string][]string{}
	for _, tf := range textFields {
		ss := spans[tf.name]
		if len(ss) == 0 {
			continue
		}
		text := fieldString(h.Fields[tf.name])
		if text == "" {
			continue
		}
		ss = mergeSpans(ss, len(text))
		if len(ss) == 0 {
			continue
		}
		if tf.name == "title" {
			out[tf.name] = []string{markup(text, 0, len(text), ss)}
			continue
		}
		out[tf.name] = fragments(text, ss)
	}
	return out
}

// textSpans returns the byte ranges of the hit's term locations in each of
// its stored texts, by text field: locations of the text fields and of the
// cross-language field are byte offsets into the stored texts.
func textSpans(h *bsearch.DocumentMatch) map[string][]span {
	spans := map[string][]span{}
	for field, terms := range h.Locations {
		base := baseField(field)
		for _, locs := range terms {
			for _, l := range locs {
				if l.End <= l.Start {
					continue
				}
				b := base
				if field == fieldAll {
					// The cross-language field holds the four texts as
					// an array; the array position names the text.
					if len(l.ArrayPositions) != 1 || l.ArrayPositions[0] >= uint64(len(textFields)) {
						continue
					}
					b = textFields[l.ArrayPositions[0]].name
				}
				spans[b] = append(spans[b], span{int(l.Start), int(l.End)})
			}
		}
	}
	return spans
}

// mergeSpans sorts spans, drops invalid ones and joins overlapping ones.
func mergeSpans(ss []span, n int) []span {
	sort.Slice(ss, func(i, j int) bool { return ss[i].start < ss[j].start })
	out := ss[:0]
	for _, s := range ss {
		if s.start < 0 || s.end > n || s.start >= s.end {
			continue
		}
		if k := len(out); k > 0 && s.start <= out[k-1].end {
			if s.end > out[k-1].end {
				out[k-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// fragments cuts up to maxFragments windows of text around the spans.
func fragments(text string, ss []span) []string {
	var out []string
	for _, r := range fragmentRanges(text, ss) {
		var b strings.Builder
		if r.start > 0 {
			b.WriteString(snippetEllipsis)
		}
		b.WriteString(markup(text, r.start, r.end, ss[r.from:r.to]))
		if r.end < len(text) {
			b.WriteString(snippetEllipsis)
		}
		out = append(out, b.String())
	}
	return out
}

// fragmentRange is a window of text that fragments shows and the spans
// ss[from:to] it holds.
type fragmentRange struct{ start, end, from, to int }

// fragmentRanges returns the windows fragments shows for the sorted,
// merged spans ss: up to maxFragments, in order.
func fragmentRanges(text string, ss []span) []fragmentRange {
	var out []fragmentRange
	for i := 0; i < len(ss) && len(out) < maxFragments; {
		start := wordStartBefore(text, ss[i].start-fragmentLead, ss[i].start)
		end := start + fragmentBytes
		if end < ss[i].end {
			end = ss[i].end
		}
		// Take every span that fits; never cut one.
		j := i
		for j < len(ss) && ss[j].start < end {
			if ss[j].end > end {
				end = ss[j].end
			}
			j++
		}
		end = wordEndAfter(text, end)
		out = append(out, fragmentRange{start, end, i, j})
		i = j
	}
	return out
}

// markup escapes text[start:end] and wraps the spans (inside the range) in
// mark tags.
func markup(text string, start, end int, ss []span) string {
	var b strings.Builder
	pos := start
	for _, s := range ss {
		if s.start < pos || s.end > end {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:s.start]))
		b.WriteString(markOpen)
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString(markClose)
		pos = s.end
	}
	b.WriteString(html.EscapeString(text[pos:end]))
	return strings.TrimSpace(b.String())
}

// wordStartBefore returns a position at or after from (clamped to 0) that
// starts a word, not beyond limit.
func wordStartBefore(text string, from, limit int) int {
	if from <= 0 {
		return 0
	}
	for from < limit && !utf8.RuneStart(text[from]) {
		from++
	}
	// Skip to just after the next space so no word is cut.
	for p := from; p < limit; {
		r, n := utf8.DecodeRuneInString(text[p:])
		p += n
		if unicode.IsSpace(r) {
			return p
		}
	}
	return from
}

// wordEndAfter returns a position at or after from that ends a word (or the
// end of text).
func wordEndAfter(text string, from int) int {
	if from >= len(text) {
		return len(text)
	}
	for from < len(text) && !utf8.RuneStart(text[from]) {
		from++
	}
	for p := from; p < len(text); {
		r, n := utf8.DecodeRuneInString(text[p:])
		if unicode.IsSpace(r) {
			return p
		}
		p += n
		if p-from > 30 { // a very long "word": cut it
			return p
		}
	}
	return len(text)
}

// isTextField reports whether field is one of the record's own text fields
// (not "all", a translation or a keyword field).
func isTextField(field string) bool {
	for _, tf := range textFields {
		if tf.name == field {
			return true
		}
	}
	return false
}

// textLocationsOf returns, for each hit, the locations of terms of the
// record's own text fields, which the index does not keep (see
// newMapping): want gives, for each hit, the terms of each text field to
// locate. Each hit's stored texts are analysed again with the analyzer of
// its language, which yields exactly the tokens indexed, at byte offsets
// into those texts. The hits are analysed on every CPU. shown says that
// every location of the wanted terms will be shown, so that analysis may
// stop once the snippet's fragments are found (see textLocations).
func (pl *planner) textLocationsOf(hits []*bsearch.DocumentMatch, shown bool, want func(h int) map[string]map[string]bool) []bsearch.FieldTermLocationMap {
	out := make([]bsearch.FieldTermLocationMap, len(hits))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(hits)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(hits) {
					return
				}
				for field, terms := range want(i) {
					if len(terms) == 0 {
						continue
					}
					if locs := pl.textLocations(hits[i], field, terms, shown); len(locs) > 0 {
						if out[i] == nil {
							out[i] = bsearch.FieldTermLocationMap{}
						}
						out[i][field] = locs
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}

// snippetChunk is how much of a long text textLocations analyses at a
// time before it checks whether the fragments are found.
const snippetChunk = 1 << 10

// textLocations returns the locations of the tokens among terms in the
// hit's stored text of field, analysed with its language's analyzer.
//
// Only the snippet's fragments need them: if every location returned will
// be shown (shown), a long text is analysed a chunk at a time, cut at
// white space, until the first maxFragments fragments of the spans found
// so far (with those the hit has already, from "all") end before the chunk does. A
// later token cannot change them. The glossary filter,
// which only adds concept tokens and looks at words around each one, runs
// only when a concept term is wanted, over the whole text.
func (pl *planner) textLocations(h *bsearch.DocumentMatch, field string, terms map[string]bool, shown bool) bsearch.TermLocationMap {
	l, ok := languageFor(fieldString(h.Fields[fieldLanguage]))
	if !ok {
		return nil // stored only, never indexed under field
	}
	text := fieldString(h.Fields[field])
	if text == "" {
		return nil
	}
	concepts := false
	for t := range terms {
		concepts = concepts || strings.HasPrefix(t, conceptPrefix)
	}
	a := pl.ix.snippetAnalyzer(l.analyzer, concepts)
	if a == nil {
		return nil
	}
	whole := !shown || concepts || field == textFields[0].name || len(text) <= 2*snippetChunk
	var known []span
	if !whole {
		known = textSpans(h)[field]
	}
	var out bsearch.TermLocationMap
	var found []span
	for from := 0; from < len(text); {
		to := len(text)
		if !whole {
			to = chunkEnd(text, from+snippetChunk)
		}
		for _, t := range a.Analyze([]byte(text[from:to])) {
			if !terms[string(t.Term)] {
				continue
			}
			if out == nil {
				out = bsearch.TermLocationMap{}
			}
			start, end := from+t.Start, from+t.End
			out[string(t.Term)] = append(out[string(t.Term)], &bsearch.Location{
				Pos: uint64(t.Position), Start: uint64(start), End: uint64(end),
			})
			found = append(found, span{start, end})
		}
		from = to
		if from < len(text) && len(found) > 0 {
			rs := fragmentRanges(text, mergeSpans(append(slices.Clone(known), found...), len(text)))
			if len(rs) == maxFragments && rs[maxFragments-1].end < from {
				break
			}
		}
	}
	return out
}

// chunkEnd returns the end of the white space at or after at (or the end
// of text), so that no word is cut.
func chunkEnd(text string, at int) int {
	if at >= len(text) {
		return len(text)
	}
	for at < len(text) && !utf8.RuneStart(text[at]) {
		at++
	}
	for at < len(text) {
		r, n := utf8.DecodeRuneInString(text[at:])
		if unicode.IsSpace(r) {
			break
		}
		at += n
	}
	for at < len(text) {
		r, n := utf8.DecodeRuneInString(text[at:])
		if !unicode.IsSpace(r) {
			break
		}
		at += n
	}
	return at
}

// snippetAnalyzer returns the analyzer named name, without its glossary
// filter unless concepts: that filter only adds concept tokens.
func (ix *Index) snippetAnalyzer(name string, concepts bool) analysis.Analyzer {
	a := ix.mapping.AnalyzerNamed(name)
	if concepts || a == nil {
		return a
	}
	if v, ok := ix.noConcepts.Load(name); ok {
		return v.(analysis.Analyzer)
	}
	da, ok := a.(*analysis.DefaultAnalyzer)
	if !ok {
		return a
	}
	plain := *da
	plain.TokenFilters = slices.DeleteFunc(slices.Clone(da.TokenFilters), func(f analysis.TokenFilter) bool {
		_, ok := f.(*conceptFilter)
		return ok
	})
	v, _ := ix.noConcepts.LoadOrStore(name, analysis.Analyzer(&plain))
	return v.(analysis.Analyzer)
}
