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

// Ready reports whether the gate's lexicons are usable: every data file is
// present and whole. A node calls it at start-up so that missing or corrupt
// lexicon data is a clear error there; the tables themselves are decoded
// when the gate first needs them. A gate whose lexicons cannot be loaded
// still works, failing closed: every capitalised word it cannot place is
// then an uncertain name.
func Ready() error {
	if err := verifyLexicons(); err != nil {
		return fmt.Errorf("anonymisation gate: %w", err)
	}
	return nil
}

// verifyLexicons checks the lexicon data; a variable so that tests can make
// it unavailable.
var verifyLexicons = lexicon.Verify

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

// verdict on a run of capitalised words.
type verdict struct {
	score    int
	reason   string // short reason shown to the reviewer
	evidence []string
	// nameRead: every word of the run can be read as part of a person's
	// name (a known name, a proper noun that is no place, or an unknown
	// word) and nothing around it points to a place or an organisation
	nameRead bool
	// unknown: the score comes only from words in no lexicon
	unknown bool
	// placeLike: the lexicons or the context place the run among places
	placeLike bool
}

// run is a run of capitalised words and the verdict on it.
type run struct {
	first, last int
	v           verdict
}

// conjunctions join two names of the same kind: "Grace and Stanley",
// "Snorri og Hildur".
var conjunctions = map[string]bool{"and": true, "&": true, "og": true, "och": true, "ja": true, "sekä": true,
	"agus": true, "samt": true}

// coordinate gives a run joined by a conjunction to a person the verdict
// of that person, when the run itself can be read as a name: coordinated
// phrases name things of one kind. The partner is a name already redacted
// (a registered stakeholder) or another run.
func (sc *scan) coordinate(runs []run) {
	words := sc.words
	conjAfter := func(last int) (int, bool) {
		c := last + 1
		if c+1 >= len(words) || !conjunctions[words[c].lower] || words[c].capital ||
			!onlySpaceBetween(sc.text, words[last].end, words[c].start) || !onlySpaceBetween(sc.text, words[c].end, words[c+1].start) {
			return 0, false
		}
		return c + 1, true
	}
	// a person already found next to the conjunction
	for i := range runs {
		r := &runs[i]
		if !r.v.nameRead || r.v.score >= 2 {
			continue
		}
		if j, ok := conjAfter(r.last); ok && sc.personAt[words[j].start] {
			r.v.score = 2
			r.v.reason = "joined to a name"
			r.v.evidence = append(r.v.evidence, "joined by \""+words[r.last+1].lower+"\" to a redacted name")
			continue
		}
		if p := r.first - 2; p >= 0 && conjunctions[words[p+1].lower] && !words[p+1].capital &&
			onlySpaceBetween(sc.text, words[p].end, words[p+1].start) && onlySpaceBetween(sc.text, words[p+1].end, words[r.first].start) &&
			sc.personAt[-words[p].end] {
			r.v.score = 2
			r.v.reason = "joined to a name"
			r.v.evidence = append(r.v.evidence, "joined by \""+words[p+1].lower+"\" to a redacted name")
		}
	}
	// two runs: the weaker takes the stronger one's verdict
	for i := 0; i+1 < len(runs); i++ {
		a, b := &runs[i], &runs[i+1]
		j, ok := conjAfter(a.last)
		if !ok || j != b.first {
			continue
		}
		// an unknown word joined to a place is a place too: "Kelvän ja
		// Vuonislahden välillä"
		for _, p := range [][2]*run{{a, b}, {b, a}} {
			if p[0].v.unknown && p[0].v.score == 1 && p[1].v.placeLike && p[1].v.score < 0 {
				p[0].v.score = 0
				p[0].v.evidence = append(p[0].v.evidence, "joined by \""+words[a.last+1].lower+"\" to the place \""+
					sc.text[words[p[1].first].start:words[p[1].last].end]+"\"")
			}
		}
		if !a.v.nameRead || !b.v.nameRead {
			continue
		}
		hi, lo := a, b
		if b.v.score > a.v.score {
			hi, lo = b, a
		}
		if hi.v.score < 1 || lo.v.score >= hi.v.score {
			continue
		}
		lo.v.score = min(hi.v.score, 2)
		if lo.v.score >= 2 {
			lo.v.reason = "joined to a name"
		}
		lo.v.evidence = append(lo.v.evidence, "joined by \""+words[a.last+1].lower+"\" to \""+sc.text[words[hi.first].start:words[hi.last].end]+"\"")
	}
}

func (v *verdict) add(n int, ev string) {
	v.score += n
	v.evidence = append(v.evidence, ev)
}

// findCandidates marks runs of capitalised words that may be names of
// people and weighs the evidence for each: a run with enough evidence of a
// person (score >= 2) or with too little either way (score 1) becomes a
// candidate; a run that the lexicons place among ordinary words, places
// or organisations is kept.
func (sc *scan) findCandidates() {
	mask := make([]bool, len(sc.text)+1)
	sc.personAt = make(map[int]bool)
	for _, f := range sc.found {
		for i := f.Start; i < f.End; i++ {
			mask[i] = true
		}
		if f.Type == TypePerson {
			sc.personAt[f.Start] = true
			sc.personAt[-f.End] = true
		}
	}
	for _, u := range sc.urls {
		for i := u.start; i < u.end; i++ {
			mask[i] = true
		}
	}
	words := sc.words
	masked := func(i int) bool { return mask[words[i].start] || mask[words[i].end-1] }
	initial := func(i int) bool { return isInitial(sc.text, words[i], words[i].end) }
	adjacent := func(a, b int) bool {
		if initial(a) {
			return onlySpaceBetween(sc.text, words[a].end+1, words[b].start)
		}
		return onlySpaceBetween(sc.text, words[a].end, words[b].start)
	}
	lx, lerr := loadLexicons()
	lang := sc.lang
	startable := func(i int) bool {
		w := words[i]
		if initial(i) && i+1 < len(words) && adjacent(i, i+1) && (words[i+1].capital || initial(i+1)) && !masked(i) {
			return true
		}
		if !w.capital || w.glued || masked(i) || isTitle(w.lower) {
			return false
		}
		// an e-mail-like or file-like token ("Report.pdf") is not a name
		if w.end < len(sc.text) && (sc.text[w.end] == '@' || sc.text[w.end] == '.' && w.end+1 < len(sc.text) && isASCIILetter(sc.text[w.end+1])) {
			return false
		}
		return true
	}
	extendable := func(j int) bool {
		w := words[j]
		if masked(j) || stopWords[w.lower] || isTitle(w.lower) || w.sentStart {
			return false
		}
		return w.capital && !w.glued || initial(j)
	}
	var runs []run
	for i := 0; i < len(words); i++ {
		if !startable(i) {
			continue
		}
		first, last := i, i
		for j := i + 1; j < len(words) && j-first < 5; j++ {
			if !adjacent(j-1, j) {
				break
			}
			if (nameParticles[words[j].lower] || nameParticlesStrong[words[j].lower] && isUpperStart(sc.text[words[j].start:])) && j+1 < len(words) && adjacent(j, j+1) && !masked(j+1) &&
				(words[j+1].capital || nameParticles[words[j+1].lower] && j+2 < len(words) && words[j+2].capital) {
				continue
			}
			if !extendable(j) {
				break
			}
			last = j
		}
		for first > 0 && nameParticles[words[first-1].lower] && adjacent(first-1, first) && !masked(first-1) && !words[first-1].capital {
			first--
		}
		i = last
		if first < last && words[first].sentStart && lerr == nil {
			// "Farþeginn Ólafur Gunnarsson": an ordinary word opening the
			// sentence is not part of the name after it
			// unless the dictionary also knows it as a proper noun and a
			// known name follows ("Amir Khan")
			f := wordFacts(lx, lang, words[first].lower)
			nameNext := anyNameNext(lx, lang, words[first+1].lower)
			if (f.common || lang == "" && f.commonAny || wordFacts(lx, lexicon.English, words[first].lower).common) && !f.given && !f.surname &&
				!(f.proper && nameNext) {
				first++
			}
		}
		start, end := words[first].start, words[last].end
		text := sc.text[start:end]
		if _, ok := sc.g.confirmed[strings.Join(strings.Fields(foldSameLen(text)), " ")]; ok {
			continue
		}
		var v verdict
		if lerr != nil {
			v = verdict{score: 1, reason: "unknown capitalised word", evidence: []string{"lexicon unavailable: " + lerr.Error()}}
		} else {
			v = sc.weigh(lx, lang, first, last)
		}
		runs = append(runs, run{first: first, last: last, v: v})
	}
	if lerr == nil {
		sc.coordinate(runs)
	}
	for _, r := range runs {
		if r.v.score <= 0 {
			continue
		}
		start, end := words[r.first].start, words[r.last].end
		sc.cands = append(sc.cands, Candidate{Field: sc.field, Start: start, End: end, Text: sc.text[start:end], Reason: r.v.reason,
			Evidence: strings.Join(r.v.evidence, "; "), Certain: r.v.score >= 2})
	}
}

// weigh scores the run words[first..last] (capitalised words and name
// particles): positive means a person.
func (sc *scan) weigh(lx *lexicons, lang lexicon.Lang, first, last int) verdict {
	words := sc.words
	ix := sc.g.names
	var v verdict
	v.reason = "unknown capitalised word"
	prev := ""
	if first > 0 && onlySpaceBetween(sc.text, words[first-1].end, words[first].start) {
		prev = words[first-1].lower
	} else if first > 0 && sc.text[words[first-1].end] == '.' && adjacent2(sc.text, words[first-1].end+1, words[first].start) {
		prev = words[first-1].lower
	}
	next := ""
	if last+1 < len(words) && onlySpaceBetween(sc.text, words[last].end, words[last+1].start) {
		next = words[last+1].lower
	}
	if prev != "" && isTitle(prev) {
		v.reason = "follows a title"
		v.add(5, "after the title \""+prev+"\"")
	}
	names, others, content, unknownWords := 0, 0, 0, 0
	v.nameRead = true
	firstProperNotGiven := false // the run opens with a proper noun that is no known given name
	lastSurname := false         // and ends in a surname
	givenNoPlace := false        // a known given name that no dictionary knows as a proper noun (a place)
	for k := first; k <= last; k++ {
		w := words[k]
		if nameParticlesStrong[w.lower] && isUpperStart(sc.text[w.start:]) {
			if k < last {
				v.add(3, "Irish name particle \""+w.lower+"\"")
			}
			continue
		}
		if nameParticles[w.lower] && !w.capital {
			continue
		}
		if isInitial(sc.text, w, w.end) {
			v.add(1, "initial \""+sc.text[w.start:w.end+1]+"\"")
			names++
			continue
		}
		content++
		if k > first && nameParticlesStrong[words[k-1].lower] && isUpperStart(sc.text[words[k-1].start:]) {
			// after "Ó", "Ní", "Mac": a surname, even when made of common
			// words ("Nic Giolla Easpaig")
			v.add(1, "\""+sc.text[w.start:w.end]+"\" follows an Irish name particle")
			names++
			continue
		}
		if _, ok := sc.nearby[w.start]; ok || ix.nearRegistered(w.lower) {
			v.reason = "near registered name"
			v.add(3, "\""+sc.text[w.start:w.end]+"\" resembles a registered name")
			names++
			continue
		}
		if _, ok := sc.g.vocab[w.lower]; ok {
			v.add(-3, "\""+w.lower+"\" confirmed public")
			others++
			v.nameRead = false
			continue
		}
		if orgMarkers[w.lower] || k > first && isOrgHead(w.lower) {
			v.add(-4, "organisation word \""+w.lower+"\"")
			others++
			v.nameRead = false
			continue
		}
		f := wordFacts(lx, lang, w.lower)
		surface := sc.text[w.start:w.end]
		patronymic := hasAnySuffix(w.lower, patronymics) != ""
		notPlace := !f.place && !isPlace(w.lower)
		unknown := !f.commonAny && !f.proper && !f.given && !f.surname && notPlace && !sc.g.isPublic(w.lower) &&
			!(lang == lexicon.Finnish && hasAnySuffix(w.lower, finnishPlaceCases) != "")
		if !(patronymic || f.given || f.surname || f.proper && notPlace || unknown) || hasInnerCapital(surface) {
			v.nameRead = false
		}
		if k == first && f.proper && !f.given {
			firstProperNotGiven = true
		}
		if f.given && !f.proper && notPlace {
			givenNoPlace = true
		}
		if k == last && k > first && (f.surname || patronymic || hasAnySuffix(w.lower, personSuffixes) != "") {
			lastSurname = true
		}
		// A sentence-initial word that is both a given name and a common
		// word ("Will", "Anna") is a name only when a name follows.
		nameFollows := false
		if k < last {
			nf := wordFacts(lx, lang, words[k+1].lower)
			nameFollows = nf.given || nf.surname || !nf.commonAny && !nf.place
		}
		strongCommon := f.common || (lang == "" && f.commonAny)
		knownNameNext := false
		if k < last {
			nf := wordFacts(lx, lang, words[k+1].lower)
			knownNameNext = (nf.given || nf.surname || hasAnySuffix(words[k+1].lower, patronymics) != "") && !nf.common
		}
		// English words stand at the start of sentences in every language's
		// records ("Case reference ...").
		startCommon := strongCommon || w.sentStart && lang != lexicon.English && wordFacts(lx, lexicon.English, w.lower).common
		switch {
		case hasAnySuffix(w.lower, patronymics) != "":
			v.reason = "known name"
			v.add(2, "\""+surface+"\" is a patronymic")
			names++
		case hasInnerCapital(surface):
			v.add(-3, "\""+surface+"\" is written like a product or project name")
			others++
		case f.given && (!w.sentStart || !startCommon || nameFollows):
			v.reason = "known name"
			v.add(2, "\""+surface+"\" is a known given name")
			names++
		case f.surname && !f.given && content+last-k == 1 && f.proper && !strongCommon:
			// a lone surname that is also some other proper noun ("English")
			v.add(0, "\""+surface+"\" is a surname or another proper noun")
		case f.surname && (!w.sentStart || !startCommon):
			v.reason = "known name"
			v.add(2, "\""+surface+"\" is a known surname")
			names++
		case !f.common && !f.given && !f.surname && sc.g.isPublic(w.lower):
			// the gate's own public-sector, care and place vocabulary
			// ("Telecare", "Gaeltacht")
			v.add(-2, "\""+surface+"\" is in the gate's public vocabulary")
			others++
		case strongCommon && !w.sentStart && k > first && prevNameish(lx, lang, words[k-1].lower):
			// "Niels Bak", "Jón Steinn": a surname that is also a word
			v.add(1, "\""+surface+"\" is capitalised after a first name")
			names++
		case strongCommon && w.sentStart && f.proper && k < last && anyNameNext(lx, lang, words[k+1].lower):
			// "Amir Khan" opening a sentence: a word the dictionary also
			// knows as a proper noun, before a known name
			v.add(0, "\""+surface+"\" is a proper noun too, before a known name")
		case strongCommon && !w.sentStart && knownNameNext:
			// "his neighbour Pat Graham": a capitalised common word inside
			// the sentence, before a known name, is read as part of it
			v.add(0, "\""+surface+"\" is capitalised before a known name")
		case strongCommon || startCommon:
			v.add(-2, "\""+surface+"\" is a common word")
			others++
		case f.place || isPlace(w.lower):
			v.add(-2, "\""+surface+"\" is a place name")
			others++
			v.placeLike = true
		case hasAnySuffix(w.lower, personSuffixes) != "" && !f.commonAny:
			v.add(2, "\""+surface+"\" has a surname ending")
			names++
		case f.proper && lang == lexicon.Icelandic && !icelandicPlace(f.lemmas+" "+w.lower):
			// Icelandic place names end in a handful of place words
			// (-vík, -fjörður, -nes, -dalur...); other proper nouns of
			// the dictionary are mostly given names
			v.add(1, "\""+surface+"\" is an Icelandic proper noun that is not a place name")
		case f.proper:
			// a proper noun of some dictionary: a name or a place
			v.add(0, "\""+surface+"\" is a proper noun (name or place)")
		case f.commonAny && w.sentStart && last == first:
			v.add(-1, "\""+surface+"\" is a common word in another language")
		case f.commonAny:
			v.add(0, "\""+surface+"\" is a common word in another language")
		case lang == lexicon.Finnish && hasAnySuffix(w.lower, finnishPlaceCases) != "":
			v.add(-1, "\""+surface+"\" is unknown but in a local case, as places are")
			v.placeLike = true
		default:
			v.add(1, "\""+surface+"\" is in no lexicon")
			unknownWords++
		}
	}
	v.unknown = unknownWords > 0 && names == 0 && unknownWords == content
	if content == 0 {
		v.nameRead = false // a lone particle ("Mac")
	}
	if content >= 2 && others == 0 {
		v.add(2, "several capitalised names in a row")
	}
	if names > 0 && content == 1 && v.score < 2 {
		v.add(0, "")
	}
	if prev != "" && placeCues[prev] && (names == 0 || content == 1 && v.reason != "near registered name" && !givenNoPlace) {
		v.add(-3, "after \""+prev+"\"")
		v.nameRead = false
		v.placeLike = true
	} else if prev != "" && placeCues[prev] && firstProperNotGiven && !lastSurname && content >= 2 && v.reason != "near registered name" {
		// "at Kirkby Stephen": after a place preposition, a run that
		// opens with a proper noun other than a given name and does not
		// end in a surname is a place
		v.add(-5, "after \""+prev+"\", opening with a proper noun that is no given name")
		v.nameRead = false
	}
	if prev != "" && orgCues[prev] {
		v.add(-4, "after \""+prev+"\"")
		v.nameRead = false
	}
	if next != "" && (orgMarkers[next] || isOrgHead(next)) {
		v.add(-4, "before organisation word \""+next+"\"")
		v.nameRead = false
	}
	if last+1 < len(words) && onlySpaceBetween(sc.text, words[last].end, words[last+1].start) && sc.personAt[words[last+1].start] ||
		first > 0 && onlySpaceBetween(sc.text, words[first-1].end, words[first].start) && sc.personAt[-words[first-1].end] {
		v.add(2, "next to a redacted name")
	}
	if prev != "" && personCues[prev] && names+content > 0 {
		v.add(1, "after \""+prev+"\", which is followed by people")
	}
	if last+1 < len(sc.text) && words[last].end < len(sc.text) {
		if j := skipSpaces(sc.text, words[last].end); j < len(sc.text) && j > words[last].end && isDigit(sc.text[j]) && names > 0 && content == 1 {
			v.add(-3, "followed by a number, as a date is (\"May 2024\")")
			v.nameRead = false
		}
	}
	if others == 0 && ageAfter(sc.text, words[last].end) {
		v.add(3, "followed by an age, as a person is (\"Mary, 79,\")")
	}
	if next != "" && speechVerbs[next] {
		v.add(2, "before \""+next+"\"")
	}
	if v.score >= 2 && v.reason == "unknown capitalised word" {
		v.reason = "name evidence"
	}
	if prev != "" && isTitle(prev) {
		v.reason = "follows a title"
	}
	ev := v.evidence[:0]
	for _, e := range v.evidence {
		if e != "" {
			ev = append(ev, e)
		}
	}
	v.evidence = ev
	return v
}

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

// ageAfter reports whether an age in apposition follows position i: ", 79,"
// or " (79)".
func ageAfter(t string, i int) bool {
	paren := false
	switch {
	case strings.HasPrefix(t[i:], ", "):
		i += 2
	case strings.HasPrefix(t[i:], " ("):
		i += 2
		paren = true
	default:
		return false
	}
	d := i
	for d < len(t) && d-i < 4 && isDigit(t[d]) {
		d++
	}
	if d == i || d-i > 3 || d >= len(t) {
		return false
	}
	n := atoiSmall(t[i:d])
	if n < 1 || n > 110 {
		return false
	}
	return t[d] == ')' || !paren && t[d] == ','
}

// anyNameNext reports whether w is a known given name, surname or patronymic.
func anyNameNext(lx *lexicons, lang lexicon.Lang, w string) bool {
	nf := wordFacts(lx, lang, w)
	return nf.given || nf.surname || hasAnySuffix(w, patronymics) != ""
}

// prevNameish reports whether a word can be a first name before a surname:
// a known given name, or a proper noun that is no place and no common word.
func prevNameish(lx *lexicons, lang lexicon.Lang, w string) bool {
	f := wordFacts(lx, lang, w)
	return f.given || f.proper && !f.place && !f.common && !isPlace(w)
}
