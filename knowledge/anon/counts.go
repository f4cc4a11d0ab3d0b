// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// countNouns are words for people that make a preceding small number a count
// of people: "3 residents", "2 osallistujaa", "3 deltagare", "4 deltakere".
var countNouns = map[string]bool{}

func init() {
	for _, w := range strings.Fields(enCountNounList) {
		countNouns[w] = true
		enCountNouns[w] = true
	}
	for _, w := range strings.Fields(`
osallistujaa osallistujat osallistuja asukasta asukkaat asukas henkilöä henkilöt henkilö ihmistä ihmiset
potilasta potilaat asiakasta asiakkaat vapaaehtoista vapaaehtoiset hoitajaa hoitajat lasta lapset nuorta
nuoret perhettä perheet vanhusta vanhukset ikäihmistä ikäihmiset käyttäjää käyttäjät työntekijää
työntekijät opiskelijaa opiskelijat oppilasta oppilaat kotitaloutta naista naiset miestä miehet tyttöä
poikaa vastaajaa vastaajat jäsentä jäsenet kyläläistä kuntalaista kuntalaiset eläkeläistä omaishoitajaa
deltagare invånare personer person patienter klienter brukare användare frivilliga volontärer barn
elever familjer hushåll äldre kvinnor män flickor pojkar ungdomar medlemmar anställda respondenter
boende pensionärer besökare kunder föräldrar ungdomar gymnasieelever
lukiolaista lukiolaiset veteraania veteraanit veteraanille seanóirí
deltakere innbyggere beboere pasienter brukere frivillige familier husstander eldre kvinner menn
jenter gutter ungdommer medlemmer ansatte pensjonister besøkende kunder foreldre personar deltakarar
deltagere borgere beboere patienter brugere frivillige børn familier husstande ældre kvinder mænd
piger drenge unge medlemmer ansatte pensionister besøgende kunder forældre
þátttakendur þátttakendum íbúar íbúa íbúum íbúi einstaklingum sjúklingum notendum börnum nemendum
fjölskyldum konum körlum manns ungmenni ungmenna einstaklingar einstaklinga sjúklingar notendur
sjálfboðaliðar börn nemendur fjölskyldur konur karlar eldri ungmenni starfsmenn félagar
rannpháirtithe daoine cónaitheoirí othair páistí mic léinn teaghlaigh
`) {
		countNouns[w] = true
	}
}

const enCountNounList = `
residents resident participants participant people persons person patients patient clients client
users user citizens citizen volunteers volunteer nurses nurse staff employees employee families family
households household children child kids pupils pupil students student carers carer caregivers caregiver
members member women woman men man girls girl boys boy seniors senior elderly pensioners pensioner
respondents respondent interviewees interviewee attendees attendee inhabitants inhabitant villagers
villager individuals individual migrants migrant refugees refugee youths youth adults adult parents
parent mothers mother fathers father customers customer visitors visitor applicants applicant
beneficiaries beneficiary tenants tenant workers worker doctors doctor teachers teacher farmers farmer
elders elder service-users teenagers teenager
`

// enCountNouns are the English entries of countNouns.
var enCountNouns = map[string]bool{}

func isCountNoun(w string) bool { return countNouns[w] }

// numberWords maps number words in the federation's languages to values.
// Articles that double as "one" (en, ett, ein, et, yksi as "a") are left out.
var numberWords = map[string]int{
	"zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "nolla": 0, "kaksi": 2, "kolme": 3, "neljä": 4, "viisi": 5,
	"kuusi": 6, "seitsemän": 7, "kahdeksan": 8, "yhdeksän": 9, "kymmenen": 10, "noll": 0, "två": 2, "tre": 3,
	"fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9, "tio": 10, "null": 0, "to": 2, "fire": 4,
	"seks": 6, "syv": 7, "åtte": 8, "otte": 8, "ni": 9, "ti": 10, "tveir": 2, "tvær": 2, "tvö": 2,
	"þrír": 3, "þrjár": 3, "þrjú": 3, "fjórir": 4, "fjórar": 4, "fjögur": 4, "fimm": 5, "dhá": 2, "trí": 3,
	"ceithre": 4, "cúig": 5, "beirt": 2, "triúr": 3, "ceathrar": 4, "cúigear": 5,
	// case forms: Finnish genitive, allative, adessive, partitive; Icelandic dative and genitive
	"kahden": 2, "kahdelle": 2, "kahdella": 2, "kahta": 2, "kolmen": 3, "kolmelle": 3, "kolmella": 3, "kolmea": 3,
	"neljän": 4, "neljälle": 4, "neljällä": 4, "neljää": 4, "viiden": 5, "viidelle": 5, "tveimur": 2, "tveggja": 2,
	"þremur": 3, "þriggja": 3, "fjórum": 4, "fjögurra": 4,
}

// personalNumerals count people by themselves: Irish "beirt" (two people),
// "triúr", "ceathrar".
var personalNumerals = map[string]bool{"beirt": true, "triúr": true, "ceathrar": true}

// ambiguousNumberWords are also ordinary words; they count only right before
// a people noun.
var ambiguousNumberWords = map[string]bool{"to": true, "ni": true, "ti": true, "sex": true, "fire": true, "null": true, "tre": true}

// eachSmallNumber calls fn with the start and end of each run of at most
// maxDigits digits in t that starts a number.
func eachSmallNumber(t string, maxDigits int, fn func(i, d int)) {
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		d := digitRun(t, i)
		if numberStartOK(t, i) && d-i <= maxDigits {
			fn(i, d)
		}
		i = d
	}
}

// findCounts replaces a small number of people ("3 residents", "two
// volunteers", "2 osallistujaa") with "fewer than K".
func (sc *scan) findCounts() {
	t := sc.text
	k := sc.g.k
	// digits
	eachSmallNumber(t, 4, func(i, d int) {
		// part of a larger grouped number ("1 203 participants")?
		if i >= 2 && (t[i-1] == ' ' || t[i-1] == '.' || t[i-1] == ',') && isDigit(t[i-2]) {
			return
		}
		if d < len(t) && (t[d] == '.' || t[d] == ',' || t[d] == '%') && d+1 < len(t) && isDigit(t[d+1]) {
			return
		}
		n := atoiSmall(t[i:d])
		if n >= 0 && n < k && sc.peopleFollow(d) {
			sc.add(TypeCount, i, d, sc.g.fewerThan(), "small-count")
		}
	})
	// number words
	for wi, w := range sc.words {
		n, ok := numberWords[w.lower]
		if !ok || n >= k {
			continue
		}
		nordic := sc.lang == lexicon.Swedish || sc.lang == lexicon.Norwegian || sc.lang == lexicon.Bokmal ||
			sc.lang == lexicon.Nynorsk || sc.lang == lexicon.Danish
		if ambiguousNumberWords[w.lower] && !nordic {
			// Scandinavian "to", "tre", "fire" only before a Nordic people noun
			if wi+1 >= len(sc.words) || !countNouns[sc.words[wi+1].lower] || enCountNouns[sc.words[wi+1].lower] ||
				!onlySpaceBetween(t, w.end, sc.words[wi+1].start) {
				continue
			}
		}
		if !personalNumerals[w.lower] && !sc.peopleFollow(w.end) {
			continue
		}
		repl := sc.g.fewerThan()
		if r, _ := utf8.DecodeRuneInString(t[w.start:]); unicode.IsUpper(r) {
			repl = "F" + repl[1:]
		}
		sc.add(TypeCount, w.start, w.end, repl, "small-count")
	}
}

// countModifiers may stand between a number and a people noun: "3 older
// residents", "kolme yli 90-vuotiasta asukasta", "two Syrian families".
var countModifiers = map[string]bool{
	"of": true, "the": true, "out": true, "av": true, "af": true, "among": true, "heistä": true, "joista": true,
	"þeirra": true, "yli": true, "alle": true, "over": true, "under": true, "över": true, "yfir": true, "undir": true,
	"more": true, "new": true, "young": true, "older": true, "elderly": true, "local": true, "other": true,
	"äldre": true, "eldre": true, "ældre": true, "eldri": true, "nya": true, "nye": true, "unga": true, "unge": true,
	"uusia": true, "nuorta": true, "iäkästä": true, "muuta": true, "andra": true, "andre": true, "aðrir": true,
}

// peopleFollow reports whether a people noun (in any inflected form)
// follows position e, allowing modifiers between: one lower-case word,
// capitalised adjectives inside the sentence ("Syrian"), age forms
// ("90-vuotiasta") and the modifier words above.
func (sc *scan) peopleFollow(e int) bool {
	t := sc.text
	pos := e
	free := 1
	for step := 0; step < 5; step++ {
		k := skipSpaces(t, pos)
		if k == pos {
			return false
		}
		j := k
		digits := false
		for j < len(t) {
			r, size := utf8.DecodeRuneInString(t[j:])
			if unicode.IsDigit(r) {
				digits = true
			} else if !unicode.IsLetter(r) && !isApostrophe(r) && !isHyphen(r) {
				break
			}
			j += size
		}
		if j == k {
			return false
		}
		w := sc.lower[k:j]
		if !digits && sc.isPeopleNoun(w) {
			return true
		}
		switch {
		case countModifiers[w]:
		case digits && strings.ContainsAny(w, "-") && unicode.IsLetter(runeBefore(w, len(w))):
			// an age form: "90-vuotiasta", "80-year-old"
		case digits:
			return false
		default:
			if r, _ := utf8.DecodeRuneInString(t[k:]); unicode.IsUpper(r) {
				// a capitalised adjective inside the sentence ("Syrian"),
				// not a month or another common word ("3 March")
				if lx, err := loadLexicons(); err == nil {
					if f := wordFacts(lx, sc.lang, w); !f.common && (sc.lang != "" || !f.commonAny) {
						break
					}
				}
				return false
			}
			if free == 0 {
				return false
			}
			free--
		}
		pos = j
	}
	return false
}

var (
	countLemmasOnce sync.Once
	countLemmas     map[string]bool
)

// isPeopleNoun reports whether w is a word for people, or an inflected
// form of one: the lexicon's lemma of w is compared with the lemmas of the
// people nouns ("íbúum" -> "íbúi", like "íbúar").
func (sc *scan) isPeopleNoun(w string) bool {
	if countNouns[w] {
		return true
	}
	lx, err := loadLexicons()
	if err != nil {
		return false
	}
	countLemmasOnce.Do(func() {
		m := map[string]bool{}
		for n := range countNouns {
			for l, x := range lx.byLang {
				if l == lexicon.English {
					continue // English people nouns are listed in both numbers; its affixes derive too freely
				}
				for _, a := range x.Analyze(n) {
					if a.Class == lexicon.Common && utf8.RuneCountInString(a.Lemma) >= 3 {
						m[a.Lemma] = true
					}
				}
			}
		}
		countLemmas = m
	})
	key := string(sc.lang) + "\x00" + w
	if v, ok := peopleNounCache.Load(key); ok {
		return v.(bool)
	}
	ok := sc.peopleNounLexicon(lx, w)
	if factCount.Add(1) <= factCacheMax {
		peopleNounCache.Store(key, ok)
	}
	return ok
}

var peopleNounCache sync.Map

func (sc *scan) peopleNounLexicon(lx *lexicons, w string) bool {
	langs := []lexicon.Lang{sc.lang}
	if sc.lang == "" {
		langs = lexicon.Languages()
	}
	for _, l := range langs {
		x := lx.byLang[l]
		if x == nil || l == lexicon.English {
			continue
		}
		for _, a := range x.Analyze(w) {
			if a.Class == lexicon.Common && countLemmas[a.Lemma] {
				return true
			}
		}
	}
	return false
}

// agesBefore precede an exact age: "aged 91", "age 91", "ikä 91".
var agesBefore = []string{"aged", "age", "age:", "ålder", "alder", "ikä", "iältään", "aldur",
	// "who" refers to a person: "Mr X, who is 86"
	"who is", "who was", "who turned", "who turns"}

// notExactAge after a number makes it a threshold or range, not an age:
// "aged 65 and over", "aged 18-25".
var notExactAge = []string{"+", "-", "–", " -", " –", " to ", " and over", " or over", " and older",
	" or older", " and above", " and under", " or more", " ja yli", " ja vanhemmat", " och äldre", " og eldre",
	" og ældre", " og over", " ára og eldri", " years and over", " years and older", " years or older",
	" years or over", " år och äldre", " år og eldre", " år og ældre", " år eller äldre", " vuotta täyttäneet",
	" vuotta täyttänyt", " ára og eldri", " ára eða eldri", " bliain d'aois agus níos sine", "-vuotiaat ja vanhemmat",
	"-vuotiaat ja sitä vanhemmat", " and up", "s and over"}

// notExactAgeBefore before a number makes it a threshold: "over 75 years old".
var notExactAgeBefore = []string{"over", "under", "above", "below", "than", "yli", "alle", "över", "yfir", "undir", "mindst", "minst",
	"between", "from", "mellan", "mellom", "välillä", "milli", "frá", "least", "vähintään", "täyttäneet", "fyllda", "fylte", "fyldte"}

// agesAfter follow an exact age.
var agesAfter = []string{"-year-old", " year old", " years old", "-years-old", " year-old", " yrs", " y/o", "-vuotias",
	" vuotias", "-vuotiaa", " vuotta vanha", "-årig", "-åring", " år gammal", " år gammel", " år gamle",
	" år gamla", " ára", " år", "-year old", " years of age", " bliain d'aois"}

// findAges replaces exact ages with ten-year bands.
func (sc *scan) findAges() {
	t, l := sc.text, sc.lower
	eachSmallNumber(t, 3, func(i, d int) {
		n := atoiSmall(t[i:d])
		if n < 0 || n > 125 {
			return
		}
		if d < len(t) && isAlnumRune(runeAt(t, d)) {
			return
		}
		age := false
		b := skipSpacesBack(l, i)
		for _, a := range agesBefore {
			if strings.HasSuffix(l[:b], a) && boundaryBefore(l, b-len(a)) && (b < i || strings.HasSuffix(a, ":")) {
				age = true
				break
			}
		}
		if !age {
			for _, a := range agesAfter {
				if !strings.HasPrefix(l[d:], a) {
					continue
				}
				end := d + len(a)
				if a == "-årig" || a == "-åring" || a == "-vuotias" || a == "-vuotiaa" || a == " vuotias" {
					age = true // inflected forms follow
					break
				}
				if end < len(l) && isAlnumRune(runeAt(l, end)) {
					continue
				}
				if a == " år" && n < 40 {
					continue // "3 år" is more often a duration
				}
				age = true
				break
			}
		}
		if age {
			for _, x := range notExactAge {
				if strings.HasPrefix(l[d:], x) && !(x == "-" && strings.HasPrefix(l[d:], "-year")) &&
					!(x == "-" && (strings.HasPrefix(l[d:], "-vuotia") || strings.HasPrefix(l[d:], "-åri"))) {
					age = false
					break
				}
			}
			for _, x := range notExactAgeBefore {
				if strings.HasSuffix(l[:b], x) && boundaryBefore(l, b-len(x)) {
					age = false
					break
				}
			}
		}
		if age {
			sc.add(TypeAge, i, d, AgeBand(n), "exact-age")
		}
	})
}

// AgeBand returns the ten-year band an age falls in: 0-9, 10-19, ... 90-99.
// Ages of 100 and over are all "100+", since so few people reach them that a
// finer band would identify them. A negative age returns "unknown".
func AgeBand(age int) string {
	switch {
	case age < 0:
		return "unknown"
	case age >= 100:
		return "100+"
	}
	lo := age / 10 * 10
	return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+9)
}

// Suppressed is shown for a cell hidden by secondary suppression, and for a
// total that would reveal a suppressed cell.
const Suppressed = "suppressed"

// ScrubCounts applies small-number suppression to a table of counts by group
// (for example participants by age group).
//
// Primary suppression: every count below K (including zero and negative
// values) is shown as "fewer than K".
//
// Secondary suppression: if exactly one cell is suppressed, the smallest of
// the other cells (ties broken by group name) is suppressed too and shown as
// "suppressed", so the hidden cell cannot be worked out from a total that is
// published elsewhere (in the text, in an earlier version of the record or in
// another region's table).
//
// Total: shown only when no cell is suppressed. If any cell is suppressed the
// total is withheld ("suppressed"), because total minus the shown cells gives
// the sum of the hidden ones, and with one or two hidden cells that sum pins
// down or tightly bounds each of them. When the total itself is below K it is
// shown as "fewer than K", which says nothing the cells do not already say.
//
// A table with a single group is its own total and follows the same rules.
func (g *Gate) ScrubCounts(counts map[string]int) (shown map[string]string, total string) {
	shown = make(map[string]string, len(counts))
	if len(counts) == 0 {
		return shown, "0"
	}
	keys := make([]string, 0, len(counts))
	sum := 0
	for k, v := range counts {
		keys = append(keys, k)
		if v > 0 {
			sum += v
		}
	}
	sort.Strings(keys)
	suppressed := make(map[string]bool)
	for _, k := range keys {
		if counts[k] < g.k {
			suppressed[k] = true
			shown[k] = g.fewerThan()
		}
	}
	if len(suppressed) == 1 && len(keys) > 1 {
		next := ""
		for _, k := range keys {
			if suppressed[k] {
				continue
			}
			if next == "" || counts[k] < counts[next] {
				next = k
			}
		}
		suppressed[next] = true
		shown[next] = Suppressed
	}
	for _, k := range keys {
		if !suppressed[k] {
			shown[k] = strconv.Itoa(counts[k])
		}
	}
	switch {
	case len(suppressed) == 0:
		total = strconv.Itoa(sum)
	case sum < g.k:
		total = g.fewerThan()
	default:
		total = Suppressed
	}
	return shown, total
}

// findAgesAfterPersons bands a bare number right after a person's name:
// "Margaret Thompson, 88, said", "Dorothy Bell (81)".
func (sc *scan) findAgesAfterPersons() {
	ends := make([]int, 0, len(sc.cands)+8)
	for _, c := range sc.cands {
		ends = append(ends, c.End)
	}
	for _, f := range sc.found {
		if f.Type == TypePerson {
			ends = append(ends, f.End)
		}
	}
	t := sc.text
	for _, e := range ends {
		i := e
		if i < len(t) && (t[i] == ',' || t[i] == ' ') {
			i++
		}
		i = skipSpaces(t, i)
		if i < len(t) && t[i] == '(' {
			i++
		} else if i == e || t[e] != ',' {
			continue
		}
		if i >= len(t) || !isDigit(t[i]) {
			continue
		}
		d := digitRun(t, i)
		if d-i > 3 {
			continue
		}
		n := atoiSmall(t[i:d])
		if n < 0 || n > 120 {
			continue
		}
		if d < len(t) && (t[d] == ',' || t[d] == ')' || t[d] == '.' || t[d] == ' ' || t[d] == ';') {
			if d+1 < len(t) && t[d] == '.' && isDigit(t[d+1]) {
				continue
			}
			sc.add(TypeAge, i, d, AgeBand(n), "exact-age")
		}
	}
}
