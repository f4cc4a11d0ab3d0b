// SPDX-License-Identifier: EUPL-1.2

// Package lexicon tells whether a word is a common word of one of the
// network's languages (English, Finnish, Swedish, Norwegian Bokmål and
// Nynorsk, Danish, Icelandic, Irish), in any inflected form, and what its
// lemma is; it splits compounds into known words too.
//
// The data is derived from Debian's spelling dictionaries (Hunspell) and
// from Voikko's description of Finnish morphology by the command in
// cmd/build, and embedded compressed under data/ (see data/SOURCES.json for
// sources and licences). A language's data is decoded on first use, once
// per process; a missing or corrupt data file is an error, never an empty
// lexicon, so a caller that relies on the lexicon to keep words fails closed.
//
// Lookups are case-insensitive and safe for concurrent use.
package lexicon

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

//go:embed data/*.gz
var embedded embed.FS

// Lang is a language code: "en", "fi", "sv", "nb", "nn", "no" (Bokmål and
// Nynorsk together), "da", "is" or "ga".
type Lang string

// The supported languages.
const (
	English   Lang = "en"
	Finnish   Lang = "fi"
	Swedish   Lang = "sv"
	Bokmal    Lang = "nb"
	Nynorsk   Lang = "nn"
	Norwegian Lang = "no"
	Danish    Lang = "da"
	Icelandic Lang = "is"
	Irish     Lang = "ga"
)

// Languages lists the languages in the order the gate tries them; "no"
// stands for both written Norwegian standards.
func Languages() []Lang {
	return []Lang{English, Finnish, Swedish, Norwegian, Danish, Icelandic, Irish}
}

// ErrUnsupported is returned for a language code without a lexicon.
var ErrUnsupported = errors.New("lexicon: unsupported language")

// ErrData is returned (wrapped) when the lexicon data is missing or corrupt.
var ErrData = errors.New("lexicon: lexicon data missing or corrupt")

// langCodes are the ISO 639-1 and ISO 639-2 codes of the languages with a
// lexicon.
var langCodes = map[string]Lang{
	"en": English, "eng": English,
	"fi": Finnish, "fin": Finnish,
	"sv": Swedish, "swe": Swedish,
	"nb": Bokmal, "nob": Bokmal,
	"nn": Nynorsk, "nno": Nynorsk,
	"no": Norwegian, "nor": Norwegian,
	"da": Danish, "dan": Danish,
	"is": Icelandic, "isl": Icelandic, "ice": Icelandic,
	"ga": Irish, "gle": Irish,
}

// ParseLang normalises a language tag ("sv-FI", "nb_NO", "EN", "nob") to a
// Lang. An empty or unknown tag gives ErrUnsupported.
func ParseLang(tag string) (Lang, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(t, "-_"); i >= 0 {
		t = t[:i]
	}
	if l, ok := langCodes[t]; ok {
		return l, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupported, tag)
}

// Class says what kind of word an analysis found.
type Class uint8

const (
	// Common is an ordinary word of the language.
	Common Class = iota
	// Proper is a proper noun the dictionary knows only capitalised
	// (a place, a name, an organisation); the Hunspell dictionaries do not
	// say which.
	Proper
	// GivenName is a first name (Finnish morphology only).
	GivenName
	// Surname is a family name (Finnish morphology only).
	Surname
	// Place is a place name (Finnish morphology only).
	Place
)

func (c Class) String() string {
	switch c {
	case Common:
		return "common"
	case Proper:
		return "proper"
	case GivenName:
		return "given-name"
	case Surname:
		return "surname"
	case Place:
		return "place"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Analysis is one reading of a word.
type Analysis struct {
	Lemma string // base form, lower case (for a compound: the whole compound's base form)
	Class Class
	// Parts are the lemmas of a compound's parts, or nil for a simple word.
	Parts []string
}

// Lexicon answers questions about the words of one language. Its tables
// take a few to twenty megabytes per language; they are decoded when first
// needed and dropped again after EvictAfter without a lookup, so that a
// node which rarely publishes or receives text in a language does not keep
// that language's tables in memory.
type Lexicon struct {
	lang       Lang
	open       func() (*tables, error)
	evictAfter time.Duration

	data    atomic.Pointer[tables]
	touched atomic.Bool // a lookup since the last eviction check
	mu      sync.Mutex  // serialises decoding and eviction
	warned  bool        // a failed reload was logged
}

// tables are a lexicon's decoded data.
type tables struct {
	dicts []*hunspell
	fst   *transducer
}

// EvictAfter is how long a lexicon's tables stay decoded without a lookup
// (between one and two times this), for lexicons opened after it is set.
var EvictAfter = 5 * time.Minute

// t returns the decoded tables, decoding them again after an eviction. If
// that fails (the data was fine at start, so this is not expected) the
// lexicon knows no words: callers treat unknown words conservatively (the
// gate redacts them) and the failure is logged once.
func (x *Lexicon) t() *tables {
	if d := x.data.Load(); d != nil {
		if !x.touched.Load() {
			x.touched.Store(true)
		}
		return d
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if d := x.data.Load(); d != nil {
		return d
	}
	d, err := x.open()
	if err != nil {
		if !x.warned {
			x.warned = true
			slog.Error("lexicon cannot be decoded again; its words count as unknown", "lang", x.lang, "err", err)
		}
		return &tables{}
	}
	x.data.Store(d)
	x.touched.Store(true)
	x.scheduleEviction()
	return d
}

func (x *Lexicon) scheduleEviction() {
	time.AfterFunc(x.evictAfter, x.evictIfIdle)
}

// evictIfIdle drops the tables if no lookup came since the last check.
func (x *Lexicon) evictIfIdle() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.touched.Swap(false) {
		x.scheduleEviction()
		return
	}
	x.data.Store(nil)
}

// Lang is the lexicon's language.
func (x *Lexicon) Lang() Lang { return x.lang }

var (
	cacheMu sync.Mutex
	cache   = map[Lang]*loadResult{}
)

type loadResult struct {
	once sync.Once
	lex  *Lexicon
	err  error
}

// Load returns the embedded lexicon of a language, decoding it on first use.
func Load(l Lang) (*Lexicon, error) {
	switch l {
	case English, Finnish, Swedish, Bokmal, Nynorsk, Norwegian, Danish, Icelandic, Irish:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, string(l))
	}
	cacheMu.Lock()
	r := cache[l]
	if r == nil {
		r = &loadResult{}
		cache[l] = r
	}
	cacheMu.Unlock()
	r.once.Do(func() { r.lex, r.err = openLazy(embedded, l) })
	return r.lex, r.err
}

// openLazy checks that a language's embedded files are there and start
// as they should, and returns a lexicon that decodes its tables on the
// first lookup (which reads them whole, checksums included: Verify does
// that for every file without decoding). Reading every file to the end
// here would bring the whole embedded data (7 MB) into the daemon's
// resident memory at start. Opening a search index builds an analyser
// per language, so decoding at Load would hold every language's tables
// (tens of megabytes) from start, whether or not the node ever sees that
// language.
func openLazy(fsys fs.FS, l Lang) (*Lexicon, error) {
	var names []string
	switch l {
	case Finnish:
		names = []string{"data/fi.vfst.gz"}
	case Norwegian:
		names = []string{"data/" + string(Bokmal) + ".lex.gz", "data/" + string(Nynorsk) + ".lex.gz"}
	default:
		names = []string{"data/" + string(l) + ".lex.gz"}
	}
	for _, name := range names {
		header := ""
		if l != Finnish {
			header = "LEXICON 1 " + strings.TrimSuffix(strings.TrimPrefix(name, "data/"), ".lex.gz")
		}
		if err := checkFile(fsys, name, header, false); err != nil {
			return nil, err
		}
	}
	return &Lexicon{lang: l, open: func() (*tables, error) { return openTables(fsys, l) }, evictAfter: EvictAfter}, nil
}

// Open reads a language's lexicon from fsys, which holds the files of
// data/ under "data/". It is Load without the cache, for other data sets.
func Open(fsys fs.FS, l Lang) (*Lexicon, error) {
	switch l {
	case English, Finnish, Swedish, Bokmal, Nynorsk, Norwegian, Danish, Icelandic, Irish:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, string(l))
	}
	x := &Lexicon{lang: l, open: func() (*tables, error) { return openTables(fsys, l) }, evictAfter: EvictAfter}
	t, err := x.open()
	if err != nil {
		return nil, err
	}
	x.data.Store(t)
	x.scheduleEviction()
	return x, nil
}

// openTables decodes a language's data from fsys.
func openTables(fsys fs.FS, l Lang) (*tables, error) {
	x := &tables{}
	switch l {
	case Finnish:
		raw, err := readGzip(fsys, "data/fi.vfst.gz")
		if err != nil {
			return nil, err
		}
		t, err := parseTransducer(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: fi.vfst.gz: %w", ErrData, err)
		}
		x.fst = t
		return x, nil
	case Norwegian:
		for _, sub := range []Lang{Bokmal, Nynorsk} {
			y, err := openTables(fsys, sub)
			if err != nil {
				return nil, err
			}
			x.dicts = append(x.dicts, y.dicts...)
		}
		return x, nil
	case English, Swedish, Bokmal, Nynorsk, Danish, Icelandic, Irish:
		name := "data/" + string(l) + ".lex.gz"
		raw, err := readGzip(fsys, name)
		if err != nil {
			return nil, err
		}
		h, err := parseHunspell(raw, string(l))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrData, name, err)
		}
		x.dicts = []*hunspell{h}
		return x, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, string(l))
}

func readGzip(fsys fs.FS, name string) ([]byte, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	return out, nil
}

// normalize lower-cases a word and folds typographic apostrophes.
func normalize(w string) string {
	w = strings.ToLower(w)
	if strings.ContainsRune(w, '’') {
		w = strings.ReplaceAll(w, "’", "'")
	}
	return w
}

// Analyze returns the readings of a word as a whole (inflected or not),
// without splitting it into a compound unless the language's morphology
// does so itself (Finnish). Nil means the word is unknown.
func (x *Lexicon) Analyze(word string) []Analysis {
	w := normalize(word)
	if w == "" || !utf8.ValidString(w) {
		return nil
	}
	t := x.t()
	if t.fst != nil {
		return t.fst.analyze(w)
	}
	var out []Analysis
	for _, d := range t.dicts {
		out = d.analyze(w, out)
	}
	return out
}

// Known reports whether the word, or an inflected form of it, is in the
// lexicon, in any class.
func (x *Lexicon) Known(word string) bool {
	return len(x.Analyze(word)) > 0
}

// Common reports whether the word is an ordinary (not proper) word of the
// language or an inflected form of one.
func (x *Lexicon) Common(word string) bool {
	for _, a := range x.Analyze(word) {
		if a.Class == Common {
			return true
		}
	}
	return false
}

// Lemma returns the base form of a known word, preferring a common-word
// reading.
func (x *Lexicon) Lemma(word string) (string, bool) {
	as := x.Analyze(word)
	if len(as) == 0 {
		return "", false
	}
	for _, a := range as {
		if a.Class == Common {
			return a.Lemma, true
		}
	}
	return as[0].Lemma, true
}

// linkers are the joining letters the language puts between compound
// parts ("anrop-s-styrd", "barn-e-hage").
func linkers(l Lang) []string {
	switch l {
	case Swedish:
		return []string{"s", "e", "a", "u", "o"}
	case Bokmal, Nynorsk, Norwegian, Danish:
		return []string{"s", "e"}
	case Icelandic:
		return []string{"s", "a", "u", "ar", "na", "ur"}
	case English:
		return nil
	}
	return nil
}

// minPart is the shortest compound part in runes.
const minPart = 3

// Split decompounds a word into known words: it returns the lemmas of the
// parts (the last part's lemma after stripping its inflection), or nil when
// the word is not a compound of known words. A word the lexicon knows as a
// whole is returned as one part. Parts are common words of at least three
// letters, optionally joined by the language's linking letters; hyphens
// split too. Finnish compounds are split by the morphology.
func (x *Lexicon) Split(word string) []string {
	w := normalize(word)
	if w == "" || !utf8.ValidString(w) {
		return nil
	}
	if strings.Contains(w, "-") {
		var out []string
		for _, p := range strings.Split(w, "-") {
			if p == "" {
				continue
			}
			ps := x.Split(p)
			if ps == nil {
				return nil
			}
			out = append(out, ps...)
		}
		return out
	}
	if t := x.t(); t.fst != nil {
		for _, a := range t.fst.analyze(w) {
			if a.Class != Common {
				continue
			}
			if a.Parts != nil {
				return a.Parts
			}
			return []string{a.Lemma}
		}
		return nil
	}
	if l, ok := x.commonLemma(w); ok {
		return []string{l}
	}
	return x.split(w, 0)
}

func (x *Lexicon) commonLemma(w string) (string, bool) {
	for _, d := range x.t().dicts {
		if as := d.analyze(w, nil); len(as) > 0 {
			for _, a := range as {
				if a.Class == Common {
					return a.Lemma, true
				}
			}
		}
	}
	return "", false
}

// split finds the compound reading with the fewest parts, the head
// (last part) inflected, the others bare stems or stems with a linker.
func (x *Lexicon) split(w string, depth int) []string {
	if depth > 4 {
		return nil
	}
	// Try the longest first part first: fewer, longer parts are likelier.
	idx := make([]int, 0, len(w))
	for i := range w {
		if i > 0 {
			idx = append(idx, i)
		}
	}
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		head, rest := w[:i], w[i:]
		if utf8.RuneCountInString(head) < minPart || utf8.RuneCountInString(rest) < minPart {
			continue
		}
		first, ok := x.compoundPart(head)
		if !ok {
			continue
		}
		if l, ok := x.commonLemma(rest); ok {
			return []string{first, l}
		}
		if tail := x.split(rest, depth+1); tail != nil {
			return append([]string{first}, tail...)
		}
	}
	return nil
}

// compoundPart reports whether s can be a non-final compound part: a
// common stem, or a stem followed by a linking letter.
func (x *Lexicon) compoundPart(s string) (string, bool) {
	if x.stemCommon(s) {
		return s, true
	}
	for _, lk := range linkers(x.lang) {
		if strings.HasSuffix(s, lk) {
			b := s[:len(s)-len(lk)]
			if utf8.RuneCountInString(b) >= minPart && x.stemCommon(b) {
				return b, true
			}
		}
	}
	// An inflected form as first part (Icelandic genitives, "barnens").
	if l, ok := x.commonLemma(s); ok {
		return l, true
	}
	return "", false
}

func (x *Lexicon) stemCommon(s string) bool {
	for _, d := range x.t().dicts {
		if i, ok := d.find(s); ok && !d.proper(i) {
			return true
		}
	}
	return false
}

// Verify checks that every embedded data file is present and whole (its
// gzip checksum and its header) without decoding the tables.
func Verify() error { return checkEmbedded(true) }

// Check checks that every embedded data file is present and starts as it
// should, reading only its first bytes, so that a program can refuse to
// start on missing data without reading 7 MB of compressed tables into
// its resident memory. What Check does not read is checked when a table is
// decoded (the gzip checksum covers every byte), and a table that fails
// then leaves its lexicon empty, which the gate treats as unknown words.
func Check() error { return checkEmbedded(false) }

func checkEmbedded(whole bool) error {
	files := []struct{ name, header string }{{"data/names.txt.gz", "NAMES 1"}, {"data/fi.vfst.gz", ""}}
	for _, l := range []Lang{English, Swedish, Bokmal, Nynorsk, Danish, Icelandic, Irish} {
		files = append(files, struct{ name, header string }{"data/" + string(l) + ".lex.gz", "LEXICON 1 " + string(l)})
	}
	for _, f := range files {
		if err := checkFile(embedded, f.name, f.header, whole); err != nil {
			return err
		}
	}
	return nil
}

// checkFile checks that a data file is present, gzip-compressed and starts
// with header (a VFST transducer's magic numbers if header is ""); whole
// also reads it to the end, which checks the gzip CRC and length.
func checkFile(fsys fs.FS, name, header string, whole bool) error {
	fh, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	head := make([]byte, max(len(header), 8))
	if _, err := io.ReadFull(zr, head); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	if header != "" && string(head[:len(header)]) != header {
		return fmt.Errorf("%w: %s: bad header", ErrData, name)
	}
	if header == "" && (binary.LittleEndian.Uint32(head[0:]) != vfstMagic1 || binary.LittleEndian.Uint32(head[4:]) != vfstMagic2) {
		return fmt.Errorf("%w: %s: not a VFST transducer", ErrData, name)
	}
	if !whole {
		return nil
	}
	// Reading to the end checks the gzip CRC and length.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrData, name, err)
	}
	return nil
}
