// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"strings"
	"sync"
	"unicode"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// detectLanguages are the languages DetectLanguage chooses from, with the
// lexicon that knows their words.
var detectLanguages = []struct {
	code string
	lang lexicon.Lang
}{
	{"en", lexicon.English}, {"fi", lexicon.Finnish}, {"sv", lexicon.Swedish}, {"no", lexicon.Norwegian},
	{"da", lexicon.Danish}, {"is", lexicon.Icelandic}, {"ga", lexicon.Irish},
}

var (
	detectOnce sync.Once
	detectLex  map[string]*lexicon.Lexicon
)

func detectLexicons() map[string]*lexicon.Lexicon {
	detectOnce.Do(func() {
		detectLex = map[string]*lexicon.Lexicon{}
		for _, d := range detectLanguages {
			if lx, err := lexicon.Load(d.lang); err == nil {
				detectLex[d.code] = lx
			}
		}
	})
	return detectLex
}

// letterHints are letters that occur in some of the languages only.
var letterHints = map[rune][]string{
	'ð': {"is"}, 'þ': {"is"}, 'æ': {"no", "da", "is"}, 'ø': {"no", "da"}, 'å': {"sv", "no", "da"},
	'ä': {"fi", "sv"}, 'ö': {"fi", "sv", "is"}, 'á': {"is", "ga"}, 'í': {"is", "ga"}, 'ó': {"is", "ga"},
	'ú': {"is", "ga"}, 'é': {"is", "ga"}, 'ý': {"is"},
}

// DetectLanguage guesses the language of a query: the language whose
// dictionary knows most of its words, letters only some languages use
// counting too. It returns "" when no language stands out ("app", a place
// name). "no" stands for Norwegian Bokmål and Nynorsk.
func DetectLanguage(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) == 0 {
		return ""
	}
	score := map[string]float64{}
	for _, w := range words {
		for _, r := range w {
			for _, c := range letterHints[r] {
				score[c] += 0.5
			}
		}
		if len([]rune(w)) < 2 {
			continue
		}
		for code, lx := range detectLexicons() {
			if lx.Known(w) {
				score[code]++
			}
		}
	}
	best, second := "", 0.0
	for _, d := range detectLanguages {
		s := score[d.code]
		switch {
		case best == "" || s > score[best]:
			second = score[best]
			best = d.code
		case s > second:
			second = s
		}
	}
	if score[best] == 0 || score[best] == second {
		return ""
	}
	return best
}
