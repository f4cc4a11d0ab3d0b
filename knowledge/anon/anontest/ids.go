// SPDX-License-Identifier: EUPL-1.2

// Package anontest generates valid personal identifiers for the tests of
// the anonymisation gate and of everything that must never leak them.
package anontest

import (
	"fmt"
	"math/rand"
	"strings"
)

// IDs generates valid identity, bank and card numbers of the countries
// the anonymisation gate knows, with their check digits computed here
// independently of the gate, so that tests can plant numbers the gate
// must recognise.
type IDs struct{ R *rand.Rand }

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (g IDs) Date(minYear, maxYear int) (d, m, y int) {
	y = minYear + g.R.Intn(maxYear-minYear+1)
	m = 1 + g.R.Intn(12)
	d = 1 + g.R.Intn(daysIn(m, y))
	return
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

const fiCheckChars = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// FIHetu is a Finnish henkilötunnus with its mod-31 check character.
func (g IDs) FIHetu() string {
	d, m, y := g.Date(1925, 2015)
	sign := "-"
	if y >= 2000 {
		sign = "A"
	}
	ind := 2 + g.R.Intn(898)
	base := fmt.Sprintf("%02d%02d%02d", d, m, y%100)
	return fmt.Sprintf("%s%s%03d%c", base, sign, ind, fiCheckChars[atoi(base+fmt.Sprintf("%03d", ind))%31])
}

// luhnDoubled is the digit sum of twice each digit.
var luhnDoubled = [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}

// LuhnDigit returns the Luhn check digit for a digit string. It is written
// apart from the detector's check, from the table of doubled digits, so
// that the generated numbers test that check rather than repeat it.
func LuhnDigit(partial string) byte {
	sum := 0
	for i := range len(partial) {
		n := int(partial[len(partial)-1-i] - '0')
		if i%2 == 0 { // next to the check digit, which is not doubled
			n = luhnDoubled[n]
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}

// SEPersonnummer is a Swedish personnummer (or samordningsnummer, day + 60)
// with its Luhn digit; long gives the twelve-digit form.
func (g IDs) SEPersonnummer(samordning, long bool) string {
	d, m, y := g.Date(1930, 2015)
	if samordning {
		d += 60
	}
	nine := fmt.Sprintf("%02d%02d%02d%03d", y%100, m, d, g.R.Intn(1000))
	ten := nine + string(LuhnDigit(nine))
	s := ten[:6] + "-" + ten[6:]
	if long {
		s = fmt.Sprint(y/100) + s
	}
	return s
}

// NOChecks returns the two mod-11 check digits of a Norwegian
// fødselsnummer, or false when the number cannot be completed.
func NOChecks(nine string) (int, int, bool) {
	n := func(i int) int { return int(nine[i] - '0') }
	w1 := []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	s := 0
	for i, w := range w1 {
		s += w * n(i)
	}
	k1 := (11 - s%11) % 11
	if k1 == 10 {
		return 0, 0, false
	}
	w2 := []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	s = 0
	for i := 0; i < 9; i++ {
		s += w2[i] * n(i)
	}
	s += w2[9] * k1
	k2 := (11 - s%11) % 11
	if k2 == 10 {
		return 0, 0, false
	}
	return k1, k2, true
}

// NOFodselsnummer is a Norwegian fødselsnummer (or D-number, day + 40).
func (g IDs) NOFodselsnummer(dnumber bool) string {
	for {
		d, m, y := g.Date(1940, 1999)
		if dnumber {
			d += 40
		}
		nine := fmt.Sprintf("%02d%02d%02d%03d", d, m, y%100, g.R.Intn(500))
		if k1, k2, ok := NOChecks(nine); ok {
			return fmt.Sprintf("%s%d%d", nine, k1, k2)
		}
	}
}

// ISCheck returns the mod-11 check digit of the first eight digits
// of an Icelandic kennitala, or -1 when there is none.
func ISCheck(eight string) int {
	w := []int{3, 2, 7, 6, 5, 4, 3, 2}
	s := 0
	for i, wi := range w {
		s += wi * int(eight[i]-'0')
	}
	c := (11 - s%11) % 11
	if c == 10 {
		return -1
	}
	return c
}

// ISKennitala is an Icelandic kennitala with its check and century digits.
func (g IDs) ISKennitala() string {
	for {
		d, m, y := g.Date(1930, 2015)
		eight := fmt.Sprintf("%02d%02d%02d%02d", d, m, y%100, 20+g.R.Intn(80))
		c := ISCheck(eight)
		if c < 0 {
			continue
		}
		cent := "9"
		if y >= 2000 {
			cent = "0"
		}
		return eight[:6] + "-" + eight[6:] + fmt.Sprint(c) + cent
	}
}

// DKCPR is a Danish CPR number (a valid date; the dash makes it certain).
func (g IDs) DKCPR() string {
	d, m, y := g.Date(1940, 1999)
	return fmt.Sprintf("%02d%02d%02d-%d%03d", d, m, y%100, g.R.Intn(4), g.R.Intn(1000))
}

const ppsnLetters = "WABCDEFGHIJKLMNOPQRSTUV"

// PPSNCheck returns the check letter of an Irish PPSN; second is the
// optional second letter (0 for none).
func PPSNCheck(seven string, second byte) byte {
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(seven[i]-'0') * (8 - i)
	}
	if second != 0 {
		sum += 9 * (int(second-'A') + 1)
	}
	return ppsnLetters[sum%23]
}

// IEPPSN is an Irish PPS number with its mod-23 check letter.
func (g IDs) IEPPSN(second bool) string {
	seven := fmt.Sprintf("%07d", g.R.Intn(10000000))
	if second {
		return seven + string(PPSNCheck(seven, 'A')) + "A"
	}
	return seven + string(PPSNCheck(seven, 0))
}

// UKNINO is a UK National Insurance number that keeps the prefix rules.
func (g IDs) UKNINO() string {
	first, second := "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
	for {
		p := string(first[g.R.Intn(len(first))]) + string(second[g.R.Intn(len(second))])
		switch p {
		case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
			continue
		}
		s := fmt.Sprintf("%s%06d%c", p, g.R.Intn(1000000), "ABCD"[g.R.Intn(4)])
		return s[:2] + " " + s[2:4] + " " + s[4:6] + " " + s[6:8] + " " + s[8:]
	}
}

var ibanLengths = map[string]int{"FI": 18, "SE": 24, "NO": 15, "DK": 18, "IS": 26, "IE": 22, "GB": 22, "DE": 22, "NL": 18, "EE": 20}

// IBANRemainder returns the ISO 7064 mod-97 remainder of an IBAN.
func IBANRemainder(s string) int {
	re := s[4:] + s[:4]
	rem := 0
	for i := 0; i < len(re); i++ {
		c := re[i]
		if c >= '0' && c <= '9' {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	return rem
}

// IBAN is a valid IBAN of the country, grouped in fours.
func (g IDs) IBAN(cc string, grouped bool) string {
	n, ok := ibanLengths[cc]
	if !ok {
		panic("anontest: no IBAN length for country " + cc)
	}
	var bban strings.Builder
	for i := 0; i < n-4; i++ {
		if (cc == "GB" || cc == "IE") && i < 4 {
			bban.WriteByte(byte('A' + g.R.Intn(26)))
			continue
		}
		bban.WriteByte(byte('0' + g.R.Intn(10)))
	}
	full := fmt.Sprintf("%s%02d%s", cc, 98-IBANRemainder(cc+"00"+bban.String()), bban.String())
	if !grouped {
		return full
	}
	return inFours(full)
}

// inFours writes s in groups of four characters separated by spaces, as
// IBANs and card numbers are printed.
func inFours(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Card is a payment card number with a Luhn digit, grouped in fours.
func (g IDs) Card(prefix string, length int) string {
	d := prefix
	for len(d) < length-1 {
		d += string(byte('0' + g.R.Intn(10)))
	}
	d += string(LuhnDigit(d))
	return inFours(d)
}

// CheckKnownNumbers verifies the check-digit helpers on published valid
// numbers, so that generated identifiers are valid ones.
func CheckKnownNumbers() error {
	if c := fiCheckChars[atoi("131052308")%31]; c != 'T' {
		return fmt.Errorf("henkilötunnus 131052-308T: check %c", c)
	}
	if c := LuhnDigit("811218987"); c != '6' {
		return fmt.Errorf("personnummer 811218-9876: check %c", c)
	}
	if k1, k2, ok := NOChecks("150575123"); !ok || k1 != 1 || k2 != 5 {
		return fmt.Errorf("fødselsnummer 15057512315: checks %d %d", k1, k2)
	}
	if c := ISCheck("12017433"); c != 9 {
		return fmt.Errorf("kennitala 120174-3399: check %d", c)
	}
	if c := PPSNCheck("1234567", 0); c != 'T' {
		return fmt.Errorf("PPSN 1234567T: check %c", c)
	}
	if r := IBANRemainder("GB82WEST12345698765432"); r != 1 {
		return fmt.Errorf("IBAN GB82 WEST 1234 5698 7654 32: remainder %d", r)
	}
	if c := LuhnDigit("411111111111111"); c != '1' {
		return fmt.Errorf("card 4111 1111 1111 1111: check %c", c)
	}
	return nil
}
