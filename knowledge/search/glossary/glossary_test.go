// SPDX-License-Identifier: EUPL-1.2

package glossary

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultLoads(t *testing.T) {
	g, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.Concepts()); n < 300 {
		t.Fatalf("%d concepts, want at least 300", n)
	}
	counts := g.Languages()
	for _, l := range Languages {
		if counts[l] < 290 {
			t.Errorf("%s: terms for %d concepts, want nearly all", l, counts[l])
		}
	}
	for _, id := range []string{"elderly-care", "home-care", "telecare", "demand-responsive-transport", "youth-council",
		"participatory-budgeting", "loneliness", "dementia", "co-production"} {
		found := false
		for _, c := range g.Concepts() {
			found = found || c.ID == id
		}
		if !found {
			t.Errorf("concept %s missing", id)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const src = "#source s\tdescription\n"
	tests := []struct{ name, in, msg string }{
		{"columns", src + "a\ten\tterm\n", "4"},
		{"language", src + "a\txx\tterm\ts\na\ten\tb\ts\n", "language"},
		{"source", src + "a\ten\tterm\tnone\n", "not declared"},
		{"one language", src + "a\ten\tterm\ts\na\ten\tother\ts\n", "at least 2"},
		{"duplicate", src + "a\ten\tterm\ts\na\ten\tTerm\ts\na\tfi\tx\ts\n", "already on line"},
		{"bad id", src + "A b\ten\tterm\ts\n", "concept"},
		{"empty", src, "no concepts"},
		{"too many words", src + "a\ten\tone two three four five six seven\ts\n", "words"},
		{"bad utf8", src + "a\ten\t\xff\ts\n", "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), "test.tsv")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "test.tsv") {
				t.Fatalf("got %v, want ErrInvalid naming the file and %q", err, tc.msg)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.tsv"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}
