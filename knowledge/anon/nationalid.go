// SPDX-License-Identifier: EUPL-1.2

package anon

import "strings"

// Validators for national identity numbers. Each takes the characters of the
// number without separators unless stated otherwise and reports whether the
// number is well formed: a valid date and, where the scheme has one, a
// matching check digit.

func daysIn(month, year int) int {
	switch month {
	case 1, 3, 5, 7, 8, 10, 12:
		return 31
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year < 0 { // unknown century: allow 29 February
			return 29
		}
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 0
}

// validDate reports whether day/month/year is a calendar date. year < 0 means
// the century is unknown and only the two-digit year is known (yy >= 0).
func validDate(day, month, year int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= daysIn(month, year)
}

func num2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// luhn reports whether the digit string passes the Luhn check.
func luhn(d string) bool {
	if len(d) < 2 || !allDigits(d) {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

const fiCheckChars = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// validFIHetu checks a Finnish henkilötunnus "DDMMYYCZZZQ" (11 characters,
// century sign included). Century signs: + (1800s); - Y X W V U (1900s);
// A B C D E F (2000s).
func validFIHetu(s string) bool {
	if len(s) != 11 {
		return false
	}
	s = strings.ToUpper(s)
	date, sign, ind, check := s[:6], s[6], s[7:10], s[10]
	if !allDigits(date) || !allDigits(ind) {
		return false
	}
	var century int
	switch {
	case sign == '+':
		century = 1800
	case sign == '-' || (sign >= 'U' && sign <= 'Y'):
		century = 1900
	case sign >= 'A' && sign <= 'F':
		century = 2000
	default:
		return false
	}
	if !validDate(num2(date[0:2]), num2(date[2:4]), century+num2(date[4:6])) {
		return false
	}
	if n := atoiSmall(ind); n < 2 {
		return false
	}
	n := atoiSmall(date + ind)
	return fiCheckChars[n%31] == check
}

// validSEPersonnummer checks the ten digits YYMMDDNNNC of a Swedish
// personnummer or samordningsnummer (day + 60).
func validSEPersonnummer(d string) bool {
	if len(d) != 10 || !allDigits(d) {
		return false
	}
	month, day := num2(d[2:4]), num2(d[4:6])
	if day > 60 {
		day -= 60
	}
	if !validDate(day, month, -1) {
		return false
	}
	return luhn(d)
}

// isSESamordning reports whether a valid Swedish number is a samordningsnummer.
func isSESamordning(d string) bool { return len(d) == 10 && num2(d[4:6]) > 60 }

// noCentury returns the birth century for a Norwegian individual number and
// two-digit year, or -1.
func noCentury(ind, yy int) int {
	switch {
	case ind <= 499:
		return 1900
	case ind <= 749 && yy >= 54:
		return 1800
	case ind >= 500 && yy <= 39:
		return 2000
	case ind >= 900 && yy >= 40:
		return 1900
	}
	return -1
}

// validNOFodselsnummer checks an 11-digit Norwegian fødselsnummer, D-number
// (day + 40), H-number (month + 40) or synthetic test number (month + 80).
func validNOFodselsnummer(d string) bool {
	if len(d) != 11 || !allDigits(d) {
		return false
	}
	day, month, yy := num2(d[0:2]), num2(d[2:4]), num2(d[4:6])
	if day > 40 {
		day -= 40
	}
	if month > 80 {
		month -= 80
	} else if month > 40 {
		month -= 40
	}
	ind := atoiSmall(d[6:9])
	c := noCentury(ind, yy)
	if c < 0 || !validDate(day, month, c+yy) {
		return false
	}
	k1, ok := mod11Digit(d, []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	if !ok || k1 != int(d[9]-'0') {
		return false
	}
	k2, ok := mod11Digit(d, []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	return ok && k2 == int(d[10]-'0')
}

// validISKennitala checks a ten-digit Icelandic kennitala DDMMYYRRCV: check
// digit C (weights 3 2 7 6 5 4 3 2, mod 11) and century digit V (8, 9 or 0).
// Legal entities add 40 to the day.
func validISKennitala(d string) bool {
	if len(d) != 10 || !allDigits(d) {
		return false
	}
	var century int
	switch d[9] {
	case '8':
		century = 1800
	case '9':
		century = 1900
	case '0':
		century = 2000
	default:
		return false
	}
	day, month, yy := num2(d[0:2]), num2(d[2:4]), num2(d[4:6])
	if day > 40 {
		day -= 40
	}
	if !validDate(day, month, century+yy) {
		return false
	}
	c, ok := mod11Digit(d, []int{3, 2, 7, 6, 5, 4, 3, 2})
	return ok && c == int(d[8]-'0')
}

// validDKCPR checks the date part of a ten-digit Danish CPR number DDMMYYSSSS,
// with the century taken from the seventh digit. The modulus-11 check is no
// longer guaranteed for numbers issued since 2007, so it is not applied.
func validDKCPR(d string) bool {
	if len(d) != 10 || !allDigits(d) {
		return false
	}
	day, month, yy := num2(d[0:2]), num2(d[2:4]), num2(d[4:6])
	var century int
	switch s7 := d[6]; {
	case s7 <= '3':
		century = 1900
	case s7 == '4' || s7 == '9':
		if yy <= 36 {
			century = 2000
		} else {
			century = 1900
		}
	default:
		if yy <= 57 {
			century = 2000
		} else {
			century = 1800
		}
	}
	return validDate(day, month, century+yy)
}

const ppsnLetters = "WABCDEFGHIJKLMNOPQRSTUV"

// validIEPPSN checks an Irish PPS number: seven digits, a check letter
// (weights 8..2, mod 23) and an optional second letter (A-I or W, weight 9).
func validIEPPSN(s string) bool {
	s = strings.ToUpper(s)
	if len(s) != 8 && len(s) != 9 {
		return false
	}
	if !allDigits(s[:7]) {
		return false
	}
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(s[i]-'0') * (8 - i)
	}
	if len(s) == 9 {
		c := s[8]
		switch {
		case c == 'W':
		case c >= 'A' && c <= 'I':
			sum += int(c-'A'+1) * 9
		default:
			return false
		}
	}
	return ppsnLetters[sum%23] == s[7]
}

// validUKNINO checks the shape of a UK National Insurance number without
// spaces: two prefix letters (D F I Q U V never used, O not second, and the
// prefixes BG GB KN NK NT TN ZZ not allocated), six digits and a suffix A-D.
// There is no check digit.
func validUKNINO(s string) bool {
	if len(s) != 9 {
		return false
	}
	s = strings.ToUpper(s)
	a, b := s[0], s[1]
	if !isASCIIUpper(a) || !isASCIIUpper(b) || strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIQUVO", b) >= 0 {
		return false
	}
	switch s[:2] {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	if !allDigits(s[2:8]) {
		return false
	}
	return s[8] >= 'A' && s[8] <= 'D'
}

// ibanLengths gives the IBAN length for each country code that has one.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AX": 18, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
	"DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18,
	"FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// validIBAN checks an IBAN without spaces: known country, its length, and the
// ISO 7064 mod-97 check.
func validIBAN(s string) bool {
	s = strings.ToUpper(s)
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if n, ok := ibanLengths[s[:2]]; !ok || n != len(s) {
		return false
	}
	if !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rearranged := s[4:] + s[:4]
	rem := 0
	for i := 0; i < len(rearranged); i++ {
		c := rearranged[i]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isASCIIUpper(c):
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// cardPrefixOK reports whether a card number starts with an issuer prefix in
// use by the major schemes.
func cardPrefixOK(d string) bool {
	p2 := num2(d[:2])
	p4 := atoiSmall(d[:4])
	switch {
	case d[0] == '4': // Visa
		return true
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return true
	case p2 == 34 || p2 == 37: // American Express
		return len(d) == 15
	case p2 == 36 || p2 == 38 || p2 == 30: // Diners
		return true
	case p2 == 35: // JCB
		return true
	case d[:4] == "6011" || p2 == 65 || (p4 >= 6440 && p4 <= 6499): // Discover
		return true
	case p2 == 62: // UnionPay
		return true
	case p2 == 50 || (p2 >= 56 && p2 <= 69): // Maestro and others
		return true
	}
	return false
}
