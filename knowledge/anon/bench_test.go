// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"os"
	"strings"
	"testing"
)

// benchText builds a realistic practice record of about 5,000 words: the
// English practice four times (as a record with translations and versions
// would repeat it), the Nordic summaries, and personal details of the kind a
// champion might paste in by mistake.
func benchText(tb testing.TB) string {
	tb.Helper()
	en, err := os.ReadFile("testdata/practice.txt")
	if err != nil {
		tb.Fatal(err)
	}
	nordic, err := os.ReadFile("testdata/practice_nordic.txt")
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < 4; i++ {
		b.Write(en)
		b.WriteString("\n")
		if i == 1 {
			b.WriteString("Contact: Aino Mattila, aino.mattila@pielinen.example.fi, +358 40 765 4321, Koulukatu 5 B 12, 80100 Joensuu. ")
			b.WriteString("Sven Berg (811218-9876, 070-123 45 67) joined the second workshop; 3 residents aged 91 took part.\n")
		}
	}
	b.Write(nordic)
	return b.String()
}

func BenchmarkScrub5000Words(b *testing.B) {
	text := benchText(b)
	g := New(Options{
		FailClosed: true,
		Registry: Registry{
			Names:    []string{"Aino Mattila", "Sven Berg", "Pielisen Kyläyhdistys ry", "Máire Ní Bhriain", "Ole Hansen"},
			Contacts: []string{"aino.mattila@pielinen.example.fi", "+358 40 765 4321", "Koulukatu 5 B 12, 80100 Joensuu"},
		},
	})
	g.Scrub("warm-up", "warm up the vocabulary 040 765 4321")
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Scrub("summary", text)
	}
	b.ReportMetric(float64(len(strings.Fields(text))), "words")
}
