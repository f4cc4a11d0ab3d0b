// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// streetSuffixes end compound street names in the Nordic languages:
// Koulukatu, Storgatan, Kirkeveien, Vestergade, Borgarbraut.
var streetSuffixes = []string{
	// Finnish
	"katu", "tie", "kuja", "polku", "väylä", "raitti", "kaari", "rinne", "ranta", "aukio", "tori", "puistikko", "katu",
	// Swedish
	"gatan", "vägen", "gränd", "gränden", "stigen", "torget", "backen", "leden", "allén", "gata", "väg",
	// Norwegian
	"gata", "gate", "gaten", "veien", "vegen", "vei", "veg", "stien", "plassen", "bakken", "allé",
	// Danish
	"gade", "vej", "vænget", "stræde", "torv", "plads", "sti",
	// Icelandic
	"vegur", "stræti", "stígur", "braut", "gata", "tún", "hlíð", "gerði", "vellir", "torg", "teigur", "holt", "sund",
	// Icelandic dative and accusative ("býr á Brekkugötu 5", "á Laugavegi 24")
	"götu", "vegi", "veg", "stíg", "braut", "túni", "hlíð", "gerði", "völlum", "teig", "holti", "sundi", "stræti",
}

// streetWords are street types written as a separate word after a name:
// "Kongens gate 5", "Dronning Eufemias gate 16".
var streetWords = map[string]bool{
	"gate": true, "gata": true, "gatan": true, "vei": true, "veg": true, "vej": true, "gade": true,
	"väg": true, "vägen": true, "allé": true, "plass": true, "torg": true, "stræti": true, "vegur": true,
}

// englishStreetTypes end English and Irish street names: "12 Main Street".
var englishStreetTypes = map[string]bool{
	"street": true, "st": true, "road": true, "rd": true, "avenue": true, "ave": true, "lane": true,
	"ln": true, "drive": true, "dr": true, "close": true, "court": true, "ct": true, "crescent": true,
	"cres": true, "place": true, "pl": true, "terrace": true, "tce": true, "way": true, "gardens": true,
	"square": true, "sq": true, "park": true, "row": true, "grove": true, "hill": true, "walk": true,
	"mews": true, "quay": true, "green": true, "view": true, "rise": true, "wynd": true, "parade": true,
	"boulevard": true, "heights": true, "meadows": true, "lawn": true, "lawns": true, "manor": true,
	"grange": true, "vale": true, "wood": true, "woods": true, "downs": true, "end": true,
	// rows of houses named like streets: "2 Brook Cottages"
	"cottages": true, "villas": true, "buildings": true,
}

// numberedThings precede a number that is not a house number.
var numberedThings = []string{"section", "article", "chapter", "stage", "phase", "step", "table", "figure", "annex",
	"appendix", "part", "route", "level", "room", "unit", "page", "item", "point", "year", "week", "day", "grade"}

func isEnglishWord(w string) bool { return loadVocab().words[w]&langEN != 0 }

// flatWords introduce a flat or unit number: "Apt 4B", "Flat 3", "lgh 1102".
var flatWords = []string{"apt.", "apt", "apartment", "flat", "as.", "as", "lgh.", "lgh", "lägenhet", "bostad", "lejl.", "lejl", "leil.", "leil", "íbúð", "h."}

// danishFloorSides follow a Danish floor number: "2. tv.", "st. th.".
var danishFloorSides = []string{"tv.", "th.", "mf.", "tv", "th", "mf"}

func (sc *scan) findAddresses() {
	words := sc.words
	for wi, w := range words {
		start := -1
		switch {
		case w.capital && hasAnySuffix(w.lower, streetSuffixes) != "" && utf8.RuneCountInString(w.lower) >= 5 &&
			!isEnglishWord(w.lower): // "Investigate 3 options" is not a street
			start = w.start
		case streetWords[w.lower] && wi > 0 && words[wi-1].capital && onlySpaceBetween(sc.text, words[wi-1].end, w.start) &&
			!isEnglishWord(words[wi-1].lower):
			start = words[wi-1].start
			if wi > 1 && words[wi-2].capital && onlySpaceBetween(sc.text, words[wi-2].end, words[wi-1].start) && !words[wi-2].sentStart {
				start = words[wi-2].start
			}
		}
		if start < 0 {
			continue
		}
		e := sc.houseNumber(w.end)
		if e < 0 {
			continue
		}
		e = sc.flatSuffix(e)
		sc.add(TypeAddress, start, e, sc.g.words.address, "street-address")
	}
	sc.findEnglishAddresses()
	sc.findFlats()
}

// houseNumber reads " 12", " 12a", " 12-14" after a street name ending at i
// and returns the end, or -1.
func (sc *scan) houseNumber(i int) int {
	t := sc.text
	k := skipSpaces(sc.text, i)
	if k == i || k >= len(t) || !isDigit(t[k]) {
		return -1
	}
	d := digitRun(t, k)
	if d-k > 3 {
		return -1
	}
	e := d
	if e < len(t) && isASCIILetter(t[e]) && boundaryAfter(t, e+1) {
		e++
	} else if e+1 < len(t) && (t[e] == '-') && isDigit(t[e+1]) {
		d2 := digitRun(t, e+1)
		if d2-e-1 <= 3 {
			e = d2
		}
	}
	if !boundaryAfter(t, e) {
		return -1
	}
	return e
}

// flatSuffix extends an address past a staircase, flat or floor suffix:
// "5 B 12", "5 as. 3", "12 lgh 1102", "12, 2. tv.".
func (sc *scan) flatSuffix(e int) int {
	t, l := sc.text, sc.lower
	k := skipSpaces(t, e)
	if k >= len(t) {
		return e
	}
	// staircase letter, optionally followed by a flat number: "B 12"
	if r, size := utf8.DecodeRuneInString(t[k:]); k > e && unicode.IsUpper(r) && boundaryAfter(t, k+size) {
		e2 := k + size
		k2 := skipSpaces(t, e2)
		if k2 > e2 && k2 < len(t) && isDigit(t[k2]) {
			if d := digitRun(t, k2); d-k2 <= 3 && boundaryAfter(t, d) {
				return d
			}
		}
		if k2 >= len(t) || t[k2] == ',' || t[k2] == '.' || t[k2] == ')' || t[k2] == ';' || !isAlnumRune(runeAt(t, k2)) || runeAt(t, k2) == '\n' {
			return e2
		}
	}
	for _, fw := range flatWords {
		if strings.HasPrefix(l[k:], fw) && !isAlnumRune(runeAt(l, k+len(fw))) {
			k2 := skipSpaces(t, k+len(fw))
			if k2 < len(t) && isDigit(t[k2]) {
				d := digitRun(t, k2)
				if d-k2 <= 4 {
					if d < len(t) && isASCIILetter(t[d]) && boundaryAfter(t, d+1) {
						d++
					}
					return d
				}
			}
		}
	}
	// Danish floor and side: ", 2. tv." or " st. th."
	k3 := k
	if t[k3] == ',' {
		k3 = skipSpaces(t, k3+1)
	}
	floorEnd := -1
	if k3 < len(t) && isDigit(t[k3]) {
		d := digitRun(t, k3)
		if d-k3 <= 2 && d < len(t) && t[d] == '.' {
			floorEnd = d + 1
		}
	} else if strings.HasPrefix(l[k3:], "st.") || strings.HasPrefix(l[k3:], "kl.") {
		floorEnd = k3 + 3
	}
	if floorEnd > 0 {
		k4 := skipSpaces(t, floorEnd)
		for _, side := range danishFloorSides {
			if strings.HasPrefix(l[k4:], side) && !isAlnumRune(runeAt(l, k4+len(side))) {
				return k4 + len(side)
			}
		}
	}
	return e
}

// findEnglishAddresses finds "12 Main Street", "15 Upper O'Connell St",
// with a preceding "Apt 4B, " or "Flat 3, " included.
func (sc *scan) findEnglishAddresses() {
	words := sc.words
	t := sc.text
	for wi := 0; wi < len(words); wi++ {
		w := words[wi]
		if !w.capital && !w.allCaps {
			continue
		}
		// the first word after a house number
		k := skipSpacesBack(t, w.start)
		if k == w.start || k == 0 || !isASCIIAlnum(t[k-1]) {
			continue
		}
		numEnd := k
		numStart := k
		if isASCIILetter(t[numStart-1]) {
			numStart--
		}
		ds := numStart
		for ds > 0 && isDigit(t[ds-1]) {
			ds--
		}
		if ds == numStart || numStart-ds > 4 || !numberStartOK(t, ds) || isYearGroup(t, digitGroup{start: ds, end: numStart}) {
			continue
		}
		if numStart < numEnd && !isDigit(t[numStart-1]) {
			continue
		}
		if precededBy(sc.lower, ds, 12, numberedThings) {
			continue // "Section 5 Road Safety"
		}
		// up to four capitalised words, the last a street type after a name
		last := -1
		for wj := wi; wj < len(words) && wj < wi+4; wj++ {
			if wj > wi && !onlySpaceBetween(t, words[wj-1].end, words[wj].start) {
				break
			}
			if !words[wj].capital && !words[wj].allCaps {
				break
			}
			if englishStreetTypes[words[wj].lower] && wj > wi {
				last = wj
			}
		}
		if last < 0 {
			continue
		}
		end := words[last].end
		if end < len(t) && t[end] == '.' && len(words[last].lower) <= 4 {
			end++
		}
		// the street of a named row or house: "2 Brook Cottages, Mill Lane"
		if end < len(t) && t[end] == ',' {
			wk := last + 1
			if wk < len(words) && skipSpaces(t, end+1) == words[wk].start {
				for wj := wk; wj < len(words) && wj < wk+3; wj++ {
					if wj > wk && !onlySpaceBetween(t, words[wj-1].end, words[wj].start) || !words[wj].capital {
						break
					}
					if englishStreetTypes[words[wj].lower] && wj > wk {
						last, end = wj, words[wj].end
						break
					}
				}
			}
		}
		start := ds
		// "Apt 4B, 12 Main Street"
		p := skipSpacesBack(t, start)
		if p > 0 && t[p-1] == ',' {
			p = skipSpacesBack(t, p-1)
		}
		if fs := sc.flatBefore(p); fs >= 0 {
			start = fs
		}
		sc.add(TypeAddress, start, end, sc.g.words.address, "street-address-en")
		wi = last
	}
}

// flatBefore returns the start of "Apt 4B" / "Flat 3" ending at p, or -1.
func (sc *scan) flatBefore(p int) int {
	t, l := sc.text, sc.lower
	q := p
	if q > 0 && isASCIILetter(t[q-1]) && q > 1 && isDigit(t[q-2]) {
		q--
	}
	d := q
	for d > 0 && isDigit(t[d-1]) {
		d--
	}
	if d == q {
		return -1
	}
	s := skipSpacesBack(t, d)
	for _, fw := range []string{"apt.", "apt", "apartment", "flat", "unit"} {
		if strings.HasSuffix(l[:s], fw) && boundaryBefore(l, s-len(fw)) {
			return s - len(fw)
		}
	}
	return -1
}

// findFlats finds a standalone "Apt 4B", "Apartment 12" or "Flat 3".
func (sc *scan) findFlats() {
	for _, w := range sc.words {
		if !w.capital {
			continue
		}
		switch w.lower {
		case "apt", "apartment", "flat":
		default:
			continue
		}
		e := w.end
		if e < len(sc.text) && sc.text[e] == '.' {
			e++
		}
		k := skipSpaces(sc.text, e)
		if k == e || k >= len(sc.text) || !isDigit(sc.text[k]) {
			continue
		}
		d := digitRun(sc.text, k)
		if d-k > 4 {
			continue
		}
		if d < len(sc.text) && isASCIILetter(sc.text[d]) && boundaryAfter(sc.text, d+1) {
			d++
		}
		if !boundaryAfter(sc.text, d) || unitAfter(sc.lower, d) {
			continue
		}
		sc.add(TypeAddress, w.start, d, sc.g.words.address, "flat-number")
	}
}

// postcodePrefixes may precede a Nordic postcode.
var postcodePrefixes = []string{"fin-", "fi-", "se-", "s-", "no-", "n-", "dk-", "is-"}

// dkDistricts follow a Danish town: "Aarhus C", "København Ø".
var dkDistricts = map[string]bool{"C": true, "K": true, "V": true, "Ø": true, "N": true, "S": true, "SV": true, "NV": true, "NØ": true, "SØ": true, "M": true}

func (sc *scan) findPostcodes() {
	t, l := sc.text, sc.lower
	// index words by start for the town lookup
	wordAt := make(map[int]int, len(sc.words))
	for i, w := range sc.words {
		wordAt[w.start] = i
	}
	addrEnds := make(map[int]bool)
	for _, f := range sc.found {
		if f.Type == TypeAddress {
			addrEnds[f.End] = true
		}
	}
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		d := digitRun(t, i)
		start := i
		prefixed := false
		for _, p := range postcodePrefixes {
			if i >= len(p) && l[i-len(p):i] == p && boundaryBefore(t, i-len(p)) {
				start, prefixed = i-len(p), true
				break
			}
		}
		if !prefixed && !numberStartOK(t, i) {
			i = d
			continue
		}
		n := d - i
		end := d
		if n == 3 && d+3 < len(t) && t[d] == ' ' && isDigit(t[d+1]) && digitRun(t, d+1) == d+3 {
			n, end = 5, d+3 // Swedish "852 30"
		}
		if n < 3 || n > 5 {
			i = d
			continue
		}
		k := skipSpaces(t, end)
		wi, ok := wordAt[k]
		if k == end || !ok || k-end > 2 {
			i = d
			continue
		}
		town := sc.words[wi]
		if !town.capital && !town.allCaps {
			i = d
			continue
		}
		accept := false
		switch {
		case n == 3 && end == d:
			accept = isTownIS(town.lower)
		case n == 4 && isYearGroup(t, digitGroup{start: i, end: d}):
			p := skipSpacesBack(t, start)
			accept = prefixed || (p > 0 && t[p-1] == ',' && addrEnds[skipSpacesBack(t, p-1)])
		default:
			accept = isPlace(town.lower) || !sc.g.isPublic(town.lower) && !isCountNoun(town.lower)
		}
		if !accept {
			i = d
			continue
		}
		e := town.end
		// Danish district letter
		if k2 := skipSpaces(t, e); k2 > e && k2 < len(t) {
			j := k2
			for j < len(t) && j-k2 < 4 && unicode.IsUpper(runeAt(t, j)) {
				_, size := utf8.DecodeRuneInString(t[j:])
				j += size
			}
			if j > k2 && dkDistricts[t[k2:j]] && boundaryAfter(t, j) {
				e = j
			}
		}
		sc.add(TypePostcode, start, e, "[postcode]", "postcode-nordic")
		i = e
	}
	sc.findUKPostcodes()
	sc.findEircodes()
}

// UK inward code letters exclude C I K M O V.
func ukInwardLetter(c byte) bool {
	return isASCIIUpper(c) && strings.IndexByte("CIKMOV", c) < 0
}

// findUKPostcodes finds UK postcodes such as "SW1A 1AA" or "M1 1AE".
func (sc *scan) findUKPostcodes() {
	t := sc.text
	for i := 0; i+5 <= len(t); i++ {
		if !isASCIIUpper(t[i]) || !boundaryBefore(t, i) {
			continue
		}
		j := i + 1
		if j < len(t) && isASCIIUpper(t[j]) {
			j++
		}
		if j >= len(t) || !isDigit(t[j]) {
			continue
		}
		j++
		if j < len(t) && (isDigit(t[j]) || isASCIIUpper(t[j])) {
			// optional second outward character, unless it begins the inward code
			if !(j+2 < len(t) && isDigit(t[j]) && ukInwardLetter(t[j+1]) && ukInwardLetter(t[j+2]) && boundaryAfter(t, j+3)) {
				j++
			}
		}
		k := j
		if k < len(t) && t[k] == ' ' {
			k++
		}
		if k+3 > len(t) || !isDigit(t[k]) || !ukInwardLetter(t[k+1]) || !ukInwardLetter(t[k+2]) || !boundaryAfter(t, k+3) {
			continue
		}
		sc.add(TypePostcode, i, k+3, "[postcode]", "postcode-uk")
		i = k + 2
	}
}

func eircodeChar(c byte) bool {
	return isDigit(c) || (isASCIIUpper(c) && strings.IndexByte("ACDEFHKNPRTVWXY", c) >= 0)
}

// findEircodes finds Irish Eircodes such as "A65 F4E2" or "D6W 1234".
func (sc *scan) findEircodes() {
	t := sc.text
	for i := 0; i+7 <= len(t); i++ {
		if !isASCIIUpper(t[i]) || !boundaryBefore(t, i) {
			continue
		}
		ok := (strings.IndexByte("ACDEFHKNPRTVWXY", t[i]) >= 0 && isDigit(t[i+1]) && isDigit(t[i+2])) || t[i:i+3] == "D6W"
		if !ok {
			continue
		}
		k := i + 3
		if k < len(t) && t[k] == ' ' {
			k++
		}
		if k+4 > len(t) {
			continue
		}
		letters, digits := 0, 0
		valid := true
		for j := k; j < k+4; j++ {
			c := t[j]
			if !eircodeChar(c) {
				valid = false
				break
			}
			if isDigit(c) {
				digits++
			} else {
				letters++
			}
		}
		if !valid || !boundaryAfter(t, k+4) {
			continue
		}
		if letters == 0 && !precededBy(sc.lower, i, 12, []string{"eircode"}) {
			continue
		}
		if digits == 0 && k == i+3 {
			continue
		}
		sc.add(TypePostcode, i, k+4, "[postcode]", "eircode")
		i = k + 3
	}
}
