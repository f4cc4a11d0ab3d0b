// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/anon"
)

// rawMessages reads a message file as its IDs and plural forms.
func rawMessages(t *testing.T, lang string) map[string]json.RawMessage {
	t.Helper()
	buf, err := fs.ReadFile(localeFS, "locales/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// TestCatalogueComplete fails when any interface language lacks a message
// that English has, has one English lacks, or when the templates or the
// code use a message English lacks.
func TestCatalogueComplete(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	en := c.messages["en"]
	for _, lang := range uiLangs[1:] {
		for id := range en {
			if !c.messages[lang][id] {
				t.Errorf("%s.json lacks %q", lang, id)
			}
		}
		for id := range c.messages[lang] {
			if !en[id] {
				t.Errorf("%s.json has %q, which en.json lacks", lang, id)
			}
		}
	}
	// Every message the templates and the code ask for by name.
	used := map[string]bool{}
	tmplRe := regexp.MustCompile(`\(?\b(?:t|tn|th) "([a-z0-9_.-]+)"`)
	goRe := regexp.MustCompile(`\.(?:T|N|HTML)\("([a-z0-9_.-]+)"`)
	files, _ := fs.Glob(webFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(webFS, f)
		for _, m := range tmplRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	gofiles, _ := fs.Glob(os.DirFS("."), "*.go")
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range goRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	// Messages named by a prefix and a value.
	for _, code := range flashCodes {
		used["flash."+code] = true
	}
	for _, code := range []string{"400", "403", "404", "409", "410", "429", "500"} {
		used["error.status_"+code] = true
	}
	for _, fp := range facetParams {
		used["search.facet_"+fp.name] = true
	}
	for _, f := range []string{"summary", "lessons", "body"} {
		used["search.field_"+f] = true
	}
	for _, s := range initiativeStatuses {
		used["status."+s] = true
	}
	for _, k := range knowledge.ActivityKinds {
		used["activity."+k] = true
	}
	for _, k := range []string{"stakeholders", "activities", "evaluations"} {
		used["confirm.delete_"+k] = true
	}
	for _, typ := range []string{anon.TypeEmail, anon.TypeURL, anon.TypePhone, anon.TypeIBAN, anon.TypeCard, anon.TypeIP,
		anon.TypeNationalID, anon.TypeAddress, anon.TypePostcode, anon.TypePerson, anon.TypeCount, anon.TypeAge} {
		used["redaction."+typ] = true
	}
	for n := range knowledge.DefaultStages() {
		used["stage.name."+strconv.Itoa(n+1)], used["stage.goal."+strconv.Itoa(n+1)] = true, true
	}
	for _, l := range contentLanguages {
		used["lang."+l] = true
	}
	for _, tp := range suggestedTopics {
		used["topic."+tp+".label"], used["topic."+tp+".desc"] = true, true
	}
	for id := range used {
		if strings.HasSuffix(id, ".") || strings.HasSuffix(id, "_") {
			continue // a prefix completed at run time: its values are listed above
		}
		if !en[id] {
			t.Errorf("%q is used but not in en.json", id)
		}
	}
	if len(used) < 300 {
		t.Errorf("found only %d messages in use: the scan is broken", len(used))
	}
}

// TestPluralForms fails when a language lacks a plural form its CLDR rule
// needs for some number (Irish has five, Icelandic's depend on the last
// digits).
func TestPluralForms(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	var plurals []string
	for id, raw := range rawMessages(t, "en") {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			plurals = append(plurals, id)
		}
	}
	if len(plurals) < 5 {
		t.Fatalf("only %d plural messages", len(plurals))
	}
	counts := []int{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 19, 20, 21, 22, 31, 100, 101, 111, 1000, 1000000}
	for _, lang := range uiLangs {
		for _, id := range plurals {
			for _, n := range counts {
				s, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n,
					TemplateData: map[string]any{"Count": n}})
				if err != nil || s == "" {
					t.Errorf("%s %s with %d: %q, %v", lang, id, n, s, err)
					break
				}
			}
		}
	}
}

// TestDateFormats checks each language's date layouts.
func TestDateFormats(t *testing.T) {
	u := &webUI{log: slog.New(slog.DiscardHandler)}
	for _, lang := range uiLangs {
		tr := u.translator(lang)
		for _, layout := range []string{tr.T("format.date"), tr.T("format.datetime")} {
			if !strings.Contains(layout, "2006") || !strings.ContainsAny(layout, "12") {
				t.Errorf("%s: date layout %q", lang, layout)
			}
		}
	}
}

// TestMissingMessageFallsBack: a message a language lacks is shown in
// English and logged once.
func TestMissingMessageFallsBack(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, lang := range uiLangs {
		body := `{"greet": "Hei"}`
		if lang == "en" {
			body = `{"greet": "Hello", "only.en": "Only in English {{.X}}"}`
		}
		fsys["locales/"+lang+".json"] = &fstest.MapFile{Data: []byte(body)}
	}
	c, err := newCatalogue(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var logbuf bytes.Buffer
	tr := tr{lang: "fi", c: c, log: slog.New(slog.NewTextHandler(&logbuf, nil))}
	missingReported.Delete("fi/only.en")
	if got := tr.T("greet"); got != "Hei" {
		t.Errorf("greet = %q", got)
	}
	for range 3 {
		if got := tr.T("only.en", "X", "<x>"); got != "Only in English <x>" {
			t.Errorf("only.en = %q, want the English text", got)
		}
	}
	if n := strings.Count(logbuf.String(), "only.en"); n != 1 {
		t.Errorf("the missing message was logged %d times, want once:\n%s", n, logbuf.String())
	}
	if got := tr.T("nowhere"); got != "nowhere" {
		t.Errorf("a message no language has = %q, want its ID", got)
	}
}

// TestAcceptLanguage: the interface language from the browser's header,
// English for anything unknown or unreadable.
func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                              "en",
		"fi-FI,fi;q=0.9,en;q=0.8":       "fi",
		"sv-FI":                         "sv",
		"nn-NO,nb;q=0.5":                "nn",
		"no":                            "nb",
		"da-DK":                         "da",
		"is":                            "is",
		"ga-IE,en-IE;q=0.5":             "ga",
		"de-DE,fr;q=0.9":                "en",
		"en-GB":                         "en",
		"fr-FR,de;q=0.9,sv;q=0.8":       "sv",
		"xx-invalid-tag-that-is-long;;": "en",
		"*":                             "en",
		"de;q=abc":                      "en",
	} {
		if got := acceptLanguage(h); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", h, got, want)
		}
	}
}

// TestTemplatesParseInEveryLanguage parses every page in every language.
func TestTemplatesParseInEveryLanguage(t *testing.T) {
	u := &webUI{log: slog.New(slog.DiscardHandler)}
	sets, err := u.newPageSets()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range uiLangs {
		pages, err := u.pagesIn(sets, lang)
		if err != nil || len(pages) < 15 {
			t.Errorf("%s: %d pages, %v", lang, len(pages), err)
		}
	}
	if _, err := u.pagesIn(sets, "xx"); err == nil {
		t.Error("pages of an unknown language")
	}
}
