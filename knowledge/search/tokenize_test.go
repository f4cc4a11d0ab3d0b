// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// A remembered text gives the same tokens as splitting it afresh, and
// every caller gets tokens of its own: filters that change one caller's
// terms in place do not reach the next caller or the memory.
func TestWordSplitterRemembersSafely(t *testing.T) {
	texts := []string{
		"Kyläavustajat käyvät ikääntyneiden luona öisin; etähoiva yhdistää heidät hoitajiin. " + strings.Repeat("Yöajan etähoiva ", 8),
		"Äldreboende i Västernorrland: frivilliga kör matkassar till byarna, och kommunen betalar bensinen. " + strings.Repeat("Boende för äldre ", 6),
		"Heimaþjónusta fyrir aldraða í Borgarbyggð — sjálfboðaliðar aka eldri borgurum. " + strings.Repeat("Ðþæö ", 20),
		"short",
	}
	plain := unicode.NewUnicodeTokenizer()
	w := &wordSplitter{inner: unicode.NewUnicodeTokenizer(), seed: wordTokenizer.seed}
	for round := range 3 {
		for _, text := range texts {
			input := []byte(text)
			got := w.Tokenize(input)
			want := plain.Tokenize([]byte(text))
			if d := tokenDiff(got, want); d != "" {
				t.Fatalf("round %d, %.20q: %s", round, text, d)
			}
			// What a lowercase or stemming filter does: change the terms
			// and the caller's input in place.
			for _, tok := range got {
				for i := range tok.Term {
					tok.Term[i] = 'x'
				}
			}
			for i := range input {
				input[i] = 'y'
			}
		}
	}
	if w.next != 3 {
		t.Errorf("remembered %d texts, want the 3 long ones once each", w.next)
	}
}

// The splitter is used by the analysis workers of a rebuild at once.
func TestWordSplitterConcurrent(t *testing.T) {
	w := &wordSplitter{inner: unicode.NewUnicodeTokenizer(), seed: wordTokenizer.seed}
	plain := unicode.NewUnicodeTokenizer()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				text := fmt.Sprintf("Record %d of worker %d: volunteers drive older residents to the health centre. ", i%40, g%2) + strings.Repeat("telecare ", i%5+10)
				if d := tokenDiff(w.Tokenize([]byte(text)), plain.Tokenize([]byte(text))); d != "" {
					t.Error(d)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Every analyzer of the index splits words with the shared splitter.
func TestAnalyzersShareTheWordSplitter(t *testing.T) {
	im := newMapping()
	names := []string{foldAnalyzerName, icelandicAnalyzer, irishAnalyzerName}
	for _, l := range languages {
		names = append(names, l.analyzer)
	}
	for _, name := range names {
		a, ok := im.AnalyzerNamed(name).(*analysis.DefaultAnalyzer)
		if !ok {
			t.Fatalf("%s: not a tokenizer and filters", name)
		}
		if a.Tokenizer != wordTokenizer {
			t.Errorf("%s splits words with its own %T", name, a.Tokenizer)
		}
	}
}

func tokenDiff(got, want analysis.TokenStream) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d tokens, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if string(g.Term) != string(w.Term) || g.Start != w.Start || g.End != w.End || g.Position != w.Position || g.Type != w.Type {
			return fmt.Sprintf("token %d: %q %d-%d @%d type %d, want %q %d-%d @%d type %d",
				i, g.Term, g.Start, g.End, g.Position, g.Type, w.Term, w.Start, w.End, w.Position, w.Type)
		}
	}
	return ""
}
