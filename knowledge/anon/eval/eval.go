// SPDX-License-Identifier: EUPL-1.2

// Package eval measures the anonymisation gate on a set of passages written
// for it: municipal texts in English, Irish English, Irish, Finnish,
// Swedish, Norwegian, Danish and Icelandic with planted personal data
// (which must not survive) and keep-traps (public facts that must survive
// unaltered: ordinary capitalised words, places, organisations, projects,
// role mailboxes, organisation numbers, case references, large counts and
// age thresholds).
//
// Passages live in testdata/*.txt, one a line: "id|lang|text". In the
// text, [[P:kind|value]] plants personal data, [[R:value]] a registered
// stakeholder's name (in any inflected form) and [[K:kind|value]] a
// keep-trap; {gen:scheme} inside a value is replaced by a valid generated
// identifier (a fixed seed, so the set is the same on every run).
//
// A third of the passages (those whose number is divisible by three) is
// held aside: it is reported, and asserted against the targets, but not
// looked at while tuning the gate; Split gives the two parts.
package eval

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/livinglab/livinglab/knowledge/anon"
	"github.com/livinglab/livinglab/knowledge/anon/anontest"
)

//go:embed testdata/*.txt
var files embed.FS

// Span is a planted value or a keep-trap in a passage.
type Span struct {
	Kind       string // "name", "registered", "email", ... or "place", "org", ...
	Keep       bool   // a keep-trap
	Start, End int    // byte offsets in Passage.Text
}

// Passage is one evaluation text.
type Passage struct {
	ID, Lang string
	Text     string
	Spans    []Span
	HeldOut  bool
}

// Set is the evaluation set and the registry of its lab.
type Set struct {
	Passages []Passage
	Registry anon.Registry
}

var markup = regexp.MustCompile(`\[\[(?:([PK]):([a-z-]+)\||(R):)([^\]]*)\]\]`)

// Load reads the embedded evaluation set.
func Load() (*Set, error) { return LoadFS(files) }

// LoadFS reads an evaluation set from fsys (testdata/*.txt).
func LoadFS(fsys fs.FS) (*Set, error) {
	s := &Set{}
	gen := newGenerator()
	names, err := fs.Glob(fsys, "testdata/*.txt")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, "/registry.txt") {
			for _, l := range strings.Split(string(raw), "\n") {
				l = strings.TrimSpace(l)
				switch {
				case l == "" || strings.HasPrefix(l, "#"):
				case strings.HasPrefix(l, "contact:"):
					s.Registry.Contacts = append(s.Registry.Contacts, strings.TrimSpace(l[len("contact:"):]))
				default:
					s.Registry.Names = append(s.Registry.Names, l)
				}
			}
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(raw)))
		line := 0
		for sc.Scan() {
			line++
			l := sc.Text()
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
				continue
			}
			p, err := parsePassage(l, gen)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			s.Passages = append(s.Passages, p)
		}
	}
	return s, nil
}

func parsePassage(l string, gen *generator) (Passage, error) {
	parts := strings.SplitN(l, "|", 3)
	if len(parts) != 3 {
		return Passage{}, fmt.Errorf("want id|lang|text")
	}
	p := Passage{ID: parts[0], Lang: parts[1]}
	if i := strings.LastIndexByte(p.ID, '-'); i >= 0 {
		n, err := strconv.Atoi(p.ID[i+1:])
		if err != nil {
			return Passage{}, fmt.Errorf("id %q does not end in a number", p.ID)
		}
		p.HeldOut = n%3 == 0
	}
	text := parts[2]
	var b strings.Builder
	pos := 0
	for _, m := range markup.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(text[pos:m[0]])
		var typ, kind string
		if m[2] >= 0 {
			typ, kind = text[m[2]:m[3]], text[m[4]:m[5]]
		} else {
			typ, kind = "R", "registered"
		}
		val := text[m[8]:m[9]]
		if kind == "" {
			return Passage{}, fmt.Errorf("markup without kind: %q", text[m[0]:m[1]])
		}
		val = gen.expand(val)
		start := b.Len()
		b.WriteString(val)
		p.Spans = append(p.Spans, Span{Kind: kind, Keep: typ == "K", Start: start, End: b.Len()})
		pos = m[1]
	}
	b.WriteString(text[pos:])
	p.Text = b.String()
	if strings.Contains(p.Text, "[[") {
		return Passage{}, fmt.Errorf("unparsed markup in %q", p.Text)
	}
	return p, nil
}

// generator fills {gen:scheme} with valid identifiers.
type generator struct {
	ids anontest.IDs
	r   *rand.Rand
}

func newGenerator() *generator {
	r := rand.New(rand.NewSource(20261206))
	return &generator{ids: anontest.IDs{R: r}, r: r}
}

var genRe = regexp.MustCompile(`\{gen:([a-zA-Z-]+)\}`)

func (g *generator) expand(v string) string {
	return genRe.ReplaceAllStringFunc(v, func(m string) string {
		scheme := genRe.FindStringSubmatch(m)[1]
		switch scheme {
		case "fi-hetu":
			return g.ids.FIHetu()
		case "se-pnr":
			return g.ids.SEPersonnummer(false, false)
		case "se-pnr-long":
			return g.ids.SEPersonnummer(false, true)
		case "se-samordning":
			return g.ids.SEPersonnummer(true, false)
		case "no-fnr":
			return g.ids.NOFodselsnummer(false)
		case "no-dnr":
			return g.ids.NOFodselsnummer(true)
		case "dk-cpr":
			return g.ids.DKCPR()
		case "is-kt":
			return g.ids.ISKennitala()
		case "ie-ppsn":
			return g.ids.IEPPSN(false)
		case "uk-nino":
			return g.ids.UKNINO()
		case "card-visa":
			return g.ids.Card("4", 16)
		case "card-mc":
			return g.ids.Card("51", 16)
		case "y-tunnus":
			return g.yTunnus()
		case "se-orgnr":
			return g.seOrgnr()
		case "no-orgnr":
			return g.noOrgnr()
		case "dk-cvr":
			return g.dkCVR()
		case "is-kt-company":
			return g.isCompany()
		}
		if strings.HasPrefix(scheme, "iban-") {
			return g.ids.IBAN(scheme[5:], true)
		}
		panic("eval: unknown generator " + scheme)
	})
}

func (g *generator) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.Intn(10)))
	}
	return b.String()
}

func weighted(d string, w []int) int {
	s := 0
	for i, wi := range w {
		s += wi * int(d[i]-'0')
	}
	return s
}

func (g *generator) yTunnus() string {
	for {
		d := g.digits(7)
		r := weighted(d, []int{7, 9, 10, 5, 8, 4, 2}) % 11
		if r == 1 {
			continue
		}
		c := 0
		if r > 1 {
			c = 11 - r
		}
		return fmt.Sprintf("%s-%d", d, c)
	}
}

func (g *generator) seOrgnr() string {
	// the third digit of an organisationsnummer is 2 or more, which no
	// personnummer's month has
	d := "55" + string(rune('2'+g.r.Intn(8))) + g.digits(6)
	return d[:6] + "-" + d[6:] + string(anontest.LuhnDigit(d))
}

func (g *generator) noOrgnr() string {
	for {
		d := "9" + g.digits(7)
		c := 11 - weighted(d, []int{3, 2, 7, 6, 5, 4, 3, 2})%11
		if c == 11 {
			c = 0
		}
		if c == 10 {
			continue
		}
		full := fmt.Sprintf("%s%d", d, c)
		return full[:3] + " " + full[3:6] + " " + full[6:]
	}
}

func (g *generator) dkCVR() string {
	for {
		d := string(byte('1'+g.r.Intn(9))) + g.digits(6)
		s := weighted(d, []int{2, 7, 6, 5, 4, 3, 2})
		c := (11 - s%11) % 11
		if c == 10 {
			continue
		}
		return fmt.Sprintf("%s%d", d, c)
	}
}

func (g *generator) isCompany() string {
	for {
		day := 41 + g.r.Intn(28)
		eight := fmt.Sprintf("%02d%02d%02d%02d", day, 1+g.r.Intn(12), g.r.Intn(100), 20+g.r.Intn(80))
		c := anontest.ISCheck(eight)
		if c < 0 {
			continue
		}
		return eight[:6] + "-" + eight[6:] + fmt.Sprint(c) + "9"
	}
}

// Outcome is the gate's result on one span.
type Outcome struct {
	Passage *Passage
	Span    Span
	OK      bool   // planted: fully redacted; keep-trap: unaltered
	Output  string // the gated passage
}

// Run gates every passage with the one-step settings (fail closed, no
// reviewer decisions, the passage's language) and scores every span.
func Run(s *Set) []Outcome {
	var out []Outcome
	gates := map[string]*anon.Gate{}
	for i := range s.Passages {
		p := &s.Passages[i]
		g := gates[p.Lang]
		if g == nil {
			g = anon.New(anon.Options{FailClosed: true, Registry: s.Registry, Language: p.Lang})
			gates[p.Lang] = g
		}
		clean, fs, _ := g.Scrub("text", p.Text)
		covered := make([]bool, len(p.Text))
		for _, f := range fs {
			for k := f.Start; k < f.End; k++ {
				covered[k] = true
			}
		}
		for _, sp := range p.Spans {
			o := Outcome{Passage: p, Span: sp, Output: clean}
			if sp.Keep {
				o.OK = true
				for k := sp.Start; k < sp.End; k++ {
					if covered[k] {
						o.OK = false
						break
					}
				}
			} else {
				o.OK = true
				for k, r := range p.Text[sp.Start:sp.End] {
					if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !covered[sp.Start+k] {
						o.OK = false
						break
					}
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// Tally counts outcomes.
type Tally struct{ OK, N int }

// Rate is the share of OK outcomes.
func (t Tally) Rate() float64 {
	if t.N == 0 {
		return 1
	}
	return float64(t.OK) / float64(t.N)
}

// Summary aggregates outcomes of one part of the set.
type Summary struct {
	Recall, Keep         Tally
	RecallByKind, KeepBy map[string]*Tally
	RecallByLang, KeepBL map[string]*Tally
	Misses, Altered      []Outcome
}

// Critical kinds must reach 100 % recall.
var Critical = map[string]bool{"national-id": true, "iban": true, "card": true, "registered": true}

// Summarise tallies the outcomes of the held-out or the tuning part.
func Summarise(os []Outcome, heldOut bool) Summary {
	s := Summary{RecallByKind: map[string]*Tally{}, KeepBy: map[string]*Tally{}, RecallByLang: map[string]*Tally{}, KeepBL: map[string]*Tally{}}
	inc := func(m map[string]*Tally, k string, ok bool) {
		t := m[k]
		if t == nil {
			t = &Tally{}
			m[k] = t
		}
		t.N++
		if ok {
			t.OK++
		}
	}
	for _, o := range os {
		if o.Passage.HeldOut != heldOut {
			continue
		}
		// A span to keep counts towards keeping (failures: altered),
		// one to redact towards recall (failures: misses).
		total, failed, byKind, byLang := &s.Recall, &s.Misses, s.RecallByKind, s.RecallByLang
		if o.Span.Keep {
			total, failed, byKind, byLang = &s.Keep, &s.Altered, s.KeepBy, s.KeepBL
		}
		total.N++
		if o.OK {
			total.OK++
		} else {
			*failed = append(*failed, o)
		}
		inc(byKind, o.Span.Kind, o.OK)
		inc(byLang, o.Passage.Lang, o.OK)
	}
	return s
}
