// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"cmp"
	"strings"
	"unicode"
)

// asciiSpellings spells the non-ASCII letters of folded names in ASCII, as
// in a URL, an e-mail address or a handle: each letter of from becomes
// plain, or digraph where that is given and digraphs are asked for.
var asciiSpellings = []struct{ from, plain, digraph string }{
	{"áàâã", "a", ""}, {"ä", "a", "ae"}, {"å", "a", "aa"}, {"æ", "ae", ""},
	{"öø", "o", "oe"}, {"óòôõ", "o", ""}, {"ü", "u", "ue"}, {"úùû", "u", ""},
	{"éèêë", "e", ""}, {"íìîï", "i", ""}, {"ýÿ", "y", ""}, {"ð", "d", ""},
	{"þ", "th", ""}, {"ß", "ss", ""}, {"ç", "c", ""}, {"ñ", "n", ""}, {"’", "'", ""},
}

var asciiPlain, asciiDigraphs = asciiReplacers()

func asciiReplacers() (plain, digraphs *strings.Replacer) {
	var p, d []string
	for _, sp := range asciiSpellings {
		for _, r := range sp.from {
			p = append(p, string(r), sp.plain)
			d = append(d, string(r), cmp.Or(sp.digraph, sp.plain))
		}
	}
	return strings.NewReplacer(p...), strings.NewReplacer(d...)
}

// asciiFold spells a folded word without its non-ASCII letters: ø→o, ð→d,
// þ→th, æ→ae, á→a. With digraphs, ä, ö, ø, å and ü become ae, oe, oe, aa
// and ue instead.
func asciiFold(s string, digraphs bool) string {
	if digraphs {
		return asciiDigraphs.Replace(s)
	}
	return asciiPlain.Replace(s)
}

// spellingVariants returns other spellings of a folded name token: ASCII
// forms, both apostrophes and none in O'Brien, Mac and Mc.
func spellingVariants(t string) []string {
	seen := map[string]bool{t: true}
	var out []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	add(asciiFold(t, false))
	add(asciiFold(t, true))
	for _, v := range append([]string{t}, out...) {
		if strings.ContainsAny(v, "'’") {
			add(strings.ReplaceAll(v, "’", "'"))
			add(strings.ReplaceAll(v, "'", "’"))
			add(strings.NewReplacer("'", "", "’", "").Replace(v))
		}
		if strings.HasPrefix(v, "mac") && len(v) > 5 {
			add("mc" + v[3:])
		}
		if strings.HasPrefix(v, "mc") && len(v) > 4 {
			add("mac" + v[2:])
		}
	}
	return out
}

// lettersASCII returns the lower-case ASCII letters of s, for looking
// names up inside URLs and handles ("ainomattila", "bjorn-daehlie").
func lettersASCII(s string) string {
	f := asciiFold(strings.ToLower(s), false)
	var b strings.Builder
	for _, r := range f {
		if r < 128 && unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// glued are the forms of a registered person's name that can stand inside
// a URL path, a handle or an e-mail address without separators.
func gluedForms(toks []string, common func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if len(v) >= 5 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, digraphs := range []bool{false, true} {
		var ps []string
		for _, t := range toks {
			ps = append(ps, lettersASCII(asciiFold(t, digraphs)))
		}
		if len(ps) >= 2 {
			first, last := ps[0], ps[len(ps)-1]
			add(first + last)
			add(last + first)
			if first != "" {
				add(first[:1] + last)
			}
		}
		for i, p := range ps {
			if len(p) >= 5 && !common(toks[i]) {
				add(p)
			}
		}
	}
	return out
}

// findRegistryInGlued redacts URLs, handles and hashtags that carry a
// registered person's name glued together or spelt in ASCII
// ("facebook.com/ainomattila", "@bjorndaehlie").
func (sc *scan) findRegistryInGlued() {
	ix := sc.g.names
	check := func(s, e int) bool {
		l := lettersASCII(sc.text[s:e])
		for _, p := range ix.glued {
			if strings.Contains(l, p) {
				return true
			}
		}
		return false
	}
	for _, u := range sc.urls {
		if check(u.start, u.end) {
			sc.addEv(TypePerson, u.start, u.end, sc.g.words.person, "registry-name-in-url", "a registered name spelt inside the address")
		}
	}
	t := sc.text
	for i := 0; i < len(t); i++ {
		if t[i] != '@' && t[i] != '#' {
			continue
		}
		if i > 0 && isEmailLocalRune(runeBefore(t, i)) {
			continue // an e-mail address
		}
		e := i + 1
		for e < len(t) && (isASCIIAlnum(t[e]) || t[e] == '_' || t[e] == '.' || t[e] >= 0x80 && isAlnumRune(runeAt(t, e))) {
			if t[e] >= 0x80 {
				e += len(string(runeAt(t, e)))
			} else {
				e++
			}
		}
		for e > i+1 && t[e-1] == '.' {
			e--
		}
		if e-i < 3 {
			continue
		}
		if check(i, e) {
			sc.addEv(TypePerson, i, e, sc.g.words.person, "registry-name-in-handle", "a registered name spelt inside the handle")
		} else if ok, ev := personalHandle(t[i+1 : e]); ok && t[i] == '@' {
			sc.addEv(TypePerson, i, e, sc.g.words.person, "personal-handle", ev)
		}
		i = e - 1
	}
}
