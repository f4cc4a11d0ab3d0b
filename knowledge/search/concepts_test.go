// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"slices"
	"testing"
)

func conceptsIn(t *testing.T, code, text string) []string {
	t.Helper()
	l, ok := languageFor(code)
	if !ok {
		t.Fatalf("no language %s", code)
	}
	var out []string
	for _, tok := range analyze(newMapping().AnalyzerNamed(l.analyzer), text) {
		if tok.typ == conceptToken {
			out = append(out, tok.term)
		}
	}
	return out
}

func TestConceptTokens(t *testing.T) {
	cases := []struct {
		code, text string
		want       bool
	}{
		{"en", "Volunteers bring home care to older residents", true},
		{"en", "Care for older people at home, with a nurse", true}, // both words, apart
		{"en", "A home for the choir", false},                       // one word of the term
		{"fi", "Kotihoidon asiakkaat saavat ateriat kotiin", true},  // inflected
		{"sv", "Hemtjänsten i kommunen", true},                      // definite form
		{"nb", "Hjemmesykepleien i kommunen", true},
		{"en", "Bus timetables for the islands", false},
	}
	for _, c := range cases {
		got := conceptsIn(t, c.code, c.text)
		if has := slices.Contains(got, conceptTerm("home-care")); has != c.want {
			t.Errorf("%s %q: concepts %v, home-care found %v, want %v", c.code, c.text, got, has, c.want)
		}
	}
	// A concept is added once per place, whatever matched there.
	got := conceptsIn(t, "en", "home care")
	n := 0
	for _, g := range got {
		if g == conceptTerm("home-care") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("home care: %v", got)
	}
}
