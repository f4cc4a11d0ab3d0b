// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"testing"
)

func TestSanitizeTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"Night-time telecare\n\twith volunteers": "Night-time telecare\n\twith volunteers",
		"Þjónusta í Borgarbyggð – Äldreomsorg":   "Þjónusta í Borgarbyggð – Äldreomsorg",
		"a\x1b]0;owned\x07b":                     `a\x1b]0;owned\x07b`,
		"\x1b[2J\x1b[31mred":                     `\x1b[2J\x1b[31mred`,
		"nul\x00 del\x7f c1\u009b":               `nul\x00 del\x7f c1\x9b`,
		"\u202egnirts\u202c \u2067iso\u2069":     `\u202egnirts\u202c \u2067iso\u2069`,
		"bad \xff utf8 \r":                       `bad \xff utf8 \x0d`,
	} {
		if got := sanitizeTerminal(in); got != want {
			t.Errorf("sanitizeTerminal(%q) = %q, want %q", in, got, want)
		}
	}
}

// A rune split across two writes (as a tabwriter or a small buffer may do)
// is printed whole, not as two invalid bytes.
func TestSafeWriterKeepsSplitRunes(t *testing.T) {
	var out bytes.Buffer
	w := newSafeWriter(&out)
	text := []byte("Västernorrland \x1b[2J ð")
	for i := range text {
		if _, err := w.Write(text[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), `Västernorrland \x1b[2J ð`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
