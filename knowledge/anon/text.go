// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldSameLen lower-cases s rune by rune, keeping every rune whose lower-case
// form has a different UTF-8 length unchanged, so that byte offsets into the
// result are byte offsets into s.
func foldSameLen(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		l := unicode.ToLower(r)
		if utf8.RuneLen(l) == size {
			b.WriteRune(l)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isASCIIUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func isASCIIAlnum(c byte) bool { return isDigit(c) || isASCIILetter(c) }

// runeBefore returns the rune that ends just before byte offset i.
func runeBefore(s string, i int) rune {
	if i <= 0 {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// runeAt returns the rune starting at byte offset i.
func runeAt(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

func isAlnumRune(r rune) bool {
	return r >= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// boundaryBefore reports whether a token may start at i: the previous rune is
// not a letter or digit.
func boundaryBefore(s string, i int) bool { return !isAlnumRune(runeBefore(s, i)) }

// boundaryAfter reports whether a token may end at i.
func boundaryAfter(s string, i int) bool { return !isAlnumRune(runeAt(s, i)) }

// isSpaceSep reports whether r separates words on one line.
func isSpaceSep(r rune) bool {
	return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u202f' || r == '\u2009'
}

// skipSpaces returns the offset of the first non-space (same line) rune at
// or after i.
func skipSpaces(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSpaceSep(r) {
			break
		}
		i += size
	}
	return i
}

// skipSpacesBack returns the offset just after the last non-space rune before i.
func skipSpacesBack(s string, i int) int { return runStart(s, i, isSpaceSep) }

// runStart returns where the run of runes for which in holds that ends at
// end in s begins (end itself when there is none).
func runStart(s string, end int, in func(rune) bool) int {
	for end > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:end])
		if !in(r) {
			break
		}
		end -= size
	}
	return end
}

// digitsOnly returns the ASCII digits of s.
func digitsOnly(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// digitRun returns the end of the run of ASCII digits starting at i.
func digitRun(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// atoiSmall parses a short run of ASCII digits; it returns -1 when s is not
// all digits or too long.
func atoiSmall(s string) int {
	if len(s) == 0 || len(s) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// word is one run of letters (with inner apostrophes and hyphens) in a text.
type word struct {
	start, end int
	lower      string // lower-cased text of the word
	capital    bool   // first letter upper case and some later letter lower case
	allCaps    bool   // two or more letters, all upper case
	sentStart  bool   // first word of a sentence, heading or list item
	glued      bool   // digits follow without a space ("Covid19", "Mattila2021")
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }

func isHyphen(r rune) bool { return r == '-' || r == '\u2010' || r == '\u2011' }

// tokenizeWords splits s into words. lower is foldSameLen(s).
func tokenizeWords(s, lower string) []word {
	words := make([]word, 0, len(s)/6)
	sent := true // the start of the text begins a sentence
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			switch {
			case r == '.' && len(words) > 0 && isInitial(s, words[len(words)-1], i):
				// "J. R. Atkinson": the full stop of an initial ends no sentence
			case r == '.' || r == '!' || r == '?' || r == ':' || r == ';' || r == '\n' || r == '\r' ||
				r == '\u2022' || r == '*' || r == '\u2013' || r == '\u2014':
				sent = true
			case unicode.IsDigit(r):
				sent = false
			case r == '-' && (i == 0 || s[i-1] == '\n' || s[i-1] == ' '):
				// "- item" starts a list item; a hyphen after a space keeps the sentence state
			}
			i += size
			continue
		}
		if i > 0 && isDigit(s[i-1]) {
			// letters glued to digits ("5B", "2nd") are not words
			j := i
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += sz
			}
			i = j
			sent = false
			continue
		}
		start := i
		upperFirst := unicode.IsUpper(r)
		letters, uppers, lowersAfter := 1, 0, 0
		if upperFirst {
			uppers = 1
		}
		i += size
		hasDigit := false
		for i < len(s) {
			r2, sz := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r2) || unicode.IsMark(r2) {
				letters++
				if unicode.IsUpper(r2) {
					uppers++
				} else if unicode.IsLower(r2) {
					lowersAfter++
				}
				i += sz
				continue
			}
			if unicode.IsDigit(r2) {
				hasDigit = true
				break
			}
			if isApostrophe(r2) || isHyphen(r2) {
				// keep inner apostrophes and hyphens when a letter follows
				r3 := runeAt(s, i+sz)
				if unicode.IsLetter(r3) {
					i += sz
					continue
				}
			}
			break
		}
		w := word{start: start, end: i, lower: lower[start:i], sentStart: sent, glued: hasDigit}
		if hasDigit {
			// "Mattila2021": keep the letters as a word, skip the rest
			for i < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsLetter(r2) && !unicode.IsDigit(r2) && !unicode.IsMark(r2) {
					break
				}
				i += sz
			}
		}
		w.capital = upperFirst && lowersAfter > 0
		w.allCaps = letters >= 2 && uppers == letters
		words = append(words, w)
		sent = false
	}
	return words
}

// hasAnySuffix returns the first of suffixes that s ends with and is longer
// than, or "".
func hasAnySuffix(s string, suffixes []string) string {
	for _, suf := range suffixes {
		if len(s) > len(suf) && strings.HasSuffix(s, suf) {
			return suf
		}
	}
	return ""
}

// precededBy reports whether one of the keywords ends within window bytes
// before i in the folded text (ignoring spaces and punctuation between).
func precededBy(lower string, i, window int, keywords []string) bool {
	from := i - window
	if from < 0 {
		from = 0
	}
	seg := lower[from:i]
	for _, k := range keywords {
		for off := 0; ; {
			j := strings.Index(seg[off:], k)
			if j < 0 {
				break
			}
			j += off
			off = j + 1
			// the keyword must be a whole word
			if j+from > 0 && isAlnumRune(runeBefore(lower, j+from)) {
				continue
			}
			if end := j + from + len(k); isAlnumRune(runeBefore(lower, end)) && isAlnumRune(runeAt(lower, end)) {
				continue
			}
			return true
		}
	}
	return false
}

// isInitial reports whether w is a single capital letter whose full stop
// is at i ("J." in "J. R. Atkinson").
func isInitial(s string, w word, i int) bool {
	if w.end != i || i >= len(s) || s[i] != '.' {
		return false
	}
	r, n := utf8.DecodeRuneInString(s[w.start:])
	return n == w.end-w.start && unicode.IsUpper(r)
}
