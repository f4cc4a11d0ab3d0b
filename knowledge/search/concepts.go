// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/livinglab/livinglab/knowledge/search/glossary"
)

// conceptToken marks a glossary concept found in a text. The lexicon's
// token types are below it.
const conceptToken analysis.TokenType = 120

// conceptPrefix starts the term of a concept token: "~" + the concept's ID.
// The tokenizer never yields "~", so no word can be mistaken for one.
const conceptPrefix = "~"

func conceptTerm(id string) string { return conceptPrefix + id }

// conceptWindow is how many words apart the words of a glossary term may be
// in a text and still count as the term ("care for older people at home"
// says "home care").
const conceptWindow = 10

// conceptName names both the concept filter of a language and the
// language's analyzer that ends with it (bleve keeps the two apart).
func conceptName(code string) string { return "livinglab_concepts_" + code }

// conceptFilter adds, after the words of a text that form a glossary term
// of the text's language, a token for the term's concept at the position of
// its first word. A query is then expanded into the other languages with one
// term per concept ("~home-care" in each text field) instead of a term for
// every way each language says it.
//
// It runs last in a language's analysis and matches the glossary's terms
// analysed by the same analysis without it (base), word by word: a text
// word matches a term's word if the word's stem, or the stem of one of its
// lemmas, is the term word's stem or lemma stem. Stop words are dropped on
// both sides, so "care of older people" matches across the removed "of".
type conceptFilter struct {
	code  string
	base  analysis.Analyzer
	table *conceptTable
}

// conceptTables holds each language's table of glossary terms for the
// process. A table depends only on the glossary and the language's
// analysis, both the same for every index, and building one analyses every
// glossary term of the language (about a tenth of a second of cold lexicon
// lookups): each index building its own would pay that again in every
// index a process opens.
var conceptTables perProcess[string, conceptTable]

type conceptTable struct {
	once  sync.Once
	first map[string][]conceptEntry // a term's first word -> the terms starting with it
}

// terms returns the process's table of the filter's language, built on
// first use with the filter's base analysis.
func (f *conceptFilter) terms() map[string][]conceptEntry {
	t := f.table
	t.once.Do(func() { t.first = buildConcepts(f.code, f.base) })
	return t.first
}

// conceptEntry is one glossary term: its concept and the words after its
// first, each as the stems it may appear as.
type conceptEntry struct {
	id   string
	rest [][]string
}

// buildConcepts returns the glossary terms of language code, analysed with
// base, by their first word.
func buildConcepts(code string, base analysis.Analyzer) map[string][]conceptEntry {
	first := map[string][]conceptEntry{}
	g, err := glossary.Default()
	if err != nil {
		// Open refuses to run without the glossary; an index built
		// anyway simply has no concept tokens.
		return first
	}
	seen := map[string]bool{}
	for _, c := range g.Concepts() {
		for _, t := range c.Terms {
			l, ok := languageFor(normLanguage(t.Lang))
			if !ok || l.code != code {
				continue
			}
			words := analyzeWords(analyze(base, t.Text))
			if len(words) == 0 {
				continue
			}
			accept := make([][]string, len(words))
			for i, w := range words {
				accept[i] = append([]string{w.main}, w.alts...)
			}
			key := fmt.Sprint(c.ID, accept)
			if seen[key] {
				continue
			}
			seen[key] = true
			for _, s := range accept[0] {
				first[s] = append(first[s], conceptEntry{id: c.ID, rest: accept[1:]})
			}
		}
	}
	return first
}

// Filter implements analysis.TokenFilter.
func (f *conceptFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	first := f.terms()
	if len(first) == 0 || !startsConcept(first, input) {
		return input
	}
	// Tokens of one word (its stem, lemmas and compound parts) share a
	// position and follow each other.
	type word struct{ from, to int }
	words := make([]word, 0, len(input))
	for i := 0; i < len(input); {
		j := i + 1
		for j < len(input) && input[j].Position == input[i].Position {
			j++
		}
		words = append(words, word{i, j})
		i = j
	}
	has := func(w word, terms []string) bool {
		for _, t := range input[w.from:w.to] {
			if t.Type == partToken {
				continue
			}
			for _, s := range terms {
				if string(t.Term) == s {
					return true
				}
			}
		}
		return false
	}
	// near finds a word with one of terms within conceptWindow words of
	// word wi, other than the words already used; -1 if none.
	near := func(wi int, terms []string, used []int) int {
		for d := 1; d <= conceptWindow; d++ {
			for _, k := range []int{wi + d, wi - d} {
				if k < 0 || k >= len(words) || slices.Contains(used, k) {
					continue
				}
				if has(words[k], terms) {
					return k
				}
			}
		}
		return -1
	}
	var out analysis.TokenStream
	for wi, w := range words {
		var found []*analysis.Token
		for _, t := range input[w.from:w.to] {
			if t.Type == partToken {
				continue
			}
			for _, e := range first[string(t.Term)] {
				used := []int{wi}
				for _, terms := range e.rest {
					k := near(wi, terms, used)
					if k < 0 {
						break
					}
					used = append(used, k)
				}
				if len(used) != 1+len(e.rest) {
					continue
				}
				term := conceptTerm(e.id)
				dup := false
				for _, c := range found {
					dup = dup || string(c.Term) == term
				}
				if dup {
					continue
				}
				found = append(found, &analysis.Token{
					Term: []byte(term), Start: t.Start, End: t.End,
					Position: t.Position, Type: conceptToken,
				})
			}
		}
		if len(found) == 0 {
			if out != nil {
				out = append(out, input[w.from:w.to]...)
			}
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, 0, len(input)+8)
			out = append(out, input[:w.from]...)
		}
		out = append(out, input[w.from:w.to]...)
		out = append(out, found...)
	}
	if out == nil {
		return input
	}
	return out
}

// startsConcept reports whether a word of input may start a glossary term,
// so that the texts without one, most of them, cost a lookup per token.
func startsConcept(first map[string][]conceptEntry, input analysis.TokenStream) bool {
	for _, t := range input {
		if t.Type == partToken {
			continue
		}
		if _, ok := first[string(t.Term)]; ok {
			return true
		}
	}
	return false
}

// registerConceptAnalyzer registers conceptName(code): the analyzer
// base followed by the concept filter of the language.
func registerConceptAnalyzer(code, base string) error {
	if err := registry.RegisterTokenFilter(conceptName(code), func(_ map[string]interface{}, cache *registry.Cache) (analysis.TokenFilter, error) {
		a, err := cache.AnalyzerNamed(base)
		if err != nil {
			return nil, err
		}
		return &conceptFilter{code: code, base: a, table: conceptTables.get(code)}, nil
	}); err != nil {
		return err
	}
	return registry.RegisterAnalyzer(conceptName(code), func(_ map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		da, err := defaultAnalyzerNamed(cache, base)
		if err != nil {
			return nil, err
		}
		cf, err := cache.TokenFilterNamed(conceptName(code))
		if err != nil {
			return nil, err
		}
		out := *da
		out.TokenFilters = append(append([]analysis.TokenFilter{}, da.TokenFilters...), cf)
		return &out, nil
	})
}
