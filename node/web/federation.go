// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"net/url"
	"slices"
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
	Suggested []string
	FeedToken string
	Base      string
}

func (u *webUI) topicsPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderTopics(w, r, http.StatusOK, "")
}

func (u *webUI) renderTopics(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	st := u.n.Status()
	d := topicsData{FeedToken: u.feedToken, Base: baseURL(r)}
	var subs []string
	for _, t := range st.Topics {
		if t.Topic == protocol.ControlTopic {
			continue
		}
		subs = append(subs, t.Topic)
		d.Topics = append(d.Topics, topicRow{TopicStatus: t,
			Feed: d.Base + "/feeds/" + url.PathEscape(t.Topic) + ".atom?token=" + url.QueryEscape(u.feedToken)})
	}
	for _, t := range suggestedTopics {
		if !slices.Contains(subs, t) {
			d.Suggested = append(d.Suggested, t)
		}
	}
	u.render(w, r, status, "topics", view{Title: "Topic channels", Nav: "topics", Error: errMsg, Data: d})
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
	switch r.PostForm.Get("action") {
	case "subscribe":
		if err := u.n.Subscribe(r.Context(), name); err != nil {
			u.renderTopics(w, r, statusOf(err), userMessage(err))
			return
		}
		http.Redirect(w, r, "/topics?done=subscribed", http.StatusSeeOther)
	case "unsubscribe":
		if err := u.n.Unsubscribe(name); err != nil {
			u.renderTopics(w, r, statusOf(err), userMessage(err))
			return
		}
		http.Redirect(w, r, "/topics?done=unsubscribed", http.StatusSeeOther)
	default:
		u.renderTopics(w, r, http.StatusBadRequest, "Unknown action.")
	}
}

// ---- federation ----

type peerRow struct {
	ID, Region string
	Member     bool
}

type fedData struct {
	Status  node.Status
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
	u.render(w, r, status, "federation", view{Title: "Federation", Nav: "federation", Error: errMsg, Data: d})
}

func (u *webUI) inviteForm(w http.ResponseWriter, r *http.Request, s *session) {
	if !u.isAdmin(s) {
		u.renderFederation(w, r, s, http.StatusForbidden, "Only an administrator of this node can invite a region.", "", time.Time{})
		return
	}
	tok, exp, err := u.n.Invite()
	if err != nil {
		u.renderFederation(w, r, s, statusOf(err), "No invite: "+err.Error(), "", time.Time{})
		return
	}
	u.log.Info("invite created from the web UI", "user", s.User, "expires", exp)
	u.renderFederation(w, r, s, http.StatusOK, "", tok, exp)
}
