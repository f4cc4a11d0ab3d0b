// SPDX-License-Identifier: EUPL-1.2

// One query word analysed for every language searched: its stems, lemmas
// and compound parts, the terms that can match them in the index, and the
// stem-prefix fallback.

package search

import (
	"context"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2/search/query"
)

// word is one query word analysed for every language searched.
type word struct {
	c      clause
	folded string
	terms  []query.Query       // term queries on the text and translation fields
	cross  query.Query         // term query on the cross-language field, nil if absent
	stop   bool                // a stop word in one of the languages
	stems  map[string]string   // language code -> the word's stem in it
	alts   map[string][]string // language code -> stems of the word's lemmas
	// expansions are the word's concept in other languages, from the
	// glossary, weighted below the word itself.
	expansions []query.Query
}

// scored is the word in any field or through its glossary expansions.
func (w *word) scored() query.Query {
	if len(w.expansions) == 0 {
		return w.any()
	}
	qs := []query.Query{w.any()}
	return disjunction(append(qs, w.expansions...))
}

// any is the word in any field: for exclusions and snippets.
func (w *word) any() query.Query {
	qs := slices.Clone(w.terms)
	if w.cross != nil {
		qs = append(qs, w.cross)
	}
	return disjunction(qs)
}

// wordParts splits text at every character that is not a letter or digit.
func wordParts(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// partBoost weights a match of all parts of a compound query word
// ("äldreboende" in "boende för äldre") relative to the word itself.
const partBoost = 0.6

// splitTokens reads one query word's analysis in a language: its stem,
// the stems of its lemmas, and of its compound parts. ok is false when the
// analysis holds more than one word.
func splitTokens(toks []analyzedToken) (main string, alts, parts []string, ok bool) {
	pos := toks[0].pos
	for _, t := range toks {
		if t.pos != pos {
			return "", nil, nil, false
		}
		switch t.typ {
		case lemmaToken:
			if !slices.Contains(alts, t.term) {
				alts = append(alts, t.term)
			}
		case partToken:
			parts = append(parts, t.term)
		case conceptToken:
			// Concepts are looked up in the glossary by the words.
		default:
			if main == "" {
				main = t.term
			}
		}
	}
	if main == "" {
		return "", nil, nil, false
	}
	alts = slices.DeleteFunc(alts, func(a string) bool { return a == main })
	return main, alts, parts, true
}

// Stem-prefix fallback limits.
const (
	prefixBoost      = 0.4 // weight of a prefix-expanded term relative to the stem
	maxPrefixScan    = 512 // dictionary entries examined per field
	maxPrefixExpands = 8   // most frequent expansions kept per field
)

// word analyses a query word with the analyzer of each language in langs
// and keeps the term queries that can match: the stem in each of the
// language's text fields (with the field's boost), the stem-prefix
// expansions where the language uses them, and the folded form in the
// cross-language field.
func (pl *planner) word(c clause, folded string, langs []language) *word {
	w := &word{c: c, folded: folded, stems: map[string]string{}, alts: map[string][]string{}}
	var stopIn []string
	defer func() {
		w.stop = len(stopIn) > 0
		if l, ok := languageFor(pl.detected); ok && len(stopIn) > 0 {
			w.stop = slices.Contains(stopIn, l.code)
			if !w.stop && !slices.ContainsFunc(langs, func(x language) bool { return x.code == l.code }) {
				// The detected language has no records here: fall back
				// to its stop words directly.
				w.stop = len(analyze(pl.ix.mapping.AnalyzerNamed(l.analyzer), c.text)) == 0
			}
		}
	}()
	// The text fields are shared by every language, so languages whose
	// analysis gives the same stem share its term queries: each field and
	// term is looked up once, with the highest boost any language gives it.
	type fieldTerm struct{ field, term string }
	boosts := map[fieldTerm]float64{}
	var order []fieldTerm
	add := func(field, t string, boost float64) {
		k := fieldTerm{field, t}
		if b, ok := boosts[k]; ok {
			boosts[k] = max(b, boost)
			return
		}
		if !pl.exists(field, t) {
			boosts[k] = -1 // absent: never a clause
			return
		}
		boosts[k] = boost
		order = append(order, k)
	}
	term := func(t, field string, boost float64) query.Query {
		if !pl.exists(field, t) {
			return nil
		}
		q := query.NewTermQuery(t)
		q.SetField(field)
		q.SetBoost(boost)
		return q
	}
	var compounds []query.Query
	seenCompound := map[string]bool{}
	cutoff := pl.commonCutoff()
	for _, l := range langs {
		toks := analyze(pl.ix.mapping.AnalyzerNamed(l.analyzer), c.text)
		if len(toks) == 0 {
			stopIn = append(stopIn, l.code)
			continue
		}
		main, alts, parts, ok := splitTokens(toks)
		if !ok {
			// The language's tokenizer split what the fold analyzer did
			// not; the cross-language field still finds it.
			continue
		}
		stem := main
		w.stems[l.code], w.alts[l.code] = stem, alts
		fields := searchFields(l.code)
		for _, tf := range fields {
			add(tf.name, stem, tf.boost)
			for _, a := range alts {
				add(tf.name, a, tf.boost)
			}
			if l.prefix {
				for _, t := range pl.expandPrefix(tf.name, stem) {
					add(tf.name, t, tf.boost*prefixBoost)
				}
			}
		}
		if key := strings.Join(parts, " "); len(parts) >= 2 && !seenCompound[key] {
			// A compound also matches a record with all its parts,
			// unless every part is common: then the parts together
			// match most records and say little about any of them.
			seenCompound[key] = true
			var ps []query.Query
			rare := false
			for _, p := range parts {
				rare = rare || pl.docFreq("body", p) <= cutoff
			}
			for _, p := range parts {
				if !rare {
					break
				}
				var fq []query.Query
				for _, tf := range fields {
					if q := term(p, tf.name, tf.boost*partBoost); q != nil {
						fq = append(fq, q)
					}
				}
				if len(fq) == 0 {
					ps = nil
					break
				}
				ps = append(ps, disjunction(fq))
			}
			if len(ps) == len(parts) {
				compounds = append(compounds, conjunction(ps))
			}
		}
	}
	for _, k := range order {
		q := query.NewTermQuery(k.term)
		q.SetField(k.field)
		q.SetBoost(boosts[k])
		w.terms = append(w.terms, q)
	}
	w.terms = append(w.terms, compounds...)
	if q := term(folded, fieldAll, crossBoost); q != nil {
		w.cross = q
	}
	if len(langs) == 0 {
		// An index without records in the network's languages (a member
		// that holds nothing) still knows their stop words.
		for _, code := range stopLanguages {
			if len(analyze(pl.ix.mapping.AnalyzerNamed(languageByCode[code].analyzer), c.text)) == 0 {
				stopIn = append(stopIn, code)
			}
		}
	}
	return w
}

// stopLanguages are the languages whose stop words count when the index
// has no per-language fields yet.
var stopLanguages = []string{"da", "en", "fi", "ga", "no", "sv"}

// exists reports whether field has term in the snapshot being searched,
// so that the disjunction for a word holds only terms that can match.
func (pl *planner) exists(field, term string) bool { return pl.docFreq(field, term) > 0 }

// docFreq returns how many records have term in field (1 if unknown).
func (pl *planner) docFreq(field, term string) uint64 {
	if pl.r == nil {
		return 1
	}
	tfr, err := pl.r.TermFieldReader(context.Background(), []byte(term), field, false, false, false)
	if err != nil {
		return 1
	}
	n := tfr.Count()
	_ = tfr.Close()
	return n
}

// commonCutoff returns the document frequency above which a term is too
// common to be worth matching on its own as a compound part: a share of
// the records, but never below a floor, so that small indexes use every
// part. Like the cutoff frequency of Lucene's common-terms query, it keeps
// a handful of very frequent terms from making a query scan most of the
// index for little ranking information.
func (pl *planner) commonCutoff() uint64 {
	if pl.r == nil {
		return math.MaxUint64
	}
	n, err := pl.r.DocCount()
	if err != nil {
		return math.MaxUint64
	}
	return max(n/commonShare, commonFloor)
}

// A compound part found in more than 1/commonShare of the records, and in
// more than commonFloor, is common.
const (
	commonShare = 20
	commonFloor = 2000
)
