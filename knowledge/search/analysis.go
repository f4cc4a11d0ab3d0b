// SPDX-License-Identifier: EUPL-1.2

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
	minPrefixRunes       = 6 // shortest prefix the stem-prefix fallback uses
	prefixFallbackLength = 8 // stems at least this long get the fallback
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
// not listed are indexed in the cross-language field only.
//
// Snowball stemmers shipped with bleve are used where they exist, followed
// by ASCII folding of the stem (so "aldreomsorgen" typed without the
// diaeresis still meets "äldreomsorgen"). Irish uses
// the Snowball Irish stemmer from the snowballstem module bleve is built on
// (bleve registers Irish stop words and elision but no stemmer), after
// dropping the "h-", "n-", "t-" mutation prefixes. Icelandic has no stemmer
// in bleve or Snowball: it is lowercased and folded (ð→d, þ→th, æ→ae,
// accents removed) and relies on the stem-prefix fallback for inflection.
var languages = []language{
	{"da", conceptName("da"), false},
	{"de", "livinglab_de", false},
	{"en", conceptName("en"), false},
	{"es", "livinglab_es", false},
	{"fi", conceptName("fi"), true},
	{"fr", "livinglab_fr", false},
	{"ga", conceptName("ga"), false},
	{"is", conceptName("is"), true},
	{"it", "livinglab_it", false},
	{"nl", "livinglab_nl", false},
	{"no", conceptName("no"), false},
	{"pt", "livinglab_pt", false},
	{"sv", conceptName("sv"), false},
}

// conceptBases maps the languages the glossary has terms in to their
// analysis without concept tokens (see conceptFilter).
var conceptBases = map[string]string{
	"da": "livinglab_da",
	"en": "livinglab_en",
	"fi": "livinglab_fi",
	"ga": irishAnalyzerName,
	"is": icelandicAnalyzer,
	"no": "livinglab_no",
	"sv": "livinglab_sv",
}

// foldedBleveLanguages are bleve's own analyzers that get a folding step
// appended, registered as "livinglab_" + code.
var foldedBleveLanguages = []string{"da", "de", "en", "es", "fi", "fr", "it", "nl", "no", "pt", "sv"}

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

// translationFields hold a record's translated title and summary, in the
// translation's language, weighted a little below the original's fields.
// They are not stored: hits show translations from fieldTranslations.
var translationFields = []textField{
	{"trtitle", 4},
	{"trsummary", 2.5},
}

// crossBoost weights a match in the cross-language field. A word found in a
// record's own language scores its field boost for the stem plus this for
// the exact (folded) form, so exact forms rank above other inflections.
const crossBoost = 1.0

func langField(base, code string) string { return base + "_" + code }

// searchFields returns the fields a word analysed in language code is
// looked up in: the text fields every language shares and the language's
// own translation fields, with their boosts.
func searchFields(code string) []textField {
	out := make([]textField, 0, len(textFields)+len(translationFields))
	out = append(out, textFields...)
	for _, tf := range translationFields {
		out = append(out, textField{name: langField(tf.name, code), boost: tf.boost})
	}
	return out
}

// baseField maps "body_fi" to "body" (and "body" to itself).
func baseField(f string) string {
	base, _, _ := strings.Cut(f, "_")
	return base
}

// foldFilter lowercases nothing itself; it folds a lowercased token to ASCII
// (ä→a, ø→o, ð→d, þ→th, æ→ae, ß→ss) so the cross-language fields match
// whatever diacritics a user types or omits.
type foldFilter struct {
	f *asciifolding.AsciiFoldingFilter
}

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
			a := &analysis.DefaultAnalyzer{Tokenizer: wordTokenizer}
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
	for code, l := range lexiconLanguages {
		split := code != "ga"
		must(registry.RegisterTokenFilter(lexiconFilterName(code), func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
			return newLexiconFilter(l, split)
		}))
	}
	// Cross-language fields and languages without their own analysis.
	must(registry.RegisterAnalyzer(foldAnalyzerName, chain(lowercase.Name, foldFilterName)))
	// Icelandic: no stemmer exists; fold like the cross-language fields and
	// let the stem-prefix fallback handle inflection.
	must(registry.RegisterAnalyzer(icelandicAnalyzer, chain(lowercase.Name, lexiconFilterName("is"), foldFilterName)))
	// Irish, in the order Lucene's IrishAnalyzer uses.
	must(registry.RegisterAnalyzer(irishAnalyzerName, chain(irishHyphenStopName, lowercase.Name, ga.ElisionName, ga.StopName, lexiconFilterName("ga"), irishStemFilterName, foldFilterName)))
	for _, code := range foldedBleveLanguages {
		must(registry.RegisterAnalyzer("livinglab_"+code, foldedAnalyzer(code)))
	}
	for code, base := range conceptBases {
		must(registerConceptAnalyzer(code, base))
	}
}

// defaultAnalyzerNamed returns the registered analyzer name, which must be
// a chain of a tokenizer and filters that can be extended.
func defaultAnalyzerNamed(cache *registry.Cache, name string) (*analysis.DefaultAnalyzer, error) {
	a, err := cache.AnalyzerNamed(name)
	if err != nil {
		return nil, err
	}
	da, ok := a.(*analysis.DefaultAnalyzer)
	if !ok {
		return nil, fmt.Errorf("analyzer %s is a %T", name, a)
	}
	return da, nil
}

// foldedAnalyzer wraps bleve's analyzer for a language, appending the fold
// filter after its stemmer.
func foldedAnalyzer(base string) registry.AnalyzerConstructor {
	return func(_ map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		da, err := defaultAnalyzerNamed(cache, base)
		if err != nil {
			return nil, err
		}
		fold, err := cache.TokenFilterNamed(foldFilterName)
		if err != nil {
			return nil, err
		}
		out := *da
		if _, ok := da.Tokenizer.(*unicode.UnicodeTokenizer); ok {
			out.Tokenizer = wordTokenizer
		}
		filters := append([]analysis.TokenFilter{}, da.TokenFilters...)
		if _, ok := lexiconLanguages[base]; ok && len(filters) > 0 {
			// Lemmas and compound parts go in before the stemmer, the
			// last of bleve's filters.
			lf, err := cache.TokenFilterNamed(lexiconFilterName(base))
			if err != nil {
				return nil, err
			}
			last := filters[len(filters)-1]
			filters = append(filters[:len(filters)-1], lf, last)
		}
		out.TokenFilters = append(filters, fold)
		return &out, nil
	}
}

// analyzedToken is a term with its position, as produced by an analyzer.
type analyzedToken struct {
	term string
	pos  int
	typ  analysis.TokenType
}

func analyze(a analysis.Analyzer, text string) []analyzedToken {
	ts := a.Analyze([]byte(text))
	out := make([]analyzedToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, analyzedToken{term: string(t.Term), pos: t.Position, typ: t.Type})
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
