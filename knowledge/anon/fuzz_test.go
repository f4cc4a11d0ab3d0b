// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"strings"
	"testing"
)

var fuzzGate = New(Options{
	FailClosed: true,
	Registry: Registry{
		Names:    []string{"Aino Mattila", "Sven Berg", "Pielisen Kyläyhdistys ry"},
		Contacts: []string{"+358 40 765 4321", "aino.mattila@pielinen.example.fi", "Koulukatu 5 B 12, 80100 Joensuu"},
	},
})

func FuzzScrub(f *testing.F) {
	f.Add(acceptanceText)
	for _, s := range ordinaryText {
		f.Add(s)
	}
	for _, s := range []string{
		"", "@", "a@b.cc", "+358", "(0)", "FI21", "::", "1.2.3.4", "Apt 4B, 12 Main Street", "SW1A 1AA",
		"A65 F4E2", "https://x.example/reset?token=abc", "mailto:", "131052-308T131052-308T", "3 residents aged 91",
		"Aino Mattilan ja Mattilalle", "Murphys'", "\xff\xfe", "Ö Ä 5 B", "852 30 Sundsvall", "aino (at) x (dot) fi",
		"fe80::1%eth0", "4111 1111 1111 1111", "AB 12 34 56 C", "1234567TW", "070-123 45 67 070-123 45 67",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out, fs, cands := fuzzGate.Scrub("fuzz", text)
		prev := 0
		for _, f := range fs {
			if f.Start < prev || f.End <= f.Start || f.End > len(text) {
				t.Fatalf("finding out of bounds or overlapping: %+v (len %d)", f, len(text))
			}
			prev = f.End
		}
		if got := apply(text, fs); got != out {
			t.Fatalf("findings do not rebuild the output")
		}
		for _, c := range cands {
			if c.Start < 0 || c.End > len(text) || c.Start >= c.End || text[c.Start:c.End] != c.Text {
				t.Fatalf("bad candidate %+v", c)
			}
		}
		// every standalone occurrence of a redacted value must be redacted
		lowIn := foldSameLen(text)
		covered := make([]bool, len(text))
		for _, f := range fs {
			for i := f.Start; i < f.End; i++ {
				covered[i] = true
			}
		}
		for _, f := range fs {
			if f.Type == TypeCount || f.Type == TypeAge {
				continue
			}
			hay, val := lowIn, lowIn[f.Start:f.End]
			if f.Type == TypePerson && !strings.ContainsAny(val, " \u00a0") && fuzzGate.isCommonWord(val) {
				hay, val = text, text[f.Start:f.End]
			}
			if len(val) < 3 {
				continue
			}
			for s := range occurrences(hay, val) {
				e := s + len(val)
				if !boundaryBefore(text, s) || !boundaryAfter(text, e) {
					continue
				}
				for i := s; i < e; i++ {
					if !covered[i] {
						t.Fatalf("%s value %q at %d not redacted: %q", f.Type, val, s, out)
					}
				}
			}
		}
	})
}
