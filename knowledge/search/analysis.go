package search

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/irish"

	// Language analyzers used by the per-language fields.
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/ga"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
)

// Names of the analysis components this package registers with bleve. They
// are stored in the index mapping, so renaming one requires a new
// SchemaVersion.
const (
	foldFilterName       = "livinglab_fold"
	irishStemFilterName  = "livinglab_stemmer_ga"
	irishHyphenStopName  = "livinglab_stop_ga_hyphen"
	foldAnalyzerName     = "livinglab_fold"
	icelandicAnalyzer    = "livinglab_is"
	irishAnalyzerName    = "livinglab_ga"
	keywordAnalyzerName  = "keyword"
	minPrefixRunes       = 5 // shortest prefix the stem-prefix fallback uses
	prefixFallbackLength = 7 // stems at least this long get the fallback
)

// language describes how text in one language is analysed.
type language struct {
	code     string // canonical code, also the field-name suffix
	analyzer string // bleve analyzer name
	// prefix enables the stem-prefix fallback: a query word whose stem is at
	// least prefixFallbackLength runes long also matches index terms that
	// start with the stem minus its last two runes. Used for languages whose
	// inflection changes the end of the stem (Finnish consonant gradation and
	// vowel changes: "ikääntynyt" stems to "ikääntyny" but "ikääntyneiden" to
	// "ikääntyn") or that have no stemmer at all (Icelandic).
	prefix bool
}

// languages lists every language that gets its own set of fields. Languages
// not listed are indexed in the cross-language fields only.
//
// Snowball stemmers shipped with bleve are used where they exist. Irish uses
// the Snowball Irish stemmer from the snowballstem module bleve is built on
// (bleve registers Irish stop words and elision but no stemmer), after
// dropping the "h-", "n-", "t-" mutation prefixes. Icelandic has no stemmer
// in bleve or Snowball: it is lowercased and folded (ð→d, þ→th, æ→ae,
// accents removed) and relies on the stem-prefix fallback for inflection.
var languages = []language{
	{"da", "da", false},
	{"de", "de", false},
	{"en", "en", false},
	{"es", "es", false},
	{"fi", "fi", true},
	{"fr", "fr", false},
	{"ga", irishAnalyzerName, false},
	{"is", icelandicAnalyzer, true},
	{"it", "it", false},
	{"nl", "nl", false},
	{"no", "no", false},
	{"pt", "pt", false},
	{"sv", "sv", false},
}

var languageByCode = func() map[string]language {
	m := make(map[string]language, len(languages))
	for _, l := range languages {
		m[l.code] = l
	}
	return m
}()

// languageAliases maps codes that share an analyzer with a canonical code.
var languageAliases = map[string]string{
	"nb": "no", // Bokmål
	"nn": "no", // Nynorsk: the Snowball Norwegian stemmer is Bokmål-oriented but close enough
}

// normLanguage returns the lower-case primary subtag of an ISO 639-1 code or
// BCP 47 tag ("en-GB" → "en", "nb_NO" → "nb").
func normLanguage(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	return s
}

// languageFor returns the per-language analysis for a (normalised) code.
func languageFor(code string) (language, bool) {
	if c, ok := languageAliases[code]; ok {
		code = c
	}
	l, ok := languageByCode[code]
	return l, ok
}

// textField is one of the full-text fields of a record.
type textField struct {
	name  string
	boost float64
}

// textFields in order of importance: a match in the title counts most.
var textFields = []textField{
	{"title", 5},
	{"summary", 3},
	{"lessons", 2},
	{"body", 1},
}

// crossBoost scales the cross-language fields relative to the per-language
// ones: a match on the language's stem counts fully, the folded surface form
// (found in any language) adds half as much again.
const crossBoost = 0.5

func langField(base, code string) string { return base + "_" + code }

// baseField maps "body_fi" to "body" (and "body" to itself).
func baseField(f string) string {
	base, _, _ := strings.Cut(f, "_")
	return base
}

// foldFilter lowercases nothing itself; it folds a lowercased token to ASCII
// (ä→a, ø→o, ð→d, þ→th, æ→ae, ß→ss) so the cross-language fields match
// whatever diacritics a user types or omits.
type foldFilter struct{ f *asciifolding.AsciiFoldingFilter }

func (ff foldFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if !isASCII(t.Term) {
			t.Term = ff.f.Filter(t.Term)
		}
	}
	return input
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// irishStemFilter applies the Snowball Irish stemmer.
type irishStemFilter struct{}

func (irishStemFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		env := snowballstem.NewEnv(string(t.Term))
		irish.Stem(env)
		t.Term = []byte(env.Current())
	}
	return input
}

func init() {
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("search: register analysis: %v", err))
		}
	}
	must(registry.RegisterTokenFilter(foldFilterName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return foldFilter{f: asciifolding.New()}, nil
	}))
	must(registry.RegisterTokenFilter(irishStemFilterName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return irishStemFilter{}, nil
	}))
	must(registry.RegisterTokenFilter(irishHyphenStopName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		tm := analysis.NewTokenMap()
		for _, w := range []string{"h", "n", "t"} {
			tm.AddToken(w)
		}
		return stop.NewStopTokensFilter(tm), nil
	}))

	chain := func(filters ...string) registry.AnalyzerConstructor {
		return func(_ map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
			tok, err := cache.TokenizerNamed(unicode.Name)
			if err != nil {
				return nil, err
			}
			a := &analysis.DefaultAnalyzer{Tokenizer: tok}
			for _, name := range filters {
				f, err := cache.TokenFilterNamed(name)
				if err != nil {
					return nil, err
				}
				a.TokenFilters = append(a.TokenFilters, f)
			}
			return a, nil
		}
	}
	// Cross-language fields and languages without their own analysis.
	must(registry.RegisterAnalyzer(foldAnalyzerName, chain(lowercase.Name, foldFilterName)))
	// Icelandic: no stemmer exists; fold like the cross-language fields and
	// let the stem-prefix fallback handle inflection.
	must(registry.RegisterAnalyzer(icelandicAnalyzer, chain(lowercase.Name, foldFilterName)))
	// Irish, in the order Lucene's IrishAnalyzer uses.
	must(registry.RegisterAnalyzer(irishAnalyzerName, chain(irishHyphenStopName, lowercase.Name, ga.ElisionName, ga.StopName, irishStemFilterName)))
}

// analyzedToken is a term with its position, as produced by an analyzer.
type analyzedToken struct {
	term string
	pos  int
}

func analyze(a analysis.Analyzer, text string) []analyzedToken {
	ts := a.Analyze([]byte(text))
	out := make([]analyzedToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, analyzedToken{term: string(t.Term), pos: t.Position})
	}
	return out
}

// stemPrefix returns the prefix used by the stem-prefix fallback, or "" if
// the stem is too short for it.
func stemPrefix(stem string) string {
	n := utf8.RuneCountInString(stem)
	if n < prefixFallbackLength {
		return ""
	}
	keep := n - 2
	if keep < minPrefixRunes {
		keep = minPrefixRunes
	}
	r := []rune(stem)
	return string(r[:keep])
}

// languageCodes returns the canonical codes of the given set, sorted.
func languageCodes(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
