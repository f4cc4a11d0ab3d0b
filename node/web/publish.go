// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// ---- publishing a practice directly ----

// practiceForm is the publish form's fields, as typed.
type practiceForm struct {
	Title, Summary, Problem, Approach, Results, Resources, Difficulties string
	Transferability, Lessons, Roles, Period, Links, Language            string
	Stage                                                               int
	Topics                                                              []string
	OtherTopic                                                          string
	Supersedes                                                          string
	Translations                                                        []translationSlot
}

// translationSlot is one translation of the title and summary on the form.
type translationSlot struct{ Lang, Title, Summary string }

// topicChecks is the data of the topic check boxes.
type topicChecks struct {
	Topics, Selected []string
	Prefix           string
}

type publishData struct {
	F           practiceForm
	Languages   []string
	Stages      []knowledge.Stage
	TopicChecks topicChecks
	Preview     *previewView
	Hash        string        // fingerprint of the previewed content
	Hidden      []hiddenField // the form's values, carried by the approval form
}

// previewView is what would leave, with every redaction marked.
type previewView struct {
	Fields      []previewField
	Findings    []node.GateFinding
	Rows        []findingRow
	Candidates  []node.GateCandidate
	Topics      []string
	TopicLabels string
}

// findingRow is one redaction as the preview's table shows it.
type findingRow struct{ Field, What, Replacement string }

type previewField struct {
	Label string
	HTML  template.HTML
}

func (f *practiceForm) read(v url.Values) {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f.Title, f.Summary, f.Problem, f.Approach = g("title"), g("summary"), g("problem"), g("approach")
	f.Results, f.Resources, f.Difficulties, f.Transferability = g("results"), g("resources"), g("difficulties"), g("transferability")
	f.Lessons, f.Roles, f.Period, f.Links, f.Language = g("lessons"), g("roles"), g("period"), g("links"), g("language")
	f.Stage, _ = strconv.Atoi(g("stage"))
	f.Topics = formValues(v, "topic")
	f.OtherTopic = g("other_topic")
	f.Supersedes = g("supersedes")
	langs, titles, summaries := v["tr_lang"], v["tr_title"], v["tr_summary"]
	for i := range max(len(langs), len(titles), len(summaries)) {
		at := func(l []string) string {
			if i < len(l) {
				return strings.TrimSpace(l[i])
			}
			return ""
		}
		if sl := (translationSlot{Lang: at(langs), Title: at(titles), Summary: at(summaries)}); sl != (translationSlot{}) {
			f.Translations = append(f.Translations, sl)
		}
	}
	if t := g("title_tr"); t != "" { // the form's earlier single title translation
		f.Translations = append(f.Translations, translationSlot{Lang: g("title_tr_lang"), Title: t})
	}
}

// withSlots returns the translations with empty slots to fill, at least two.
func withSlots(tr []translationSlot) []translationSlot {
	out := slices.Clone(tr)
	for len(out) < 2 || out[len(out)-1] != (translationSlot{}) {
		out = append(out, translationSlot{})
		if len(out) > 8 {
			break
		}
	}
	return out
}

// fields returns the form's values for hidden inputs.
func (f *practiceForm) fields() []hiddenField {
	out := []hiddenField{{"title", f.Title}, {"summary", f.Summary}, {"problem", f.Problem}, {"approach", f.Approach},
		{"results", f.Results}, {"resources", f.Resources}, {"difficulties", f.Difficulties},
		{"transferability", f.Transferability}, {"lessons", f.Lessons}, {"roles", f.Roles}, {"period", f.Period},
		{"links", f.Links}, {"language", f.Language}, {"stage", strconv.Itoa(f.Stage)}, {"other_topic", f.OtherTopic},
		{"supersedes", f.Supersedes}}
	for _, t := range f.Topics {
		out = append(out, hiddenField{"topic", t})
	}
	for _, t := range f.Translations {
		out = append(out, hiddenField{"tr_lang", t.Lang}, hiddenField{"tr_title", t.Title}, hiddenField{"tr_summary", t.Summary})
	}
	return out
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (f *practiceForm) input() node.PracticeInput {
	topics := slices.Clone(f.Topics)
	for _, t := range strings.FieldsFunc(f.OtherTopic, func(r rune) bool { return r == ',' || r == ' ' }) {
		topics = append(topics, strings.ToLower(t))
	}
	roles := splitLines(strings.ReplaceAll(f.Roles, ",", "\n"))
	in := node.PracticeInput{Topics: topics, Practice: protocol.Practice{Title: f.Title, Summary: f.Summary, Problem: f.Problem,
		Approach: f.Approach, Results: f.Results, Resources: f.Resources, Difficulties: f.Difficulties,
		Transferability: f.Transferability, Lessons: splitLines(f.Lessons), StakeholderRoles: roles,
		Period: f.Period, Links: splitLines(f.Links), Language: f.Language, Stage: f.Stage, Supersedes: f.Supersedes}}
	for _, t := range f.Translations {
		if t.Lang == "" || t.Lang == f.Language || (t.Title == "" && t.Summary == "") {
			continue
		}
		if in.Translations == nil {
			in.Translations = map[string]protocol.Translation{}
		}
		in.Translations[t.Lang] = protocol.Translation{Title: t.Title, Summary: t.Summary}
	}
	return in
}

// checkTranslations finds translation slots that cannot be kept.
func (f *practiceForm) checkTranslations(tr tr) string {
	for _, t := range f.Translations {
		switch {
		case t.Lang == "" && (t.Title != "" || t.Summary != ""):
			return tr.T("publish.tr_no_language")
		case t.Lang != "" && t.Title == "":
			return tr.T("publish.tr_no_title", "Lang", tr.langName(t.Lang))
		case t.Lang != "" && t.Lang == f.Language:
			return tr.T("publish.tr_same_language")
		}
	}
	return ""
}

func (u *webUI) publishData(f practiceForm) publishData {
	f.Translations = withSlots(f.Translations)
	return publishData{F: f, Languages: contentLanguages, Stages: u.stageNames(),
		TopicChecks: topicChecks{Topics: u.topicSlugs(nil), Selected: f.Topics, Prefix: "p"}}
}

func (u *webUI) publishPage(w http.ResponseWriter, r *http.Request, s *session) {
	f := practiceForm{Language: defaultLanguage(u.n.Config().Country)}
	if sup := r.URL.Query().Get("supersedes"); sup != "" {
		if c, err := cid.Decode(sup); err == nil {
			if rec, err := u.n.Record(c); err == nil && rec.Record.Author == u.self {
				if pv, err := u.n.ViewPractice(rec); err == nil {
					f = formOf(pv)
				}
			}
		}
	}
	u.render(w, r, http.StatusOK, "publish", view{Title: u.tr(r).T("publish.heading"), Nav: "publish", Data: u.publishData(f)})
}

func formOf(pv *node.PracticeView) practiceForm {
	f := practiceForm{Title: pv.Title, Summary: pv.Summary, Problem: pv.Problem, Approach: pv.Approach,
		Results: pv.Results, Resources: pv.Resources, Difficulties: pv.Difficulties, Transferability: pv.Transferability,
		Lessons: strings.Join(pv.Lessons, "\n"), Roles: strings.Join(pv.StakeholderRoles, ", "), Period: pv.Period,
		Links: strings.Join(pv.Links, "\n"), Language: pv.Language, Stage: pv.Stage, Topics: pv.Topics, Supersedes: pv.CID}
	for lang, t := range pv.Translations {
		f.Translations = append(f.Translations, translationSlot{Lang: lang, Title: t.Title, Summary: t.Summary})
	}
	sort.Slice(f.Translations, func(i, j int) bool { return f.Translations[i].Lang < f.Translations[j].Lang })
	return f
}

// defaultLanguage guesses the first language of a region from its country.
func defaultLanguage(country string) string {
	switch country {
	case "FI":
		return "fi"
	case "SE":
		return "sv"
	case "NO":
		return "nb"
	case "IS":
		return "is"
	case "DK":
		return "da"
	}
	return "en"
}

// previewHash is the fingerprint of what a preview showed: the public
// content exactly as it would leave, and its topics.
func previewHash(p *protocol.Practice, topics []string) string {
	b, _ := json.Marshal(struct {
		P      *protocol.Practice `json:"p"`
		Topics []string           `json:"t"`
	}{p, topics})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// publishForm is the one path from the form to the network: "preview"
// shows exactly what would leave with a fingerprint; "publish" publishes
// only when the content would still be exactly what was previewed and
// approved, else it shows the new preview.
func (u *webUI) publishForm(w http.ResponseWriter, r *http.Request, s *session) {
	tr := u.tr(r)
	var f practiceForm
	f.read(r.PostForm)
	d := u.publishData(f)
	title := tr.T("publish.heading")
	if msg := f.checkTranslations(tr); msg != "" {
		u.render(w, r, http.StatusBadRequest, "publish", view{Title: title, Nav: "publish", Error: msg, Data: d})
		return
	}
	var out node.Published
	if err := u.call(r.Context(), "POST", "/api/v1/practices?dry_run=true", f.input(), &out); err != nil {
		u.render(w, r, apiStatus(err), "publish", view{Title: title, Nav: "publish",
			Error: tr.T("publish.not_published", "Reason", apiMessage(err)), Data: d})
		return
	}
	hash := previewHash(&out.Practice, out.Topics)
	showPreview := func(status int, errMsg string) {
		d.Preview = u.previewOf(tr, &out.Practice, out.Report, out.Topics)
		d.Hash, d.Hidden = hash, f.fields()
		u.render(w, r, status, "publish", view{Title: tr.T("publish.preview_title", "Title", out.Practice.Title), Nav: "publish",
			Error: errMsg, Data: d})
	}
	if r.PostForm.Get("action") != "publish" {
		showPreview(http.StatusOK, "")
		return
	}
	if posted := r.PostForm.Get("hash"); posted == "" || !tokensEqual(posted, hash) {
		showPreview(http.StatusConflict, tr.T("publish.changed"))
		return
	}
	if err := u.call(r.Context(), "POST", "/api/v1/practices", f.input(), &out); err != nil {
		u.render(w, r, apiStatus(err), "publish", view{Title: title, Nav: "publish",
			Error: tr.T("publish.not_published", "Reason", apiMessage(err)), Data: d})
		return
	}
	u.log.Info("published from the web UI", "cid", out.CID, "user", s.User)
	http.Redirect(w, r, "/practices/"+url.PathEscape(out.CID)+"?done=published", http.StatusSeeOther)
}

// previewOf lays out the public content of a practice with every redaction
// the gate made marked up.
func (u *webUI) previewOf(tr tr, p *protocol.Practice, rep node.GateReport, topics []string) *previewView {
	pv := &previewView{Findings: rep.Findings, Candidates: rep.Candidates, Topics: topics}
	var labels []string
	for _, t := range topics {
		labels = append(labels, tr.topicLabel(t))
	}
	pv.TopicLabels = strings.Join(labels, ", ")
	what := func(typ string) string {
		if tr.c != nil && tr.c.messages["en"]["redaction."+typ] {
			return tr.T("redaction." + typ)
		}
		return typ
	}
	fieldLabel := func(f string) string {
		if tr.c != nil && tr.c.messages["en"]["field."+f] {
			return tr.T("field." + f)
		}
		return f
	}
	repl := map[string]string{} // placeholder -> what it replaced, for its title
	for _, f := range rep.Findings {
		if f.Replacement != "" {
			if _, ok := repl[f.Replacement]; !ok {
				repl[f.Replacement] = tr.T("redaction.title", "What", what(f.Type))
			}
		}
		pv.Rows = append(pv.Rows, findingRow{Field: fieldLabel(f.Field), What: what(f.Type), Replacement: f.Replacement})
	}
	add := func(label, text string) {
		if strings.TrimSpace(text) != "" {
			pv.Fields = append(pv.Fields, previewField{Label: label, HTML: markRedactions(text, repl)})
		}
	}
	add(tr.T("form.title"), p.Title)
	add(tr.T("field.summary"), p.Summary)
	add(tr.T("field.problem"), p.Problem)
	add(tr.T("field.approach"), p.Approach)
	add(tr.T("field.roles"), strings.Join(p.StakeholderRoles, ", "))
	add(tr.T("field.results"), p.Results)
	add(tr.T("field.resources"), p.Resources)
	add(tr.T("field.difficulties"), p.Difficulties)
	add(tr.T("field.lessons"), strings.Join(p.Lessons, "\n"))
	add(tr.T("field.transferability"), p.Transferability)
	add(tr.T("field.period"), p.Period)
	add(tr.T("field.links"), strings.Join(p.Links, "\n"))
	langs := make([]string, 0, len(p.Translations))
	for lang := range p.Translations {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		t := p.Translations[lang]
		add(tr.T("preview.tr_title", "Lang", tr.langName(lang)), t.Title)
		add(tr.T("preview.tr_summary", "Lang", tr.langName(lang)), t.Summary)
	}
	return pv
}

// markRedactions escapes text and wraps each redaction placeholder in a
// highlighted element whose title says what was removed.
func markRedactions(text string, repl map[string]string) template.HTML {
	keys := make([]string, 0, len(repl))
	for k := range repl {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return len(keys[i]) > len(keys[j]) || len(keys[i]) == len(keys[j]) && keys[i] < keys[j]
	})
	var b strings.Builder
	for len(text) > 0 {
		at, which := -1, ""
		for _, r := range keys {
			if i := strings.Index(text, r); i >= 0 && (at < 0 || i < at) {
				at, which = i, r
			}
		}
		if at < 0 {
			b.WriteString(template.HTMLEscapeString(text))
			break
		}
		b.WriteString(template.HTMLEscapeString(text[:at]))
		fmt.Fprintf(&b, `<mark class="redaction" title="%s">%s</mark>`, template.HTMLEscapeString(repl[which]), template.HTMLEscapeString(which))
		text = text[at+len(which):]
	}
	return template.HTML(b.String())
}
