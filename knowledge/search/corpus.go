// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"embed"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// GenerateCorpus returns n synthetic but realistic records for benchmarks
// and load tests: practices and lessons in English, Finnish, Swedish,
// Norwegian (Bokmål and Nynorsk), Danish, Icelandic and Irish, with topic
// vocabulary in each language, inflected forms, Zipf-distributed word
// frequencies, regions and countries that match the language, stages and
// dates from 2015 to 2025. The same (n, seed) always gives the same
// records.
func GenerateCorpus(n int, seed int64) []Doc {
	g := newGenerator(seed)
	out := make([]Doc, n)
	for i := range out {
		out[i] = g.doc()
	}
	return out
}

// CorpusTopics are the topics GenerateCorpus assigns, most common first.
var CorpusTopics = []string{
	"elderly-care", "digital-services", "participation", "transport", "health",
	"planning", "youth", "housing", "energy", "culture",
}

var corpusTopicWeights = []float64{18, 14, 12, 10, 10, 9, 8, 7, 7, 5}

type corpusLang struct {
	code     string // Doc.Language
	weight   float64
	country  []string
	regions  map[string][]string // country -> regions
	function []string
	general  [][]string            // entries, each a list of forms (first = base form)
	topics   map[string][][]string // topic -> entries
	sections []string              // body section labels
	inflect  func(r *rand.Rand, base string) string
}

// entryForms splits entries "a/b/c" into their forms.
func entryForms(entries []string) [][]string {
	out := make([][]string, len(entries))
	for i, e := range entries {
		out[i] = strings.Split(e, "/")
	}
	return out
}

// inflectLast applies f to the last word of a multi-word entry.
func inflectLast(base string, f func(string) string) string {
	i := strings.LastIndexByte(base, ' ')
	return base[:i+1] + f(base[i+1:])
}

func endsWithVowel(w string) bool {
	r, _ := utf8.DecodeLastRuneInString(w)
	return strings.ContainsRune("aeiouyåäöæøáéíóúý", r)
}

func pickString(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

// Scandinavian definite/plural endings.
func scandiInflect(def, plural, defPlural []string) func(*rand.Rand, string) string {
	return func(r *rand.Rand, base string) string {
		return inflectLast(base, func(w string) string {
			v := 0
			if endsWithVowel(w) {
				v = 1
			}
			switch x := r.Intn(10); {
			case x < 6:
				return w
			case x < 8:
				return w + def[v]
			case x < 9:
				return w + plural[v]
			default:
				return w + defPlural[v]
			}
		})
	}
}

func finnishInflect(r *rand.Rand, base string) string {
	return inflectLast(base, func(w string) string {
		if !endsWithVowel(w) {
			if r.Intn(10) < 3 {
				if strings.ContainsAny(w, "aou") {
					return w + "ta"
				}
				return w + "tä"
			}
			return w
		}
		back := strings.ContainsAny(w, "aou")
		sfx := []string{"", "", "", "n", "n", "t", "ssa", "lla", "sta", "a", "ille", "ksi"}
		s := sfx[r.Intn(len(sfx))]
		if !back {
			s = strings.NewReplacer("a", "ä").Replace(s)
		}
		return w + s
	})
}

func englishInflect(r *rand.Rand, base string) string {
	return inflectLast(base, func(w string) string {
		if r.Intn(4) == 0 && !strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "y") {
			return w + "s"
		}
		return w
	})
}

func suffixInflect(p int, sfx ...string) func(*rand.Rand, string) string {
	return func(r *rand.Rand, base string) string {
		if r.Intn(100) >= p {
			return base
		}
		return inflectLast(base, func(w string) string { return w + pickString(r, sfx) })
	}
}

// corpusLangs are the languages of the corpus, in the order the generator
// draws them: how often each occurs and how it inflects a word are here,
// its vocabulary is in corpus/<file>.json.
var corpusLangs = sync.OnceValue(func() []*corpusLang {
	noInflect := func(_ *rand.Rand, base string) string { return base }
	norwegian := scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"ene", "ne"})
	return []*corpusLang{
		loadCorpusLang("en", "en", 30, englishInflect),
		loadCorpusLang("fi", "fi", 15, finnishInflect),
		loadCorpusLang("sv", "sv", 15, scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"erna", "rna"})),
		loadCorpusLang("no", "nb", 9, norwegian),
		loadCorpusLang("no", "nn", 3, norwegian),
		loadCorpusLang("da", "da", 10, scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"erne", "rne"})),
		loadCorpusLang("is", "is", 9, suffixInflect(20, "a", "ar", "um", "i")),
		loadCorpusLang("ga", "ga", 9, noInflect),
	}
})

//go:embed corpus/*.json
var corpusFiles embed.FS

// corpusVocabulary is a file of corpus/: the words of one language (of
// several, for Norwegian's two written standards, which differ here only
// in their function words). An entry "a/b/c" is one word or phrase with
// its forms, the base form first.
type corpusVocabulary struct {
	Countries []string            `json:"countries"` // a country listed twice is drawn twice as often
	Regions   map[string][]string `json:"regions"`   // by country
	Function  map[string][]string `json:"function"`  // function words by Doc.Language
	Sections  []string            `json:"sections"`  // body section labels
	General   []string            `json:"general"`
	Topics    map[string][]string `json:"topics"`
}

// loadCorpusLang reads language code's vocabulary from corpus/<file>.json.
// The files are part of the program: one that does not load is a bug.
func loadCorpusLang(file, code string, weight float64, inflect func(*rand.Rand, string) string) *corpusLang {
	b, err := corpusFiles.ReadFile("corpus/" + file + ".json")
	if err != nil {
		panic(err)
	}
	var v corpusVocabulary
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Errorf("corpus/%s.json: %w", file, err))
	}
	if len(v.Function[code]) == 0 {
		panic(fmt.Errorf("corpus/%s.json: no function words for %q", file, code))
	}
	topics := make(map[string][][]string, len(v.Topics))
	for t, entries := range v.Topics {
		topics[t] = entryForms(entries)
	}
	return &corpusLang{code: code, weight: weight, country: v.Countries, regions: v.Regions, function: v.Function[code],
		general: entryForms(v.General), topics: topics, sections: v.Sections, inflect: inflect}
}

type generator struct {
	r        *rand.Rand
	langs    []*corpusLang
	langCum  []float64
	topicCum []float64
	zipf     map[int]*rand.Zipf // by list length
	start    time.Time
	span     int64
}

func newGenerator(seed int64) *generator {
	g := &generator{
		r:     rand.New(rand.NewSource(seed)),
		langs: corpusLangs(),
		zipf:  map[int]*rand.Zipf{},
		start: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	g.span = int64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(g.start) / time.Second)
	var s float64
	for _, l := range g.langs {
		s += l.weight
		g.langCum = append(g.langCum, s)
	}
	s = 0
	for _, w := range corpusTopicWeights {
		s += w
		g.topicCum = append(g.topicCum, s)
	}
	return g
}

func (g *generator) weighted(cum []float64) int {
	x := g.r.Float64() * cum[len(cum)-1]
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// zipfIndex draws an index in [0, n) with Zipf-distributed frequency.
func (g *generator) zipfIndex(n int) int {
	z, ok := g.zipf[n]
	if !ok {
		z = rand.NewZipf(g.r, 1.1, 2, uint64(n-1))
		g.zipf[n] = z
	}
	return int(z.Uint64())
}

func (g *generator) entry(l *corpusLang, entries [][]string) string {
	forms := entries[g.zipfIndex(len(entries))]
	if len(forms) > 1 {
		// The base form is the most frequent one.
		if g.r.Intn(2) == 0 {
			return forms[0]
		}
		return forms[1+g.r.Intn(len(forms)-1)]
	}
	return l.inflect(g.r, forms[0])
}

func (g *generator) word(l *corpusLang, topics []string) string {
	switch x := g.r.Intn(100); {
	case x < 42:
		return l.function[g.zipfIndex(len(l.function))]
	case x < 72:
		t := topics[0]
		if len(topics) > 1 && g.r.Intn(10) < 3 {
			t = topics[1+g.r.Intn(len(topics)-1)]
		}
		return g.entry(l, l.topics[t])
	case x < 74:
		return fmt.Sprint(2 + g.r.Intn(400))
	default:
		return g.entry(l, l.general)
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func (g *generator) sentence(l *corpusLang, topics []string) string {
	n := 7 + g.r.Intn(12)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word(l, topics)
	}
	return capitalize(strings.Join(ws, " ")) + "."
}

func (g *generator) sentences(l *corpusLang, topics []string, lo, hi int) string {
	n := lo + g.r.Intn(hi-lo+1)
	ss := make([]string, n)
	for i := range ss {
		ss[i] = g.sentence(l, topics)
	}
	return strings.Join(ss, " ")
}

func (g *generator) title(l *corpusLang, topics []string) string {
	n := 3 + g.r.Intn(5)
	ws := make([]string, 0, n)
	ws = append(ws, g.entry(l, l.topics[topics[0]]))
	for len(ws) < n {
		switch g.r.Intn(3) {
		case 0:
			ws = append(ws, l.function[g.zipfIndex(len(l.function))])
		case 1:
			ws = append(ws, g.entry(l, l.general))
		default:
			ws = append(ws, g.entry(l, l.topics[topics[g.r.Intn(len(topics))]]))
		}
	}
	return capitalize(strings.Join(ws, " "))
}

func (g *generator) doc() Doc {
	l := g.langs[g.weighted(g.langCum)]
	topics := []string{CorpusTopics[g.weighted(g.topicCum)]}
	for extra := g.r.Intn(3); extra > 0; extra-- {
		t := CorpusTopics[g.weighted(g.topicCum)]
		dup := false
		for _, x := range topics {
			dup = dup || x == t
		}
		if !dup {
			topics = append(topics, t)
		}
	}
	country := pickString(g.r, l.country)
	d := Doc{
		CID:      fmt.Sprintf("bafkrei%016x%016x", g.r.Uint64(), g.r.Uint64()),
		Kind:     "practice",
		Language: l.code,
		Topics:   topics,
		Country:  country,
		Region:   pickString(g.r, l.regions[country]),
		Created:  g.start.Add(time.Duration(g.r.Int63n(g.span)) * time.Second),
	}
	d.PracticeID = d.CID
	if g.r.Intn(100) >= 15 {
		d.Stage = 1 + g.r.Intn(5)
	}
	d.Title = g.title(l, topics)
	if g.r.Intn(4) == 0 {
		d.Kind = "lesson"
		d.Summary = g.sentences(l, topics, 2, 3)
		d.Lessons = g.sentences(l, topics, 1, 3)
		if g.r.Intn(2) == 0 {
			d.Body = g.sentences(l, topics, 1, 4)
		}
		return d
	}
	d.Summary = g.sentences(l, topics, 2, 4)
	d.Lessons = g.sentences(l, topics, 1, 4)
	var b strings.Builder
	for i, s := range l.sections {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
		b.WriteString(": ")
		b.WriteString(g.sentences(l, topics, 2, 5))
	}
	d.Body = b.String()
	return d
}
