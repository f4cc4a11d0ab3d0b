// SPDX-License-Identifier: EUPL-1.2

package anon

import "strings"

// Organisation identifiers are public registry numbers, not personal data:
// the gate keeps them, and they are not read as phone numbers. Each is
// recognised by its shape and check digit; those whose shape is shared
// with other numbers also need a context word before them.

// orgContext are words before an organisation identifier.
var orgContext = []string{"y-tunnus", "ytunnus", "business id", "fo-nummer", "org.nr", "org. nr", "orgnr", "org nr",
	"organisationsnummer", "organisasjonsnummer", "org.nummer", "foretaksnummer", "cvr", "cvr-nr", "cvr.nr",
	"cvr-nummer", "se-nr", "kennitala", "kt.", "cro", "company number", "company no", "company reg", "registered number",
	"registration number", "uimhir chláraithe", "vat", "alv"}

// orgIDAt recognises an organisation identifier starting at digit i and
// returns its end and the scheme, or -1.
func (sc *scan) orgIDAt(i int) (int, string) {
	t := sc.text
	d1 := digitRun(t, i)
	n1 := d1 - i
	ctx := func() bool { return precededBy(sc.lower, i, 28, orgContext) }
	switch {
	case n1 == 7 && d1+2 <= len(t) && t[d1] == '-' && isDigit(t[d1+1]) && boundaryAfter(t, d1+2):
		if validYTunnus(t[i:d1] + t[d1+1:d1+2]) {
			return d1 + 2, "fi-y-tunnus"
		}
	case n1 == 6 && d1 < len(t) && t[d1] == '-':
		d2 := digitRun(t, d1+1)
		if d2-d1-1 == 4 && boundaryAfter(t, d2) {
			d := t[i:d1] + t[d1+1:d2]
			if validSEOrgnr(d) {
				return d2, "se-organisationsnummer"
			}
			if validISKennitala(d) && num2(d[0:2]) > 40 {
				return d2, "is-company-kennitala"
			}
		}
	case n1 == 10 && boundaryAfter(t, d1):
		d := t[i:d1]
		if validISKennitala(d) && num2(d[0:2]) > 40 {
			return d1, "is-company-kennitala"
		}
		if validSEOrgnr(d) && ctx() {
			return d1, "se-organisationsnummer"
		}
	case n1 == 9 && boundaryAfter(t, d1):
		if validNOOrgnr(t[i:d1]) {
			return d1, "no-organisasjonsnummer"
		}
	case n1 == 3:
		// Norwegian "974 760 673"
		gs := sc.groupsAt(i, " ", 9)
		if len(gs) == 3 && groupDigits(gs) == 9 && boundaryAfter(t, gs[2].hi) {
			d := digitsOnly(t[i:gs[2].hi])
			if validNOOrgnr(d) && ctx() {
				return gs[2].hi, "no-organisasjonsnummer"
			}
		}
	case n1 == 8 && boundaryAfter(t, d1):
		if validDKCVR(t[i:d1]) && ctx() {
			return d1, "dk-cvr"
		}
		if precededBy(sc.lower, i, 24, []string{"company number", "company no", "registered number", "company registration number", "companies house"}) {
			return d1, "uk-company-number"
		}
	case n1 == 2:
		// Danish CVR written in pairs: "29 18 98 03"
		gs := sc.groupsAt(i, " ", 8)
		if len(gs) == 4 && groupDigits(gs) == 8 && boundaryAfter(t, gs[3].hi) {
			if d := digitsOnly(t[i:gs[3].hi]); validDKCVR(d) && ctx() {
				return gs[3].hi, "dk-cvr"
			}
		}
	case (n1 == 5 || n1 == 6) && boundaryAfter(t, d1):
		if precededBy(sc.lower, i, 24, []string{"cro", "company number", "company no", "company reg", "registered number", "uimhir chláraithe"}) {
			return d1, "ie-cro"
		}
	}
	return -1, ""
}

// validYTunnus checks a Finnish business ID: weights 7,9,10,5,8,4,2 mod 11.
func validYTunnus(d string) bool {
	if len(d) != 8 || !allDigits(d) {
		return false
	}
	w := []int{7, 9, 10, 5, 8, 4, 2}
	s := 0
	for i, wi := range w {
		s += wi * int(d[i]-'0')
	}
	r := s % 11
	if r == 1 {
		return false
	}
	c := 0
	if r > 1 {
		c = 11 - r
	}
	return int(d[7]-'0') == c
}

// validSEOrgnr checks a Swedish organisationsnummer: Luhn, and a third digit
// of 2 or more (a personnummer has a month there).
func validSEOrgnr(d string) bool {
	if len(d) != 10 || !allDigits(d) || d[2] < '2' {
		return false
	}
	return luhn(d)
}

// validNOOrgnr checks a Norwegian organisasjonsnummer: first digit 8 or 9,
// weights 3,2,7,6,5,4,3,2 mod 11.
func validNOOrgnr(d string) bool {
	if len(d) != 9 || !allDigits(d) || (d[0] != '8' && d[0] != '9') {
		return false
	}
	c, ok := mod11Digit(d, []int{3, 2, 7, 6, 5, 4, 3, 2})
	return ok && int(d[8]-'0') == c
}

// mod11Digit is the check digit of the weighted modulus-11 scheme that
// Norwegian and Icelandic numbers share: 11 minus the weighted digit sum
// of d's first len(w) digits mod 11, 11 counting as 0. ok is false for 10,
// which no valid number has.
func mod11Digit(d string, w []int) (c int, ok bool) {
	s := 0
	for i, wi := range w {
		s += wi * int(d[i]-'0')
	}
	c = 11 - s%11
	if c == 11 {
		c = 0
	}
	return c, c != 10
}

// validDKCVR checks a Danish CVR number: weights 2,7,6,5,4,3,2,1 mod 11.
func validDKCVR(d string) bool {
	if len(d) != 8 || !allDigits(d) || d[0] == '0' {
		return false
	}
	w := []int{2, 7, 6, 5, 4, 3, 2, 1}
	s := 0
	for i, wi := range w {
		s += wi * int(d[i]-'0')
	}
	return s%11 == 0
}

// referenceContext are words before a case, file or invoice number. A
// number after them that fails every personal-number check is kept.
var referenceContext = []string{"diarienummer", "diarienr", "dnr", "dnr.", "asianumero", "asiano", "dno",
	"diaarinumero", "diaarinro", "saksnummer", "saksnr", "saksnr.", "sagsnummer", "sagsnr", "sagsnr.",
	"journalnummer", "j.nr", "j.nr.", "málsnúmer", "mál nr", "málsnr", "case reference", "case ref", "case number",
	"case no", "our ref", "your ref", "reference number", "ref. no", "ref no", "invoice", "invoice no", "faktura",
	"fakturanummer", "fakturanr", "lasku", "laskun numero", "reikningur", "reikningsnúmer", "uimhir thagartha",
	"tagairt", "ärende", "ärendenummer", "file reference", "file no", "planning reference", "planning ref"}

func allDigitsOrSep(s string) bool {
	return strings.Trim(s, "0123456789-/. ") == ""
}
