// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// The word lists under words/ are public vocabulary: common words of the
// federation's languages, public-sector vocabulary and place names. They are
// not names of people. A separate list holds common given names and surnames,
// which are never treated as public words.
//
//go:embed words/*.txt
var wordFiles embed.FS

// Language bits of a vocabulary word, so that an inflection ending is only
// stripped from a word of a language that uses it ("Mattilla" is not the
// English "matt" with a Finnish ending).
const (
	langEN uint8 = 1 << iota
	langFI
	langSC // Swedish, Norwegian, Danish
	langIS
	langGA
	langAll uint8 = 0xff
)

type vocabulary struct {
	words    map[string]uint8    // common words, all languages, with their language bits
	places   map[string]struct{} // countries, regions, towns
	townsIS  map[string]struct{} // Icelandic towns that follow a 3-digit postcode
	names    map[string]struct{} // common given names and surnames
	heads    map[string]struct{} // compound heads: Finnish/Scandinavian words that end public compounds
	honorary map[string]struct{} // titles before a name
	orgs     map[string]struct{} // words that make a name an organisation's
}

var (
	vocabOnce sync.Once
	vocabData *vocabulary
)

func loadVocab() *vocabulary {
	vocabOnce.Do(func() {
		v := &vocabulary{
			words:    make(map[string]uint8, 30000),
			places:   make(map[string]struct{}, 1000),
			townsIS:  make(map[string]struct{}, 100),
			names:    make(map[string]struct{}, 2000),
			heads:    make(map[string]struct{}, 500),
			honorary: make(map[string]struct{}, 50),
			orgs:     make(map[string]struct{}, 200),
		}
		// Each file feeds one set, or the common words with its languages.
		sets := map[string]map[string]struct{}{"places.txt": v.places, "towns-is.txt": v.townsIS,
			"names.txt": v.names, "heads.txt": v.heads, "titles.txt": v.honorary, "orgs.txt": v.orgs}
		langs := map[string]uint8{"en.txt": langEN, "en-extra.txt": langEN, "fi.txt": langFI,
			"sv.txt": langSC, "no.txt": langSC, "da.txt": langSC, "is.txt": langIS, "ga.txt": langGA}
		read := func(name string) string {
			data, err := wordFiles.ReadFile("words/" + name)
			if err != nil {
				panic("anon: reading embedded word list: " + err.Error())
			}
			return string(data)
		}
		for name, dst := range sets {
			addWords(read(name), func(w string) { dst[w] = struct{}{} })
		}
		for name, lang := range langs {
			addWords(read(name), func(w string) { v.words[w] |= lang })
		}
		for w := range v.townsIS {
			v.places[w] = struct{}{}
		}
		vocabData = v
	})
	return vocabData
}

// addWords calls add for each whitespace-separated word of a list, skipping
// comment lines that start with '#'. Multi-word entries use '_' for spaces.
func addWords(data string, add func(string)) {
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		for _, f := range strings.Fields(line) {
			add(foldSameLen(strings.ReplaceAll(f, "_", " ")))
		}
	}
}

func isPlace(w string) bool     { return inSet(loadVocab().places, w) }
func isTownIS(w string) bool    { return inSet(loadVocab().townsIS, w) }
func isKnownName(w string) bool { return inSet(loadVocab().names, w) }
func isTitle(w string) bool     { return inSet(loadVocab().honorary, w) }
func isOrgMarker(w string) bool { return inSet(loadVocab().orgs, w) }

func inSet(set map[string]struct{}, w string) bool {
	_, ok := set[w]
	return ok
}

// suffix is an inflection ending and the languages that use it.
type suffix struct {
	s    string
	lang uint8
}

// vocabSuffixes are inflection endings stripped when looking a word up in the
// public vocabulary: Finnish cases and clitics, Scandinavian definite and
// genitive forms, English plural and possessive, Icelandic and Irish cases.
// Longest first.
var vocabSuffixes = buildSuffixes(map[uint8][]string{
	langFI: {"ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle", "ksi", "na", "nä", "n", "a", "ä", "ta", "tä",
		"han", "hen", "hin", "hon", "hun", "hyn", "hän", "hön", "seen", "siin", "iin", "ihin", "in", "t", "ja", "jä",
		"ien", "ten", "issa", "issä", "ista", "istä", "illa", "illä", "ilta", "iltä", "ille", "ina", "inä",
		"iksi", "ineen", "kin", "kaan", "kään", "nsa", "nsä", "mme", "nne", "ssaan", "ssään", "staan", "stään",
		"lleen", "llaan", "llään", "ssakin", "nkin", "aan", "ään", "een", "oon", "öön", "uun", "yyn",
		"tta", "ttä", "jen", "iden", "itten", "ita", "itä", "ia", "iä"},
	langSC: {"s", "en", "et", "ene", "ens", "ets", "er", "ar", "or", "erna", "arna", "orna", "ernas", "arnas",
		"erne", "ernes", "ane", "ne", "na", "nas", "heten", "het", "ningen", "ingen", "elsen", "e", "t", "de", "te"},
	langEN: {"'s", "’s", "s", "es", "ies", "ied", "ed", "ing", "ly", "er", "ers", "est"},
	langIS: {"i", "u", "ur", "ir", "um", "inn", "ins", "num", "nir", "nar", "anna", "unum", "inni", "ið", "inu", "s", "a", "ar"},
	langGA: {"a", "í", "e"},
})

func buildSuffixes(m map[uint8][]string) []suffix {
	bits := make(map[string]uint8)
	for lang, list := range m {
		for _, s := range list {
			bits[s] |= lang
		}
	}
	keys := make([]string, 0, len(bits))
	for s := range bits {
		keys = append(keys, s)
	}
	keys = sortByLenDesc(keys)
	out := make([]suffix, len(keys))
	for i, s := range keys {
		out[i] = suffix{s: s, lang: bits[s]}
	}
	return out
}

func sortByLenDesc(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// isPublicWord reports whether the folded word w is a public word (in the
// embedded vocabulary, possibly inflected or compounded) rather than a
// possible name. Known given names and surnames are never public.
func isPublicWord(w string) bool {
	v := loadVocab()
	if _, ok := v.names[w]; ok {
		return false
	}
	if _, ok := v.words[w]; ok {
		return true
	}
	if _, ok := v.places[w]; ok {
		return true
	}
	if strings.HasSuffix(w, "sson") || strings.HasSuffix(w, "dóttir") || strings.HasSuffix(w, "dottir") {
		return false
	}
	for _, p := range []string{"'s", "’s"} {
		if strings.HasSuffix(w, p) {
			return isPublicWord(w[:len(w)-len(p)])
		}
	}
	if strings.ContainsAny(w, "-\u2010\u2011") {
		parts := strings.FieldsFunc(w, func(r rune) bool { return isHyphen(r) })
		if len(parts) == 0 {
			return false
		}
		for _, p := range parts {
			if utf8.RuneCountInString(p) <= 2 {
				continue // "e-health", "co-design"
			}
			if !isPublicWord(p) {
				return false
			}
		}
		return true
	}
	if stemPublic(v, w) {
		return true
	}
	return compoundPublic(v, w)
}

// stemPublic strips one inflection ending and looks the stem up among the
// words of the languages that use the ending.
func stemPublic(v *vocabulary, w string) bool {
	for _, suf := range vocabSuffixes {
		if len(w)-len(suf.s) < 3 || !strings.HasSuffix(w, suf.s) {
			continue
		}
		stem := w[:len(w)-len(suf.s)]
		if utf8.RuneCountInString(stem) < 3 {
			continue
		}
		if _, ok := v.names[stem]; ok {
			continue // "Peters" is not the plural of a word
		}
		if v.words[stem]&suf.lang != 0 {
			return true
		}
		if _, ok := v.places[stem]; ok {
			return true
		}
		if suf.lang&langEN == 0 {
			continue
		}
		// English: studies -> study, cities -> city; made -> make
		if suf.s == "ies" || suf.s == "ied" {
			if v.words[stem+"y"]&langEN != 0 {
				return true
			}
		}
		if suf.s == "ed" || suf.s == "ing" || suf.s == "er" || suf.s == "es" || suf.s == "ers" || suf.s == "est" {
			if v.words[stem+"e"]&langEN != 0 {
				return true
			}
		}
	}
	return false
}

// compoundPublic reports whether w ends with a compound head from the list
// (Finnish and Scandinavian compounds such as "kotihoito", "äldreomsorgen"),
// possibly inflected, after a prefix of at least three letters.
func compoundPublic(v *vocabulary, w string) bool {
	n := len(w)
	for cut := 3; cut <= n-3; cut++ {
		if !utf8.RuneStart(w[cut]) {
			continue
		}
		rest := w[cut:]
		if _, ok := v.heads[rest]; ok {
			return true
		}
	}
	// one inflection ending on the compound
	for _, suf := range vocabSuffixes {
		if suf.lang&(langFI|langSC|langIS) == 0 || len(w)-len(suf.s) < 6 || !strings.HasSuffix(w, suf.s) {
			continue
		}
		base := w[:len(w)-len(suf.s)]
		for cut := 3; cut <= len(base)-3; cut++ {
			if !utf8.RuneStart(base[cut]) {
				continue
			}
			if _, ok := v.heads[base[cut:]]; ok {
				return true
			}
		}
	}
	return false
}
