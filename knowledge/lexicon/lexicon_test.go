// SPDX-License-Identifier: EUPL-1.2

package lexicon

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

func mustLoad(t testing.TB, l Lang) *Lexicon {
	t.Helper()
	x, err := Load(l)
	if err != nil {
		t.Fatalf("Load(%s): %v", l, err)
	}
	return x
}

func TestCommonWordsAndInflections(t *testing.T) {
	cases := []struct {
		lang  Lang
		word  string
		lemma string
	}{
		{English, "residents", "resident"},
		{English, "councils", "council"},
		{English, "running", "run"},
		{Swedish, "kvinnor", "kvinna"},
		{Swedish, "äldreomsorgen", "äldreomsorg"},
		{Swedish, "Trafik", "trafik"},
		{Norwegian, "barnehagen", "barnehage"},
		{Nynorsk, "kommunen", "kommune"},
		{Danish, "kommunen", "kommune"},
		{Danish, "ældreplejen", "ældrepleje"},
		{Icelandic, "konunni", "kona"},
		{Irish, "bhean", "bean"},
		{Finnish, "kissoille", "kissa"},
		{Finnish, "asiakkaille", "asiakas"},
		{Finnish, "vanhuspalveluissa", "vanhuspalvelu"},
	}
	for _, c := range cases {
		x := mustLoad(t, c.lang)
		if !x.Common(c.word) {
			t.Errorf("%s: %q not a common word: %+v", c.lang, c.word, x.Analyze(c.word))
			continue
		}
		if l, ok := x.Lemma(c.word); !ok || l != c.lemma {
			t.Errorf("%s: Lemma(%q) = %q, %v; want %q", c.lang, c.word, l, ok, c.lemma)
		}
	}
}

func TestUnknownAndProper(t *testing.T) {
	sv := mustLoad(t, Swedish)
	if sv.Known("Xqzvörblint") {
		t.Error("nonsense word known")
	}
	if sv.Common("Lindqvist") || !sv.Known("Lindqvist") {
		t.Errorf("Lindqvist: %+v, want proper only", sv.Analyze("Lindqvist"))
	}
	fi := mustLoad(t, Finnish)
	classes := func(w string) []Class {
		var cs []Class
		for _, a := range fi.Analyze(w) {
			cs = append(cs, a.Class)
		}
		return cs
	}
	if cs := classes("Virtaselle"); !slices.Contains(cs, Surname) || slices.Contains(cs, Common) {
		t.Errorf("Virtaselle classes %v", cs)
	}
	if cs := classes("Pekalle"); !slices.Contains(cs, GivenName) {
		t.Errorf("Pekalle classes %v", cs)
	}
	if cs := classes("Helsingissä"); !slices.Contains(cs, Place) {
		t.Errorf("Helsingissä classes %v", cs)
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		lang Lang
		word string
		want []string
	}{
		{Finnish, "kotihoidon", []string{"koti", "hoito"}},
		{Swedish, "trygghetsboendet", nil}, // filled below: any split into known words
		{Norwegian, "eldresenteret", nil},
		{Danish, "borgerrådgiverens", nil},
	}
	for _, c := range cases {
		x := mustLoad(t, c.lang)
		got := x.Split(c.word)
		if got == nil {
			t.Errorf("%s: Split(%q) = nil", c.lang, c.word)
			continue
		}
		if c.want != nil && !slices.Equal(got, c.want) {
			t.Errorf("%s: Split(%q) = %v, want %v", c.lang, c.word, got, c.want)
		}
	}
	sv := mustLoad(t, Swedish)
	if got := sv.Split("mobilitetstjänsteportalen"); len(got) < 2 {
		t.Errorf("Split(mobilitetstjänsteportalen) = %v, want a compound", got)
	}
	if got := sv.Split("qqqxyzzyblorf"); got != nil {
		t.Errorf("Split(nonsense) = %v", got)
	}
}

func TestParseLang(t *testing.T) {
	for tag, want := range map[string]Lang{"sv-FI": Swedish, "nb_NO": Bokmal, "NO": Norwegian, "is": Icelandic, "gle": Irish} {
		got, err := ParseLang(tag)
		if err != nil || got != want {
			t.Errorf("ParseLang(%q) = %q, %v", tag, got, err)
		}
	}
	if _, err := ParseLang("de"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParseLang(de) err = %v", err)
	}
	if _, err := Load("de"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Load(de) err = %v", err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestMissingOrCorruptData(t *testing.T) {
	good, err := fs.ReadFile(embedded, "data/sv.lex.gz")
	if err != nil {
		t.Fatal(err)
	}
	truncated := good[:len(good)/2]
	cases := map[string]fstest.MapFS{
		"missing":       {},
		"not gzip":      {"data/sv.lex.gz": {Data: []byte("hello")}},
		"truncated":     {"data/sv.lex.gz": {Data: truncated}},
		"wrong header":  {"data/sv.lex.gz": {Data: gz(t, []byte("LEXICON 1 da\nW\n"))}},
		"bad rule":      {"data/sv.lex.gz": {Data: gz(t, []byte("LEXICON 1 sv\nS x 0 a . 0\nW\n"))}},
		"no words":      {"data/sv.lex.gz": {Data: gz(t, []byte("LEXICON 1 sv\nW\nord\t\n"))}},
		"no word marks": {"data/sv.lex.gz": {Data: gz(t, []byte("LEXICON 1 sv\n"))}},
	}
	for name, fsys := range cases {
		x, err := Open(fsys, Swedish)
		if err == nil || !errors.Is(err, ErrData) || x != nil {
			t.Errorf("%s: Open = %v, %v; want ErrData", name, x, err)
		}
	}
	fiGood, err := fs.ReadFile(embedded, "data/fi.vfst.gz")
	if err != nil {
		t.Fatal(err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"missing":   {},
		"truncated": {"data/fi.vfst.gz": {Data: fiGood[:1000]}},
		"garbage":   {"data/fi.vfst.gz": {Data: gz(t, bytes.Repeat([]byte{7}, 4096))}},
	} {
		if _, err := Open(fsys, Finnish); !errors.Is(err, ErrData) {
			t.Errorf("fi %s: err = %v, want ErrData", name, err)
		}
	}
	// Norwegian needs both standards.
	if _, err := Open(fstest.MapFS{"data/nb.lex.gz": {Data: good}}, Norwegian); !errors.Is(err, ErrData) {
		t.Errorf("no with nn missing: err = %v", err)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	words := map[Lang][]string{
		Swedish:   {"äldreomsorgen", "Lindqvist", "trafik", "kvinnorna", "Xqzvörb"},
		Finnish:   {"vanhuspalveluissa", "Virtaselle", "kirjaamo", "asiakkaille", "Xqzvörb"},
		Icelandic: {"konunni", "íbúum", "Reykjavík", "sveitarfélagsins", "Xqzvörb"},
	}
	for l, ws := range words {
		x := mustLoad(b, l)
		b.Run(string(l), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				x.Analyze(ws[i%len(ws)])
			}
		})
	}
}

func TestNames(t *testing.T) {
	n, err := LoadNames()
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind("Sven")&Given == 0 || n.Kind("virtanen")&Family == 0 || n.Kind("kommunen") != 0 {
		t.Errorf("kinds: Sven %v virtanen %v kommunen %v", n.Kind("Sven"), n.Kind("virtanen"), n.Kind("kommunen"))
	}
	if _, err := OpenNames(fstest.MapFS{}); !errors.Is(err, ErrData) {
		t.Errorf("missing names: %v", err)
	}
	if _, err := OpenNames(fstest.MapFS{"data/names.txt.gz": {Data: gz(t, []byte("NAMES 1\nx\tfoo\n"))}}); !errors.Is(err, ErrData) {
		t.Errorf("corrupt names: %v", err)
	}
}

// A lexicon's tables are dropped when unused and decoded again on the next
// lookup, with the same answers.
func TestIdleTablesAreDroppedAndReloaded(t *testing.T) {
	old := EvictAfter
	EvictAfter = 50 * time.Millisecond
	defer func() { EvictAfter = old }()
	x, err := Open(embedded, Swedish)
	if err != nil {
		t.Fatal(err)
	}
	lemma, ok := x.Lemma("kvinnor")
	if !ok {
		t.Fatal("kvinnor unknown")
	}
	deadline := time.Now().Add(5 * time.Second)
	for x.data.Load() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the tables were not dropped after the lexicon went unused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, ok := x.Lemma("kvinnor"); !ok || got != lemma {
		t.Fatalf("after reloading: %q %v, want %q", got, ok, lemma)
	}
	if x.data.Load() == nil {
		t.Fatal("a lookup did not decode the tables again")
	}
	// While in use, they stay.
	stop := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(stop) {
		if !x.Known("äldreboende") {
			t.Fatal("äldreboende unknown")
		}
		if x.data.Load() == nil {
			t.Fatal("tables dropped while in use")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVerify(t *testing.T) {
	if err := Verify(); err != nil {
		t.Fatalf("the embedded data does not verify: %v", err)
	}
	raw, err := fs.ReadFile(embedded, "data/sv.lex.gz")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"truncated":  raw[:len(raw)/2],
		"flipped":    append(append([]byte{}, raw[:len(raw)-12]...), append([]byte{raw[len(raw)-12] ^ 0xff}, raw[len(raw)-11:]...)...),
		"not gzip":   []byte("LEXICON 1 sv\n"),
		"bad header": gzipped(t, "LEXICON 1 da\nW\n"),
	} {
		fsys := fstest.MapFS{"data/sv.lex.gz": {Data: data}}
		if err := checkFile(fsys, "data/sv.lex.gz", "LEXICON 1 sv", true); !errors.Is(err, ErrData) {
			t.Errorf("%s: %v, want ErrData", name, err)
		}
	}
	if err := checkFile(fstest.MapFS{}, "data/sv.lex.gz", "LEXICON 1 sv", true); !errors.Is(err, ErrData) {
		t.Errorf("missing file: %v, want ErrData", err)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}
