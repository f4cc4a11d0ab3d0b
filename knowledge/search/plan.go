// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// plan is the text part of a query compiled for bleve.
type plan struct {
	must   []query.Query // required words, the optional words (one query), each phrase
	not    []query.Query // one per excluded word or phrase
	kept   []clause      // the clauses behind must, for snippets
	scored bool          // there are words to rank by
}

// query combines the text clauses and the filters.
func (p plan) query(filters []query.Query) query.Query {
	switch {
	case len(p.must) == 0 && len(p.not) == 0 && len(filters) == 0:
		return query.NewMatchAllQuery()
	case len(p.must) == 0 && len(p.not) == 0:
		return query.NewConjunctionQuery(filters)
	}
	must := append(append([]query.Query{}, p.must...), filters...)
	if len(must) == 1 && len(p.not) == 0 {
		return must[0]
	}
	b := query.NewBooleanQuery(nil, nil, nil)
	if len(must) == 0 {
		must = []query.Query{query.NewMatchAllQuery()}
	}
	b.AddMust(must...)
	if len(p.not) > 0 {
		b.AddMustNot(p.not...)
	}
	return b
}

// planner compiles clauses for one search.
type planner struct {
	ix      *Index
	b       bleve.Index
	r       index.IndexReader
	expands map[string][]string // field + "\x00" + stem -> prefix expansions
	// detected is the query's language if known: only its stop words are
	// dropped, so that a word that is a stop word elsewhere still counts.
	detected string
}

func (ix *Index) newPlanner(b bleve.Index) *planner {
	pl := &planner{ix: ix, b: b, expands: map[string][]string{}}
	if adv, err := b.Advanced(); err == nil {
		if r, err := adv.Reader(); err == nil {
			pl.r = r
		}
	}
	return pl
}

func (pl *planner) close() {
	if pl.r != nil {
		_ = pl.r.Close()
	}
}

// languages resolves language codes to the languages with fields; with no
// codes, every language present in the index.
func (pl *planner) languages(codes []string) []language {
	var langs []language
	if len(codes) == 0 {
		for _, c := range pl.ix.presentLanguages() {
			langs = append(langs, languageByCode[c])
		}
		return langs
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if l, ok := languageFor(normLanguage(c)); ok && !seen[l.code] {
			seen[l.code] = true
			langs = append(langs, l)
		}
	}
	sort.Slice(langs, func(i, j int) bool { return langs[i].code < langs[j].code })
	return langs
}

func init() {
	// bleve merges the clauses of a disjunction with a heap once it has
	// more than ten of them, and by comparing every clause's current
	// document below that. A query word here is a disjunction of its stem
	// in every language's fields (often 20 to 60 clauses) of which a
	// record matches a handful, where the comparisons cost less than
	// keeping the heap in order: about 8 % less CPU per query on a
	// 30,000-record index. Above this many clauses the heap is kept.
	searcher.DisjunctionHeapTakeover = 128
}

// minShouldMatch is how many of n optional query words a record must
// contain: one of up to two words, then half of them, rounded up. Records that contain more of them rank higher (bleve scales a
// disjunction's score by the share of its clauses that match).
func minShouldMatch(n int) int {
	if n <= 2 {
		return 1
	}
	return (n + 1) / 2
}

// ErrOnlyStopWords reports a query whose words are all stop words ("the",
// "och", "og"), which would match nearly every record.
var ErrOnlyStopWords = fmt.Errorf("%w: the query has only stop words", ErrBadQuery)

// plan compiles the clauses against langs.
//
// Best match: a record matches if it contains at least minShouldMatch of
// the optional words (in its own language's fields, a translation, the
// cross-language field, or through a glossary expansion), and every
// required word (+word) and quoted phrase. Records matching more words,
// and in weightier fields, rank higher. Stop words of the languages searched
// are dropped; a query of stop words only is ErrOnlyStopWords.
func (pl *planner) plan(clauses []clause, langs []language) (plan, error) {
	var p plan
	var optional, required []*word
	var stops []string
	var phraseClauses []clause
	for _, c := range clauses {
		folded := analyze(pl.ix.mapping.AnalyzerNamed(foldAnalyzerName), c.text)
		if len(folded) == 0 {
			continue // punctuation only
		}
		if !c.phrase && len(folded) > 1 && !c.exclude && !c.require {
			// A word the tokenizer splits ("co-production", "drop-in")
			// counts as its parts, which then rank higher next to each
			// other; quote it to require the exact form.
			for _, part := range wordParts(c.text) {
				pf := analyze(pl.ix.mapping.AnalyzerNamed(foldAnalyzerName), part)
				if len(pf) != 1 {
					continue
				}
				w := pl.word(clause{text: part}, pf[0].term, langs)
				if w.stop {
					stops = append(stops, part)
					continue
				}
				optional = append(optional, w)
			}
			continue
		}
		if c.phrase || len(folded) > 1 {
			q := phraseQuery(c.text, folded)
			if c.exclude {
				p.not = append(p.not, q)
			} else {
				p.must = append(p.must, q)
				phraseClauses = append(phraseClauses, c)
			}
			continue
		}
		w := pl.word(c, folded[0].term, langs)
		switch {
		case c.exclude:
			p.not = append(p.not, w.any())
		case c.require:
			required = append(required, w)
		case w.stop:
			stops = append(stops, c.text)
		default:
			optional = append(optional, w)
		}
	}
	if len(optional) == 0 && len(required) == 0 && len(p.must) == 0 && len(stops) > 0 {
		return p, fmt.Errorf("%w (%s): add a word that says what to look for", ErrOnlyStopWords, strings.Join(stops, ", "))
	}
	pl.expandGlossary(optional, langs)
	for _, w := range required {
		p.must = append(p.must, w.scored())
	}
	if len(optional) > 0 {
		qs := make([]query.Query, len(optional))
		for i, w := range optional {
			qs[i] = w.scored()
		}
		if len(qs) == 1 {
			p.must = append(p.must, qs[0])
		} else {
			d := query.NewDisjunctionQuery(qs)
			d.SetMin(float64(minShouldMatch(len(qs))))
			p.must = append(p.must, d)
		}
	}
	for _, w := range required {
		p.kept = append(p.kept, w.c)
	}
	for _, w := range optional {
		p.kept = append(p.kept, w.c)
	}
	p.kept = append(p.kept, phraseClauses...)
	p.scored = len(required)+len(optional) > 0 || len(phraseClauses) > 0
	return p, nil
}

// disjunction of qs, without a wrapper for one query; MatchNone for none.
func disjunction(qs []query.Query) query.Query {
	switch len(qs) {
	case 0:
		return query.NewMatchNoneQuery()
	case 1:
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// highlightQuery is the query whose term locations mark clause c in hits
// written in langs: the word in those languages' fields and the
// cross-language field, or the exact phrase.
func (pl *planner) highlightQuery(c clause, langs []language) query.Query {
	folded := analyze(pl.ix.mapping.AnalyzerNamed(foldAnalyzerName), c.text)
	if c.phrase || len(folded) > 1 {
		if len(folded) == 1 {
			t := query.NewTermQuery(folded[0].term)
			t.SetField(fieldAll)
			return t
		}
		m := query.NewMatchPhraseQuery(c.text)
		m.SetField(fieldAll)
		return m
	}
	return pl.word(c, folded[0].term, langs).any()
}

// phraseQuery matches a phrase by the positions of its words in the
// cross-language field; quotes around one word match just the word, as
// written.
func phraseQuery(text string, folded []analyzedToken) query.Query {
	if len(folded) == 1 {
		t := query.NewTermQuery(folded[0].term)
		t.SetField(fieldAll)
		return t
	}
	terms := make([]string, len(folded))
	for i, t := range folded {
		if i > 0 && t.pos != folded[i-1].pos+1 {
			// Positions with gaps: bleve's phrase matching of the
			// analysed text handles them.
			m := query.NewMatchPhraseQuery(text)
			m.SetField(fieldAll)
			return m
		}
		terms[i] = t.term
	}
	return query.NewPhraseQuery(terms, fieldAll)
}

// expandPrefix returns the most frequent terms of field that start with the
// stem-prefix of stem, other than stem itself.
func (pl *planner) expandPrefix(field, stem string) []string {
	key := field + "\x00" + stem
	if out, ok := pl.expands[key]; ok {
		return out
	}
	var d prefixDict = pl.b
	if pl.r != nil {
		d = pl.r
	}
	out := expandPrefix(d, field, stem)
	pl.expands[key] = out
	return out
}

// prefixDict is the dictionary lookup of both bleve.Index and
// index.IndexReader.
type prefixDict interface {
	FieldDictPrefix(field string, prefix []byte) (index.FieldDict, error)
}

func expandPrefix(b prefixDict, field, stem string) []string {
	pfx := stemPrefix(stem)
	if pfx == "" {
		return nil
	}
	d, err := b.FieldDictPrefix(field, []byte(pfx))
	if err != nil {
		return nil
	}
	defer d.Close()
	type tc struct {
		term  string
		count uint64
	}
	var all []tc
	for i := 0; i < maxPrefixScan; i++ {
		e, err := d.Next()
		if err != nil || e == nil {
			break
		}
		if e.Term != stem {
			all = append(all, tc{e.Term, e.Count})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].count != all[j].count {
			return all[i].count > all[j].count
		}
		return all[i].term < all[j].term
	})
	if len(all) > maxPrefixExpands {
		all = all[:maxPrefixExpands]
	}
	out := make([]string, len(all))
	for i, t := range all {
		out[i] = t.term
	}
	return out
}
