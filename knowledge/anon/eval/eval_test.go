// SPDX-License-Identifier: EUPL-1.2

package eval

import (
	"strings"
	"testing"

	"github.com/livinglab/livinglab/knowledge/anon"
)

// loadSet loads the evaluation set, failing the test or benchmark if it
// cannot.
func loadSet(tb testing.TB) *Set {
	tb.Helper()
	set, err := Load()
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

func TestSetIsLargeAndVaried(t *testing.T) {
	set := loadSet(t)
	if len(set.Passages) < 400 {
		t.Errorf("%d passages, want at least 400", len(set.Passages))
	}
	langs := map[string]int{}
	seen := map[string]bool{}
	for _, p := range set.Passages {
		langs[p.Lang]++
		if seen[p.ID] {
			t.Errorf("duplicate id %s", p.ID)
		}
		seen[p.ID] = true
		if seen[p.Text] {
			t.Errorf("duplicate text %q", p.Text)
		}
		seen[p.Text] = true
	}
	for _, l := range []string{"en", "fi", "sv", "no", "da", "is", "ga"} {
		if langs[l] == 0 {
			t.Errorf("no passages in %s", l)
		}
	}
}

// TestEval measures both parts and guards the held-out part against
// regressions: national IDs, payment data and registered names at 100 %,
// recall and keep-traps no worse than measured when the floor was set.
// TestEvalTargets asserts the full targets. Run with -v to see the
// failures of the tuning part.
func TestEval(t *testing.T) {
	set := loadSet(t)
	outs := Run(set)
	held, tune := Summarise(outs, true), Summarise(outs, false)
	t.Logf("held-out: recall %d/%d (%.1f %%), keep-traps altered %d/%d (%.1f %%)", held.Recall.OK, held.Recall.N,
		100*held.Recall.Rate(), held.Keep.N-held.Keep.OK, held.Keep.N, 100-100*held.Keep.Rate())
	t.Logf("tuning:   recall %d/%d (%.1f %%), keep-traps altered %d/%d (%.1f %%)", tune.Recall.OK, tune.Recall.N,
		100*tune.Recall.Rate(), tune.Keep.N-tune.Keep.OK, tune.Keep.N, 100-100*tune.Keep.Rate())
	for _, o := range append(tune.Misses, tune.Altered...) {
		what := "missed"
		if o.Span.Keep {
			what = "altered"
		}
		t.Logf("tuning %s %s %s %q -> %s", o.Passage.ID, what, o.Span.Kind, o.Passage.Text[o.Span.Start:o.Span.End], o.Output)
	}
	for k, tl := range held.RecallByKind {
		if Critical[k] && tl.OK != tl.N {
			t.Errorf("held-out: %s recall %d/%d, must be 100 %%", k, tl.OK, tl.N)
		}
	}
	if r := held.Recall.Rate(); r < FloorRecall {
		t.Errorf("held-out: recall %.1f %% fell below %.1f %%", 100*r, 100*FloorRecall)
	}
	if a := 1 - held.Keep.Rate(); a > FloorAltered {
		t.Errorf("held-out: keep-traps altered %.1f %% rose above %.1f %%", 100*a, 100*FloorAltered)
	}
	if bad := Check(held); len(bad) > 0 {
		t.Logf("held-out targets not met: %v", bad)
	}
}

// TestEvalTargets asserts the targets on the held-out part: recall >=
// 99.5 % (national IDs, payment data and registered names 100 %),
// keep-traps altered <= 2 %.
func TestEvalTargets(t *testing.T) {
	set := loadSet(t)
	for _, b := range Check(Summarise(Run(set), true)) {
		t.Errorf("held-out: %s", b)
	}
}

// TestOrdinaryWordsKept gates the search evaluation's practices, written
// in every language of the federation without personal names: at most one
// practice in twenty may lose an ordinary word to a person placeholder
// (failing closed on a word no lexicon knows is allowed, but rare).
func TestOrdinaryWordsKept(t *testing.T) {
	ps, err := ReadPractices("../../search/testdata/relevance/practices.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 120 {
		t.Fatalf("%d practices parsed, want at least 120", len(ps))
	}
	res := CheckOrdinary(ps)
	for _, l := range res.Losses {
		t.Logf("%s (%s) %q: %s", l.ID, l.Lang, l.Text, l.Evidence)
	}
	if res.Damaged*20 > res.Practices {
		t.Errorf("ordinary words replaced in %d of %d practices", res.Damaged, res.Practices)
	}
}

// BenchmarkGate5000Words gates a practice of about 5,000 words with 100
// registered stakeholders.
func BenchmarkGate5000Words(b *testing.B) {
	set := loadSet(b)
	text, reg := BenchInput(set)
	g := anon.New(anon.Options{FailClosed: true, Registry: reg})
	g.Scrub("warm-up", text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Scrub("summary", text)
	}
	b.ReportMetric(float64(len(strings.Fields(text))), "words")
}
