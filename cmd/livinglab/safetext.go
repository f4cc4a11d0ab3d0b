// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/livinglab/livinglab/protocol"
)

// Records come from other regions' nodes. Their text is checked when it is
// signed and when it is received, but a record stored by an older release
// may still hold characters that act on a terminal (ESC starts escape
// sequences that can rewrite the screen or the window title, BEL rings)
// or reorder what is shown (bidirectional overrides). Everything the
// commands print passes through safeWriter, which shows such characters
// as visible escapes instead.

// safeWriter escapes terminal control characters in what is written to w.
// It keeps an incomplete UTF-8 sequence at the end of a write for the next.
type safeWriter struct {
	w    io.Writer
	tail []byte
}

func newSafeWriter(w io.Writer) *safeWriter { return &safeWriter{w: w} }

func (s *safeWriter) Write(p []byte) (int, error) {
	b := append(s.tail, p...)
	s.tail = nil
	// Hold back a trailing partial rune (at most 3 bytes) for the next write.
	if cut := partialRuneStart(b); cut < len(b) {
		s.tail = append([]byte{}, b[cut:]...)
		b = b[:cut]
	}
	if _, err := io.WriteString(s.w, sanitizeTerminal(string(b))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// partialRuneStart returns where an incomplete UTF-8 sequence at the end
// of b starts (len(b) if there is none).
func partialRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// sanitizeTerminal shows the characters protocol.UnsafeRune names, and
// invalid UTF-8, as Go-style escapes (\x1b, \u202e).
func sanitizeTerminal(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || protocol.UnsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case protocol.UnsafeRune(r) && r < 0x100:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case protocol.UnsafeRune(r):
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}
