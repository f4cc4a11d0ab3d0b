// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a query may ask for.
const (
	MaxQueryLength  = 512   // runes of Query.Text
	MaxQueryClauses = 32    // words and phrases in Query.Text
	MaxPageSize     = 100   // Query.PageSize
	DefaultPageSize = 20    // used when Query.PageSize is 0
	MaxResultWindow = 10000 // Page*PageSize may not exceed this
)

// clause is one word or quoted phrase of the query text.
type clause struct {
	text    string
	phrase  bool // written in quotes, or a word the tokenizer splits ("e-care")
	exclude bool // written with a leading '-'
	require bool // written with a leading '+': the word must be in every hit
}

// isQuote reports whether r opens or closes a phrase. Typographic quotes
// count too, as phones and word processors produce them.
func isQuote(r rune) bool {
	switch r {
	case '"', '“', '”', '„', '«', '»':
		return true
	}
	return false
}

// parseText splits the query text into clauses.
//
// Syntax: words separated by white space; "a quoted phrase"; a leading '-'
// excludes the following word or phrase; a leading '+' requires the
// following word (phrases are always required). Anything else is plain text that
// the analyzers tokenize. An unbalanced quote is an error.
func parseText(s string) ([]clause, error) {
	if n := utf8.RuneCountInString(s); n > MaxQueryLength {
		return nil, fmt.Errorf("%w: query is %d characters long, the limit is %d", ErrBadQuery, n, MaxQueryLength)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: query is not valid UTF-8", ErrBadQuery)
	}
	var out []clause
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		if unicode.IsSpace(r) {
			i++
			continue
		}
		exclude, require := false, false
		if r == '-' || r == '+' {
			exclude, require = r == '-', r == '+'
			i++
			if i >= len(rs) || unicode.IsSpace(rs[i]) {
				continue // a lone '-' or '+' is punctuation
			}
			r = rs[i]
		}
		if isQuote(r) {
			start := i
			i++
			j := i
			for j < len(rs) && !isQuote(rs[j]) {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("%w: unbalanced quote at character %d", ErrBadQuery, start+1)
			}
			if text := strings.TrimSpace(string(rs[i:j])); text != "" {
				out = append(out, clause{text: text, phrase: true, exclude: exclude})
			}
			i = j + 1
			continue
		}
		j := i
		for j < len(rs) && !unicode.IsSpace(rs[j]) && !isQuote(rs[j]) {
			j++
		}
		out = append(out, clause{text: string(rs[i:j]), exclude: exclude, require: require})
		i = j
	}
	if len(out) > MaxQueryClauses {
		return nil, fmt.Errorf("%w: query has %d words or phrases, the limit is %d", ErrBadQuery, len(out), MaxQueryClauses)
	}
	return out, nil
}
