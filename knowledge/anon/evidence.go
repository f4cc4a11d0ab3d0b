// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// The verdict on a run of capitalised words: is it a person's name? The
// evidence comes from the lexicons (lexicons.go) and the words around it.

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
		if isOrgMarker(w.lower) || k > first && isOrgHead(w.lower) {
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
	if next != "" && (isOrgMarker(next) || isOrgHead(next)) {
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
