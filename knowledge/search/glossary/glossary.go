// SPDX-License-Identifier: EUPL-1.2

// Package glossary holds the multilingual glossary of the living labs'
// field (elderly care, home care, telecare, transport on demand, youth
// councils, participatory budgeting, ...): for each concept, the terms
// public bodies use for it in English, Finnish, Swedish, Norwegian Bokmål
// and Nynorsk, Danish, Icelandic and Irish. Search uses it to expand a
// query into the other languages.
//
// The data is glossary.tsv, embedded in the binary. Each line is one term:
//
//	concept <TAB> language <TAB> term <TAB> source
//
// where concept is a stable lower-case identifier shared by the terms of
// one concept, language one of Languages, and source says where the term
// comes from (a key of the sources table at the top of the file, see
// SOURCES.json). Lines starting with '#' and empty lines are ignored.
package glossary

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Languages are the languages a term may be in.
var Languages = []string{"en", "fi", "sv", "nb", "nn", "da", "is", "ga"}

// ErrInvalid reports a glossary file that cannot be used. The wrapped
// message names the file and line.
var ErrInvalid = errors.New("invalid glossary")

// Term is one way of saying a concept in one language.
type Term struct {
	Lang   string
	Text   string
	Source string
}

// Concept is one idea of the field with its terms, at least two languages.
type Concept struct {
	ID    string
	Terms []Term
}

// Glossary is a parsed glossary. It is read-only after Parse.
type Glossary struct {
	concepts []Concept
	sources  map[string]string
}

// Concepts returns the concepts, sorted by ID. The caller must not modify
// them.
func (g *Glossary) Concepts() []Concept { return g.concepts }

// Sources maps the source keys used by terms to their descriptions.
func (g *Glossary) Sources() map[string]string { return g.sources }

// Languages counts the concepts that have a term in each language.
func (g *Glossary) Languages() map[string]int {
	out := map[string]int{}
	for _, c := range g.concepts {
		seen := map[string]bool{}
		for _, t := range c.Terms {
			if !seen[t.Lang] {
				seen[t.Lang] = true
				out[t.Lang]++
			}
		}
	}
	return out
}

const (
	maxTermRunes = 80
	maxTermWords = 6
)

// MaxWords is the most words a term may have.
const MaxWords = maxTermWords

// Parse reads a glossary. name is used in error messages. Every problem is
// an error wrapping ErrInvalid: a malformed line, an unknown language or
// source, an empty or overlong term, a term listed twice, a concept with
// terms in fewer than two languages.
func Parse(r io.Reader, name string) (*Glossary, error) {
	g := &Glossary{sources: map[string]string{}}
	byID := map[string]*Concept{}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s line %d: %s", ErrInvalid, name, line, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if !utf8.ValidString(text) {
			return nil, bad("not valid UTF-8")
		}
		// "#source KEY <TAB> description" declares a source.
		if rest, ok := strings.CutPrefix(text, "#source "); ok {
			key, desc, ok := strings.Cut(rest, "\t")
			key, desc = strings.TrimSpace(key), strings.TrimSpace(desc)
			if !ok || key == "" || desc == "" {
				return nil, bad("a source line is \"#source KEY<TAB>description\"")
			}
			g.sources[key] = desc
			continue
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 4 {
			return nil, bad("%d tab-separated columns, want 4 (concept, language, term, source)", len(f))
		}
		id, lang, term, src := strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2]), strings.TrimSpace(f[3])
		if !validID(id) {
			return nil, bad("concept %q: use lower-case letters, digits and '-'", id)
		}
		if !slices.Contains(Languages, lang) {
			return nil, bad("language %q, want one of %v", lang, Languages)
		}
		if term == "" {
			return nil, bad("empty term")
		}
		if n := utf8.RuneCountInString(term); n > maxTermRunes {
			return nil, bad("term is %d characters, at most %d", n, maxTermRunes)
		}
		if n := len(strings.Fields(term)); n > maxTermWords {
			return nil, bad("term %q has %d words, at most %d", term, n, maxTermWords)
		}
		if _, ok := g.sources[src]; !ok {
			return nil, bad("source %q is not declared by a \"#source\" line above", src)
		}
		key := id + "\x00" + lang + "\x00" + strings.ToLower(term)
		if prev, dup := seen[key]; dup {
			return nil, bad("term %q (%s) of %s already on line %d", term, lang, id, prev)
		}
		seen[key] = line
		c := byID[id]
		if c == nil {
			c = &Concept{ID: id}
			byID[id] = c
		}
		c.Terms = append(c.Terms, Term{Lang: lang, Text: term, Source: src})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	for _, c := range byID {
		langs := map[string]bool{}
		for _, t := range c.Terms {
			langs[t.Lang] = true
		}
		if len(langs) < 2 {
			return nil, fmt.Errorf("%w: %s: concept %q has terms in %d language, at least 2 are needed", ErrInvalid, name, c.ID, len(langs))
		}
		g.concepts = append(g.concepts, *c)
	}
	if len(g.concepts) == 0 {
		return nil, fmt.Errorf("%w: %s: no concepts", ErrInvalid, name)
	}
	sort.Slice(g.concepts, func(i, j int) bool { return g.concepts[i].ID < g.concepts[j].ID })
	return g, nil
}

func validID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || unicode.IsDigit(r) || (r >= 'a' && r <= 'z')) {
			return false
		}
	}
	return true
}

// Load parses the glossary file at path.
func Load(path string) (*Glossary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load glossary: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

//go:embed glossary.tsv
var embedded string

var (
	defaultOnce sync.Once
	defaultG    *Glossary
	defaultErr  error
)

// Default returns the glossary shipped with the program.
func Default() (*Glossary, error) {
	defaultOnce.Do(func() {
		defaultG, defaultErr = Parse(strings.NewReader(embedded), "glossary.tsv")
	})
	return defaultG, defaultErr
}
