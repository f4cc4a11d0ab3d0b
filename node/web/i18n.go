// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/livinglab/livinglab/knowledge"
)

// The interface speaks the languages of the federation's regions. Its
// messages live in locales/<lang>.json, one file per language in go-i18n's
// format (a plain string, or the CLDR plural forms "one", "two", "few",
// "many", "other"); English is the fallback for a message a language lacks.

//go:embed locales/*.json
var localeFS embed.FS

// uiLangs are the interface languages, English (the fallback) first.
var uiLangs = []string{"en", "fi", "sv", "nb", "nn", "da", "is", "ga"}

// langCookie keeps the language chosen with the switcher.
const langCookie = "livinglab_lang"

// catalogue is the interface's message files. Every file is parsed at
// start, so that a broken one fails there, but a language's messages are
// kept parsed only once a page is shown in it: all eight languages' parsed
// messages take about 5 MB, and most nodes use one or two.
type catalogue struct {
	fsys     fs.FS
	langs    map[string]*langMessages
	printer  map[string]*message.Printer
	matcher  language.Matcher
	messages map[string]map[string]bool // language -> message IDs its file defines
}

// langMessages is one language's localizer, made on first use.
type langMessages struct {
	once sync.Once
	loc  *i18n.Localizer
}

var loadCatalogue = sync.OnceValues(func() (*catalogue, error) { return newCatalogue(localeFS) })

// newCatalogue reads locales/<lang>.json of every interface language.
func newCatalogue(fsys fs.FS) (*catalogue, error) {
	c := &catalogue{fsys: fsys, langs: map[string]*langMessages{}, printer: map[string]*message.Printer{},
		messages: map[string]map[string]bool{}}
	var tags []language.Tag
	for _, lang := range uiLangs {
		mf, err := parseMessages(i18n.NewBundle(language.English), fsys, lang)
		if err != nil {
			return nil, err
		}
		ids := map[string]bool{}
		for _, m := range mf.Messages {
			ids[m.ID] = true
		}
		c.messages[lang] = ids
		c.langs[lang] = &langMessages{}
		tag := language.Make(lang)
		c.printer[lang] = message.NewPrinter(tag)
		tags = append(tags, tag)
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// parseMessages adds lang's message file to b.
func parseMessages(b *i18n.Bundle, fsys fs.FS, lang string) (*i18n.MessageFile, error) {
	name := "locales/" + lang + ".json"
	buf, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("message file of %s: %w", lang, err)
	}
	mf, err := b.ParseMessageFileBytes(buf, path.Base(name))
	if err != nil {
		return nil, fmt.Errorf("message file of %s: %w", lang, err)
	}
	return mf, nil
}

// localizer returns the localizer of an interface language (English for
// one the interface does not speak), with English as its fallback.
func (c *catalogue) localizer(lang string) *i18n.Localizer {
	lm, ok := c.langs[lang]
	if !ok {
		lang, lm = "en", c.langs["en"]
	}
	lm.once.Do(func() {
		b := i18n.NewBundle(language.English)
		files := []string{"en"}
		if lang != "en" {
			files = append(files, lang)
		}
		for _, l := range files {
			// The files parsed at start: reading them again fails only if
			// the data changed under the running process.
			if _, err := parseMessages(b, c.fsys, l); err != nil {
				slog.Error("web UI messages cannot be read again", "lang", l, "err", err)
			}
		}
		lm.loc = i18n.NewLocalizer(b, lang)
	})
	return lm.loc
}

// missingReported remembers the missing messages already logged, so that
// each is reported once.
var missingReported sync.Map // "lang/id" -> struct{}

// tr translates into one language.
type tr struct {
	lang string
	c    *catalogue
	log  *slog.Logger
}

func (u *webUI) translator(lang string) tr {
	c, _ := loadCatalogue()
	return tr{lang: lang, c: c, log: u.log}
}

// data turns name/value pairs into a message's template data.
func data(args []any) map[string]any {
	if len(args) == 0 {
		return nil
	}
	m := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		m[k] = args[i+1]
	}
	return m
}

func (t tr) localize(id string, count any, args []any) string {
	if t.c == nil {
		return id
	}
	lc := &i18n.LocalizeConfig{MessageID: id, TemplateData: data(args), PluralCount: count}
	if count != nil {
		d, _ := lc.TemplateData.(map[string]any)
		if d == nil {
			d = map[string]any{}
		}
		if _, ok := d["Count"]; !ok {
			d["Count"] = t.num(count)
		}
		lc.TemplateData = d
	}
	s, err := t.c.localizer(t.lang).Localize(lc)
	if err != nil {
		if _, done := missingReported.LoadOrStore(t.lang+"/"+id, struct{}{}); !done && t.log != nil {
			var nf *i18n.MessageNotFoundErr
			if errors.As(err, &nf) {
				t.log.Warn("web UI message missing; English shown instead", "lang", t.lang, "id", id)
			} else {
				t.log.Warn("web UI message could not be formatted", "lang", t.lang, "id", id, "err", err)
			}
		}
		if s == "" {
			return id
		}
	}
	return s
}

// T returns the message id with the name/value pairs args.
func (t tr) T(id string, args ...any) string { return t.localize(id, nil, args) }

// N returns the message id in the plural form for count, which is also
// the message's {{.Count}}, formatted for the language.
func (t tr) N(id string, count int, args ...any) string { return t.localize(id, count, args) }

// HTML returns a message that contains markup. The message files are the
// project's own; every argument is escaped.
func (t tr) HTML(id string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		if i%2 == 1 {
			if h, ok := a.(template.HTML); ok {
				esc[i] = string(h)
			} else {
				esc[i] = template.HTMLEscapeString(fmt.Sprint(a))
			}
		} else {
			esc[i] = a
		}
	}
	return template.HTML(t.localize(id, nil, esc))
}

// num formats a number for the language (digit grouping).
func (t tr) num(n any) string {
	if t.c == nil {
		return fmt.Sprint(n)
	}
	p := t.c.printer[t.lang]
	if p == nil {
		return fmt.Sprint(n)
	}
	return p.Sprint(n)
}

// date formats a time with the language's date layout.
func (t tr) date(tm time.Time) string {
	if tm.IsZero() {
		return "–"
	}
	return tm.Local().Format(t.T("format.date"))
}

// datetime formats a time with the language's date and time layout.
func (t tr) datetime(tm time.Time) string {
	if tm.IsZero() {
		return "–"
	}
	return tm.Local().Format(t.T("format.datetime"))
}

// ago says how long ago a time was.
func (t tr) ago(tm time.Time) string {
	if tm.IsZero() {
		return t.T("time.never")
	}
	d := time.Since(tm).Round(time.Second)
	switch {
	case d < time.Minute:
		return t.N("time.seconds_ago", int(d.Seconds()))
	case d < time.Hour:
		return t.N("time.minutes_ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return t.N("time.hours_ago", int(d.Hours()))
	}
	return t.date(tm)
}

// langName names a content language in the interface language.
func (t tr) langName(code string) string {
	if code == "" {
		return "–"
	}
	if t.c != nil && t.c.messages["en"]["lang."+code] {
		return t.T("lang." + code)
	}
	return code
}

// stageName names a methodology stage in the language when it is one of
// the default stages; a lab's own stage names are shown as written.
func (t tr) stageName(st knowledge.Stage) string {
	if t.isDefaultStage(st) {
		return t.T("stage.name." + strconv.Itoa(st.Number))
	}
	return st.Name
}

// stageGoal is the goal of a stage, like stageName.
func (t tr) stageGoal(st knowledge.Stage) string {
	if t.isDefaultStage(st) {
		return t.T("stage.goal." + strconv.Itoa(st.Number))
	}
	return st.Goal
}

func (t tr) isDefaultStage(st knowledge.Stage) bool {
	def := knowledge.DefaultStages()
	return st.Number >= 1 && st.Number <= len(def) && def[st.Number-1].Name == st.Name
}

// funcs are the template functions of one interface language.
func (t tr) funcs() template.FuncMap {
	return template.FuncMap{
		"t":  t.T,
		"tn": t.N,
		"th": t.HTML,
		"num": func(n any) string {
			return t.num(n)
		},
		"date":      t.datetime,
		"day":       t.date,
		"ago":       t.ago,
		"langname":  t.langName,
		"stagename": t.stageName,
		"stagegoal": t.stageGoal,
		"stagenameof": func(n int, stages []knowledge.Stage) string {
			for _, st := range stages {
				if st.Number == n {
					return t.stageName(st)
				}
			}
			return ""
		},
		"endonym": endonym,
		"uilangs": func() []string { return uiLangs },
		"topicname": func(slug string) string {
			return t.topicLabel(slug)
		},
		"topicdesc": func(slug string) string {
			if t.c != nil && t.c.messages["en"]["topic."+slug+".desc"] {
				return t.T("topic." + slug + ".desc")
			}
			return ""
		},
	}
}

// topicLabel names a topic channel for people: the catalogue's label of a
// common topic, else its slug with spaces.
func (t tr) topicLabel(slug string) string {
	if t.c != nil && t.c.messages["en"]["topic."+slug+".label"] {
		return t.T("topic." + slug + ".label")
	}
	return strings.ReplaceAll(slug, "-", " ")
}

// endonym names an interface language in itself, for the switcher.
func endonym(code string) string {
	switch code {
	case "en":
		return "English"
	case "fi":
		return "suomi"
	case "sv":
		return "svenska"
	case "nb":
		return "norsk bokmål"
	case "nn":
		return "norsk nynorsk"
	case "da":
		return "dansk"
	case "is":
		return "íslenska"
	case "ga":
		return "Gaeilge"
	}
	return code
}

// supportedLang returns code if it is an interface language.
func supportedLang(code string) (string, bool) {
	for _, l := range uiLangs {
		if l == code {
			return l, true
		}
	}
	return "", false
}

// acceptLanguage picks the interface language from an Accept-Language
// header: the best match, or English when nothing matches or the header
// cannot be read.
func acceptLanguage(header string) string {
	c, err := loadCatalogue()
	if err != nil || strings.TrimSpace(header) == "" {
		return "en"
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No || i < 0 || i >= len(uiLangs) {
		return "en"
	}
	return uiLangs[i]
}

// langOf chooses the interface language of a request: the signed-in
// account's preference, then the switcher's cookie, then the browser's
// Accept-Language, then English.
func (u *webUI) langOf(r *http.Request) string {
	if s := u.session(r); s != nil {
		if l, ok := supportedLang(u.prefs.get(s.User).Lang); ok {
			return l
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := supportedLang(c.Value); ok {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// tr returns the translator of the request's language.
func (u *webUI) tr(r *http.Request) tr { return u.translator(u.langOf(r)) }

// setLanguage is the switcher: it keeps the choice in a cookie and, for a
// signed-in account whose form carries the session's CSRF token, as the
// account's preference.
func (u *webUI) setLanguage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, http.StatusBadRequest, u.tr(r).T("error.form_unreadable"))
		return
	}
	lang, ok := supportedLang(r.PostForm.Get("lang"))
	if !ok {
		u.errorPage(w, r, http.StatusBadRequest, u.tr(r).T("error.unknown_language"))
		return
	}
	if s := u.session(r); s != nil {
		if !tokensEqual(r.PostForm.Get("csrf"), s.CSRF) {
			u.errorPage(w, r, http.StatusForbidden, u.tr(r).T("error.csrf"))
			return
		}
		if err := u.prefs.update(s.User, func(p *userPrefs) { p.Lang = lang }); err != nil {
			u.log.Error("save the interface language", "user", s.User, "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}
