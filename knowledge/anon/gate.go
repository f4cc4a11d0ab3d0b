// SPDX-License-Identifier: EUPL-1.2

package anon

import (
	"iter"
	"sort"
	"strings"
	"unicode"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// Finding types.
const (
	TypeEmail      = "email"
	TypeURL        = "url"
	TypePhone      = "phone"
	TypeIBAN       = "iban"
	TypeCard       = "card"
	TypeIP         = "ip"
	TypeNationalID = "national-id"
	TypeAddress    = "address"
	TypePostcode   = "postcode"
	TypePerson     = "person"
	TypeCount      = "count"
	TypeAge        = "age"
)

// Finding is one redaction applied to a field.
type Finding struct {
	Type        string // one of the Type constants
	Field       string // the record field the text came from
	Start, End  int    // byte offsets in the original text
	Replacement string // what the span was replaced with, e.g. "[email]" or "fewer than 5"
	Detector    string // which rule found it, e.g. "fi-henkilotunnus" or "registry-name"
	Evidence    string // what decided it, for the reviewer (may be empty for unambiguous patterns)
}

// Candidate is a possible person name the gate is unsure of. It is left in the
// text (unless Options.FailClosed is set) and shown to the reviewer, who either
// confirms it is not personal (Options.Confirmed) or that it is (Options.Redact).
type Candidate struct {
	Field      string
	Start, End int    // byte offsets in the original text
	Text       string // the words as written
	Reason     string // why the gate is unsure
	Evidence   string // the evidence weighed, for the reviewer
	Certain    bool   // the evidence points to a person (not merely an unknown word)
}

// Registry holds the lab's own registered stakeholders: private data the node
// stores and therefore can look for in free text.
type Registry struct {
	Names    []string // full names of people ("Aino Mattila") and organisations
	Contacts []string // e-mail addresses, phone numbers and street addresses of those stakeholders
}

// Options configure a Gate.
type Options struct {
	K          int // small-count threshold; counts below K are suppressed (default 5)
	Registry   Registry
	Vocabulary []string // extra public words that are not names (e.g. learnt from published records)
	Confirmed  []string // candidates a reviewer confirmed as not personal: kept
	Redact     []string // candidates a reviewer confirmed as personal: always redacted
	FailClosed bool     // redact every uncertain candidate as [person] too
	// Language is the record's language ("sv", "fi", "nb", ...). It
	// selects the lexicon that decides which capitalised words are
	// ordinary words, and the language of replacement texts ("färre än 5",
	// "[henkilö]"). Empty: the language is guessed from each text and
	// replacements are English. A language without a lexicon is guessed
	// likewise.
	Language string
}

// DefaultK is the small-count threshold used when Options.K is not positive.
const DefaultK = 5

// Gate scrubs free text before it leaves the node. A Gate is safe for
// concurrent use once built.
type Gate struct {
	k            int
	failClosed   bool
	vocab        map[string]struct{} // Options.Vocabulary and words of Options.Confirmed, folded
	confirmed    map[string]struct{} // Options.Confirmed phrases, folded and space-normalised
	names        *nameIndex          // registry names and Options.Redact
	contacts     []contactPattern
	contactIndex map[string][]int // contact patterns by their first bytes
	contactFirst [256]bool        // first bytes of contact patterns
	lang         lexicon.Lang     // the record's language, "" to guess per text
	words        placeholderWords // replacement texts in the record's language
}

// New builds a Gate from opts.
func New(opts Options) *Gate {
	g := &Gate{
		k:          opts.K,
		failClosed: opts.FailClosed,
		vocab:      make(map[string]struct{}),
		confirmed:  make(map[string]struct{}),
	}
	if g.k <= 0 {
		g.k = DefaultK
	}
	if l, err := lexicon.ParseLang(opts.Language); err == nil {
		g.lang = l
	}
	g.words = placeholdersFor(g.lang)
	for _, v := range opts.Vocabulary {
		for _, f := range strings.Fields(foldSameLen(v)) {
			g.vocab[strings.Trim(f, ".,;:!?()\"'")] = struct{}{}
		}
	}
	for _, c := range opts.Confirmed {
		fc := strings.Join(strings.Fields(foldSameLen(c)), " ")
		if fc == "" {
			continue
		}
		g.confirmed[fc] = struct{}{}
		for _, f := range strings.Fields(fc) {
			g.vocab[strings.Trim(f, ".,;:!?()\"'")] = struct{}{}
		}
	}
	g.names = newNameIndex(opts.Registry.Names, opts.Redact, g.isPublic)
	g.contacts = buildContacts(opts.Registry.Contacts, g.isPublic)
	for i := range g.contacts {
		switch g.contacts[i].typ {
		case TypeEmail:
			g.contacts[i].repl = g.words.email
		case TypePhone:
			g.contacts[i].repl = g.words.phone
		case TypeAddress:
			g.contacts[i].repl = g.words.address
		}
	}
	g.contactIndex = indexContacts(g.contacts)
	for _, c := range g.contacts {
		g.contactFirst[c.norm[0]] = true
	}
	return g
}

// K returns the small-count threshold in force.
func (g *Gate) K() int { return g.k }

// isPublic reports whether the folded word is a known public word.
func (g *Gate) isPublic(w string) bool {
	if _, ok := g.vocab[w]; ok {
		return true
	}
	return isPublicWord(w)
}

// isCommonWord reports whether the folded word is itself in the vocabulary,
// without stripping endings or splitting compounds: the test for a
// registered name that is also an ordinary word ("Berg", "Hope").
func (g *Gate) isCommonWord(w string) bool {
	if _, ok := g.vocab[w]; ok {
		return true
	}
	v := loadVocab()
	if v.words[w] != 0 {
		return true
	}
	_, ok := v.places[w]
	return ok
}

// priority orders finding types when spans overlap: the higher wins.
func priority(typ string) int {
	switch typ {
	case TypeNationalID:
		return 90
	case TypeIBAN:
		return 85
	case TypeCard:
		return 80
	case TypeURL:
		return 76 // a personal URL is redacted whole, even around an e-mail
	case TypeEmail:
		return 75
	case TypeIP:
		return 65
	case TypePhone:
		return 60
	case TypeAddress:
		return 50
	case TypePostcode:
		return 45
	case TypePerson:
		return 40
	case TypeAge:
		return 20
	case TypeCount:
		return 10
	}
	return 0
}

// scan holds the state of one Scrub call.
type scan struct {
	g      *Gate
	field  string
	text   string
	lower  string
	words  []word
	found  []Finding
	urls   []urlSpan
	cands  []Candidate
	nearby map[int]string // word start -> registered name it resembles

	phoneMemo map[string]bool // phone candidate -> valid
	groups    []digitGroup    // buffer for groupsAt

	letterRuns map[string][]int // folded run of letters -> its starts, for propagate
	scans      int              // text scans spent by propagate
	lang       lexicon.Lang     // the text's language, given or guessed
	personAt   map[int]bool     // starts (and negated ends) of person findings, for findCandidates
}

func (sc *scan) add(typ string, start, end int, repl, det string) {
	if start < 0 || end > len(sc.text) || start >= end {
		return
	}
	sc.found = append(sc.found, Finding{Type: typ, Field: sc.field, Start: start, End: end, Replacement: repl, Detector: det})
}

func (sc *scan) addEv(typ string, start, end int, repl, det, ev string) {
	if start < 0 || end > len(sc.text) || start >= end {
		return
	}
	sc.found = append(sc.found, Finding{Type: typ, Field: sc.field, Start: start, End: end, Replacement: repl, Detector: det, Evidence: ev})
}

// Scrub returns the cleaned text, the redactions applied and the remaining
// uncertain candidates. Findings are sorted, do not overlap, and their
// offsets refer to text as given (text that is not valid UTF-8 is read byte
// by byte where it is broken). Candidates are not redacted unless the gate
// fails closed; then they are returned as Findings of type "person" with
// Detector "uncertain-name" and no candidates remain.
func (g *Gate) Scrub(field, text string) (clean string, findings []Finding, candidates []Candidate) {
	if text == "" {
		return "", nil, nil
	}
	sc := &scan{g: g, field: field, text: text, lower: foldSameLen(text)}
	sc.words = tokenizeWords(text, sc.lower)
	sc.lang = g.lang
	if sc.lang == "" {
		if lx, err := loadLexicons(); err == nil {
			sc.lang = detectLanguage(lx, sc.words)
		}
	}

	sc.findURLs()
	sc.findEmails()
	sc.findIPs()
	sc.findIBANs()
	sc.findNumbers() // national IDs, cards, phones
	sc.findUKNINOs()
	sc.findAddresses()
	sc.findPostcodes()
	sc.findContacts()
	sc.findRegistryNames()
	sc.findRegistryInGlued()
	sc.findCounts()
	sc.findAges()
	sc.resolveURLs()
	sc.findCandidates()

	sc.findAgesAfterPersons()
	if g.failClosed {
		for _, c := range sc.cands {
			det := "uncertain-name"
			if c.Certain {
				det = "name-evidence"
			}
			sc.addEv(TypePerson, c.Start, c.End, g.words.person, det, c.Evidence)
		}
		sc.cands = nil
	}
	seen := make(map[string]bool)
	sc.propagate(sc.found, seen)
	findings = mergeFindings(sc.text, sc.found)
	// Merging can join neighbours into a longer value ("Aino" and "Mattila"
	// found apart become "Aino Mattila"); repeat that value elsewhere too.
	for round := 0; round < 3; round++ {
		var joined []Finding
		for _, f := range findings {
			if !seen[sc.lower[f.Start:f.End]] && !seen[sc.text[f.Start:f.End]] {
				joined = append(joined, f)
			}
		}
		sc.found = findings
		before := len(sc.found)
		sc.propagate(joined, seen)
		if len(sc.found) == before {
			break
		}
		findings = mergeFindings(sc.text, sc.found)
	}
	for i := range findings {
		if findings[i].Evidence == "" {
			findings[i].Evidence = detectorEvidence[findings[i].Detector]
		}
	}
	clean = apply(text, findings)
	for _, c := range sc.cands {
		if !overlapsAny(findings, c.Start, c.End) {
			candidates = append(candidates, c)
		}
	}
	return clean, findings, candidates
}

// propagateBudget bounds the work of propagating values with digits or '@'
// to this many scans of the text, so that a text stuffed with thousands of
// distinct numbers stays linear. Real records come nowhere near it.
const propagateBudget = 256

// propagate redacts every other occurrence of a redacted value, so that a
// value found once (for example in a context that made it certain) does not
// survive elsewhere in the same text. An occurrence must not be glued to a
// letter or digit on either side; words match inside "O'Brien" and
// "Mattila-Virtanen" too.
func (sc *scan) propagate(from []Finding, seen map[string]bool) {
	for _, f := range from {
		switch f.Type {
		case TypeCount, TypeAge, TypeIBAN, TypeCard, TypeEmail:
			// counts and ages depend on their context; the others are
			// recognised wherever they stand, so repeating them finds nothing new
			continue
		}
		// Values are compared case-insensitively, except a name that is also
		// a public word ("Berg"), which only repeats in the same spelling.
		hay := sc.lower
		val := sc.lower[f.Start:f.End]
		if f.Type == TypePerson && !strings.ContainsAny(val, " \u00a0") && sc.g.isCommonWord(val) {
			hay, val = sc.text, sc.text[f.Start:f.End]
		}
		if len(val) < 3 || seen[val] {
			continue
		}
		seen[val] = true
		if !strings.ContainsAny(val, "0123456789@") {
			if sc.letterRuns == nil {
				sc.letterRuns = letterRuns(sc.lower)
			}
			byWord := sc.letterRuns
			first := val
			if k := strings.IndexFunc(val, notLetter); k >= 0 {
				first = val[:k]
			}
			for _, s := range byWord[foldSameLen(first)] {
				e := s + len(val)
				if s == f.Start || e > len(hay) || hay[s:e] != val || !boundaryAfter(sc.text, e) {
					continue
				}
				sc.addEv(f.Type, s, e, f.Replacement, f.Detector, "repeats a value redacted elsewhere in the text")
			}
			continue
		}
		if sc.scans >= propagateBudget {
			continue
		}
		sc.scans++
		for s := range occurrences(hay, val) {
			e := s + len(val)
			if s != f.Start && boundaryBefore(sc.text, s) && boundaryAfter(sc.text, e) {
				sc.addEv(f.Type, s, e, f.Replacement, f.Detector, "repeats a value redacted elsewhere in the text")
			}
		}
	}
}

// occurrences yields the start of every occurrence of val in hay,
// overlapping ones included.
func occurrences(hay, val string) iter.Seq[int] {
	return func(yield func(int) bool) {
		for off := 0; off < len(hay); {
			j := strings.Index(hay[off:], val)
			if j < 0 || !yield(off+j) {
				return
			}
			off += j + 1
		}
	}
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// letterRuns indexes the maximal runs of letters in the folded text by their
// text, including the parts of "Mattila-Virtanen" and "O'Brien".
func letterRuns(lower string) map[string][]int {
	m := make(map[string][]int)
	start := -1
	for i, r := range lower {
		if notLetter(r) {
			if start >= 0 {
				m[lower[start:i]] = append(m[lower[start:i]], start)
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		m[lower[start:]] = append(m[lower[start:]], start)
	}
	return m
}

func overlapsAny(fs []Finding, s, e int) bool {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].End > s })
	return i < len(fs) && fs[i].Start < e
}

// onlySpaceBetween reports whether text[a:b] holds only spaces (one line).
func onlySpaceBetween(text string, a, b int) bool {
	if b-a > 3 {
		return false
	}
	for _, r := range text[a:b] {
		if !isSpaceSep(r) {
			return false
		}
	}
	return true
}

// mergeFindings sorts findings and merges overlapping ones: a cluster of
// overlapping spans becomes one finding covering their union, typed and
// replaced by the highest-priority (then longest) member. Person findings
// separated only by spaces merge too, so "Aino Mattila" becomes one [person].
func mergeFindings(text string, fs []Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Start != fs[j].Start {
			return fs[i].Start < fs[j].Start
		}
		return fs[i].End > fs[j].End
	})
	out := make([]Finding, 0, len(fs))
	cur := fs[0]
	win := fs[0]
	flush := func() {
		f := win
		f.Start, f.End = cur.Start, cur.End
		out = append(out, f)
	}
	better := func(a, b Finding) bool { // a beats b
		pa, pb := priority(a.Type), priority(b.Type)
		if pa != pb {
			return pa > pb
		}
		return a.End-a.Start > b.End-b.Start
	}
	for _, f := range fs[1:] {
		overlap := f.Start < cur.End
		if !overlap && f.Type == TypePerson && win.Type == TypePerson && (onlySpaceBetween(text, cur.End, f.Start) || particlesBetween(text, cur.End, f.Start)) {
			overlap = true
		}
		if overlap {
			if f.End > cur.End {
				cur.End = f.End
			}
			if better(f, win) {
				win = f
			}
			continue
		}
		flush()
		cur, win = f, f
	}
	flush()
	return out
}

// apply replaces each finding's span with its replacement.
func apply(text string, fs []Finding) string {
	if len(fs) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	for _, f := range fs {
		b.WriteString(text[pos:f.Start])
		b.WriteString(f.Replacement)
		pos = f.End
	}
	b.WriteString(text[pos:])
	return b.String()
}

// fewerThan is the replacement for a suppressed count.
func (g *Gate) fewerThan() string { return g.words.fewerThan(g.k) }

// particlesBetween reports whether text[a:b] holds only name particles and
// spaces ("Peter van der Berg" found as two names).
func particlesBetween(text string, a, b int) bool {
	if b-a > 12 || b <= a {
		return false
	}
	fs := strings.Fields(text[a:b])
	if len(fs) == 0 {
		return false
	}
	for _, f := range fs {
		if !nameParticles[strings.ToLower(f)] {
			return false
		}
	}
	return true
}
