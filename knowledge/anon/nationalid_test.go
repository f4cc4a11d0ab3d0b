package anon

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// Generators of well-formed identity numbers, for tests only.

type idGen struct{ r *rand.Rand }

func (g idGen) date(minYear, maxYear int) (d, m, y int) {
	y = minYear + g.r.Intn(maxYear-minYear+1)
	m = 1 + g.r.Intn(12)
	d = 1 + g.r.Intn(daysIn(m, y))
	return
}

func (g idGen) fiHetu() string {
	d, m, y := g.date(1925, 2015)
	sign := "-"
	if y >= 2000 {
		sign = "A"
	}
	ind := 2 + g.r.Intn(898)
	base := fmt.Sprintf("%02d%02d%02d", d, m, y%100)
	n := atoiSmall(base + fmt.Sprintf("%03d", ind))
	return fmt.Sprintf("%s%s%03d%c", base, sign, ind, fiCheckChars[n%31])
}

func luhnDigit(partial string) byte {
	for c := byte('0'); c <= '9'; c++ {
		if luhn(partial + string(c)) {
			return c
		}
	}
	panic("unreachable")
}

func (g idGen) sePersonnummer(samordning bool) string {
	d, m, y := g.date(1930, 2015)
	if samordning {
		d += 60
	}
	nine := fmt.Sprintf("%02d%02d%02d%03d", y%100, m, d, g.r.Intn(1000))
	ten := nine + string(luhnDigit(nine))
	return ten[:6] + "-" + ten[6:]
}

func noChecks(nine string) (int, int, bool) {
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

func (g idGen) noFodselsnummer(dnumber bool) string {
	for {
		d, m, y := g.date(1940, 1999)
		if dnumber {
			d += 40
		}
		ind := g.r.Intn(500) // 000-499: born 1900-1999
		nine := fmt.Sprintf("%02d%02d%02d%03d", d, m, y%100, ind)
		if k1, k2, ok := noChecks(nine); ok {
			return fmt.Sprintf("%s%d%d", nine, k1, k2)
		}
	}
}

func (g idGen) isKennitala() string {
	for {
		d, m, y := g.date(1930, 2015)
		eight := fmt.Sprintf("%02d%02d%02d%02d", d, m, y%100, 20+g.r.Intn(80))
		w := []int{3, 2, 7, 6, 5, 4, 3, 2}
		s := 0
		for i, wi := range w {
			s += wi * int(eight[i]-'0')
		}
		c := (11 - s%11) % 11
		if c == 10 {
			continue
		}
		cent := '9'
		if y >= 2000 {
			cent = '0'
		}
		return eight[:6] + "-" + eight[6:] + fmt.Sprint(c) + string(cent)
	}
}

func (g idGen) dkCPR() string {
	d, m, y := g.date(1940, 1999)
	return fmt.Sprintf("%02d%02d%02d-%d%03d", d, m, y%100, g.r.Intn(4), g.r.Intn(1000))
}

func (g idGen) iePPSN() string {
	seven := fmt.Sprintf("%07d", g.r.Intn(10000000))
	sum := 0
	for i := 0; i < 7; i++ {
		sum += int(seven[i]-'0') * (8 - i)
	}
	if g.r.Intn(2) == 0 {
		return seven + string(ppsnLetters[sum%23])
	}
	sum += 9 // second letter A
	return seven + string(ppsnLetters[sum%23]) + "A"
}

func (g idGen) ukNINO() string {
	first := "ABCEGHJKLMNOPRSTWXYZ"
	second := "ABCEGHJKLMNPRSTWXYZ"
	for {
		p := string(first[g.r.Intn(len(first))]) + string(second[g.r.Intn(len(second))])
		s := fmt.Sprintf("%s%06d%c", p, g.r.Intn(1000000), "ABCD"[g.r.Intn(4)])
		if validUKNINO(s) {
			return s[:2] + " " + s[2:4] + " " + s[4:6] + " " + s[6:8] + " " + s[8:]
		}
	}
}

// iban builds a valid IBAN for the country with a random BBAN, grouped in
// fours.
func (g idGen) iban(cc string) string {
	n := ibanLengths[cc]
	var bban strings.Builder
	for i := 0; i < n-4; i++ {
		if (cc == "GB" || cc == "IE") && i < 4 {
			bban.WriteByte(byte('A' + g.r.Intn(26)))
			continue
		}
		bban.WriteByte(byte('0' + g.r.Intn(10)))
	}
	raw := cc + "00" + bban.String()
	// compute check digits
	rearr := raw[4:] + raw[:4]
	rem := 0
	for i := 0; i < len(rearr); i++ {
		c := rearr[i]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	check := 98 - rem
	full := fmt.Sprintf("%s%02d%s", cc, check, bban.String())
	var b strings.Builder
	for i := 0; i < len(full); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(full[i])
	}
	return b.String()
}

func (g idGen) card(prefix string, length int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for b.Len() < length-1 {
		b.WriteByte(byte('0' + g.r.Intn(10)))
	}
	d := b.String()
	d += string(luhnDigit(d))
	var out strings.Builder
	for i := 0; i < len(d); i++ {
		if i > 0 && i%4 == 0 {
			out.WriteByte(' ')
		}
		out.WriteByte(d[i])
	}
	return out.String()
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"fi valid", validFIHetu, "131052-308T", true},
		{"fi valid 2000s", validFIHetu, "010101A123N", true},
		{"fi wrong check", validFIHetu, "131052-308U", false},
		{"fi bad date", validFIHetu, "310252-308T", false},
		{"fi bad sign", validFIHetu, "131052Z308T", false},
		{"se valid", validSEPersonnummer, "8112189876", true},
		{"se luhn fails", validSEPersonnummer, "8112189875", false},
		{"se bad month", validSEPersonnummer, "8113189876", false},
		{"se samordning", validSEPersonnummer, "8112789873", luhn("8112789873")},
		{"no valid", validNOFodselsnummer, "15057512315", true},
		{"no valid 2", validNOFodselsnummer, "23118045637", true},
		{"no wrong check", validNOFodselsnummer, "15057512316", false},
		{"no d-number", validNOFodselsnummer, "55057512309", true},
		{"no bad date", validNOFodselsnummer, "32057512309", false},
		{"is valid person", validISKennitala, "1201743399", true},
		{"is wrong check", validISKennitala, "1201743389", false},
		{"is bad century", validISKennitala, "1201743395", false},
		{"dk valid date", validDKCPR, "0707614285", true},
		{"dk bad date", validDKCPR, "3102614285", false},
		{"ie valid", validIEPPSN, "1234567T", true},
		{"ie valid two letters", validIEPPSN, "1234567TW", true},
		{"ie wrong letter", validIEPPSN, "1234567A", false},
		{"uk valid", validUKNINO, "AB123456C", true},
		{"uk QQ prefix", validUKNINO, "QQ123456C", false},
		{"uk GB prefix", validUKNINO, "GB123456A", false},
		{"uk bad suffix", validUKNINO, "AB123456E", false},
		{"iban fi", validIBAN, "FI2112345600000785", true},
		{"iban gb", validIBAN, "GB29NWBK60161331926819", true},
		{"iban no", validIBAN, "NO9386011117947", true},
		{"iban wrong check", validIBAN, "FI2112345600000786", false},
		{"iban wrong length", validIBAN, "FI211234560000078", false},
		{"luhn visa", luhn, "4111111111111111", true},
		{"luhn fails", luhn, "4111111111111112", false},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: %s = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestGeneratedIDsValidate(t *testing.T) {
	g := idGen{rand.New(rand.NewSource(1))}
	for i := 0; i < 200; i++ {
		if s := g.fiHetu(); !validFIHetu(s) {
			t.Fatalf("fi %s", s)
		}
		if s := strings.ReplaceAll(g.sePersonnummer(i%2 == 0), "-", ""); !validSEPersonnummer(s) {
			t.Fatalf("se %s", s)
		}
		if s := g.noFodselsnummer(i%2 == 0); !validNOFodselsnummer(s) {
			t.Fatalf("no %s", s)
		}
		if s := strings.ReplaceAll(g.isKennitala(), "-", ""); !validISKennitala(s) {
			t.Fatalf("is %s", s)
		}
		if s := strings.ReplaceAll(g.dkCPR(), "-", ""); !validDKCPR(s) {
			t.Fatalf("dk %s", s)
		}
		if s := g.iePPSN(); !validIEPPSN(s) {
			t.Fatalf("ie %s", s)
		}
		if s := strings.ReplaceAll(g.iban("FI"), " ", ""); !validIBAN(s) {
			t.Fatalf("iban %s", s)
		}
		if s := strings.ReplaceAll(g.iban("GB"), " ", ""); !validIBAN(s) {
			t.Fatalf("iban %s", s)
		}
	}
}
