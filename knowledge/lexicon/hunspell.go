// SPDX-License-Identifier: EUPL-1.2

package lexicon

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// hunspell is a dictionary in the form cmd/build writes: affix rules and
// stems with numbered flags. Stems live in one byte slice, indexed by an
// open-addressing hash table, so a lexicon of 300,000 stems costs a few
// megabytes and a lookup no allocation.
type hunspell struct {
	lang     string
	text     []byte   // stems, concatenated
	off      []uint32 // stem i is text[off[i]:off[i+1]]
	flagset  []uint32 // stem i has flags sets[flagset[i]>>1]; low bit: proper noun
	sets     [][]uint16
	table    []uint32 // hash table of stem index+1
	mask     uint32
	sfx      map[string][]ruleGroup // suffix rules by the added string
	pfx      map[string][]ruleGroup // prefix rules by the added string
	inCont   map[uint16]bool        // flags that some rule lists as continuation
	rules    []affix
	maxSfx   int
	maxPfx   int
	needAff  uint16
	forbid   uint16
	onlyComp uint16
}

// ruleGroup holds the rules that add the same string and strip the same
// string, so that the stem they lead to is looked up once.
type ruleGroup struct {
	strip string
	rules []int32
}

func addRule(m map[string][]ruleGroup, add, strip string, idx int32) {
	gs := m[add]
	for i := range gs {
		if gs[i].strip == strip {
			gs[i].rules = append(gs[i].rules, idx)
			return
		}
	}
	m[add] = append(gs, ruleGroup{strip: strip, rules: []int32{idx}})
}

type affix struct {
	prefix bool
	flag   uint16
	cross  bool
	strip  string
	add    string
	cond   []condClass
	cont   []uint16
}

type condClass struct {
	any bool
	neg bool
	set string
}

func parseCond(s string) ([]condClass, error) {
	if s == "." {
		return nil, nil
	}
	var out []condClass
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '.':
			out = append(out, condClass{any: true})
			i += n
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ in condition %q", s)
			}
			body := s[i+1 : i+j]
			c := condClass{}
			if strings.HasPrefix(body, "^") {
				c.neg, body = true, body[1:]
			}
			c.set = body
			out = append(out, c)
			i += j + 1
		default:
			out = append(out, condClass{set: string(r)})
			i += n
		}
	}
	return out, nil
}

func (c condClass) match(r rune) bool {
	if c.any {
		return true
	}
	return strings.ContainsRune(c.set, r) != c.neg
}

// condSuffix reports whether the end of s matches the condition.
func condSuffix(cond []condClass, s string) bool {
	i := len(s)
	for k := len(cond) - 1; k >= 0; k-- {
		if i == 0 {
			return false
		}
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !cond[k].match(r) {
			return false
		}
		i -= n
	}
	return true
}

func condPrefix(cond []condClass, s string) bool {
	i := 0
	for _, c := range cond {
		if i >= len(s) {
			return false
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !c.match(r) {
			return false
		}
		i += n
	}
	return true
}

func parseFlags(s string) ([]uint16, error) {
	if s == "" || s == "0" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]uint16, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad flag %q", p)
		}
		out = append(out, uint16(n))
	}
	slices.Sort(out)
	return out, nil
}

func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func parseHunspell(raw []byte, lang string) (*hunspell, error) {
	h := &hunspell{lang: lang, sfx: map[string][]ruleGroup{}, pfx: map[string][]ruleGroup{}, inCont: map[uint16]bool{}}
	lines := bytes.Split(raw, []byte("\n"))
	if len(lines) == 0 || !bytes.Equal(lines[0], []byte("LEXICON 1 "+lang)) {
		return nil, errors.New("bad header")
	}
	type head struct{ cross bool }
	heads := map[string]head{}
	setIDs := map[string]uint32{}
	i := 1
	for ; i < len(lines); i++ {
		l := string(lines[i])
		if l == "W" {
			i++
			break
		}
		fs := strings.Fields(l)
		if len(fs) == 0 {
			continue
		}
		switch fs[0] {
		case "O":
			if len(fs) != 3 {
				return nil, fmt.Errorf("line %d: bad option", i+1)
			}
			n, err := strconv.ParseUint(fs[2], 10, 16)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			switch fs[1] {
			case "needaffix":
				h.needAff = uint16(n)
			case "forbidden":
				h.forbid = uint16(n)
			case "onlyincompound":
				h.onlyComp = uint16(n)
			}
		case "H":
			if len(fs) != 4 {
				return nil, fmt.Errorf("line %d: bad affix header", i+1)
			}
			heads[fs[1]+" "+fs[2]] = head{cross: fs[3] == "1"}
		case "S", "P":
			if len(fs) != 6 {
				return nil, fmt.Errorf("line %d: bad affix rule", i+1)
			}
			fl, err := parseFlags(fs[1])
			if err != nil || len(fl) != 1 {
				return nil, fmt.Errorf("line %d: bad affix flag", i+1)
			}
			cond, err := parseCond(fs[4])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			cont, err := parseFlags(fs[5])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			a := affix{prefix: fs[0] == "P", flag: fl[0], cross: heads[fs[0]+" "+fs[1]].cross,
				strip: zero(fs[2]), add: strings.ToLower(zero(fs[3])), cond: cond, cont: cont}
			idx := int32(len(h.rules))
			h.rules = append(h.rules, a)
			for _, c := range cont {
				h.inCont[c] = true
			}
			if a.prefix {
				addRule(h.pfx, a.add, a.strip, idx)
				h.maxPfx = max(h.maxPfx, len(a.add))
			} else {
				addRule(h.sfx, a.add, a.strip, idx)
				h.maxSfx = max(h.maxSfx, len(a.add))
			}
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", i+1, fs[0])
		}
	}
	if i >= len(lines) {
		return nil, errors.New("no word section")
	}
	n := len(lines) - i
	h.off = make([]uint32, 0, n+1)
	h.flagset = make([]uint32, 0, n)
	h.text = make([]byte, 0, len(raw)/2)
	h.sets = [][]uint16{nil}
	setIDs[""] = 0
	for ; i < len(lines); i++ {
		l := lines[i]
		if len(l) == 0 {
			continue
		}
		tab := bytes.IndexByte(l, '\t')
		if tab < 0 {
			return nil, fmt.Errorf("line %d: word without flag field", i+1)
		}
		word, flags := l[:tab], string(l[tab+1:])
		proper := uint32(0)
		if len(word) > 0 && word[0] == '^' {
			proper, word = 1, word[1:]
		}
		if len(word) == 0 || !utf8.Valid(word) {
			return nil, fmt.Errorf("line %d: bad word", i+1)
		}
		id, ok := setIDs[flags]
		if !ok {
			fl, err := parseFlags(flags)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			id = uint32(len(h.sets))
			h.sets = append(h.sets, fl)
			setIDs[flags] = id
		}
		h.off = append(h.off, uint32(len(h.text)))
		h.text = append(h.text, word...)
		h.flagset = append(h.flagset, id<<1|proper)
	}
	h.off = append(h.off, uint32(len(h.text)))
	if len(h.flagset) < 100 {
		return nil, fmt.Errorf("only %d words", len(h.flagset))
	}
	size := uint32(1)
	for size < uint32(len(h.flagset))*2 {
		size <<= 1
	}
	h.table = make([]uint32, size)
	h.mask = size - 1
	for k := range h.flagset {
		p := hashBytes(h.text[h.off[k]:h.off[k+1]]) & h.mask
		for h.table[p] != 0 {
			p = (p + 1) & h.mask
		}
		h.table[p] = uint32(k + 1)
	}
	return h, nil
}

func zero(s string) string {
	if s == "0" {
		return ""
	}
	return s
}

// find looks a stem up.
func (h *hunspell) find(s string) (int, bool) {
	p := hashString(s) & h.mask
	for {
		v := h.table[p]
		if v == 0 {
			return 0, false
		}
		k := int(v - 1)
		if string(h.text[h.off[k]:h.off[k+1]]) == s {
			return k, true
		}
		p = (p + 1) & h.mask
	}
}

func (h *hunspell) proper(k int) bool { return h.flagset[k]&1 == 1 }

func (h *hunspell) has(k int, f uint16) bool {
	if f == 0 {
		return false
	}
	_, ok := slices.BinarySearch(h.sets[h.flagset[k]>>1], f)
	return ok
}

func (h *hunspell) stem(k int) string { return string(h.text[h.off[k]:h.off[k+1]]) }

func (h *hunspell) class(k int) Class {
	if h.proper(k) {
		return Proper
	}
	return Common
}

func appendUnique(out []Analysis, a Analysis) []Analysis {
	for _, b := range out {
		if b.Lemma == a.Lemma && b.Class == a.Class {
			return out
		}
	}
	return append(out, a)
}

// analyze appends the readings of w (lower case): the stem itself, a stem
// with one suffix, one prefix, a prefix and a suffix, or two suffixes.
func (h *hunspell) analyze(w string, out []Analysis) []Analysis {
	if k, ok := h.find(w); ok && !h.has(k, h.needAff) && !h.has(k, h.forbid) && !h.has(k, h.onlyComp) {
		out = appendUnique(out, Analysis{Lemma: h.stem(k), Class: h.class(k)})
	}
	out = h.stripSuffix(w, 0, 0, out)
	for n := 0; n <= h.maxPfx && n <= len(w); n++ {
		groups, ok := h.pfx[w[:n]]
		if !ok {
			continue
		}
		for _, g := range groups {
			base := g.strip + w[n:]
			if base == "" {
				continue
			}
			k, found := h.find(base)
			for _, ri := range g.rules {
				a := &h.rules[ri]
				if !condPrefix(a.cond, base) {
					continue
				}
				if found && h.has(k, a.flag) {
					out = appendUnique(out, Analysis{Lemma: h.stem(k), Class: h.class(k)})
				}
				if a.cross && n > 0 {
					out = h.stripSuffix(base, a.flag, 0, out)
				}
			}
		}
	}
	return out
}

// stripSuffix removes one suffix rule from w and looks the rest up. With
// pfxFlag set, the stem must also carry the prefix's flag and the rule must
// allow cross products. With outer set, w is an intermediate form: the
// rule must list outer among its continuation classes.
func (h *hunspell) stripSuffix(w string, pfxFlag, outer uint16, out []Analysis) []Analysis {
	for n := 0; n <= h.maxSfx && n <= len(w); n++ {
		groups, ok := h.sfx[w[len(w)-n:]]
		if !ok {
			continue
		}
		for _, g := range groups {
			base := w[:len(w)-n] + g.strip
			if base == "" {
				continue
			}
			k, found := h.find(base)
			for _, ri := range g.rules {
				a := &h.rules[ri]
				if pfxFlag != 0 && !a.cross {
					continue
				}
				if outer != 0 {
					if _, ok := slices.BinarySearch(a.cont, outer); !ok {
						continue
					}
				}
				if !condSuffix(a.cond, base) {
					continue
				}
				if found && h.has(k, a.flag) && (pfxFlag == 0 || h.has(k, pfxFlag)) && !h.has(k, h.forbid) {
					out = appendUnique(out, Analysis{Lemma: h.stem(k), Class: h.class(k)})
				}
				if outer == 0 && pfxFlag == 0 && n > 0 && h.inCont[a.flag] {
					// Two suffixes: base may itself be a suffixed form
					// whose rule allows this one to follow.
					out = h.stripSuffix(base, 0, a.flag, out)
				}
			}
		}
	}
	return out
}
