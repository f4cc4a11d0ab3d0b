// SPDX-License-Identifier: EUPL-1.2

package web

import (
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
	TitleTr, TitleTrLang                                                string
}

type publishData struct {
	F         practiceForm
	Languages []string
	Topics    []string
	Stages    []knowledge.Stage
	Preview   *previewView
}

// previewView is what would leave, with every redaction marked.
type previewView struct {
	Fields     []previewField
	Findings   []node.GateFinding
	Candidates []node.GateCandidate
	Topics     []string
}

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
	f.TitleTr, f.TitleTrLang = g("title_tr"), g("title_tr_lang")
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
	if f.TitleTr != "" && f.TitleTrLang != "" && f.TitleTrLang != f.Language {
		in.Translations = map[string]protocol.Translation{f.TitleTrLang: {Title: f.TitleTr}}
	}
	return in
}

func (u *webUI) publishData(f practiceForm) publishData {
	topics := slices.Clone(u.n.Config().Topics)
	for _, t := range suggestedTopics {
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	return publishData{F: f, Languages: uiLanguageOrder, Topics: topics, Stages: u.stageNames()}
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
	u.render(w, r, http.StatusOK, "publish", view{Title: "Publish a practice", Nav: "publish", Data: u.publishData(f)})
}

func formOf(pv *node.PracticeView) practiceForm {
	f := practiceForm{Title: pv.Title, Summary: pv.Summary, Problem: pv.Problem, Approach: pv.Approach,
		Results: pv.Results, Resources: pv.Resources, Difficulties: pv.Difficulties, Transferability: pv.Transferability,
		Lessons: strings.Join(pv.Lessons, "\n"), Roles: strings.Join(pv.StakeholderRoles, ", "), Period: pv.Period,
		Links: strings.Join(pv.Links, "\n"), Language: pv.Language, Stage: pv.Stage, Topics: pv.Topics, Supersedes: pv.CID}
	for lang, t := range pv.Translations {
		f.TitleTr, f.TitleTrLang = t.Title, lang
		break
	}
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
		return "no"
	case "IS":
		return "is"
	case "DK":
		return "da"
	}
	return "en"
}

func (u *webUI) publishForm(w http.ResponseWriter, r *http.Request, s *session) {
	var f practiceForm
	f.read(r.PostForm)
	d := u.publishData(f)
	dry := r.PostForm.Get("action") != "publish"
	path := "/api/v1/practices"
	if dry {
		path += "?dry_run=true"
	}
	var out node.Published
	if err := u.call(r.Context(), "POST", path, f.input(), &out); err != nil {
		u.render(w, r, apiStatus(err), "publish", view{Title: "Publish a practice", Nav: "publish",
			Error: "Not published: " + apiMessage(err), Data: d})
		return
	}
	if dry {
		d.Preview = previewOf(&out.Practice, out.Report, out.Topics)
		u.render(w, r, http.StatusOK, "publish", view{Title: "Preview: " + out.Practice.Title, Nav: "publish", Data: d})
		return
	}
	u.log.Info("published from the web UI", "cid", out.CID, "user", s.User)
	http.Redirect(w, r, "/practices/"+url.PathEscape(out.CID)+"?done=published", http.StatusSeeOther)
}

// previewOf lays out the public content of a practice with every redaction
// the gate made marked up.
func previewOf(p *protocol.Practice, rep node.GateReport, topics []string) *previewView {
	pv := &previewView{Findings: rep.Findings, Candidates: rep.Candidates, Topics: topics}
	var repl []string
	for _, f := range rep.Findings {
		if f.Replacement != "" && !slices.Contains(repl, f.Replacement) {
			repl = append(repl, f.Replacement)
		}
	}
	sort.Slice(repl, func(i, j int) bool { return len(repl[i]) > len(repl[j]) })
	add := func(label, text string) {
		if strings.TrimSpace(text) != "" {
			pv.Fields = append(pv.Fields, previewField{Label: label, HTML: markRedactions(text, repl)})
		}
	}
	add("Title", p.Title)
	add("Summary", p.Summary)
	add("Problem addressed", p.Problem)
	add("Approach", p.Approach)
	add("Stakeholder roles", strings.Join(p.StakeholderRoles, ", "))
	add("Results and evidence", p.Results)
	add("Resources needed", p.Resources)
	add("Difficulties", p.Difficulties)
	add("Lessons learnt", strings.Join(p.Lessons, "\n"))
	add("Transferability", p.Transferability)
	add("Period", p.Period)
	add("Links", strings.Join(p.Links, "\n"))
	for lang, t := range p.Translations {
		add("Title ("+languageName(lang)+")", t.Title)
		add("Summary ("+languageName(lang)+")", t.Summary)
	}
	return pv
}

// markRedactions escapes text and wraps each redaction placeholder in a
// highlighted element.
func markRedactions(text string, repl []string) template.HTML {
	var b strings.Builder
	for len(text) > 0 {
		at, which := -1, ""
		for _, r := range repl {
			if i := strings.Index(text, r); i >= 0 && (at < 0 || i < at) {
				at, which = i, r
			}
		}
		if at < 0 {
			b.WriteString(template.HTMLEscapeString(text))
			break
		}
		b.WriteString(template.HTMLEscapeString(text[:at]))
		fmt.Fprintf(&b, `<mark class="redaction" title="removed by the anonymisation gate">%s</mark>`, template.HTMLEscapeString(which))
		text = text[at+len(which):]
	}
	return template.HTML(b.String())
}
