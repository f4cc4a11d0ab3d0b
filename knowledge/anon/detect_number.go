// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"unicode/utf8"
)

// findIBANs finds IBANs written with or without spaces ("FI21 1234 5600 0007 85").
func (sc *scan) findIBANs() {
	t := sc.text
	for i := 0; i+4 < len(t); i++ {
		if !isASCIILetter(t[i]) || !isASCIILetter(t[i+1]) || !isDigit(t[i+2]) || !isDigit(t[i+3]) {
			continue
		}
		if !boundaryBefore(t, i) {
			continue
		}
		cc := strings.ToUpper(t[i : i+2])
		n, ok := ibanLengths[cc]
		if !ok {
			continue
		}
		buf := make([]byte, 0, n)
		j := i
		for j < len(t) && len(buf) < n {
			c := t[j]
			if isASCIIAlnum(c) {
				buf = append(buf, c)
				j++
				continue
			}
			if c == ' ' && len(buf) >= 4 && j+1 < len(t) && isASCIIAlnum(t[j+1]) {
				j++
				continue
			}
			break
		}
		if len(buf) != n || !boundaryAfter(t, j) || !validIBAN(string(buf)) {
			continue
		}
		sc.add(TypeIBAN, i, j, "[iban]", "iban-mod97")
		i = j
	}
}

// numberStartOK reports whether a number may start at i: not glued to a word
// ("INV-2021", "v1.2") nor continuing a decimal or dotted number.
func numberStartOK(t string, i int) bool {
	if i == 0 {
		return true
	}
	r := runeBefore(t, i)
	if isAlnumRune(r) {
		return false
	}
	switch r {
	case '-', '.', '/', ',', ':', '_', '#', '\u2013':
		p := runeBefore(t, i-1)
		if isAlnumRune(p) {
			return false
		}
		if r == '#' {
			return false
		}
	}
	return true
}

// findNumbers walks the numbers in the text and tries, in order, national
// identity numbers, payment cards and phone numbers at each one.
func (sc *scan) findNumbers() {
	t := sc.text
	for i := 0; i < len(t); {
		c := t[i]
		startsNumber := isDigit(c) || ((c == '+' || c == '(') && i+1 < len(t) && isDigit(t[i+1]))
		if !startsNumber {
			i++
			continue
		}
		if !numberStartOK(t, i) {
			if isDigit(c) {
				i = digitRun(t, i)
			} else {
				i++
			}
			continue
		}
		next := i + 1
		if isDigit(c) {
			next = digitRun(t, i)
			if e, _ := sc.orgIDAt(i); e > 0 {
				i = e // an organisation's registry number: public, kept
				continue
			}
			if e := sc.nationalIDAt(i); e > 0 {
				i = e
				continue
			}
			if e := sc.cardAt(i); e > 0 {
				i = e
				continue
			}
		}
		if e := sc.phoneAt(i); e > 0 {
			i = e
			continue
		}
		i = next
	}
}

// idContext are words that make a bare 6+4 digit number an identity number.
var idContext = []string{"cpr", "personnummer", "personnr", "person number", "personal number", "kennitala", "kt.", "henkilötunnus", "hetu", "fødselsnummer", "fødselsnr", "id number", "id-nummer"}

// nationalIDAt tries the Nordic identity number shapes starting at digit i
// and returns the end of a valid one, or -1.
func (sc *scan) nationalIDAt(i int) int {
	t := sc.text
	d1 := digitRun(t, i)
	n1 := d1 - i
	ctx := false
	ctxDone := false
	hasCtx := func() bool {
		if !ctxDone {
			ctx = precededBy(sc.lower, i, 24, idContext)
			ctxDone = true
		}
		return ctx
	}
	tenDigit := func(d string, dash bool, s, e int) bool {
		switch {
		case validISKennitala(d):
			sc.add(TypeNationalID, s, e, "[national-id]", "is-kennitala")
		case validSEPersonnummer(d):
			det := "se-personnummer"
			if isSESamordning(d) {
				det = "se-samordningsnummer"
			}
			sc.add(TypeNationalID, s, e, "[national-id]", det)
		case (dash || hasCtx()) && validDKCPR(d):
			sc.add(TypeNationalID, s, e, "[national-id]", "dk-cpr")
		default:
			return false
		}
		return true
	}
	switch n1 {
	case 6:
		if d1 >= len(t) {
			return -1
		}
		c := t[d1]
		// Finnish henkilötunnus: DDMMYY C NNN Q
		if d1+5 <= len(t) && strings.IndexByte("+-ABCDEFUVWXYabcdefuvwxy", c) >= 0 &&
			allDigits(t[d1+1:d1+4]) && isASCIIAlnum(t[d1+4]) && boundaryAfter(t, d1+5) &&
			validFIHetu(t[i:d1+5]) {
			sc.add(TypeNationalID, i, d1+5, "[national-id]", "fi-henkilotunnus")
			return d1 + 5
		}
		if c == '-' || c == '+' {
			d2 := digitRun(t, d1+1)
			switch d2 - d1 - 1 {
			case 4:
				if !boundaryAfter(t, d2) {
					return -1
				}
				d := t[i:d1] + t[d1+1:d2]
				if c == '+' {
					if validSEPersonnummer(d) {
						sc.add(TypeNationalID, i, d2, "[national-id]", "se-personnummer")
						return d2
					}
					return -1
				}
				if tenDigit(d, true, i, d2) {
					return d2
				}
			case 5:
				if boundaryAfter(t, d2) && validNOFodselsnummer(t[i:d1]+t[d1+1:d2]) {
					sc.add(TypeNationalID, i, d2, "[national-id]", "no-fodselsnummer")
					return d2
				}
			}
			return -1
		}
		if c == ' ' {
			d2 := digitRun(t, d1+1)
			switch d2 - d1 - 1 {
			case 5:
				if boundaryAfter(t, d2) && validNOFodselsnummer(t[i:d1]+t[d1+1:d2]) {
					sc.add(TypeNationalID, i, d2, "[national-id]", "no-fodselsnummer")
					return d2
				}
			case 4:
				if boundaryAfter(t, d2) && hasCtx() && tenDigit(t[i:d1]+t[d1+1:d2], false, i, d2) {
					return d2
				}
			}
		}
	case 8:
		// Swedish YYYYMMDD-NNNN
		cent := t[i : i+2]
		if (cent == "18" || cent == "19" || cent == "20") && d1 < len(t) && (t[d1] == '-' || t[d1] == '+') {
			d2 := digitRun(t, d1+1)
			if d2-d1-1 == 4 && boundaryAfter(t, d2) && validSEPersonnummer(t[i+2:d1]+t[d1+1:d2]) {
				sc.add(TypeNationalID, i, d2, "[national-id]", "se-personnummer")
				return d2
			}
		}
	case 10:
		if boundaryAfter(t, d1) && tenDigit(t[i:d1], false, i, d1) {
			return d1
		}
	case 11:
		if boundaryAfter(t, d1) && validNOFodselsnummer(t[i:d1]) {
			sc.add(TypeNationalID, i, d1, "[national-id]", "no-fodselsnummer")
			return d1
		}
	case 12:
		cent := t[i : i+2]
		if (cent == "18" || cent == "19" || cent == "20") && boundaryAfter(t, d1) && validSEPersonnummer(t[i+2:d1]) {
			sc.add(TypeNationalID, i, d1, "[national-id]", "se-personnummer")
			return d1
		}
	case 7:
		// Irish PPSN: 7 digits, check letter, optional second letter
		j := d1
		if j < len(t) && t[j] == ' ' {
			j++
		}
		k := j
		for k < len(t) && k-j < 3 && isASCIILetter(t[k]) {
			k++
		}
		if (k-j == 1 || k-j == 2) && boundaryAfter(t, k) && validIEPPSN(t[i:d1]+t[j:k]) {
			sc.add(TypeNationalID, i, k, "[national-id]", "ie-ppsn")
			return k
		}
	}
	return -1
}

// findUKNINOs finds UK National Insurance numbers such as "AB 12 34 56 C".
func (sc *scan) findUKNINOs() {
	t := sc.text
	for i := 0; i+8 < len(t); i++ {
		if !isASCIIUpper(t[i]) || !isASCIIUpper(t[i+1]) || !boundaryBefore(t, i) {
			continue
		}
		buf := make([]byte, 0, 9)
		buf = append(buf, t[i], t[i+1])
		j := i + 2
		for len(buf) < 8 && j < len(t) {
			if t[j] == ' ' && j+1 < len(t) && isDigit(t[j+1]) {
				j++
				continue
			}
			if !isDigit(t[j]) {
				break
			}
			buf = append(buf, t[j])
			j++
		}
		if len(buf) != 8 {
			continue
		}
		if j < len(t) && t[j] == ' ' && j+1 < len(t) && isASCIIUpper(t[j+1]) {
			j++
		}
		if j >= len(t) || !isASCIIUpper(t[j]) || !boundaryAfter(t, j+1) {
			continue
		}
		buf = append(buf, t[j])
		if validUKNINO(string(buf)) {
			sc.add(TypeNationalID, i, j+1, "[national-id]", "uk-nino")
			i = j
		}
	}
}

// digitGroup is one run of digits inside a number written with separators.
type digitGroup struct {
	start, end int // digits only
	hi         int // end including a closing parenthesis
	sep        byte
}

// groupsAt reads digit groups separated by single spaces, hyphens, dots or
// slashes, as phone and card numbers are written. seps limits the separators.
// The result reuses a buffer of the scan and is valid until the next call.
func (sc *scan) groupsAt(i int, seps string, maxDigits int) []digitGroup {
	t := sc.text
	gs := sc.groups[:0]
	defer func() { sc.groups = gs[:0] }()
	pos := i
	if pos < len(t) && t[pos] == '+' {
		pos++
	}
	digits := 0
	for pos < len(t) {
		paren := false
		if t[pos] == '(' && strings.IndexByte(seps, '(') >= 0 && pos+1 < len(t) && isDigit(t[pos+1]) {
			paren = true
			pos++
		}
		d := digitRun(t, pos)
		if d == pos {
			break
		}
		g := digitGroup{start: pos, end: d, hi: d}
		digits += d - pos
		if paren {
			if d < len(t) && t[d] == ')' {
				g.hi = d + 1
			} else {
				break
			}
		}
		gs = append(gs, g)
		pos = g.hi
		if digits >= maxDigits || pos >= len(t) {
			break
		}
		// separator
		r, size := utf8.DecodeRuneInString(t[pos:])
		sep := byte(0)
		switch {
		case r == ' ' || r == '\u00a0' || r == '\u202f':
			sep = ' '
		case r < utf8.RuneSelf && strings.IndexByte(seps, byte(r)) >= 0 && r != '(':
			sep = byte(r)
		}
		next := pos + size
		if sep == 0 && paren && isDigit(t[pos]) {
			// "(0)20 7946 0958"
			gs[len(gs)-1].sep = ' '
			continue
		}
		if sep == 0 {
			break
		}
		if sep == ' ' && next+1 < len(t) && t[next] == '-' && t[next+1] == ' ' && strings.IndexByte(seps, '-') >= 0 {
			next += 2 // "070 - 123"
		}
		if next < len(t) && (isDigit(t[next]) || (t[next] == '(' && strings.IndexByte(seps, '(') >= 0)) {
			gs[len(gs)-1].sep = sep
			pos = next
			continue
		}
		break
	}
	return gs
}

func groupDigits(gs []digitGroup) int {
	n := 0
	for _, g := range gs {
		n += g.end - g.start
	}
	return n
}

// thousandsPattern reports whether groups look like a grouped statistic
// ("1 234 567"): a first group of 1-3 digits not starting with 0 followed by
// groups of exactly three digits.
func thousandsPattern(t string, gs []digitGroup) bool {
	if len(gs) < 2 {
		return false
	}
	f := gs[0]
	if f.end-f.start > 3 || t[f.start] == '0' {
		return false
	}
	for _, g := range gs[1:] {
		if g.end-g.start != 3 {
			return false
		}
	}
	for _, g := range gs[:len(gs)-1] {
		if g.sep != ' ' && g.sep != '.' && g.sep != ',' {
			return false
		}
	}
	return true
}

func isYearGroup(t string, g digitGroup) bool {
	if g.end-g.start != 4 {
		return false
	}
	y := atoiSmall(t[g.start:g.end])
	return y >= 1900 && y <= 2099
}

// hasDate reports whether consecutive groups form a date: D.M.YYYY, D/M/YY,
// YYYY-MM-DD, or a time range like 10.00-12.00.
func hasDate(t string, gs []digitGroup) bool {
	for k := 0; k+2 < len(gs); k++ {
		a, b, c := gs[k], gs[k+1], gs[k+2]
		la, lb, lc := a.end-a.start, b.end-b.start, c.end-c.start
		if a.sep == b.sep && (a.sep == '.' || a.sep == '/' || a.sep == '-') {
			if la <= 2 && lb <= 2 && (lc == 2 || lc == 4) {
				return true
			}
			if la == 4 && lb <= 2 && lc <= 2 {
				return true
			}
		}
	}
	for k := 0; k+1 < len(gs); k++ {
		a, b := gs[k], gs[k+1]
		if a.sep == '.' && a.end-a.start <= 2 && b.end-b.start == 2 {
			// 10.30 is a time; 12.03 may be a date without a year
			return true
		}
		if (a.sep == '-' || a.sep == '/') && isYearGroup(t, a) && (isYearGroup(t, b) || b.end-b.start <= 2) {
			return true // 2019-2021, 2021-03, 2020/21
		}
	}
	return false
}

// unitWords after a number make it a quantity, not a phone number.
var unitWords = []string{"%", "€", "eur", "euro", "sek", "nok", "dkk", "isk", "gbp", "usd", "kr", "£", "$",
	"percent", "per cent", "prosent", "procent", "prosenttia", "km", "kg", "m2", "m²", "kwh", "mwh",
	"tonnes", "hours", "tuntia", "timmar", "timer", "ár", "ár.", "minutes", "min"}

// unitAfter reports whether a unit or currency follows position e.
func unitAfter(lower string, e int) bool {
	k := skipSpaces(lower, e)
	for _, u := range unitWords {
		if strings.HasPrefix(lower[k:], u) {
			end := k + len(u)
			if end >= len(lower) || !isAlnumRune(runeAt(lower, end)) || !isASCIILetter(u[0]) {
				return true
			}
		}
	}
	return false
}

// currencyBefore reports whether a currency sign or code precedes position s.
func currencyBefore(lower string, s int) bool {
	k := skipSpacesBack(lower, s)
	for _, u := range []string{"€", "£", "$", "eur", "sek", "nok", "dkk", "isk", "gbp", "usd", "kr."} {
		if strings.HasSuffix(lower[:k], u) {
			return true
		}
	}
	return false
}

// cardAt tries a payment card number (13-19 digits, Luhn, known issuer
// prefix) starting at digit i and returns its end, or -1.
func (sc *scan) cardAt(i int) int {
	t := sc.text
	if i >= 2 && isDigit(t[i-2]) && (t[i-1] == ' ' || t[i-1] == '-') {
		return -1 // inside a longer run of digit groups
	}
	gs := sc.groupsAt(i, "-", 19)
	if groupDigits(gs) < 13 || len(gs) > 6 {
		return -1
	}
	if thousandsPattern(t, gs) {
		return -1
	}
	for _, g := range gs[:len(gs)-1] {
		if g.end-g.start < 3 {
			return -1 // cards are written in groups of four (or 4-6-5)
		}
	}
	for e := len(gs) - 1; e >= 0; e-- {
		sub := gs[:e+1]
		n := groupDigits(sub)
		if n < 13 {
			break
		}
		if n > 19 {
			continue
		}
		end := sub[e].end
		if !boundaryAfter(t, end) {
			continue
		}
		var buf [24]byte
		b := buf[:0]
		for _, g := range sub {
			b = append(b, t[g.start:g.end]...)
		}
		d := string(b)
		if luhn(d) && cardPrefixOK(d) {
			sc.add(TypeCard, i, end, "[card]", "card-luhn")
			return end
		}
	}
	return -1
}
