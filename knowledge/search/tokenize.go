// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"hash/maphash"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// Texts shorter than this are split again rather than remembered: for a
// title the look-up costs about what splitting does.
const minRememberedText = 128

// rememberedTexts is how many texts the word splitter remembers. A record's
// texts are analysed twice each (its language's fields and the
// cross-language field), interleaved with its other
// texts and with the records other goroutines analyse at the same time.
const rememberedTexts = 32

// wordSplitter is the Unicode word tokenizer shared by every analyzer of
// the index. It remembers the last texts it split: each text of a record
// goes through three analyzers, which would otherwise split it into words
// three times, about a third of the CPU of indexing a record.
//
// Token filters change terms in place, so every call returns tokens of
// its own whose terms point into a copy of the text.
type wordSplitter struct {
	inner *unicode.UnicodeTokenizer
	seed  maphash.Seed

	mu   sync.Mutex
	ring [rememberedTexts]splitText
	next int
}

// splitText is a remembered text and its tokens, whose terms point into
// text (Term is text[Start:End]).
type splitText struct {
	hash   uint64
	text   []byte
	tokens []analysis.Token
}

var wordTokenizer = &wordSplitter{inner: unicode.NewUnicodeTokenizer(), seed: maphash.MakeSeed()}

// Tokenize splits input into words, from memory when it was split lately.
func (w *wordSplitter) Tokenize(input []byte) analysis.TokenStream {
	if len(input) < minRememberedText {
		return w.inner.Tokenize(input)
	}
	h := maphash.Bytes(w.seed, input)
	w.mu.Lock()
	for i := range w.ring {
		e := &w.ring[i]
		if e.hash == h && e.text != nil && string(e.text) == string(input) {
			out := tokensOver(e.tokens, e.text)
			w.mu.Unlock()
			return out
		}
	}
	w.mu.Unlock()

	ts := w.inner.Tokenize(input)
	// Remember a copy: the caller's filters will change ts and input.
	text := append([]byte(nil), input...)
	tokens := make([]analysis.Token, len(ts))
	for i, t := range ts {
		if t.Start < 0 || t.End > len(input) || t.Start > t.End || string(t.Term) != string(input[t.Start:t.End]) {
			return ts // not a plain slice of the text: not remembered
		}
		tokens[i] = *t
		tokens[i].Term = text[t.Start:t.End:t.End]
	}
	w.mu.Lock()
	w.ring[w.next] = splitText{hash: h, text: text, tokens: tokens}
	w.next = (w.next + 1) % len(w.ring)
	w.mu.Unlock()
	return ts
}

// tokensOver returns a fresh token stream like tokens, over a fresh copy
// of text.
func tokensOver(tokens []analysis.Token, text []byte) analysis.TokenStream {
	buf := append([]byte(nil), text...)
	ta := make([]analysis.Token, len(tokens))
	out := make(analysis.TokenStream, len(tokens))
	for i := range tokens {
		ta[i] = tokens[i]
		ta[i].Term = buf[tokens[i].Start:tokens[i].End:tokens[i].End]
		out[i] = &ta[i]
	}
	return out
}
