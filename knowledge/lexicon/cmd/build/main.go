// SPDX-License-Identifier: EUPL-1.2

// Command build derives the compact lexicon data of package lexicon from
// the spelling dictionaries and the Finnish morphology that Debian ships.
//
// Install the sources and run it from the repository root:
//
//	apt-get install hunspell-sv hunspell-da hunspell-no hunspell-is \
//	    hunspell-en-gb myspell-ga voikko-fi python3-fake-factory
//	go run ./knowledge/lexicon/cmd/build
//
// For each Hunspell dictionary it writes data/<lang>.lex.gz: the affix rules
// the lookup needs (prefixes and suffixes with their conditions and
// continuation classes) and the stems with their flags, converted to UTF-8
// and numbered flags, lower-cased, sorted and deduplicated. A stem that the
// dictionary only has capitalised is marked as a proper noun. For Finnish it
// copies Voikko's morphology transducer, compressed, to data/fi.vfst.gz.
// The list of known given names and surnames, data/names.txt.gz, comes from
// the person providers of Faker (Debian package python3-fake-factory) for
// Finnish, Swedish, Norwegian, Danish, British and American locales (not
// Faker's long generic English list, which holds many ordinary words).
// The output depends only on the input files: gzip headers carry no name or
// time, so running the command twice gives the same bytes.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/livinglab/livinglab/internal/gzbest"
)

type source struct {
	lang string // output name
	base string // dictionary base name under the hunspell directory
}

var sources = []source{
	{"en", "en_GB"},
	{"sv", "sv_SE"},
	{"nb", "nb_NO"},
	{"nn", "nn_NO"},
	{"da", "da_DK"},
	{"is", "is_IS"},
	{"ga", "ga_IE"},
}

func main() {
	hunspellDir := flag.String("hunspell", "/usr/share/hunspell", "directory of the Hunspell .aff/.dic files")
	voikko := flag.String("voikko", "/usr/lib/voikko/5/mor-standard/mor.vfst", "Voikko morphology transducer")
	out := flag.String("out", "knowledge/lexicon/data", "output directory")
	python := flag.String("python", "/usr/bin/python3", "Debian's Python 3, with python3-fake-factory installed")
	flag.Parse()
	for _, s := range sources {
		if err := buildHunspell(filepath.Join(*hunspellDir, s.base), filepath.Join(*out, s.lang+".lex.gz"), s.lang); err != nil {
			slog.Error("building lexicon", "lang", s.lang, "err", err)
			os.Exit(1)
		}
	}
	raw, err := os.ReadFile(*voikko)
	if err != nil {
		slog.Error("reading Voikko morphology", "err", err)
		os.Exit(1)
	}
	if err := writeGzip(filepath.Join(*out, "fi.vfst.gz"), raw); err != nil {
		slog.Error("writing Finnish morphology", "err", err)
		os.Exit(1)
	}
	if err := buildNames(*python, filepath.Join(*out, "names.txt.gz")); err != nil {
		slog.Error("building name list", "err", err)
		os.Exit(1)
	}
}

// nameScript prints the given names and surnames of Faker's person
// providers for the network's locales, one "g<TAB>name" or "s<TAB>name" a
// line.
const nameScript = `
import importlib
for loc in ["fi_FI", "sv_SE", "no_NO", "dk_DK", "en_GB", "en_US"]:
    p = importlib.import_module("faker.providers.person." + loc).Provider
    for n in getattr(p, "first_names", ()):
        print("g\t" + n)
    for n in getattr(p, "last_names", ()):
        print("s\t" + n)
`

// buildNames derives the list of known given names and surnames from the
// Debian package python3-fake-factory (Faker).
func buildNames(python, out string) error {
	cmd := exec.Command(python, "-c", nameScript)
	raw, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("running %s with faker (apt-get install python3-fake-factory): %w", python, err)
	}
	seen := map[string]bool{}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		kind, name, ok := strings.Cut(strings.TrimSpace(l), "\t")
		if !ok || name == "" {
			continue
		}
		for _, part := range strings.Fields(strings.ToLower(name)) {
			if utf8.RuneCountInString(part) < 2 {
				continue
			}
			k := kind + "\t" + part
			if !seen[k] {
				seen[k] = true
				lines = append(lines, k)
			}
		}
	}
	if len(lines) < 1000 {
		return fmt.Errorf("only %d names from faker", len(lines))
	}
	sort.Strings(lines)
	return writeGzip(out, []byte("NAMES 1\n"+strings.Join(lines, "\n")+"\n"))
}

func writeGzip(path string, data []byte) error {
	z := gzbest.Compress(data)
	if err := os.WriteFile(path, z, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	slog.Info("wrote", "file", path, "bytes", len(z), "raw", len(data))
	return nil
}

// flagCodec decodes the flag field of one dictionary and numbers its flags.
type flagCodec struct {
	kind string // "", "long", "num", "UTF-8"
	ids  map[string]int
}

func (c *flagCodec) split(s string) []string {
	switch c.kind {
	case "num":
		var out []string
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	case "long":
		var out []string
		r := []rune(s)
		for i := 0; i+1 < len(r); i += 2 {
			out = append(out, string(r[i:i+2]))
		}
		return out
	default:
		var out []string
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
}

func (c *flagCodec) id(f string) int {
	if id, ok := c.ids[f]; ok {
		return id
	}
	id := len(c.ids) + 1
	c.ids[f] = id
	return id
}

func (c *flagCodec) encode(s string) string {
	fs := c.split(s)
	ids := make([]int, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, c.id(f))
	}
	sort.Ints(ids)
	parts := make([]string, 0, len(ids))
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			continue
		}
		parts = append(parts, strconv.Itoa(id))
	}
	return strings.Join(parts, ",")
}

func readLines(path, charset string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if strings.EqualFold(charset, "ISO8859-1") || strings.EqualFold(charset, "ISO-8859-1") {
		raw, err = charmap.ISO8859_1.NewDecoder().Bytes(raw)
		if err != nil {
			return nil, err
		}
	} else if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%s: not UTF-8 and no known SET", path)
	}
	return strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n"), nil
}

func affCharset(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[0] == "SET" {
			return fs[1], nil
		}
	}
	return "UTF-8", sc.Err()
}

func empty(s string) string {
	if s == "0" {
		return ""
	}
	return s
}

func buildHunspell(base, out, lang string) error {
	charset, err := affCharset(base + ".aff")
	if err != nil {
		return err
	}
	aff, err := readLines(base+".aff", charset)
	if err != nil {
		return err
	}
	codec := &flagCodec{ids: map[string]int{}}
	for _, l := range aff {
		fs := strings.Fields(l)
		if len(fs) >= 2 && fs[0] == "FLAG" {
			codec.kind = fs[1]
		}
	}
	var w strings.Builder
	fmt.Fprintf(&w, "LEXICON 1 %s\n", lang)
	opts := map[string]string{"NEEDAFFIX": "needaffix", "FORBIDDENWORD": "forbidden", "ONLYINCOMPOUND": "onlyincompound", "KEEPCASE": "keepcase"}
	var rules []string
	for _, l := range aff {
		fs := strings.Fields(l)
		if len(fs) < 2 {
			continue
		}
		if name, ok := opts[fs[0]]; ok {
			fmt.Fprintf(&w, "O %s %s\n", name, codec.encode(fs[1]))
			continue
		}
		if fs[0] != "SFX" && fs[0] != "PFX" {
			continue
		}
		if len(fs) == 4 && (fs[2] == "Y" || fs[2] == "N") {
			// header: SFX flag cross count
			cross := "0"
			if fs[2] == "Y" {
				cross = "1"
			}
			rules = append(rules, fmt.Sprintf("H %s %s %s", fs[0][:1], codec.encode(fs[1]), cross))
			continue
		}
		if len(fs) < 4 {
			return fmt.Errorf("%s.aff: short affix line %q", base, l)
		}
		strip, add, cond := empty(fs[2]), empty(fs[3]), "."
		if len(fs) >= 5 {
			cond = fs[4]
		}
		cont := ""
		if i := strings.IndexByte(add, '/'); i >= 0 {
			cont = codec.encode(add[i+1:])
			add = add[:i]
		}
		add = empty(add)
		rules = append(rules, fmt.Sprintf("%s %s %s %s %s %s", fs[0][:1], codec.encode(fs[1]), orZero(strip), orZero(add), cond, orZero(cont)))
	}
	for _, r := range rules {
		w.WriteString(r)
		w.WriteByte('\n')
	}
	dic, err := readLines(base+".dic", charset)
	if err != nil {
		return err
	}
	type entry struct {
		flags  map[string]bool
		lower  bool // seen in lower case
		proper bool // seen capitalised
	}
	entries := map[string]*entry{}
	for i, l := range dic {
		if i == 0 {
			continue // count line
		}
		if j := strings.IndexByte(l, '\t'); j >= 0 {
			l = l[:j]
		}
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if j := strings.IndexByte(l, ' '); j >= 0 {
			l = l[:j]
		}
		word, flags := l, ""
		if j := strings.LastIndexByte(l, '/'); j > 0 && l[j-1] != '\\' {
			word, flags = l[:j], l[j+1:]
		}
		word = strings.ReplaceAll(word, "\\/", "/")
		if word == "" || !utf8.ValidString(word) {
			continue
		}
		low := strings.ToLower(word)
		e := entries[low]
		if e == nil {
			e = &entry{flags: map[string]bool{}}
			entries[low] = e
		}
		first, _ := utf8.DecodeRuneInString(word)
		if unicode.IsUpper(first) {
			e.proper = true
		} else {
			e.lower = true
		}
		if flags != "" {
			e.flags[codec.encode(flags)] = true
		}
	}
	words := make([]string, 0, len(entries))
	for k := range entries {
		words = append(words, k)
	}
	sort.Strings(words)
	w.WriteString("W\n")
	for _, k := range words {
		e := entries[k]
		// Merge the flag sets of homographs into one set.
		set := map[int]bool{}
		for fl := range e.flags {
			for _, p := range strings.Split(fl, ",") {
				if n, err := strconv.Atoi(p); err == nil {
					set[n] = true
				}
			}
		}
		ids := make([]int, 0, len(set))
		for n := range set {
			ids = append(ids, n)
		}
		sort.Ints(ids)
		mark := ""
		if e.proper && !e.lower {
			mark = "^"
		}
		parts := make([]string, len(ids))
		for i, n := range ids {
			parts[i] = strconv.Itoa(n)
		}
		fmt.Fprintf(&w, "%s%s\t%s\n", mark, k, strings.Join(parts, ","))
	}
	return writeGzip(out, []byte(w.String()))
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
