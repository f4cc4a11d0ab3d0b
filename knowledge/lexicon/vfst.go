// SPDX-License-Identifier: EUPL-1.2

package lexicon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// transducer is an unweighted finite-state transducer in Voikko's VFST
// format: the Finnish morphology maps a surface form to analyses such as
// "[Ln][Xp]kissa[X]kissa[Sn][Ny]".
//
// Layout: a 16-byte header (two magic words, a weighted flag), a symbol
// table (uint16 count, NUL-terminated UTF-8 strings: epsilon, flag
// diacritics "@P.FEATURE.VALUE@", single characters, then multi-character
// tags), padding to 8 bytes, then 8-byte transitions (uint16 input
// symbol, uint16 output symbol, 24-bit target, 8-bit count of further
// transitions of the state; 255 means the next cell holds the count). An
// input symbol 0xFFFF marks a final state.
type transducer struct {
	trans       []uint64 // little-endian cells: in | out<<16 | info<<32
	syms        []string
	firstNormal uint16
	charSym     map[rune]uint16
	flags       []flagOp // by symbol, for flag diacritics
	features    int
}

type flagOp struct {
	op      byte // P N R D C U
	feature int
	value   int // 0: none; values numbered from 1
}

const (
	vfstMagic1 = 0x00013A6E
	vfstMagic2 = 0x000351FA
	finalSym   = 0xFFFF
)

func parseTransducer(data []byte) (*transducer, error) {
	if len(data) < 18 {
		return nil, errors.New("too short")
	}
	if binary.LittleEndian.Uint32(data[0:]) != vfstMagic1 || binary.LittleEndian.Uint32(data[4:]) != vfstMagic2 {
		return nil, errors.New("not a VFST transducer")
	}
	if data[8] != 0 {
		return nil, errors.New("weighted transducers are not supported")
	}
	pos := 16
	count := int(binary.LittleEndian.Uint16(data[pos:]))
	pos += 2
	t := &transducer{charSym: map[rune]uint16{}}
	features := map[string]int{}
	values := map[string]int{}
	t.firstNormal = 0
	for i := 0; i < count; i++ {
		end := bytes.IndexByte(data[pos:], 0)
		if end < 0 {
			return nil, errors.New("symbol table truncated")
		}
		s := string(data[pos : pos+end])
		pos += end + 1
		t.syms = append(t.syms, s)
		op := flagOp{}
		if i > 0 && len(s) > 2 && s[0] == '@' && s[len(s)-1] == '@' {
			parts := strings.Split(s[1:len(s)-1], ".")
			if len(parts) < 2 || len(parts[0]) != 1 {
				return nil, fmt.Errorf("bad flag diacritic %q", s)
			}
			op.op = parts[0][0]
			f, ok := features[parts[1]]
			if !ok {
				f = len(features)
				features[parts[1]] = f
			}
			op.feature = f
			if len(parts) > 2 {
				v, ok := values[parts[2]]
				if !ok {
					v = len(values) + 1
					values[parts[2]] = v
				}
				op.value = v
			}
		} else if i > 0 && t.firstNormal == 0 {
			t.firstNormal = uint16(i)
		}
		t.flags = append(t.flags, op)
		if i > 0 {
			if r := []rune(s); len(r) == 1 {
				t.charSym[r[0]] = uint16(i)
			}
		}
	}
	if t.firstNormal == 0 {
		return nil, errors.New("no normal symbols")
	}
	t.features = len(features)
	if pos%8 != 0 {
		pos += 8 - pos%8
	}
	if pos >= len(data) || (len(data)-pos)%8 != 0 {
		return nil, errors.New("transition table misaligned or empty")
	}
	n := (len(data) - pos) / 8
	t.trans = make([]uint64, n)
	for i := range t.trans {
		t.trans[i] = binary.LittleEndian.Uint64(data[pos+8*i:])
	}
	// Check every target and count so that lookups cannot run off the table.
	for i := 0; i < n; i++ {
		c := t.trans[i]
		in := uint16(c)
		if in == finalSym {
			continue
		}
		target := int(c >> 32 & 0xFFFFFF)
		if target >= n {
			return nil, fmt.Errorf("transition %d: target %d out of range", i, target)
		}
		if int(in) >= len(t.syms) && in != finalSym {
			// skipped: overflow cells are not transitions
			continue
		}
	}
	return t, nil
}

func (t *transducer) maxTC(state int) int {
	if state >= len(t.trans) {
		return -1
	}
	m := int(t.trans[state] >> 56)
	if m == 255 {
		if state+1 >= len(t.trans) {
			return -1
		}
		m = int(uint32(t.trans[state+1])) + 1
	}
	if state+m >= len(t.trans) {
		return -1
	}
	return m
}

// lookup returns the transducer's outputs for the input (at most limit).
func (t *transducer) lookup(input string, limit int) []string {
	in := make([]uint16, 0, len(input))
	for _, r := range input {
		s, ok := t.charSym[r]
		if !ok {
			return nil
		}
		in = append(in, s)
	}
	var outs []string
	flags := make([]int, t.features)
	var stack []uint16
	steps := 0
	var walk func(state, depth int)
	walk = func(state, depth int) {
		if len(outs) >= limit || steps > 200000 || len(stack) > 400 {
			return
		}
		steps++
		max := t.maxTC(state)
		for tc := 0; tc <= max; tc++ {
			if tc == 1 && max >= 255 {
				continue
			}
			c := t.trans[state+tc]
			sin := uint16(c)
			sout := uint16(c >> 16)
			target := int(c >> 32 & 0xFFFFFF)
			if sin == finalSym {
				if depth == len(in) {
					var b strings.Builder
					for _, o := range stack {
						b.WriteString(t.syms[o])
					}
					outs = append(outs, b.String())
				}
				continue
			}
			if int(sin) >= len(t.syms) {
				continue
			}
			if sin >= t.firstNormal {
				if depth < len(in) && in[depth] == sin {
					stack = append(stack, outSym(sout, t.firstNormal))
					walk(target, depth+1)
					stack = stack[:len(stack)-1]
				}
				continue
			}
			// epsilon or flag diacritic
			if sin == 0 {
				stack = append(stack, outSym(sout, t.firstNormal))
				walk(target, depth)
				stack = stack[:len(stack)-1]
				continue
			}
			f := t.flags[sin]
			old := flags[f.feature]
			if !t.flagAllows(f, flags) {
				continue
			}
			stack = append(stack, 0)
			walk(target, depth)
			stack = stack[:len(stack)-1]
			flags[f.feature] = old
		}
	}
	walk(0, 0)
	return outs
}

func outSym(s, firstNormal uint16) uint16 {
	if s >= firstNormal {
		return s
	}
	return 0
}

// flagAllows applies a flag diacritic: values are positive when set,
// negative when set negatively (N), 0 when neutral.
func (t *transducer) flagAllows(f flagOp, flags []int) bool {
	cur := flags[f.feature]
	switch f.op {
	case 'P':
		flags[f.feature] = f.value
		return true
	case 'N':
		flags[f.feature] = -f.value
		return true
	case 'C':
		flags[f.feature] = 0
		return true
	case 'R':
		if f.value == 0 {
			return cur != 0
		}
		return cur == f.value
	case 'D':
		if f.value == 0 {
			return cur == 0
		}
		return cur != f.value
	case 'U':
		if cur == 0 || cur == f.value || (cur < 0 && -cur != f.value) {
			flags[f.feature] = f.value
			return true
		}
		return false
	}
	return false
}

// analyze turns the transducer's outputs into analyses. Voikko writes per
// compound part a word class tag ([Ln] noun, [Lee] given name, [Les]
// surname, [Lep] place, [Lem] other proper noun...), the part's base form
// between [Xp] and [X], derivation suffixes between [Xj] and [X], case and
// number tags, and the surface letters outside the brackets.
func (t *transducer) analyze(w string) []Analysis {
	outs := t.lookup(w, 16)
	var res []Analysis
	for _, o := range outs {
		parts := splitParts(o)
		if len(parts) == 0 {
			continue
		}
		a := Analysis{Class: Common}
		last := parts[len(parts)-1]
		switch last.class {
		case "[Lee]":
			a.Class = GivenName
		case "[Les]":
			a.Class = Surname
		case "[Lep]":
			a.Class = Place
		case "[Lem]", "[Lnl]":
			a.Class = Proper
		}
		var b strings.Builder
		for i, p := range parts {
			if i < len(parts)-1 {
				b.WriteString(p.surface)
			} else {
				b.WriteString(p.lemma)
			}
		}
		a.Lemma = strings.ToLower(b.String())
		if len(parts) > 1 {
			for i, p := range parts {
				if i < len(parts)-1 {
					a.Parts = append(a.Parts, strings.ToLower(p.surface))
				} else {
					a.Parts = append(a.Parts, strings.ToLower(p.lemma))
				}
			}
		}
		res = appendUnique(res, a)
	}
	return res
}

type fstPart struct {
	class   string
	lemma   string
	surface string
}

// splitParts cuts an analysis string into compound parts at each word
// class tag. A part's lemma is its [Xp] base form, or for a derived word
// ([Xj]) the surface letters up to its case tag.
func splitParts(o string) []fstPart {
	var parts []fstPart
	var cur *fstPart
	var surface, beforeCase strings.Builder
	derived, seenCase := false, false
	flush := func() {
		if cur == nil {
			return
		}
		cur.surface = surface.String()
		if derived || cur.lemma == "" {
			cur.lemma = beforeCase.String()
		}
		parts = append(parts, *cur)
	}
	for i := 0; i < len(o); {
		if o[i] != '[' {
			j := strings.IndexByte(o[i:], '[')
			if j < 0 {
				j = len(o) - i
			}
			if cur == nil {
				cur = &fstPart{}
			}
			surface.WriteString(o[i : i+j])
			if !seenCase {
				beforeCase.WriteString(o[i : i+j])
			}
			i += j
			continue
		}
		j := strings.IndexByte(o[i:], ']')
		if j < 0 {
			break
		}
		tag := o[i : i+j+1]
		i += j + 1
		switch {
		case strings.HasPrefix(tag, "[L"):
			flush()
			cur = &fstPart{class: tag}
			surface.Reset()
			beforeCase.Reset()
			derived, seenCase = false, false
		case tag == "[Xp]" || tag == "[Xj]" || tag == "[Xr]" || tag == "[Xs]":
			k := strings.Index(o[i:], "[X]")
			if k < 0 {
				k = len(o) - i
			}
			if cur == nil {
				cur = &fstPart{}
			}
			if tag == "[Xp]" {
				cur.lemma = strings.ReplaceAll(o[i:i+k], "=", "")
			} else if tag == "[Xj]" {
				derived = true
			}
			i += k + 3
		case strings.HasPrefix(tag, "[S"):
			seenCase = true
		}
	}
	flush()
	return parts
}
