// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// Without its lexicons the gate reports the error and fails closed: every
// capitalised word it cannot place is redacted, never silently kept.
func TestMissingLexiconFailsClosed(t *testing.T) {
	old := loadLexicons
	loadLexicons = func() (*lexicons, error) {
		return nil, fmt.Errorf("anonymisation gate: %w", lexicon.ErrData)
	}
	defer func() { loadLexicons = old }()
	oldVerify := checkLexicons
	checkLexicons = func() error { return lexicon.ErrData }
	defer func() { checkLexicons = oldVerify }()
	if err := Ready(); !errors.Is(err, lexicon.ErrData) {
		t.Fatalf("Ready() = %v, want ErrData", err)
	}
	g := New(Options{FailClosed: true, Language: "sv"})
	in := "Projektet SilverLine leddes av Ebba Grön och Kjellbo i Timrå."
	out, fs, _ := g.Scrub("x", in)
	for _, w := range []string{"Ebba", "Grön", "Kjellbo", "SilverLine"} {
		if strings.Contains(out, w) {
			t.Errorf("%q survived without lexicons: %q", w, out)
		}
	}
	for _, f := range fs {
		if f.Detector == "uncertain-name" && !strings.Contains(f.Evidence, "lexicon unavailable") {
			t.Errorf("evidence %q does not say the lexicon is unavailable", f.Evidence)
		}
	}
}
