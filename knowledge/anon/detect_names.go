// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// nameEntry is one registered name (or one name a reviewer marked personal).
type nameEntry struct {
	text   string
	tokens []string // folded words
	org    bool     // an organisation: matched only as a whole
	redact bool     // from Options.Redact
}

type tokRef struct {
	entry, idx int
}

// nameIndex finds registered names in text, including inflected forms.
type nameIndex struct {
	entries []nameEntry
	stems   map[string][]tokRef // folded stem -> tokens it belongs to
	public  func(string) bool
	near    map[rune][]string // person tokens by first letter, compared with unknown words
	glued   []string          // ASCII forms of person names as they appear in URLs and handles
	heads   map[string]bool   // the first two bytes of every stem: a quick miss for most words
	nearMu  sync.Mutex
	nearMem map[string]bool // nearRegistered answers
}

// inflectionSuffixes are endings accepted after a registered name or its
// stem: Finnish cases, Scandinavian and English genitives, Icelandic cases.
var inflectionSuffixes = map[string]bool{
	"": true,
	// Finnish
	"n": true, "a": true, "ä": true, "ta": true, "tä": true, "lla": true, "llä": true, "lta": true,
	"ltä": true, "lle": true, "ssa": true, "ssä": true, "sta": true, "stä": true, "ksi": true, "na": true,
	"nä": true, "han": true, "hen": true, "hin": true, "hon": true, "hun": true, "hyn": true, "hän": true,
	"hön": true, "seen": true, "en": true, "in": true, "ineen": true, "kin": true, "kaan": true,
	"kään": true, "nkin": true, "llekin": true, "lleen": true, "nsa": true, "nsä": true, "t": true,
	"ien": true, "ille": true, "ilta": true, "illa": true, "issa": true, "ista": true, "ihin": true,
	"ina": true, "iksi": true, "ja": true, "jä": true, "ne": true, "neen": true, "ni": true, "si": true,
	"mme": true, "nne": true, "tta": true, "ttä": true, "an": true, "än": true, "on": true, "ön": true,
	"un": true, "yn": true, "lta.": true, "ltakin": true, "stakin": true, "ssakin": true, "llakin": true,
	"nne.": true,
	// Scandinavian, English
	"s": true, "es": true, "'s": true, "’s": true, "'": true, "’": true, "ens": true, "ns": true,
	// Icelandic
	"i": true, "u": true, "ar": true, "ur": true, "ir": true, "um": true, "inn": true, "ins": true,
	"num": true, "nir": true, "ar's": true,
}

const maxInflection = 7 // bytes

// weakGrade returns Finnish consonant-gradation weak stems of a folded name
// ending in a vowel: Pekka -> Peka(n), Antti -> Anti(n), Lahti -> Lahde(n),
// Mäki -> Mäe(n).
func weakGrade(t string) []string {
	r := []rune(t)
	n := len(r)
	if n < 4 || !isVowel(r[n-1]) {
		return nil
	}
	v := string(r[n-1])
	body := r[:n-1]
	var out []string
	try := func(strong, weak string) {
		s := string(body)
		if strings.HasSuffix(s, strong) {
			base := s[:len(s)-len(strong)] + weak
			out = append(out, base+v)
			if v == "i" {
				out = append(out, base+"e")
			}
		}
	}
	for _, p := range [][2]string{
		{"kk", "k"}, {"pp", "p"}, {"tt", "t"}, {"nk", "ng"}, {"mp", "mm"}, {"lt", "ll"}, {"rt", "rr"},
		{"nt", "nn"}, {"lk", "l"}, {"rk", "r"}, {"hk", "h"}, {"k", ""}, {"p", "v"}, {"t", "d"},
	} {
		before := len(out)
		try(p[0], p[1])
		if len(out) > before {
			break
		}
	}
	return out
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouyäöåæøáéíóúý", r) }

// nameStems returns the stems under which inflected forms of a folded token
// are looked up.
func nameStems(t string) []string {
	stems := []string{t}
	r := []rune(t)
	n := len(r)
	if n >= 5 && strings.HasSuffix(t, "nen") {
		base := string(r[:n-3])
		stems = append(stems, base+"se", base+"s") // Virtanen: Virtasen, Virtasta
	}
	if n >= 4 && r[n-1] == 'i' {
		stems = append(stems, string(r[:n-1])+"e") // Kivi: Kiven
	}
	if n >= 4 && isVowel(r[n-1]) {
		stems = append(stems, string(r[:n-1]))
	}
	stems = append(stems, weakGrade(t)...)
	if n >= 5 && strings.HasSuffix(t, "ur") {
		stems = append(stems, string(r[:n-2])) // Sigurður: Sigurðar
	}
	if n >= 6 && strings.HasSuffix(t, "son") {
		stems = append(stems, string(r[:n-3])+"syn") // Jónsson: Jónssyni
	}
	if n >= 5 && strings.HasSuffix(t, "ir") {
		stems = append(stems, string(r[:n-2])+"ur") // Guðmundsdóttir: -dóttur
	}
	if n >= 3 && strings.ContainsRune("bcdfgmpst", r[0]) && r[1] != 'h' {
		stems = append(stems, string(r[0])+"h"+string(r[1:])) // Irish lenition: Máire -> Mháire
	}
	return stems
}

func newNameIndex(names, redact []string, public func(string) bool) *nameIndex {
	ix := &nameIndex{stems: make(map[string][]tokRef), public: public, near: make(map[rune][]string)}
	addEntry := func(text string, red bool) {
		folded := foldSameLen(strings.TrimSpace(text))
		var toks []string
		for _, f := range strings.Fields(folded) {
			f = strings.Trim(f, ".,;:()\"")
			if f != "" {
				toks = append(toks, f)
			}
		}
		if len(toks) == 0 {
			return
		}
		e := nameEntry{text: text, tokens: toks, redact: red}
		if !red {
			for _, tk := range toks {
				if isOrgMarker(tk) {
					e.org = true
				}
			}
			if len(toks) > 4 {
				e.org = true
			}
		}
		ei := len(ix.entries)
		ix.entries = append(ix.entries, e)
		if !e.org {
			ix.glued = append(ix.glued, gluedForms(toks, public)...)
		}
		for ti, tk := range toks {
			ref := tokRef{entry: ei, idx: ti}
			for _, st := range nameStems(tk) {
				ix.stems[st] = append(ix.stems[st], ref)
			}
			for _, v := range spellingVariants(tk) {
				for _, st := range nameStems(v) {
					ix.stems[st] = append(ix.stems[st], ref)
				}
			}
			if !e.org && utf8.RuneCountInString(tk) >= 4 && !public(tk) {
				r, _ := utf8.DecodeRuneInString(tk)
				ix.near[r] = append(ix.near[r], tk)
			}
			// parts of hyphenated given names
			if !e.org && strings.Contains(tk, "-") {
				for _, part := range strings.Split(tk, "-") {
					if utf8.RuneCountInString(part) >= 3 {
						for _, st := range nameStems(part) {
							ix.stems[st] = append(ix.stems[st], tokRef{entry: ei, idx: -1})
						}
					}
				}
			}
		}
	}
	for _, n := range names {
		addEntry(n, false)
		if alt := macSpacing(n); alt != "" {
			addEntry(alt, false)
		}
	}
	for _, n := range redact {
		addEntry(n, true)
		if alt := macSpacing(n); alt != "" {
			addEntry(alt, true)
		}
	}
	ix.heads = make(map[string]bool, len(ix.stems))
	for st := range ix.stems {
		// three bytes, or two for a stem that short
		if len(st) >= 2 {
			ix.heads[st[:min(3, len(st))]] = true
		}
	}
	ix.nearMem = make(map[string]bool)
	return ix
}

// macSpacing returns a name with its Mac or Mc surname written the other
// way, glued or apart ("Siobhán MacCarthy" <-> "Siobhán Mac Carthy"), or ""
// when it has none.
func macSpacing(name string) string {
	fs := strings.Fields(name)
	changed := false
	var out []string
	for i := 0; i < len(fs); i++ {
		f := fs[i]
		low := strings.ToLower(f)
		if (low == "mac" || low == "mc") && i+1 < len(fs) && isUpperStart(fs[i+1]) {
			out = append(out, f+fs[i+1])
			i++
			changed = true
			continue
		}
		for _, p := range []string{"Mac", "Mc"} {
			if rest, ok := strings.CutPrefix(f, p); ok && utf8.RuneCountInString(rest) >= 3 && isUpperStart(rest) {
				out = append(out, p, rest)
				changed = true
				f = ""
				break
			}
		}
		if f != "" {
			out = append(out, f)
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(out, " ")
}

// lookup returns the registered tokens that the folded word w is a form of,
// and whether w is the bare token.
func (ix *nameIndex) lookup(w string) ([]tokRef, bool) {
	if len(ix.stems) == 0 || len(w) < 2 || !ix.heads[w[:min(3, len(w))]] && !ix.heads[w[:2]] {
		return nil, false
	}
	for l := 0; l <= maxInflection && l < len(w); l++ {
		if l > 0 && !utf8.RuneStart(w[len(w)-l]) {
			continue
		}
		suf := w[len(w)-l:]
		if !inflectionSuffixes[suf] {
			continue
		}
		if refs, ok := ix.stems[w[:len(w)-l]]; ok {
			return refs, l == 0
		}
	}
	return nil, false
}

// findRegistryNames redacts registered names: whole names, inflected and
// possessive forms, and a registered person's surname or first name alone.
// Inflected forms that are themselves public words ("Bergen" for a
// registered "Berg") become near-miss candidates instead.
func (sc *scan) findRegistryNames() {
	ix := sc.g.names
	if len(ix.entries) == 0 {
		return
	}
	words := sc.words
	type match struct {
		refs  []tokRef
		exact bool
	}
	ms := make([]match, len(words))
	for i, w := range words {
		if utf8.RuneCountInString(w.lower) < 2 && !nameParticlesStrong[w.lower] {
			continue
		}
		refs, exact := ix.lookup(w.lower)
		if refs == nil && w.capital {
			// an inflected form the lexicons know: "Guðrúnar" -> "guðrún"
			if lx, err := loadLexicons(); err == nil {
				for _, l := range strings.Fields(wordFacts(lx, sc.lang, w.lower).lemmas) {
					if r, ok := ix.stems[l]; ok && l != w.lower {
						refs = r
						break
					}
				}
			}
		}
		if refs == nil {
			continue
		}
		ms[i] = match{refs: refs, exact: exact}
	}
	adjacent := func(a, b int) bool {
		return b < len(words) && a >= 0 && onlySpaceBetween(sc.text, words[a].end, words[b].start)
	}
	covered := make([]bool, len(words))
	// whole names, the last word possibly inflected
	for i := range words {
		for _, ref := range ms[i].refs {
			if ref.idx != 0 {
				continue
			}
			e := ix.entries[ref.entry]
			n := len(e.tokens)
			ok := true
			for k := 1; k < n; k++ {
				j := i + k
				if j >= len(words) || !adjacent(j-1, j) {
					ok = false
					break
				}
				found := false
				for _, r := range ms[j].refs {
					if r.entry == ref.entry && r.idx == k && (ms[j].exact || k == n-1) {
						found = true
						break
					}
				}
				if !found {
					ok = false
					break
				}
			}
			if !ok || (n == 1 && !ms[i].exact && sc.g.isCommonWord(words[i].lower)) {
				continue
			}
			if n == 1 && sc.g.isCommonWord(e.tokens[0]) && (!words[i].capital || words[i].sentStart) {
				continue
			}
			det := "registry-name"
			repl := sc.g.words.person
			if e.org {
				det, repl = "registry-organisation", sc.g.words.organisation
			}
			if e.redact {
				det = "confirmed-personal"
			}
			sc.add(TypePerson, words[i].start, sc.possessiveEnd(words[i+n-1]), repl, det)
			for k := 0; k < n; k++ {
				covered[i+k] = true
			}
		}
	}
	// parts of registered people's names
	for i, w := range words {
		if covered[i] || ms[i].refs == nil {
			continue
		}
		var hit *nameEntry
		for _, ref := range ms[i].refs {
			e := &ix.entries[ref.entry]
			if e.org {
				continue
			}
			hit = e
			break
		}
		if hit == nil {
			continue
		}
		if utf8.RuneCountInString(w.lower) < 3 || nameParticles[w.lower] || nameParticlesStrong[w.lower] {
			continue // "Mac" alone is no part of "Mac Carthy"
		}
		if !ms[i].exact && sc.g.isCommonWord(w.lower) {
			// "Bergen" for "Berg": a public word; let the reviewer decide
			sc.markNear(w, hit.text)
			continue
		}
		if ms[i].exact && sc.g.isCommonWord(w.lower) {
			// a registered name that is also a common word ("Berg", "Hope"):
			// only when written as a name inside a sentence or next to another part
			nextToPart := (i > 0 && covered[i-1] && adjacent(i-1, i)) || (i+1 < len(words) && ms[i+1].refs != nil && adjacent(i, i+1))
			if !w.capital || (w.sentStart && !nextToPart) {
				continue
			}
		}
		det := "registry-name-part"
		if hit.redact {
			det = "confirmed-personal"
		}
		sc.add(TypePerson, w.start, sc.possessiveEnd(w), sc.g.words.person, det)
		covered[i] = true
	}
}

// possessiveEnd extends a name ending in s over a following apostrophe
// ("the Murphys' car").
func (sc *scan) possessiveEnd(w word) int {
	if strings.HasSuffix(w.lower, "s") && isApostrophe(runeAt(sc.text, w.end)) {
		_, size := utf8.DecodeRuneInString(sc.text[w.end:])
		return w.end + size
	}
	return w.end
}

func (sc *scan) markNear(w word, name string) {
	if sc.nearby == nil {
		sc.nearby = make(map[int]string)
	}
	sc.nearby[w.start] = name
}

// nearRegistered reports whether the folded word is within a small edit
// distance of a registered person's name token, or shares a long stem. Only
// tokens with the same first letter are compared, so a typo in the first
// letter is not noticed.
func (ix *nameIndex) nearRegistered(w string) bool {
	if len(ix.near) == 0 || w == "" {
		return false
	}
	ix.nearMu.Lock()
	v, ok := ix.nearMem[w]
	ix.nearMu.Unlock()
	if ok {
		return v
	}
	v = ix.nearUncached(w)
	ix.nearMu.Lock()
	if len(ix.nearMem) > 50000 {
		ix.nearMem = make(map[string]bool)
	}
	ix.nearMem[w] = v
	ix.nearMu.Unlock()
	return v
}

func (ix *nameIndex) nearUncached(w string) bool {
	first, _ := utf8.DecodeRuneInString(w)
	wr := []rune(w)
	for _, tk := range ix.near[first] {
		tr := []rune(tk)
		maxD := 1
		if len(tr) >= 7 {
			maxD = 2
		}
		if abs(len(tr)-len(wr)) <= maxD && levenshtein(wr, tr, maxD) <= maxD {
			return true
		}
		if len(tr) >= 5 && len(wr) >= 5 {
			p := 0
			for p < len(tr) && p < len(wr) && tr[p] == wr[p] {
				p++
			}
			if p >= 5 && p*10 >= len(tr)*7 {
				return true
			}
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// levenshtein returns the edit distance of a and b, or max+1 once it is known
// to exceed max.
func levenshtein(a, b []rune, max int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// stopWords end a run of capitalised words that is growing into a candidate.
var stopWords = map[string]bool{
	"the": true, "and": true, "of": true, "in": true, "on": true, "at": true, "for": true, "to": true,
	"with": true, "by": true, "from": true, "a": true, "an": true, "ja": true, "och": true, "og": true,
	"eller": true, "or": true, "i": true, "på": true, "í": true, "agus": true, "le": true, "den": true,
	"det": true, "der": true, "tai": true, "sekä": true, "eli": true, "og/eller": true, "is": true,
	"was": true, "were": true, "we": true, "our": true, "this": true, "that": true,
}

// ambiguousGivenNames are given names that are also common English words; at
// the start of a sentence they join a name that follows ("Will Murphy").
var ambiguousGivenNames = map[string]bool{
	"will": true, "bill": true, "mark": true, "grace": true, "hope": true, "rose": true, "frank": true,
	"faith": true, "joy": true, "dawn": true, "may": true, "june": true, "april": true, "august": true,
	"art": true, "ray": true, "guy": true, "lily": true, "iris": true, "daisy": true, "ivy": true,
	"holly": true, "summer": true, "autumn": true, "victor": true, "norman": true, "miles": true,
	"dean": true, "glen": true, "grant": true, "chase": true, "hunter": true, "dale": true, "cliff": true,
	"amber": true, "crystal": true, "pearl": true, "ruby": true, "gale": true, "penny": true, "kit": true,
}

// nameParticles may stand between the parts of a name.
var nameParticles = map[string]bool{
	"van": true, "von": true, "af": true, "de": true, "da": true, "di": true, "du": true, "del": true,
	"der": true, "ó": true, "ní": true, "nic": true, "mac": true, "mc": true, "ua": true, "ui": true, "bin": true,
}

// adjacent2 reports whether only spaces lie between a and b.
func adjacent2(text string, a, b int) bool { return a <= b && onlySpaceBetween(text, a, b) }

func stripPossessive(w string) string {
	for _, p := range []string{"'s", "’s", "s'", "s"} {
		if strings.HasSuffix(w, p) && len(w) > len(p)+2 {
			return w[:len(w)-len(p)]
		}
	}
	return w
}
