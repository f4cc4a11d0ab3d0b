// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// pathologicalInputs are inputs no practice contains but a paste or an
// attacker could: long runs of digits, markers, colons, capitalised words.
// BenchmarkPathologicalInputs measures them, so that quadratic behaviour
// shows as time per byte growing with the input.
func pathologicalInputs(n int) map[string]string {
	r := rand.New(rand.NewSource(1))
	rnd := make([]byte, n)
	for i := range rnd {
		rnd[i] = "aA1 .-@:+(0)/\n"[r.Intn(14)]
	}
	var caps strings.Builder
	for i := 0; caps.Len() < n; i++ {
		fmt.Fprintf(&caps, "Zyx%c%c%c ", 'a'+i%26, 'a'+(i/26)%26, 'a'+(i/676)%26)
	}
	rep := func(s string) string { return strings.Repeat(s, n/len(s)) }
	return map[string]string{
		"digits":  rep("1 "),
		"zeros":   rep("0 "),
		"pairs":   rep("00 "),
		"plus":    rep("+1 "),
		"at":      rep("a(at)"),
		"emails":  rep("a@b.cc "),
		"colons":  rep("ab:"),
		"urls":    rep("http://a.b/"),
		"caps":    caps.String(),
		"random":  string(rnd),
		"streets": rep("Koulukatu 5 B "),
		"dots":    rep("1."),
		"names":   rep("Aino Mattila "),
	}
}

func pathologicalGate() *Gate {
	return New(Options{FailClosed: true, Registry: Registry{Names: []string{"Aino Mattila"}, Contacts: []string{"+358 40 765 4321"}}})
}

// TestPathologicalInputs gates every pathological input whole: each
// finishes, a registered name repeated thousands of times never survives
// and plain digits are left alone.
func TestPathologicalInputs(t *testing.T) {
	g := pathologicalGate()
	for name, in := range pathologicalInputs(100000) {
		clean, _, _ := g.Scrub("x", in)
		switch name {
		case "names":
			if strings.Contains(clean, "Aino") || strings.Contains(clean, "Mattila") {
				t.Errorf("names: a registered name survived in %.60q", clean)
			}
		case "digits":
			if clean != in {
				t.Errorf("digits: altered to %.60q", clean)
			}
		}
	}
}

func BenchmarkPathologicalInputs(b *testing.B) {
	g := pathologicalGate()
	for _, n := range []int{10000, 100000} {
		for name, in := range pathologicalInputs(n) {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for i := 0; i < b.N; i++ {
					g.Scrub("x", in)
				}
			})
		}
	}
}
