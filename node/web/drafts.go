// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// The drafts pages: a practice assembled from an initiative, edited,
// previewed, approved and published.

type draftRow struct {
	knowledge.Draft
	Initiative string
}

func (u *webUI) draftsPage(w http.ResponseWriter, r *http.Request, s *session) {
	var drafts []knowledge.Draft
	var inis []knowledge.Initiative
	errMsg := ""
	tr := u.tr(r)
	if err := u.call(r.Context(), "GET", "/api/v1/drafts", nil, &drafts); err != nil {
		errMsg = tr.T("drafts.unreadable", "Reason", apiMessage(err))
	}
	u.call(r.Context(), "GET", "/api/v1/lab/initiatives", nil, &inis)
	title := map[string]string{}
	for _, i := range inis {
		title[i.ID] = i.Title
	}
	var rows []draftRow
	for _, d := range drafts {
		rows = append(rows, draftRow{Draft: d, Initiative: title[d.InitiativeID]})
	}
	u.render(w, r, http.StatusOK, "drafts", view{Title: tr.T("drafts.heading"), Nav: "drafts", Error: errMsg,
		Data: map[string]any{"Drafts": rows, "Initiatives": inis}})
}

func (u *webUI) createDraft(w http.ResponseWriter, r *http.Request, s *session) {
	var d knowledge.Draft
	if err := u.call(r.Context(), "POST", "/api/v1/drafts", map[string]string{"initiative": r.PathValue("id")}, &d); err != nil {
		u.renderInitiative(w, r, apiStatus(err), u.tr(r).T("ini.no_draft", "Reason", apiMessage(err)), nil)
		return
	}
	http.Redirect(w, r, "/drafts/"+url.PathEscape(d.ID), http.StatusSeeOther)
}

type draftData struct {
	D           knowledge.Draft
	Initiative  string
	Fields      publishData // the edit form (drafts carry no translations)
	TopicLabels string
	Preview     *previewView
	P           *node.DraftPreview
	Names       []nameDecision
	Approved    bool
}

func (u *webUI) draftPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderDraft(w, r, http.StatusOK, "", nil, nil)
}

// renderDraft shows a draft, its edit form and the preview of what would
// leave with the given decisions (nil: the draft's stored decisions).
func (u *webUI) renderDraft(w http.ResponseWriter, r *http.Request, status int, errMsg string, f *practiceForm, decisions map[string][]string) {
	id := r.PathValue("id")
	ctx := r.Context()
	tr := u.tr(r)
	var d draftData
	if !u.get(w, r, "/api/v1/drafts/"+url.PathEscape(id), &d.D) {
		return
	}
	var ini knowledge.Initiative
	if u.call(ctx, "GET", "/api/v1/lab/initiatives/"+url.PathEscape(d.D.InitiativeID), nil, &ini) == nil {
		d.Initiative = ini.Title
	}
	form := draftFormOf(d.D)
	if f != nil {
		form = *f
	}
	d.Fields = publishData{F: form, Languages: contentLanguages, Stages: u.stageNames(),
		TopicChecks: topicChecks{Topics: u.topicSlugs(form.Topics), Selected: form.Topics, Prefix: "d"}}
	var labels []string
	for _, t := range form.Topics {
		labels = append(labels, tr.topicLabel(t))
	}
	d.TopicLabels = strings.Join(labels, ", ")
	var body any
	if decisions != nil {
		body = decisions
	}
	var pv node.DraftPreview
	if err := u.call(ctx, "POST", "/api/v1/drafts/"+url.PathEscape(id)+"/preview", body, &pv); err != nil {
		if errMsg == "" {
			errMsg = tr.T("draft.no_preview", "Reason", apiMessage(err))
			status = max(status, apiStatus(err))
		}
	} else {
		d.P = &pv
		d.Preview = u.previewOf(tr, &pv.Practice, pv.Report, pv.Topics)
		d.Approved = pv.Approved
		d.Names = namesToDecide(tr, &pv)
	}
	u.render(w, r, status, "draft", view{Title: tr.T("draft.heading", "Title", d.D.Title), Nav: "drafts", Error: errMsg, Data: d})
}

func draftFormOf(d knowledge.Draft) practiceForm {
	return practiceForm{Title: d.Title, Summary: d.Summary, Problem: d.Problem, Approach: d.Approach, Results: d.Results,
		Resources: d.Resources, Difficulties: d.Difficulties, Transferability: d.Transferability,
		Lessons: strings.Join(d.Lessons, "\n"), Roles: strings.Join(d.StakeholderRoles, ", "), Period: d.Period,
		Links: strings.Join(d.Links, "\n"), Language: d.Language, Stage: d.Stage, Topics: d.Topics}
}

func (u *webUI) saveDraft(w http.ResponseWriter, r *http.Request, s *session) {
	var f practiceForm
	f.read(r.PostForm)
	in := f.input()
	nn := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	body := map[string]any{"title": in.Title, "summary": in.Summary, "problem": in.Problem, "approach": in.Approach,
		"stakeholder_roles": nn(in.StakeholderRoles), "results": in.Results, "resources": in.Resources,
		"difficulties": in.Difficulties, "lessons": nn(in.Lessons), "transferability": in.Transferability,
		"language": in.Language, "stage": in.Stage, "period": in.Period, "links": nn(in.Links), "topics": nn(in.Topics)}
	id := r.PathValue("id")
	if err := u.call(r.Context(), "PUT", "/api/v1/drafts/"+url.PathEscape(id), body, nil); err != nil {
		u.renderDraft(w, r, apiStatus(err), u.tr(r).T("error.not_saved", "Reason", apiMessage(err)), &f, nil)
		return
	}
	http.Redirect(w, r, "/drafts/"+url.PathEscape(id)+"?done=saved#preview", http.StatusSeeOther)
}

func (u *webUI) previewDraftForm(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderDraft(w, r, http.StatusOK, "", nil, decisionsOf(r.PostForm))
}

func (u *webUI) approveDraft(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	dec := decisionsOf(r.PostForm)
	body := map[string]any{"hash": r.PostForm.Get("hash"), "confirmed": dec["confirmed"], "redact": dec["redact"],
		"by": s.User + " (web UI)"}
	if err := u.call(r.Context(), "POST", "/api/v1/drafts/"+url.PathEscape(id)+"/approve", body, nil); err != nil {
		u.renderDraft(w, r, apiStatus(err), u.tr(r).T("draft.not_approved", "Reason", apiMessage(err)), nil, dec)
		return
	}
	u.log.Info("draft approved in the web UI", "draft", id, "user", s.User)
	http.Redirect(w, r, "/drafts/"+url.PathEscape(id)+"?done=approved#publish", http.StatusSeeOther)
}

func (u *webUI) publishDraft(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	var out struct {
		CID string `json:"cid"`
	}
	if err := u.call(r.Context(), "POST", "/api/v1/drafts/"+url.PathEscape(id)+"/publish", nil, &out); err != nil {
		u.renderDraft(w, r, apiStatus(err), u.tr(r).T("publish.not_published", "Reason", apiMessage(err)), nil, nil)
		return
	}
	u.log.Info("draft published in the web UI", "draft", id, "cid", out.CID, "user", s.User)
	http.Redirect(w, r, "/practices/"+url.PathEscape(out.CID)+"?done=published", http.StatusSeeOther)
}

func (u *webUI) deleteDraft(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	tr := u.tr(r)
	var d knowledge.Draft
	if !u.confirmed(w, r, "/api/v1/drafts/"+url.PathEscape(id), &d, func() confirmData {
		elsewhere := tr.T("confirm.draft_unpublished")
		if d.Published != "" {
			elsewhere = tr.T("confirm.draft_published")
		}
		return confirmData{Question: tr.T("confirm.delete_draft"), Subject: d.Title,
			Effect: tr.T("confirm.delete_draft_effect"), Elsewhere: elsewhere, Cancel: "/drafts/" + url.PathEscape(id)}
	}) {
		return
	}
	if err := u.call(r.Context(), "DELETE", "/api/v1/drafts/"+url.PathEscape(id), nil, nil); err != nil {
		u.renderDraft(w, r, apiStatus(err), tr.T("error.not_deleted", "Reason", apiMessage(err)), nil, nil)
		return
	}
	http.Redirect(w, r, "/drafts?done=deleted", http.StatusSeeOther)
}
