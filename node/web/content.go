// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"strings"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// practiceItem is a practice as lists show it: in the reader's language
// when the author translated it, with the original beside it.
type practiceItem struct {
	*node.PracticeView
	ShownTitle, ShownSummary, ShownLang string
	Translated                          bool // ShownTitle is a translation
}

// baseLang reduces a language code to the language ("nb-NO" -> "nb").
func baseLang(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	return code
}

// readerLangs are the languages a reader of the interface language lang
// takes a translation in, best first: the language itself (Norwegian
// readers take Bokmål, Nynorsk and "no" alike), then English as the bridge
// between the regions.
func readerLangs(lang string) []string {
	out := []string{lang}
	switch lang {
	case "nb":
		out = append(out, "no", "nn")
	case "nn":
		out = append(out, "no", "nb")
	}
	if lang != "en" {
		out = append(out, "en")
	}
	return out
}

// readable tells whether a text in language code needs no translation for
// a reader of lang.
func readable(code, lang string) bool {
	code = baseLang(code)
	if code == lang {
		return true
	}
	no := map[string]bool{"no": true, "nb": true, "nn": true}
	return no[code] && no[lang]
}

// localised picks the title and summary a reader of lang sees: the
// original when it is in a language the reader reads, else the author's
// translation into the reader's language, else into English.
func localised(p protocol.Practice, lang string) (title, summary, shown string, translated bool) {
	if readable(p.Language, lang) {
		return p.Title, p.Summary, p.Language, false
	}
	for _, want := range readerLangs(lang) {
		for code, t := range p.Translations {
			if baseLang(code) == want && strings.TrimSpace(t.Title) != "" {
				summary := t.Summary
				if strings.TrimSpace(summary) == "" {
					summary = p.Summary
				}
				return t.Title, summary, code, true
			}
		}
	}
	return p.Title, p.Summary, p.Language, false
}

func itemOf(pv *node.PracticeView, lang string) practiceItem {
	it := practiceItem{PracticeView: pv}
	it.ShownTitle, it.ShownSummary, it.ShownLang, it.Translated = localised(pv.Practice, lang)
	return it
}

func itemsOf(views []*node.PracticeView, lang string) []practiceItem {
	out := make([]practiceItem, 0, len(views))
	for _, pv := range views {
		out = append(out, itemOf(pv, lang))
	}
	return out
}
