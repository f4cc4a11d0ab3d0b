// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// ---- home ----

// topicChoice is a topic channel offered as a one-click choice.
type topicChoice struct {
	Slug, Label, Desc string
	Following         bool
	Records           int
}

type homeData struct {
	New       []practiceItem
	LastVisit time.Time
	HasVisit  bool
	Following bool
	Drafts    []knowledge.Draft
	Choices   []topicChoice
	Held      int
	Connected int // other members connected
	Others    int // other members
}

// topicChoices lists the common topics and the followed ones, followed
// first.
func (u *webUI) topicChoices(lang string) []topicChoice {
	tr := u.translator(lang)
	st := u.n.Status()
	var out []topicChoice
	seen := map[string]bool{}
	for _, t := range st.Topics {
		if t.Topic == protocol.ControlTopic {
			continue
		}
		seen[t.Topic] = true
		out = append(out, topicChoice{Slug: t.Topic, Following: true, Records: t.Records})
	}
	for _, t := range suggestedTopics {
		if !seen[t] {
			out = append(out, topicChoice{Slug: t})
		}
	}
	for i := range out {
		out[i].Label = tr.topicLabel(out[i].Slug)
		if tr.c != nil && tr.c.messages["en"]["topic."+out[i].Slug+".desc"] {
			out[i].Desc = tr.T("topic." + out[i].Slug + ".desc")
		}
	}
	return out
}

func (u *webUI) home(w http.ResponseWriter, r *http.Request, s *session) {
	lang := u.langOf(r)
	st := u.n.Status()
	d := homeData{LastVisit: s.PrevVisit, HasVisit: !s.PrevVisit.IsZero(), Choices: u.topicChoices(lang)}
	for _, m := range st.Members {
		if !m.Self {
			d.Others++
			if m.Connected {
				d.Connected++
			}
		}
	}
	topics := u.n.Config().Topics
	d.Following = len(topics) > 0
	if views, err := u.n.Practices(node.PracticeQuery{}); err == nil {
		d.Held = len(views)
		for _, v := range views {
			if len(d.New) >= 10 {
				break
			}
			if v.Author == u.self || !u.inFeed(v.Author, v.Topics, topics) {
				continue
			}
			if d.HasVisit && !v.Created.After(d.LastVisit) {
				continue
			}
			d.New = append(d.New, itemOf(v, lang))
		}
	}
	var drafts []knowledge.Draft
	if err := u.call(r.Context(), "GET", "/api/v1/drafts", nil, &drafts); err == nil {
		for _, dr := range drafts {
			if dr.Published == "" && len(d.Drafts) < 5 {
				d.Drafts = append(d.Drafts, dr)
			}
		}
	}
	u.render(w, r, http.StatusOK, "home", view{Title: u.translator(lang).T("nav.home"), Nav: "home", Data: d})
}

// regionOf names the region of a member's peer ID.
func (u *webUI) regionOf(id string) string {
	if id == u.self {
		return u.n.Config().Region
	}
	if m, ok := u.n.Member(id); ok && m.Region != "" {
		return m.Region
	}
	return ""
}

// formValues returns the values of a repeated (or comma-separated) query
// parameter.
func formValues(v url.Values, name string) []string {
	var out []string
	for _, s := range v[name] {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ---- practices ----

type practicesData struct {
	Practices []practiceItem
	Topic     string
	Mine      bool
	Topics    []string
}

func (u *webUI) practicesPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.URL.Query()
	tr := u.tr(r)
	d := practicesData{Topic: v.Get("topic"), Mine: v.Get("mine") == "on", Topics: u.n.Config().Topics}
	o := node.PracticeQuery{Limit: 200}
	errMsg := ""
	if d.Topic != "" {
		if protocol.ValidTopic(d.Topic) != nil {
			errMsg, d.Topic = tr.T("practices.not_topic", "Topic", d.Topic), ""
		}
		o.Topic = d.Topic
	}
	if d.Mine {
		o.Author = u.self
	}
	views, err := u.n.Practices(o)
	if err != nil {
		errMsg = tr.T("practices.unreadable", "Reason", err.Error())
	}
	d.Practices = itemsOf(views, tr.lang)
	u.render(w, r, http.StatusOK, "practices", view{Title: tr.T("nav.practices"), Nav: "practices", Error: errMsg, Data: d})
}

type versionLink struct {
	CID     string
	Version int
	Created time.Time
	Current bool
}

type practiceData struct {
	P            *node.PracticeView
	AuthorRegion string
	Verified     bool
	VerifyErr    string
	Own          bool
	Versions     []versionLink
	Translations []translationView
	Stage        string
	Stages       int
	Retracted    *knowledge.Tombstone
	RetractedBy  string
	RetractedAt  time.Time
	Reason       string
	Adaptations  *node.Adaptations
	SchemaOrg    map[string]any
	// ShownTitle and ShownSummary are in the reader's language when the
	// author translated them (Translated), unless the original was asked for.
	ShownTitle, ShownSummary, ShownLang string
	Translated, HasTranslation          bool
}

type translationView struct {
	Lang, Name string
	protocol.Translation
}

func (u *webUI) practicePage(w http.ResponseWriter, r *http.Request, s *session) {
	u.showPractice(w, r, http.StatusOK, "", "")
}

func (u *webUI) showPractice(w http.ResponseWriter, r *http.Request, status int, errMsg, reason string) {
	tr := u.tr(r)
	c, err := cid.Decode(r.PathValue("cid"))
	if err != nil {
		u.errorPage(w, r, http.StatusBadRequest, tr.T("error.not_cid", "CID", r.PathValue("cid")))
		return
	}
	rec, err := u.n.Record(c)
	if err != nil {
		if t, terr := u.n.Tombstone(c); terr == nil {
			d := practiceData{Retracted: t, RetractedBy: u.regionOf(t.By), RetractedAt: time.UnixMilli(t.At)}
			u.render(w, r, http.StatusGone, "practice", view{Title: tr.T("practice.retracted_heading"), Nav: "practices", Data: d})
			return
		}
		u.errorPage(w, r, http.StatusNotFound, tr.T("error.no_record", "CID", c.String()))
		return
	}
	pv, err := u.n.ViewPractice(rec)
	if err != nil {
		u.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	d := practiceData{P: pv, AuthorRegion: u.regionOf(pv.Author), Own: pv.Author == u.self, Reason: reason}
	d.ShownTitle, d.ShownSummary, d.ShownLang, d.Translated = localised(pv.Practice, tr.lang)
	if d.Translated && r.URL.Query().Get("original") != "" {
		d.ShownTitle, d.ShownSummary, d.ShownLang, d.Translated, d.HasTranslation = pv.Title, pv.Summary, pv.Language, false, true
	}
	if _, err := protocol.OpenExpect(rec.Raw, rec.CID, time.Now().Add(time.Hour)); err != nil {
		d.VerifyErr = err.Error()
	} else {
		d.Verified = true
	}
	if vs, err := u.n.History(c); err == nil {
		for _, vv := range vs {
			d.Versions = append(d.Versions, versionLink{CID: vv.CID, Version: vv.Version, Created: vv.Created, Current: vv.CID == pv.CID})
		}
	}
	for lang, t := range pv.Translations {
		d.Translations = append(d.Translations, translationView{Lang: lang, Name: tr.langName(lang), Translation: t})
	}
	sort.Slice(d.Translations, func(i, j int) bool { return d.Translations[i].Lang < d.Translations[j].Lang })
	stages := u.stageNames()
	d.Stages = len(stages)
	if pv.Stage > 0 && pv.Stage <= len(stages) {
		d.Stage = tr.stageName(stages[pv.Stage-1])
	}
	if ad, err := u.n.Adaptations(c); err == nil && (len(ad.AdaptedFrom) > 0 || len(ad.AdaptedBy) > 0) {
		d.Adaptations = ad
	}
	d.SchemaOrg = u.n.SchemaOrg(pv, "http://"+r.Host+"/practices/"+pv.CID)
	u.render(w, r, status, "practice", view{Title: d.ShownTitle, Nav: "practices", Error: errMsg, Data: d})
}

// transfersPage shows which practices travelled to which regions.
func (u *webUI) transfersPage(w http.ResponseWriter, r *http.Request, s *session) {
	t, err := u.n.Transfers()
	if err != nil {
		u.errorPage(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	u.render(w, r, http.StatusOK, "transfers", view{Title: u.tr(r).T("transfers.heading"), Nav: "practices", Data: t})
}

func (u *webUI) retractForm(w http.ResponseWriter, r *http.Request, s *session) {
	tr := u.tr(r)
	c, err := cid.Decode(r.PathValue("cid"))
	if err != nil {
		u.errorPage(w, r, http.StatusBadRequest, tr.T("error.not_cid", "CID", r.PathValue("cid")))
		return
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if reason == "" {
		u.showPractice(w, r, http.StatusBadRequest, tr.T("retract.no_reason"), "")
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		title := c.String()
		if rec, err := u.n.Record(c); err == nil {
			if pv, err := u.n.ViewPractice(rec); err == nil {
				title = pv.Title
			}
		}
		u.confirm(w, r, confirmData{Question: tr.T("retract.confirm_question"), Subject: title,
			Effect: tr.T("retract.confirm_effect", "Reason", reason), Elsewhere: tr.T("retract.confirm_elsewhere"),
			Button: tr.T("retract.button"), Action: r.URL.Path, Cancel: "/practices/" + url.PathEscape(c.String()),
			Fields: []hiddenField{{"reason", reason}}})
		return
	}
	if _, err := u.n.Retract(r.Context(), c, reason); err != nil {
		u.showPractice(w, r, statusOf(err), tr.T("retract.failed", "Reason", userMessage(err)), reason)
		return
	}
	u.log.Info("retracted from the web UI", "cid", c, "user", s.User)
	http.Redirect(w, r, "/practices/"+url.PathEscape(c.String())+"?done=retracted", http.StatusSeeOther)
}

// hiddenField is a form value carried through a confirmation or preview.
type hiddenField struct{ Name, Value string }

// confirmData is a page that asks before a destructive action and says
// what happens here and on the other nodes.
type confirmData struct {
	Question, Subject, Effect, Elsewhere, Button string
	Action, Cancel                               string
	Fields                                       []hiddenField
}

func (u *webUI) confirm(w http.ResponseWriter, r *http.Request, d confirmData) {
	u.render(w, r, http.StatusOK, "confirm", view{Title: d.Question, Data: d})
}

// statusOf maps an error to an HTTP status like writeError does.
func statusOf(err error) int {
	switch {
	case errors.Is(err, knowledge.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, node.ErrForbidden), errors.Is(err, protocol.ErrNotAuthorised):
		return http.StatusForbidden
	case errors.Is(err, node.ErrBadRequest), errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrMissing),
		errors.Is(err, protocol.ErrTooLarge), errors.Is(err, knowledge.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, node.ErrNotInFederation), errors.Is(err, knowledge.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// userMessage strips the error-class prefixes from a message for people.
func userMessage(err error) string {
	msg := err.Error()
	for _, p := range []error{node.ErrBadRequest, knowledge.ErrInvalid, node.ErrForbidden} {
		msg = strings.TrimPrefix(msg, p.Error()+": ")
	}
	return msg
}
