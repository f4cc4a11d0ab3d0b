// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// ---- topics ----

type topicRow struct {
	node.TopicStatus
	Feed string
}

type topicsData struct {
	Topics    []topicRow
	Choices   []topicChoice
	FeedToken string
	Base      string
}

func (u *webUI) topicsPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderTopics(w, r, http.StatusOK, "")
}

func (u *webUI) renderTopics(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	st := u.n.Status()
	tr := u.tr(r)
	d := topicsData{FeedToken: u.feedToken, Base: baseURL(r), Choices: u.topicChoices(tr.lang)}
	for _, t := range st.Topics {
		if t.Topic == protocol.ControlTopic {
			continue
		}
		d.Topics = append(d.Topics, topicRow{TopicStatus: t,
			Feed: d.Base + "/feeds/" + url.PathEscape(t.Topic) + ".atom?token=" + url.QueryEscape(u.feedToken)})
	}
	u.render(w, r, status, "topics", view{Title: tr.T("topics.heading"), Nav: "topics", Error: errMsg, Data: d})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (u *webUI) topicsForm(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("topic")))
	tr := u.tr(r)
	// back is where the one-click choices return to (the home page or this one).
	back := "/topics"
	if r.PostForm.Get("next") == "/" {
		back = "/"
	}
	switch r.PostForm.Get("action") {
	case "subscribe":
		if err := u.n.Subscribe(r.Context(), name); err != nil {
			u.renderTopics(w, r, statusOf(err), tr.T("topics.not_followed", "Topic", name, "Reason", userMessage(err)))
			return
		}
		http.Redirect(w, r, back+"?done=subscribed", http.StatusSeeOther)
	case "unsubscribe":
		if err := u.n.Unsubscribe(name); err != nil {
			u.renderTopics(w, r, statusOf(err), tr.T("topics.not_unfollowed", "Topic", name, "Reason", userMessage(err)))
			return
		}
		http.Redirect(w, r, back+"?done=unsubscribed", http.StatusSeeOther)
	default:
		u.renderTopics(w, r, http.StatusBadRequest, tr.T("error.unknown_action"))
	}
}

// ---- federation ----

type peerRow struct {
	ID, Region string
	Member     bool
}

type fedData struct {
	Status  node.Status
	Topics  []node.TopicStatus
	Members []memberRow
	Peers   []peerRow
	Addrs   []string
	Admin   bool
	// CanInvite: the signed-in account is an administrator.
	CanInvite bool
	Invite    string
	Expires   time.Time
}

type memberRow struct {
	node.Member
	Connected bool
	Self      bool
	LastSync  time.Time
	InSync    bool
}

func (u *webUI) federationPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderFederation(w, r, s, http.StatusOK, "", "", time.Time{})
}

// isAdmin tells whether the session's account administers the node.
func (u *webUI) isAdmin(s *session) bool {
	role, err := u.n.UserRole(s.User)
	return err == nil && role == "admin"
}

func (u *webUI) renderFederation(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg, invite string, exp time.Time) {
	st := u.n.Status()
	d := fedData{Status: st, Addrs: u.n.Addrs(), Invite: invite, Expires: exp, CanInvite: u.isAdmin(s)}
	d.Admin = u.n.IsAdmin()
	for _, t := range st.Topics {
		if t.Topic != protocol.ControlTopic {
			d.Topics = append(d.Topics, t)
		}
	}
	sync := map[string]node.MemberSync{}
	for _, m := range st.Members {
		sync[m.PeerID] = m
	}
	for _, mv := range u.n.Members(false) {
		m := mv.Member
		ms := sync[m.PeerID]
		d.Members = append(d.Members, memberRow{Member: m, Connected: ms.Connected, Self: ms.Self || m.PeerID == u.self,
			LastSync: ms.LastSync, InSync: ms.InSync})
	}
	for _, p := range u.n.ConnectedPeers() {
		d.Peers = append(d.Peers, peerRow{ID: p.ID, Region: u.regionOf(p.ID), Member: p.Member})
	}
	sort.Slice(d.Peers, func(i, j int) bool { return d.Peers[i].Region < d.Peers[j].Region })
	u.render(w, r, status, "federation", view{Title: u.tr(r).T("nav.federation"), Nav: "federation", Error: errMsg, Data: d})
}

func (u *webUI) inviteForm(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.isAdmin(s) {
		u.renderFederation(w, r, s, http.StatusForbidden, u.tr(r).T("fed.invite_admin"), "", time.Time{})
		return
	}
	tok, exp, err := u.n.Invite()
	if err != nil {
		u.renderFederation(w, r, s, statusOf(err), u.tr(r).T("fed.no_invite", "Reason", userMessage(err)), "", time.Time{})
		return
	}
	u.log.Info("invite created from the web UI", "user", s.User, "expires", exp)
	u.renderFederation(w, r, s, http.StatusOK, "", tok, exp)
}
