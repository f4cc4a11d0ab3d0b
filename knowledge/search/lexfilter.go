// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// Token types the lexicon filter adds. They survive the stemmer, so the
// query planner can tell a word's own stem from its lemma and its compound
// parts.
const (
	lemmaToken analysis.TokenType = 100 + iota // the word's dictionary base form
	partToken                                  // a part of a compound word
)

// lexiconLanguages are the per-language analyses that use the lexicon:
// lemmas for all of them, compound splitting for all but Irish.
var lexiconLanguages = map[string]lexicon.Lang{
	"fi": lexicon.Finnish,
	"sv": lexicon.Swedish,
	"no": lexicon.Norwegian,
	"da": lexicon.Danish,
	"is": lexicon.Icelandic,
	"ga": lexicon.Irish,
}

func lexiconFilterName(code string) string { return "livinglab_lexicon_" + code }

// Limits of the own two-part split used when the lexicon knows a compound
// as a whole word (Swedish "äldreboende" is in the dictionary, yet a
// search for "boende för äldre" should find it).
const (
	minCompoundRunes = 7 // shorter words are not split
	minHeadRunes     = 3
	minTailRunes     = 4
	maxCachedWords   = 1 << 15 // per language: the frequent words, a few MB at most
)

// lexiconFilter adds, after each lowercased word, its lemma (when it
// differs from the word) and the lemmas of its compound parts, at the same
// position. The stemmer that follows stems them like the word itself, so
// "äldreboendet" also indexes "äldr" and "boend", and Finnish
// "ikääntyneiden" also indexes the stem of its lemma "ikääntynyt".
type lexiconFilter struct {
	lex   *lexicon.Lexicon
	split bool
	cache *lexCache
}

// lexCache holds a lexicon's answers for the words seen, the first
// maxCachedWords of them. Like the lexicons, the caches belong to the
// process, not to one index: an answer depends only on the language and
// the word, and a word looked up once is not looked up again by another
// index of the process.
type lexCache struct {
	mu sync.RWMutex
	m  map[string]lexEntry // nil until the first word
}

var lexCaches perProcess[lexCacheKey, lexCache]

type lexCacheKey struct {
	lang  lexicon.Lang
	split bool
}

// perProcess holds one value per key for the whole process, made (zero) on
// first use: state that every index of the process shares.
type perProcess[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*V
}

func (p *perProcess[K, V]) get(k K) *V {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.m[k]; v != nil {
		return v
	}
	if p.m == nil {
		p.m = map[K]*V{}
	}
	v := new(V)
	p.m[k] = v
	return v
}

type lexEntry struct {
	lemma string   // "" if none or equal to the word
	parts []string // nil if not a compound
}

func newLexiconFilter(l lexicon.Lang, split bool) (*lexiconFilter, error) {
	lex, err := lexicon.Load(l)
	if err != nil {
		return nil, err
	}
	return &lexiconFilter{lex: lex, split: split, cache: lexCaches.get(lexCacheKey{l, split})}, nil
}

func (f *lexiconFilter) entry(b []byte) lexEntry {
	c := f.cache
	c.mu.RLock()
	e, ok := c.m[string(b)] // no allocation for the lookup
	c.mu.RUnlock()
	if ok {
		return e
	}
	w := string(b)
	e = f.lookup(w)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]lexEntry{}
	}
	if len(c.m) < maxCachedWords {
		c.m[w] = e
	}
	c.mu.Unlock()
	return e
}

func (f *lexiconFilter) lookup(w string) lexEntry {
	var e lexEntry
	if l, ok := f.lex.Lemma(w); ok && l != w {
		e.lemma = l
	}
	if !f.split || utf8.RuneCountInString(w) < minCompoundRunes {
		return e
	}
	if parts := f.lex.Split(w); len(parts) >= 2 {
		e.parts = parts
		return e
	}
	e.parts = f.splitTwo(w)
	return e
}

// splitTwo splits a word the lexicon knows whole into a common head and a
// common (possibly inflected) tail, longest head first, allowing the
// language's usual linking "s".
func (f *lexiconFilter) splitTwo(w string) []string {
	rs := []rune(w)
	for i := len(rs) - minTailRunes; i >= minHeadRunes; i-- {
		head, tail := string(rs[:i]), string(rs[i:])
		tl, ok := f.lex.Lemma(tail)
		if !ok || !f.lex.Common(tail) {
			continue
		}
		if f.lex.Common(head) {
			return []string{head, tl}
		}
		if len(head) > minHeadRunes && head[len(head)-1] == 's' && f.lex.Common(head[:len(head)-1]) {
			return []string{head[:len(head)-1], tl}
		}
	}
	return nil
}

func (f *lexiconFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	for i, t := range input {
		if t.Type != analysis.AlphaNumeric || len(t.Term) < 3 {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		e := f.entry(t.Term)
		if e.lemma == "" && len(e.parts) == 0 {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, 0, len(input)+4)
			out = append(out, input[:i]...)
		}
		out = append(out, t)
		add := func(term string, typ analysis.TokenType) {
			out = append(out, &analysis.Token{Term: []byte(term), Start: t.Start, End: t.End, Position: t.Position, Type: typ})
		}
		if e.lemma != "" {
			add(e.lemma, lemmaToken)
		}
		for _, p := range e.parts {
			if p != e.lemma && p != string(t.Term) {
				add(p, partToken)
			}
		}
	}
	if out == nil {
		return input
	}
	return out
}
