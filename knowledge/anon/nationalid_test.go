// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"github.com/livinglab/livinglab/knowledge/anon/anontest"
	"math/rand"
	"strings"
	"testing"
)

// ids generates well-formed identity numbers (shared with the node's
// canary test), with the draws the tests here use.
type ids struct{ anontest.IDs }

func (g ids) iePPSN() string { return g.IEPPSN(g.R.Intn(2) == 1) }

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
	g := ids{anontest.IDs{R: rand.New(rand.NewSource(1))}}
	for i := 0; i < 200; i++ {
		if s := g.FIHetu(); !validFIHetu(s) {
			t.Fatalf("fi %s", s)
		}
		if s := strings.ReplaceAll(g.SEPersonnummer(i%2 == 0, false), "-", ""); !validSEPersonnummer(s) {
			t.Fatalf("se %s", s)
		}
		if s := g.NOFodselsnummer(i%2 == 0); !validNOFodselsnummer(s) {
			t.Fatalf("no %s", s)
		}
		if s := strings.ReplaceAll(g.ISKennitala(), "-", ""); !validISKennitala(s) {
			t.Fatalf("is %s", s)
		}
		if s := strings.ReplaceAll(g.DKCPR(), "-", ""); !validDKCPR(s) {
			t.Fatalf("dk %s", s)
		}
		if s := g.iePPSN(); !validIEPPSN(s) {
			t.Fatalf("ie %s", s)
		}
		if s := strings.ReplaceAll(g.IBAN("FI", true), " ", ""); !validIBAN(s) {
			t.Fatalf("iban %s", s)
		}
		if s := strings.ReplaceAll(g.IBAN("GB", true), " ", ""); !validIBAN(s) {
			t.Fatalf("iban %s", s)
		}
	}
}
