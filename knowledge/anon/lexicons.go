// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// The gate tells names of people from ordinary words with evidence: whether
// a word (or its lemma) is a common word of the text's language in the
// lexicon (derived from Debian's spelling dictionaries and Voikko's Finnish
// morphology), whether it is a known given name or surname, its position in
// the sentence, and the words around it.

// lexicons holds every supported language's lexicon and the name list.
type lexicons struct {
	byLang map[lexicon.Lang]*lexicon.Lexicon
	names  *lexicon.Names
}

var (
	lexOnce sync.Once
	lexData *lexicons
	lexErr  error
)

// loadLexicons returns the lexicons; a variable so that tests can make
// them unavailable.
var loadLexicons = loadEmbeddedLexicons

// loadEmbeddedLexicons loads the embedded lexicons once.
func loadEmbeddedLexicons() (*lexicons, error) {
	lexOnce.Do(func() {
		l := &lexicons{byLang: map[lexicon.Lang]*lexicon.Lexicon{}}
		for _, lang := range lexicon.Languages() {
			x, err := lexicon.Load(lang)
			if err != nil {
				lexErr = fmt.Errorf("anonymisation gate: %w", err)
				return
			}
			l.byLang[lang] = x
		}
		n, err := lexicon.LoadNames()
		if err != nil {
			lexErr = fmt.Errorf("anonymisation gate: %w", err)
			return
		}
		l.names = n
		lexData = l
	})
	return lexData, lexErr
}

// Ready reports whether the gate's lexicons are there: every data file is
// present and starts as it should. A node calls it at start-up so that
// missing lexicon data is a clear error there. It reads only the first
// bytes of each file: the tables are decoded, and their checksums
// checked, when the gate first needs them (Verify reads everything). A
// gate whose lexicons cannot be loaded still works, failing closed: every
// capitalised word it cannot place is then an uncertain name.
func Ready() error {
	if err := checkLexicons(); err != nil {
		return fmt.Errorf("anonymisation gate: %w", err)
	}
	return nil
}

// checkLexicons checks the lexicon data at start-up; a variable so that
// tests can make it unavailable.
var checkLexicons = lexicon.Check

// facts is what the lexicons say about one word in one text language.
type facts struct {
	common    bool   // an ordinary word of the text's language, or an inflection of one
	commonAny bool   // an ordinary word of some supported language
	proper    bool   // a proper noun in some dictionary (a name or a place)
	given     bool   // a known given name
	surname   bool   // a known surname
	place     bool   // a place name (Finnish morphology)
	lemmas    string // lemmas of proper-noun readings, space-separated, for registry matching
}

// factCache memoises facts per language and word across scans, one map
// per language so that a lookup needs no key built; it is dropped whole
// when it grows too large.
type factMaps map[lexicon.Lang]*sync.Map

var (
	factCache atomic.Pointer[factMaps]
	factCount atomic.Int64
)

const factCacheMax = 200000

func newFactMaps() *factMaps {
	m := factMaps{"": {}}
	for _, l := range []lexicon.Lang{lexicon.English, lexicon.Finnish, lexicon.Swedish, lexicon.Bokmal, lexicon.Nynorsk,
		lexicon.Norwegian, lexicon.Danish, lexicon.Icelandic, lexicon.Irish} {
		m[l] = &sync.Map{}
	}
	return &m
}

func init() { factCache.Store(newFactMaps()) }

// wordFacts returns the lexicons' evidence about a folded word in lang
// ("" when the text's language is unknown).
func wordFacts(lx *lexicons, lang lexicon.Lang, w string) facts {
	m := (*factCache.Load())[lang]
	if m == nil {
		return computeFacts(lx, lang, w)
	}
	if v, ok := m.Load(w); ok {
		return v.(facts)
	}
	f := computeFacts(lx, lang, w)
	if factCount.Add(1) > factCacheMax {
		factCache.Store(newFactMaps())
		factCount.Store(0)
		m = (*factCache.Load())[lang]
	}
	m.Store(w, f)
	return f
}

func computeFacts(lx *lexicons, lang lexicon.Lang, w string) facts {
	var f facts
	base := stripPossessive(w)
	if k := lx.names.Kind(w) | lx.names.Kind(base); k != 0 {
		f.given = k&lexicon.Given != 0
		f.surname = k&lexicon.Family != 0
	}
	var lemmas []string
	for l, x := range lx.byLang {
		for _, a := range x.Analyze(w) {
			switch a.Class {
			case lexicon.Common:
				f.commonAny = true
				if l == lang {
					f.common = true
				}
			case lexicon.GivenName:
				f.given = true
				lemmas = append(lemmas, a.Lemma)
			case lexicon.Surname:
				f.surname = true
				lemmas = append(lemmas, a.Lemma)
			case lexicon.Place:
				f.place = true
			default:
				f.proper = true
				lemmas = append(lemmas, a.Lemma)
			}
		}
	}
	if lang == lexicon.Norwegian || lang == lexicon.Bokmal || lang == lexicon.Nynorsk {
		// both written standards count as the text's language
		if x := lx.byLang[lexicon.Norwegian]; x != nil && x.Common(w) {
			f.common = true
		}
	}
	if !f.commonAny && !f.proper && strings.ContainsAny(w, "-\u2010\u2011") {
		// a hyphenated compound of common words ("e-health", "Dún-Laoghaire" is not)
		all := true
		for _, p := range strings.FieldsFunc(w, isHyphen) {
			if utf8.RuneCountInString(p) <= 2 {
				continue
			}
			if wordFacts(lx, lang, p).commonAny == false {
				all = false
				break
			}
		}
		if all {
			f.commonAny = true
			f.common = true
		}
	}
	if !f.commonAny && !f.proper && !f.given && !f.surname && !f.place && utf8.RuneCountInString(w) >= 7 {
		// a compound of common words of the text's language ("anropsstyrd")
		if x := lx.byLang[lang]; lang != "" && x != nil && len(x.Split(w)) >= 2 {
			f.common, f.commonAny = true, true
		} else {
			for l, x := range lx.byLang {
				if l != lang && l != lexicon.English && len(x.Split(w)) >= 2 {
					f.commonAny = true
					break
				}
			}
		}
	}
	f.lemmas = strings.Join(lemmas, " ")
	return f
}

// detectLanguage guesses the language of a text from its lower-case words:
// the language whose lexicon knows most of a sample of them. It returns ""
// when no language knows at least a third of the sample.
func detectLanguage(lx *lexicons, words []word) lexicon.Lang {
	seen := map[string]bool{}
	var sample []string
	for _, w := range words {
		if w.capital || w.allCaps || utf8.RuneCountInString(w.lower) < 2 || seen[w.lower] {
			continue
		}
		seen[w.lower] = true
		sample = append(sample, w.lower)
		if len(sample) == 40 {
			break
		}
	}
	if len(sample) == 0 {
		return ""
	}
	best, bestN := lexicon.Lang(""), 0
	for _, l := range lexicon.Languages() {
		n := 0
		for _, w := range sample {
			if knownCached(lx, l, w) {
				n++
			}
		}
		if n > bestN {
			best, bestN = l, n
		}
	}
	if bestN*3 < len(sample) {
		return ""
	}
	return best
}

var knownCache sync.Map

func knownCached(lx *lexicons, l lexicon.Lang, w string) bool {
	key := string(l) + "\x00" + w
	if v, ok := knownCache.Load(key); ok {
		return v.(bool)
	}
	k := lx.byLang[l].Common(w)
	if factCount.Add(1) <= factCacheMax {
		knownCache.Store(key, k)
	}
	return k
}

// Cue words around a run of capitalised words. They are grammar, not
// vocabulary: prepositions that put a place after them, articles and
// nouns that introduce an organisation or project, and verbs of speech
// that follow a person.
var placeCues = map[string]bool{
	"in": true, "at": true, "from": true, "near": true, "to": true, "into": true, "across": true, "around": true,
	"outside": true, "throughout": true, "i": true, "på": true, "från": true, "fra": true, "frá": true,
	"í": true, "á": true, "til": true, "till": true, "ved": true, "vid": true, "kring": true, "omkring": true,
	"mellom": true, "mellan": true, "nær": true, "nära": true, "county": true, "co": true,
	"sa": true, "go": true, "ó": true, "um": true, "frå": true, "utanför": true, "udenfor": true,
}

var orgCues = map[string]bool{
	"the": true, "projektet": true, "prosjektet": true, "project": true, "projekt": true, "programme": true,
	"program": true, "programmet": true, "hanke": true, "hankkeen": true, "hankkeessa": true, "verkefnið": true,
	"verkefninu": true, "appen": true, "app": true, "tjänsten": true, "tenesta": true, "tjenesten": true,
	"tjenesta": true, "service": true, "platform": true, "plattformen": true, "nätverket": true,
	"nettverket": true, "netværket": true, "palvelu": true, "sovellus": true, "initiative": true,
	"scheme": true, "network": true, "foreningen": true, "föreningen": true,
}

// personCues are prepositions that put a person after them: "heima hjá
// Bryndísi", "hemma hos", "together with".
var personCues = map[string]bool{"hjá": true, "hos": true, "with": true, "med": true, "með": true, "mukana": true}

var speechVerbs = map[string]bool{
	"said": true, "says": true, "told": true, "explained": true, "explains": true, "wrote": true, "added": true,
	"sanoo": true, "sanoi": true, "kertoo": true, "kertoi": true, "toteaa": true, "totesi": true,
	"säger": true, "sa": true, "sade": true, "berättar": true, "berättade": true, "sier": true,
	"fortalte": true, "forteller": true, "siger": true, "sagde": true, "fortæller": true, "segir": true,
	"sagði": true, "sagðist": true, "dúirt": true, "deir": true, "adeir": true,
}

// nameParticlesStrong join an Irish or Dutch-style name ("Ní Bhriain",
// "Ó Murchú", "Mac Carthaigh") and are evidence of a person by themselves.
var nameParticlesStrong = map[string]bool{"ní": true, "ó": true, "nic": true, "mac": true, "uí": true, "mhic": true}

// orgHeads end words that name a kind of organisation ("studieförbund",
// "pensionärsförening", "kyläyhdistys", "íþróttafélag").
var orgHeads = []string{"förbund", "förbundet", "förening", "föreningen", "forbund", "forbundet", "forening", "foreningen",
	"yhdistys", "liitto", "seura", "säätiö", "osuuskunta", "samband", "félag", "félagið", "stofnun", "kommun", "kommune",
	"kunta", "kaupunki", "fylkeskommune", "region", "regionen", "selskab", "selskap", "sällskap", "lag", "laget",
	"partnership", "association", "council", "trust", "foundation", "society", "network", "partnerskap",
	"råd", "rådet", "ráð", "ráðið", "neuvosto", "utvalg", "utvalget", "nämnd", "nämnden", "udvalg", "udvalget",
	// universities, colleges and hospitals
	"universitet", "universitetet", "högskola", "högskolan", "høgskole", "høgskolen", "høyskole", "høyskolen",
	"yliopisto", "ammattikorkeakoulu", "háskóli", "háskólinn", "háskóla", "sjukhus", "sjukhuset", "sykehus",
	"sykehuset", "sygehus", "sygehuset", "sairaala", "sjúkrahús", "sjúkrahúsið", "university", "college", "hospital"}

// icelandicPlaceEnds end Icelandic place names, in the lemma or an
// inflected form.
var icelandicPlaceEnds = []string{"vík", "víkur", "fjörður", "fjarðar", "firði", "nes", "ness", "nesi", "dalur", "dals",
	"dal", "eyri", "eyrar", "staðir", "stöðum", "staða", "höfn", "hafnar", "ey", "eyjar", "eyjum", "holt", "holti",
	"fell", "felli", "vellir", "völlum", "hlíð", "borg", "borgar", "bær", "bæjar", "sveit", "sveitar", "byggð",
	"strönd", "vogur", "vogi", "gil", "skógar", "hraun", "hrauni", "tunga", "tungu", "múli", "sandur", "sandi", "foss"}

// isOrgHead reports whether a word is or ends in a word naming a kind of
// organisation.
func isOrgHead(w string) bool {
	if hasAnySuffix(w, orgHeads) != "" {
		return true
	}
	for _, h := range orgHeads {
		if w == h {
			return true
		}
	}
	return false
}

func icelandicPlace(lemmas string) bool {
	for _, l := range strings.Fields(lemmas) {
		if hasAnySuffix(l, icelandicPlaceEnds) != "" {
			return true
		}
	}
	return false
}

// finnishPlaceCases are the Finnish local cases in which place names
// usually stand ("Kelvästä", "Pankakoskelta").
var finnishPlaceCases = []string{"ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle"}

func isUpperStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// personSuffixes end common surname forms.
var personSuffixes = []string{"sson", "sen", "ssen", "nen"}

// patronymics end Icelandic patronymic surnames, which are capitalised
// only as names, even where the dictionary lists them as words.
var patronymics = []string{"sdóttir", "sdottir", "sdóttur", "sdottur", "ssonar", "ssyni", "sson"}

// hasInnerCapital reports a CamelCase word ("SilverLine", "eHealth").
func hasInnerCapital(s string) bool {
	for _, p := range []string{"Mc", "Mac", "O'", "O’", "Fitz"} {
		if strings.HasPrefix(s, p) {
			return false // McGinley, MacCarthy, O'Brien
		}
	}
	first := true
	prevLower := false
	for _, r := range s {
		if first {
			first = false
			prevLower = unicode.IsLower(r)
			continue
		}
		if unicode.IsUpper(r) && prevLower {
			return true
		}
		prevLower = unicode.IsLower(r)
	}
	return false
}
