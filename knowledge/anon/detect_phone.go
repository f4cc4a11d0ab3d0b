// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers: national and international forms, told from references,
// amounts and dates by their grouping and the words before them.

// notPhoneContext are words before a number that make it a reference rather
// than a phone number.
var notPhoneContext = []string{"invoice", "inv", "lasku", "faktura", "reference", "ref", "viite", "order", "tilaus",
	"case", "ärende", "diaari", "dnr", "dno", "isbn", "issn", "doi", "grant agreement", "project no", "hanke",
	"sak", "saksnr", "journal", "no.", "nr.", "nro", "id", "account", "konto", "tili", "population", "budget", "€", "eur"}

// phoneContext are words before a number that make it a phone number.
var phoneContext = []string{"tel", "tel.", "phone", "puh", "puh.", "puhelin", "gsm", "mob", "mobile", "matkapuhelin",
	"telefon", "tfn", "tlf", "mobil", "sími", "símanúmer", "fón", "guthán", "call", "soita", "ring", "sms",
	"whatsapp", "fax"}

var nationalRegions0 = []string{"FI", "SE", "IE", "GB"}

// phoneAt tries a phone number starting at i (a digit, '+' or '(') and returns
// its end, or -1.
func (sc *scan) phoneAt(i int) int {
	t := sc.text
	gs := sc.groupsAt(i, "-./(", 17)
	if len(gs) == 0 {
		return -1
	}
	plus := t[i] == '+'
	// A number starting with + or 0 (or an area code in brackets) has the
	// shape of a phone number. Others must stand alone: not the tail or the
	// head of a longer run of digit groups, as in an account or card number.
	strong := plus || t[i] == '0' || t[i] == '('
	if !strong && i >= 2 && isDigit(t[i-2]) && strings.IndexByte(" -./", t[i-1]) >= 0 {
		return -1
	}
	total := groupDigits(gs)
	if total < 7 {
		return -1
	}
	if currencyBefore(sc.lower, i) || precededBy(sc.lower, i, 20, notPhoneContext) && !precededBy(sc.lower, i, 20, phoneContext) ||
		precededBy(sc.lower, i, 32, referenceContext) && !precededBy(sc.lower, i, 20, phoneContext) {
		return -1
	}
	ctx := precededBy(sc.lower, i, 25, phoneContext)
	for e := len(gs) - 1; e >= 0; e-- {
		sub := gs[:e+1]
		n := groupDigits(sub)
		if n < 7 || (plus && n < 8) {
			break
		}
		if n > 15 {
			continue
		}
		end := sub[e].hi
		if !boundaryAfter(t, end) || (!strong && e < len(gs)-1) {
			continue
		}
		if e == len(gs)-1 && unitAfter(sc.lower, end) {
			continue
		}
		if hasDate(t, sub) {
			continue
		}
		allYears := true
		for _, g := range sub {
			if !isYearGroup(t, g) {
				allYears = false
				break
			}
		}
		if allYears {
			continue
		}
		if !plus && thousandsPattern(t, sub) {
			continue
		}
		if len(sub) > 6 || singleDigitGroups(t, sub) > 1 {
			continue // "0 4 0 7 6 5" is not how phone numbers are written
		}
		if sc.validPhone(t[i:end], plus, len(sub) > 1, ctx) {
			sc.add(TypePhone, i, end, sc.g.words.phone, "phonenumbers")
			return end
		}
	}
	return -1
}

func singleDigitGroups(t string, gs []digitGroup) int {
	n := 0
	for _, g := range gs {
		if g.end-g.start == 1 && g.hi == g.end {
			n++
		}
	}
	return n
}

// validPhone validates a candidate with libphonenumber metadata, remembering
// answers within one text.
func (sc *scan) validPhone(cand string, plus, grouped, ctx bool) bool {
	key := cand
	if ctx {
		key += "\x00ctx"
	}
	if grouped {
		key += "\x00g"
	}
	if v, ok := sc.phoneMemo[key]; ok {
		return v
	}
	if sc.phoneMemo == nil {
		sc.phoneMemo = make(map[string]bool)
	}
	v := sc.checkPhone(cand, plus, grouped, ctx)
	sc.phoneMemo[key] = v
	return v
}

func (sc *scan) checkPhone(cand string, plus, grouped, ctx bool) bool {
	d := digitsOnly(cand)
	if len(d) < 7 || len(d) > 15 {
		return false
	}
	switch {
	case plus || strings.HasPrefix(d, "00"):
		if !plus {
			cand = "+" + d[2:]
			d = d[2:]
		}
		num, err := phonenumbers.Parse(cand, "FI")
		if err != nil {
			return false
		}
		if phonenumbers.IsValidNumber(num) {
			return true
		}
		return phonenumbers.IsPossibleNumber(num) && len(d) >= 9
	case d[0] == '0':
		possible := false
		for _, region := range nationalRegions0 {
			num, err := phonenumbers.Parse(cand, region)
			if err != nil {
				continue
			}
			if phonenumbers.IsValidNumber(num) {
				return true
			}
			if phonenumbers.IsPossibleNumber(num) {
				possible = true
			}
		}
		return possible && (ctx || (grouped && len(d) >= 9 && len(d) <= 11))
	default:
		if !grouped && !ctx {
			return false
		}
		var regions []string
		switch len(d) {
		case 7:
			regions = []string{"IS"}
		case 8:
			regions = []string{"NO", "DK"}
		default:
			return false
		}
		for _, region := range regions {
			num, err := phonenumbers.Parse(cand, region)
			if err == nil && phonenumbers.IsValidNumber(num) {
				return true
			}
		}
	}
	return false
}
