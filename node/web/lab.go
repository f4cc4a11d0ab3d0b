// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/livinglab/livinglab/knowledge"
)

// The lab pages drive the node's own lab and draft API in-process, with the
// API token, so that the browser and programs share one implementation of
// every rule (validation, approval hashes, the publish path).

func (u *webUI) mountLab(mux *http.ServeMux) {
	u.api = mux
	mux.HandleFunc("GET /lab", u.page(u.labPage))
	mux.HandleFunc("POST /lab/initiatives", u.form(u.createInitiative))
	mux.HandleFunc("GET /lab/initiatives/{id}", u.page(u.initiativePage))
	mux.HandleFunc("POST /lab/initiatives/{id}", u.form(u.updateInitiative))
	mux.HandleFunc("POST /lab/initiatives/{id}/delete", u.form(u.deleteInitiative))
	mux.HandleFunc("POST /lab/initiatives/{id}/stakeholders", u.form(u.addStakeholder))
	mux.HandleFunc("POST /lab/initiatives/{id}/activities", u.form(u.addActivity))
	mux.HandleFunc("POST /lab/initiatives/{id}/evaluations", u.form(u.addEvaluation))
	mux.HandleFunc("POST /lab/initiatives/{id}/draft", u.form(u.createDraft))
	mux.HandleFunc("POST /lab/{kind}/{id}/delete", u.form(u.deleteLabEntity))
	mux.HandleFunc("GET /drafts", u.page(u.draftsPage))
	mux.HandleFunc("GET /drafts/{id}", u.page(u.draftPage))
	mux.HandleFunc("POST /drafts/{id}", u.form(u.saveDraft))
	mux.HandleFunc("POST /drafts/{id}/preview", u.form(u.previewDraftForm))
	mux.HandleFunc("POST /drafts/{id}/approve", u.form(u.approveDraft))
	mux.HandleFunc("POST /drafts/{id}/publish", u.form(u.publishDraft))
	mux.HandleFunc("POST /drafts/{id}/delete", u.form(u.deleteDraft))
}

// ---- stage progress ----

type stageView struct {
	Stage int
	Name  string
	Names []knowledge.Stage
}

func (u *webUI) stageOf(n int) stageView {
	names := u.stageNames()
	sv := stageView{Stage: n, Names: names}
	if n >= 1 && n <= len(names) {
		sv.Name = names[n-1].Name
	}
	return sv
}

// ---- initiatives ----

type initiativeRow struct {
	knowledge.Initiative
	StageV stageView
}

type labData struct {
	Initiatives []initiativeRow
	Form        initiativeForm
	Stages      []knowledge.Stage
	Languages   []string
	Topics      []string
	Statuses    []string
}

// initiativeForm is an initiative as the form holds it.
type initiativeForm struct {
	Title, Service, Description, Started, Ended, Status, Language, OtherTopic string
	Stage                                                                     int
	Topics                                                                    []string
}

func (f *initiativeForm) read(v url.Values) {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f.Title, f.Service, f.Description, f.Started, f.Ended = g("title"), g("service"), g("description"), g("started"), g("ended")
	f.Status, f.Language, f.OtherTopic = g("status"), g("language"), g("other_topic")
	f.Stage, _ = strconv.Atoi(g("stage"))
	f.Topics = formValues(v, "topic")
}

func (f *initiativeForm) json() map[string]any {
	topics := slices.Clone(f.Topics)
	for _, t := range strings.FieldsFunc(f.OtherTopic, func(r rune) bool { return r == ',' || r == ' ' }) {
		if t = strings.ToLower(t); !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	if topics == nil {
		topics = []string{}
	}
	return map[string]any{"title": f.Title, "service": f.Service, "description": f.Description, "topics": topics,
		"stage": f.Stage, "started": f.Started, "ended": f.Ended, "status": f.Status, "language": f.Language}
}

func initiativeFormOf(i knowledge.Initiative) initiativeForm {
	return initiativeForm{Title: i.Title, Service: i.Service, Description: i.Description, Started: i.Started, Ended: i.Ended,
		Status: i.Status, Language: i.Language, Stage: i.Stage, Topics: i.Topics}
}

var initiativeStatuses = []string{knowledge.StatusPlanned, knowledge.StatusActive, knowledge.StatusPaused, knowledge.StatusCompleted}

// topicSlugs lists the topics a form offers: the node's own, the suggested
// ones and those in have, each once.
func (u *webUI) topicSlugs(have []string) []string {
	out := slices.Clone(u.n.Config().Topics)
	for _, t := range append(slices.Clone(suggestedTopics), have...) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (u *webUI) labPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderLab(w, r, http.StatusOK, "", initiativeForm{Language: defaultLanguage(u.n.Config().Country), Stage: 1})
}

func (u *webUI) renderLab(w http.ResponseWriter, r *http.Request, status int, errMsg string, f initiativeForm) {
	d := labData{Form: f, Stages: u.stageNames(), Languages: contentLanguages, Topics: u.topicSlugs(f.Topics), Statuses: initiativeStatuses}
	var list []knowledge.Initiative
	if err := u.call(r.Context(), "GET", "/api/v1/lab/initiatives", nil, &list); err != nil {
		status, errMsg = apiStatus(err), u.tr(r).T("lab.unreadable", "Reason", apiMessage(err))
	}
	for _, i := range list {
		d.Initiatives = append(d.Initiatives, initiativeRow{Initiative: i, StageV: u.stageOf(i.Stage)})
	}
	u.render(w, r, status, "lab", view{Title: u.tr(r).T("nav.lab"), Nav: "lab", Error: errMsg, Data: d})
}

func (u *webUI) createInitiative(w http.ResponseWriter, r *http.Request, s *session) {
	var f initiativeForm
	f.read(r.PostForm)
	var out knowledge.Initiative
	if err := u.call(r.Context(), "POST", "/api/v1/lab/initiatives", f.json(), &out); err != nil {
		u.renderLab(w, r, apiStatus(err), u.tr(r).T("lab.not_saved", "Reason", apiMessage(err)), f)
		return
	}
	http.Redirect(w, r, "/lab/initiatives/"+url.PathEscape(out.ID)+"?done=saved", http.StatusSeeOther)
}

type initiativeData struct {
	I             knowledge.Initiative
	StageV        stageView
	Form          initiativeForm
	Stakeholders  []knowledge.Stakeholder
	Activities    []knowledge.Activity
	Evaluations   []knowledge.Evaluation
	Drafts        []knowledge.Draft
	Stages        []knowledge.Stage
	Languages     []string
	Topics        []string
	Statuses      []string
	ActivityKinds []string
	Today         string
}

func (u *webUI) initiativePage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderInitiative(w, r, http.StatusOK, "", nil)
}

func (u *webUI) renderInitiative(w http.ResponseWriter, r *http.Request, status int, errMsg string, f *initiativeForm) {
	id := r.PathValue("id")
	ctx := r.Context()
	var d initiativeData
	if !u.get(w, r, "/api/v1/lab/initiatives/"+url.PathEscape(id), &d.I) {
		return
	}
	q := "?initiative=" + url.QueryEscape(id)
	var errs []string
	for _, c := range []struct {
		path string
		out  any
	}{{"/api/v1/lab/stakeholders", &d.Stakeholders}, {"/api/v1/lab/activities", &d.Activities},
		{"/api/v1/lab/evaluations", &d.Evaluations}, {"/api/v1/drafts", &d.Drafts}} {
		if err := u.call(ctx, "GET", c.path+q, nil, c.out); err != nil {
			errs = append(errs, apiMessage(err))
		}
	}
	if errMsg == "" && len(errs) > 0 {
		errMsg = strings.Join(errs, "; ")
	}
	d.StageV = u.stageOf(d.I.Stage)
	if f != nil {
		d.Form = *f
	} else {
		d.Form = initiativeFormOf(d.I)
	}
	d.Stages, d.Languages, d.Topics, d.Statuses = u.stageNames(), contentLanguages, u.topicSlugs(d.Form.Topics), initiativeStatuses
	d.ActivityKinds = knowledge.ActivityKinds
	u.render(w, r, status, "initiative", view{Title: d.I.Title, Nav: "lab", Error: errMsg, Data: d})
}

func (u *webUI) updateInitiative(w http.ResponseWriter, r *http.Request, s *session) {
	var f initiativeForm
	f.read(r.PostForm)
	id := r.PathValue("id")
	if err := u.call(r.Context(), "PUT", "/api/v1/lab/initiatives/"+url.PathEscape(id), f.json(), nil); err != nil {
		u.renderInitiative(w, r, apiStatus(err), u.tr(r).T("error.not_saved", "Reason", apiMessage(err)), &f)
		return
	}
	http.Redirect(w, r, "/lab/initiatives/"+url.PathEscape(id)+"?done=saved", http.StatusSeeOther)
}

func (u *webUI) deleteInitiative(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	tr := u.tr(r)
	var ini knowledge.Initiative
	if !u.confirmed(w, r, "/api/v1/lab/initiatives/"+url.PathEscape(id), &ini, func() confirmData {
		return confirmData{Question: tr.T("confirm.delete_initiative"), Subject: ini.Title,
			Effect: tr.T("confirm.delete_initiative_effect"), Elsewhere: tr.T("confirm.private_elsewhere"),
			Cancel: "/lab/initiatives/" + url.PathEscape(id)}
	}) {
		return
	}
	if err := u.call(r.Context(), "DELETE", "/api/v1/lab/initiatives/"+url.PathEscape(id)+"?cascade=true", nil, nil); err != nil {
		u.renderInitiative(w, r, apiStatus(err), tr.T("error.not_deleted", "Reason", apiMessage(err)), nil)
		return
	}
	http.Redirect(w, r, "/lab?done=deleted", http.StatusSeeOther)
}

// ---- stakeholders, activities, evaluations ----

func (u *webUI) addStakeholder(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	id := r.PathValue("id")
	body := map[string]any{"initiative_ids": []string{id}, "kind": g("kind"), "name": g("name"), "role": g("role"),
		"organisation": g("organisation"), "email": g("email"), "phone": g("phone"), "address": g("address"),
		"consent": g("consent"), "consent_given": v.Get("consent_given") == "on", "notes": g("notes")}
	u.addEntity(w, r, "/api/v1/lab/stakeholders", body, "#stakeholders")
}

func (u *webUI) addActivity(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	id := r.PathValue("id")
	stage, _ := strconv.Atoi(g("stage"))
	counts := map[string]int{}
	var bad []string
	for _, l := range splitLines(v.Get("counts")) {
		k, n, ok := strings.Cut(l, ":")
		c, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err != nil || strings.TrimSpace(k) == "" {
			bad = append(bad, strconv.Quote(l))
			continue
		}
		counts[strings.TrimSpace(k)] = c
	}
	ages := []int{}
	for _, a := range strings.FieldsFunc(v.Get("ages"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil {
			bad = append(bad, strconv.Quote(a))
			continue
		}
		ages = append(ages, n)
	}
	if len(bad) > 0 {
		u.renderInitiative(w, r, http.StatusBadRequest, u.tr(r).T("ini.bad_counts", "Values", strings.Join(bad, ", ")), nil)
		return
	}
	attendees := splitLines(v.Get("attendees"))
	if attendees == nil {
		attendees = []string{}
	}
	body := map[string]any{"initiative_id": id, "kind": g("kind"), "title": g("title"), "date": g("date"),
		"place": g("place"), "stage": stage, "attendees": attendees, "notes": g("notes"), "counts": counts, "ages": ages}
	u.addEntity(w, r, "/api/v1/lab/activities", body, "#activities")
}

func (u *webUI) addEvaluation(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	id := r.PathValue("id")
	num := func(k string) (*float64, bool) {
		s := strings.ReplaceAll(g(k), ",", ".")
		if s == "" {
			return nil, true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		return &f, true
	}
	before, ok1 := num("before")
	after, ok2 := num("after")
	if !ok1 || !ok2 {
		u.renderInitiative(w, r, http.StatusBadRequest, u.tr(r).T("ini.bad_numbers"), nil)
		return
	}
	quotes := splitLines(v.Get("quotes"))
	if quotes == nil {
		quotes = []string{}
	}
	body := map[string]any{"initiative_id": id, "indicator": g("indicator"), "unit": g("unit"), "before": before,
		"after": after, "period": g("period"), "quotes": quotes, "notes": g("notes")}
	u.addEntity(w, r, "/api/v1/lab/evaluations", body, "#evaluations")
}

func (u *webUI) addEntity(w http.ResponseWriter, r *http.Request, path string, body map[string]any, anchor string) {
	if err := u.call(r.Context(), "POST", path, body, nil); err != nil {
		u.renderInitiative(w, r, apiStatus(err), u.tr(r).T("error.not_saved", "Reason", apiMessage(err)), nil)
		return
	}
	http.Redirect(w, r, "/lab/initiatives/"+url.PathEscape(r.PathValue("id"))+"?done=saved"+anchor, http.StatusSeeOther)
}

func (u *webUI) deleteLabEntity(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.PathValue("kind")
	if !slices.Contains([]string{"stakeholders", "activities", "evaluations"}, kind) {
		u.notFound(w, r)
		return
	}
	back := safeNext(r.PostForm.Get("back"))
	tr := u.tr(r)
	if r.PostForm.Get("confirm") != "yes" {
		u.confirm(w, r, confirmData{Question: tr.T("confirm.delete_" + kind), Subject: r.PostForm.Get("what"),
			Effect: tr.T("confirm.delete_entity_effect"), Elsewhere: tr.T("confirm.private_elsewhere"),
			Button: tr.T("confirm.delete_button"), Action: r.URL.Path, Cancel: back,
			Fields: []hiddenField{{"back", back}}})
		return
	}
	if err := u.call(r.Context(), "DELETE", "/api/v1/lab/"+kind+"/"+url.PathEscape(r.PathValue("id")), nil, nil); err != nil {
		u.errorPage(w, r, apiStatus(err), tr.T("error.not_deleted", "Reason", apiMessage(err)))
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
