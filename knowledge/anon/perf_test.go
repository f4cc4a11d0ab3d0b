// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestPathologicalInputsStayFast guards against quadratic behaviour on
// inputs no practice contains but a paste or an attacker could: long runs of
// digits, markers, colons, capitalised words.
func TestPathologicalInputsStayFast(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	rnd := make([]byte, 100000)
	for i := range rnd {
		rnd[i] = "aA1 .-@:+(0)/\n"[r.Intn(14)]
	}
	var caps strings.Builder
	for i := 0; caps.Len() < 100000; i++ {
		fmt.Fprintf(&caps, "Zyx%c%c%c ", 'a'+i%26, 'a'+(i/26)%26, 'a'+(i/676)%26)
	}
	inputs := map[string]string{
		"digits":  strings.Repeat("1 ", 50000),
		"zeros":   strings.Repeat("0 ", 50000),
		"pairs":   strings.Repeat("00 ", 33000),
		"plus":    strings.Repeat("+1 ", 33000),
		"at":      strings.Repeat("a(at)", 20000),
		"emails":  strings.Repeat("a@b.cc ", 14000),
		"colons":  strings.Repeat("ab:", 33000),
		"urls":    strings.Repeat("http://a.b/", 9000),
		"caps":    caps.String(),
		"random":  string(rnd),
		"streets": strings.Repeat("Koulukatu 5 B ", 7000),
		"dots":    strings.Repeat("1.", 50000),
		"names":   strings.Repeat("Aino Mattila ", 8000),
	}
	g := New(Options{FailClosed: true, Registry: Registry{Names: []string{"Aino Mattila"}, Contacts: []string{"+358 40 765 4321"}}})
	for name, in := range inputs {
		start := time.Now()
		g.Scrub("x", in)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: %d bytes took %v", name, len(in), d)
		}
	}
}
