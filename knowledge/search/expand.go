// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/livinglab/livinglab/knowledge/search/glossary"
)

// expansionBoost weights a match through the glossary (the query's concept
// written in another language, or a synonym) relative to a match of the
// query word itself, so that records using the reader's own words rank
// first. A concept term is in every record that says the concept in any
// language, so its inverse document frequency is already lower than that
// of any one of its words.
const expansionBoost = 0.6

// maxExpansionConcepts bounds the glossary concepts one query is expanded
// with.
const maxExpansionConcepts = 16

// glossIndex finds glossary concepts in query words.
type glossIndex struct {
	g *glossary.Glossary
	// keys maps a lookup key to concept indexes. Keys are "*:" + the
	// term's folded words joined by spaces (exact, any language) and
	// code + ":" + its stems in that language's analysis.
	keys     map[string][]int
	maxWords int
}

// glossTerm is a glossary term analysed for its language's fields.
type glossTerm struct {
	code  string      // the language's code
	words []glossWord // its words as analysed for the language's fields
}

// glossWord is one word of a glossary term: its stem and the stems of its
// lemmas.
type glossWord struct {
	main string
	alts []string
}

func (gt glossTerm) key() string {
	mains := make([]string, len(gt.words))
	for i, w := range gt.words {
		mains[i] = w.main
	}
	return gt.code + ":" + strings.Join(mains, " ")
}

// analyzeWords groups an analysis by position into words.
func analyzeWords(toks []analyzedToken) []glossWord {
	var out []glossWord
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && toks[j].pos == toks[i].pos {
			j++
		}
		if main, alts, _, ok := splitTokens(toks[i:j]); ok {
			out = append(out, glossWord{main: main, alts: alts})
		}
		i = j
	}
	return out
}

func newGlossIndex(g *glossary.Glossary, im *mapping.IndexMappingImpl) *glossIndex {
	gi := &glossIndex{g: g, keys: map[string][]int{}}
	fold := im.AnalyzerNamed(foldAnalyzerName)
	add := func(key string, ci int) {
		list := gi.keys[key]
		if len(list) > 0 && list[len(list)-1] == ci {
			return
		}
		gi.keys[key] = append(list, ci)
	}
	for ci, c := range g.Concepts() {
		for _, t := range c.Terms {
			l, ok := languageFor(t.Lang)
			if !ok {
				continue
			}
			folded := joinTerms(analyze(fold, t.Text))
			gt := glossTerm{code: l.code, words: analyzeWords(analyze(im.AnalyzerNamed(l.analyzer), t.Text))}
			if folded != "" {
				add("*:"+folded, ci)
				gi.maxWords = max(gi.maxWords, strings.Count(folded, " ")+1)
			}
			if len(gt.words) > 0 {
				add(gt.key(), ci)
				if len(gt.words) == 1 {
					for _, a := range gt.words[0].alts {
						add(l.code+":"+a, ci)
					}
				}
			}
		}
	}
	return gi
}

func joinTerms(ts []analyzedToken) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.term
	}
	return strings.Join(parts, " ")
}

// SetGlossary replaces the glossary used to expand queries; nil turns
// expansion off.
func (ix *Index) SetGlossary(g *glossary.Glossary) {
	var gi *glossIndex
	if g != nil {
		gi = newGlossIndex(g, ix.mapping)
	}
	ix.glossMu.Lock()
	ix.gloss, ix.glossPending = gi, nil
	ix.glossMu.Unlock()
}

func (ix *Index) glossary() *glossIndex {
	ix.glossMu.RLock()
	gi, pending := ix.gloss, ix.glossPending
	ix.glossMu.RUnlock()
	if pending == nil {
		return gi
	}
	ix.glossMu.Lock()
	defer ix.glossMu.Unlock()
	if ix.glossPending != nil {
		ix.gloss, ix.glossPending = newGlossIndex(ix.glossPending, ix.mapping), nil
	}
	return ix.gloss
}

// expandGlossary finds glossary concepts in runs of consecutive optional
// words (longest first) and gives each word of a run its concepts as
// expansions: a record containing "kotihoito" then counts for both words of
// "home care", below a record containing "home care" itself. The index
// holds a token for every concept found in a text (conceptFilter), so a
// concept is one term per field, whichever language the record says it in.
func (pl *planner) expandGlossary(words []*word, langs []language) {
	gi := pl.ix.glossary()
	if gi == nil || len(words) == 0 {
		return
	}
	budget := maxExpansionConcepts
	concepts := gi.g.Concepts()
	for i := 0; i < len(words) && budget > 0; {
		n, found := gi.match(words[i:], langs)
		if n == 0 {
			i++
			continue
		}
		var qs []query.Query
		for _, ci := range found {
			if budget == 0 {
				break
			}
			if q := pl.conceptQuery(concepts[ci].ID, langs); q != nil {
				qs = append(qs, q)
				budget--
			}
		}
		if len(qs) > 0 {
			for _, w := range words[i : i+n] {
				w.expansions = append(w.expansions, qs...)
			}
		}
		i += n
	}
}

// conceptQuery matches records in which the concept was found, in any text
// field or in a translation into one of langs, weighted by expansionBoost;
// nil if no record has it.
func (pl *planner) conceptQuery(id string, langs []language) query.Query {
	term := conceptTerm(id)
	var qs []query.Query
	add := func(field string, boost float64) {
		if !pl.exists(field, term) {
			return
		}
		t := query.NewTermQuery(term)
		t.SetField(field)
		t.SetBoost(boost * expansionBoost)
		qs = append(qs, t)
	}
	for _, tf := range textFields {
		add(tf.name, tf.boost)
	}
	for _, l := range langs {
		for _, tf := range translationFields {
			add(langField(tf.name, l.code), tf.boost)
		}
	}
	if len(qs) == 0 {
		return nil
	}
	return disjunction(qs)
}

// match returns the length of the longest run at the start of words that
// is a glossary term, and its concepts.
func (gi *glossIndex) match(words []*word, langs []language) (int, []int) {
	for n := min(gi.maxWords, len(words)); n >= 1; n-- {
		run := words[:n]
		folded := make([]string, n)
		for i, w := range run {
			folded[i] = w.folded
		}
		var out []int
		out = append(out, gi.keys["*:"+strings.Join(folded, " ")]...)
		for _, l := range langs {
			stems := make([]string, 0, n)
			for _, w := range run {
				if s, ok := w.stems[l.code]; ok {
					stems = append(stems, s)
				}
			}
			if len(stems) == n {
				out = append(out, gi.keys[l.code+":"+strings.Join(stems, " ")]...)
			}
			if n == 1 {
				for _, a := range run[0].alts[l.code] {
					out = append(out, gi.keys[l.code+":"+a]...)
				}
			}
		}
		if len(out) > 0 {
			return n, dedupInts(out)
		}
	}
	return 0, nil
}

func dedupInts(xs []int) []int {
	seen := map[int]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
