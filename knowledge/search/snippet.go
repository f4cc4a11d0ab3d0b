// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"html"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	bsearch "github.com/blevesearch/bleve/v2/search"
)

// Snippet shape.
const (
	fragmentBytes   = 180 // target length of a fragment
	fragmentLead    = 60  // context kept before the first match of a fragment
	maxFragments    = 3   // per field
	markOpen        = "<mark>"
	markClose       = "</mark>"
	snippetEllipsis = "…"
)

// span is a byte range [start, end) of a field's text.
type span struct{ start, end int }

// makeSnippets builds highlighted fragments from the term locations of a
// hit. Locations of the per-language fields (body_fi) and of the
// cross-language field refer to the stored original text (body).
func makeSnippets(h *bsearch.DocumentMatch) map[string][]string {
	spans := map[string][]span{}
	for field, terms := range h.Locations {
		base := baseField(field)
		for _, locs := range terms {
			for _, l := range locs {
				if l.End <= l.Start {
					continue
				}
				b := base
				if field == fieldAll {
					// The cross-language field holds the four texts as
					// an array; the array position names the text.
					if len(l.ArrayPositions) != 1 || l.ArrayPositions[0] >= uint64(len(textFields)) {
						continue
					}
					b = textFields[l.ArrayPositions[0]].name
				}
				spans[b] = append(spans[b], span{int(l.Start), int(l.End)})
			}
		}
	}
	out := map[string][]string{}
	for _, tf := range textFields {
		ss := spans[tf.name]
		if len(ss) == 0 {
			continue
		}
		text := fieldString(h.Fields[tf.name])
		if text == "" {
			continue
		}
		ss = mergeSpans(ss, len(text))
		if len(ss) == 0 {
			continue
		}
		if tf.name == "title" {
			out[tf.name] = []string{markup(text, 0, len(text), ss)}
			continue
		}
		out[tf.name] = fragments(text, ss)
	}
	return out
}

// mergeSpans sorts spans, drops invalid ones and joins overlapping ones.
func mergeSpans(ss []span, n int) []span {
	sort.Slice(ss, func(i, j int) bool { return ss[i].start < ss[j].start })
	out := ss[:0]
	for _, s := range ss {
		if s.start < 0 || s.end > n || s.start >= s.end {
			continue
		}
		if k := len(out); k > 0 && s.start <= out[k-1].end {
			if s.end > out[k-1].end {
				out[k-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// fragments cuts up to maxFragments windows of text around the spans.
func fragments(text string, ss []span) []string {
	var out []string
	for i := 0; i < len(ss) && len(out) < maxFragments; {
		start := wordStartBefore(text, ss[i].start-fragmentLead, ss[i].start)
		end := start + fragmentBytes
		if end < ss[i].end {
			end = ss[i].end
		}
		// Take every span that fits; never cut one.
		j := i
		for j < len(ss) && ss[j].start < end {
			if ss[j].end > end {
				end = ss[j].end
			}
			j++
		}
		end = wordEndAfter(text, end)
		var b strings.Builder
		if start > 0 {
			b.WriteString(snippetEllipsis)
		}
		b.WriteString(markup(text, start, end, ss[i:j]))
		if end < len(text) {
			b.WriteString(snippetEllipsis)
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

// markup escapes text[start:end] and wraps the spans (inside the range) in
// mark tags.
func markup(text string, start, end int, ss []span) string {
	var b strings.Builder
	pos := start
	for _, s := range ss {
		if s.start < pos || s.end > end {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:s.start]))
		b.WriteString(markOpen)
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString(markClose)
		pos = s.end
	}
	b.WriteString(html.EscapeString(text[pos:end]))
	return strings.TrimSpace(b.String())
}

// wordStartBefore returns a position at or after from (clamped to 0) that
// starts a word, not beyond limit.
func wordStartBefore(text string, from, limit int) int {
	if from <= 0 {
		return 0
	}
	for from < limit && !utf8.RuneStart(text[from]) {
		from++
	}
	// Skip to just after the next space so no word is cut.
	for p := from; p < limit; {
		r, n := utf8.DecodeRuneInString(text[p:])
		p += n
		if unicode.IsSpace(r) {
			return p
		}
	}
	return from
}

// wordEndAfter returns a position at or after from that ends a word (or the
// end of text).
func wordEndAfter(text string, from int) int {
	if from >= len(text) {
		return len(text)
	}
	for from < len(text) && !utf8.RuneStart(text[from]) {
		from++
	}
	for p := from; p < len(text); {
		r, n := utf8.DecodeRuneInString(text[p:])
		if unicode.IsSpace(r) {
			return p
		}
		p += n
		if p-from > 30 { // a very long "word": cut it
			return p
		}
	}
	return len(text)
}
