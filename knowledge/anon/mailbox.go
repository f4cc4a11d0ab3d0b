// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Whether the local part of an address or a handle names a person or a
// role: the words it is made of, compounds and Nordic letters left out.

// roleMailbox reports whether an e-mail local part names a role or an
// office rather than a person ("registrator", "kirjaamo", "postmottak",
// "info", "kundtjanst"): every part of it (split at dots, dashes,
// underscores and plus signs) is a common word of some language, or a
// compound of such words, possibly written without its Nordic letters,
// and none is a known given name or surname.
func roleMailbox(local string) bool {
	if v, ok := roleCache.Load(local); ok {
		return v.(bool)
	}
	r := roleMailboxUncached(local)
	if factCount.Add(1) <= factCacheMax {
		roleCache.Store(local, r)
	}
	return r
}

var roleCache sync.Map

func roleMailboxUncached(local string) bool {
	lx, err := loadLexicons()
	if err != nil || local == "" {
		return false
	}
	parts := strings.FieldsFunc(strings.ToLower(local), func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == '+' })
	if len(parts) == 0 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if utf8.RuneCountInString(p) < 2 || strings.ContainsAny(p, "0123456789") {
			return false
		}
		f := wordFacts(lx, "", p)
		if f.given || f.surname || f.proper {
			return false
		}
		if f.commonAny {
			continue
		}
		if commonCompound(lx, p) || commonWithNordicLetters(lx, p) {
			continue
		}
		if th := strings.ReplaceAll(p, "th", "þ"); th != p && (wordFacts(lx, "", th).commonAny || commonWithNordicLetters(lx, th)) {
			continue // "thjonusta" for "þjónusta"
		}
		return false
	}
	return true
}

// commonCompound reports whether w splits into common words of some
// language, as written or with Nordic digraphs restored ("adultsocialcare",
// "aeldreraadet" for "ældrerådet").
func commonCompound(lx *lexicons, w string) bool {
	cands := []string{w,
		strings.NewReplacer("aa", "å", "ae", "æ", "oe", "ø").Replace(w),
		strings.NewReplacer("aa", "å", "ae", "ä", "oe", "ö").Replace(w)}
	for i, c := range cands {
		if i > 0 && c == w {
			continue
		}
		if i > 0 {
			if f := wordFacts(lx, "", c); f.commonAny && !f.proper && !f.given && !f.surname {
				return true
			}
		}
		if utf8.RuneCountInString(c) < 7 {
			continue
		}
		for _, x := range lx.byLang {
			ps := x.Split(c)
			if len(ps) < 2 {
				continue
			}
			named := false
			for _, p := range ps {
				if f := wordFacts(lx, "", p); f.given || f.surname || f.proper {
					named = true // "johnsmith" is two names, not a role
				}
			}
			if !named {
				return true
			}
		}
	}
	return false
}

// commonWithNordicLetters tries an ASCII spelling of a word with its Nordic
// letters restored ("kundtjanst" -> "kundtjänst", "radhus" -> "rådhus").
func commonWithNordicLetters(lx *lexicons, w string) bool {
	subst := map[byte][]string{'a': {"ä", "å", "æ", "á"}, 'o': {"ö", "ø", "ó"}, 'u': {"ü", "ú"}, 'e': {"é"}, 'i': {"í"}, 'y': {"ý"}, 'd': {"ð"}}
	var idx []int
	for i := 0; i < len(w); i++ {
		if _, ok := subst[w[i]]; ok {
			idx = append(idx, i)
		}
	}
	if len(idx) > 7 {
		return false
	}
	tries := 0
	var rec func(k int, cur string) bool
	rec = func(k int, cur string) bool {
		if tries > 200 {
			return false
		}
		if k == len(idx) {
			tries++
			if cur == w {
				return false
			}
			f := wordFacts(lx, "", cur)
			return f.commonAny && !f.given && !f.surname && !f.proper && len(cur) >= 5
		}
		if rec(k+1, cur) {
			return true
		}
		// positions shift as replacements grow: rebuild from w
		for _, r := range subst[w[idx[k]]] {
			off := len(cur) - len(w)
			pos := idx[k] + off
			if rec(k+1, cur[:pos]+r+cur[pos+1:]) {
				return true
			}
		}
		return false
	}
	return rec(0, w)
}

// personalHandle reports whether a social-media handle (without its '@')
// names a person: it begins with a known given name followed by more
// letters ("margaretbell_44", "kent.aberg", "haakon_eide"), possibly
// written without Nordic letters.
func personalHandle(h string) (bool, string) {
	lx, err := loadLexicons()
	if err != nil {
		return false, ""
	}
	low := strings.ToLower(h)
	// the leading run of letters, up to a separator or digit
	end := len(low)
	for i, r := range low {
		if !unicode.IsLetter(r) {
			end = i
			break
		}
	}
	first := low[:end]
	rest := strings.TrimLeft(low[end:], "._-0123456789")
	isGiven := func(w string) bool {
		f := wordFacts(lx, "", w)
		return f.given && (f.proper || !f.commonAny)
	}
	variants := func(w string) []string {
		return []string{w, strings.NewReplacer("aa", "å", "ae", "æ", "oe", "ø").Replace(w),
			strings.NewReplacer("aa", "å", "ae", "ä", "oe", "ö").Replace(w)}
	}
	// first.last, first_last
	if rest != "" && utf8.RuneCountInString(first) >= 3 {
		for _, v := range variants(first) {
			if isGiven(v) {
				return true, "\"" + first + "\" is a known given name"
			}
		}
	}
	// firstlast glued: the longest known given name at the start
	for n := len(first) - 3; n >= 3; n-- {
		if !utf8.RuneStart(first[n]) {
			continue
		}
		for _, v := range variants(first[:n]) {
			if isGiven(v) {
				return true, "begins with the known given name \"" + first[:n] + "\""
			}
		}
	}
	return false, ""
}
