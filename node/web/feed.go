// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// ---- live feed ----

const feedItems = 40

type feedData struct {
	Items       []practiceItem
	Topics      []string
	TopicLabels string
	Now         time.Time
}

// feedPage lists the newest practices of the subscribed topics. Without
// JavaScript it is refreshed with a link; with it, server-sent events from
// /ui/feed/events add and remove items as they happen.
func (u *webUI) feedPage(w http.ResponseWriter, r *http.Request, s *session) {
	topics := u.n.Config().Topics
	tr := u.tr(r)
	d := feedData{Topics: topics, Now: time.Now()}
	var labels []string
	for _, t := range topics {
		labels = append(labels, tr.topicLabel(t))
	}
	d.TopicLabels = strings.Join(labels, ", ")
	views, err := u.n.Practices(node.PracticeQuery{})
	errMsg := ""
	if err != nil {
		errMsg = tr.T("practices.unreadable", "Reason", err.Error())
	}
	for _, pv := range views {
		if len(d.Items) >= feedItems {
			break
		}
		if u.inFeed(pv.Author, pv.Topics, topics) {
			d.Items = append(d.Items, itemOf(pv, tr.lang))
		}
	}
	u.render(w, r, http.StatusOK, "feed", view{Title: tr.T("nav.feed"), Nav: "feed", Error: errMsg, Data: d})
}

// inFeed tells whether a record belongs in the feed: one of the
// subscribed topics, or this node's own.
func (u *webUI) inFeed(author string, recTopics, topics []string) bool {
	if author == u.self {
		return true
	}
	for _, t := range recTopics {
		if slices.Contains(topics, t) {
			return true
		}
	}
	return false
}

// started is when the program started: the Atom feeds' "updated" while
// they have no entries.
var started = time.Now()

// feedEvent is one server-sent event of the live feed.
type feedEvent struct {
	CID     string   `json:"cid"`
	Title   string   `json:"title,omitempty"`
	Summary string   `json:"summary,omitempty"`
	Region  string   `json:"region,omitempty"`
	Country string   `json:"country,omitempty"`
	Lang    string   `json:"language,omitempty"`
	Topics  []string `json:"topics,omitempty"`
	Created string   `json:"created,omitempty"`
	URL     string   `json:"url,omitempty"`
	Own     bool     `json:"own,omitempty"`
	// Shown in the reader's language: the language's name, the topics'
	// labels, and the original title when Title is a translation.
	LangName string   `json:"language_name,omitempty"`
	Labels   []string `json:"topic_labels,omitempty"`
	Original string   `json:"original,omitempty"`
	OrigNote string   `json:"original_note,omitempty"`
}

func (u *webUI) feedEvents(w http.ResponseWriter, r *http.Request, s *session) {
	fl, ok := w.(http.Flusher)
	done := u.n.Serving()
	tr := u.tr(r)
	if !ok || done == nil {
		http.Error(w, tr.T("feed.unavailable"), http.StatusServiceUnavailable)
		return
	}
	ch, stop := u.n.Events(256)
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	fl.Flush()
	send := func(typ string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-done:
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Type != "record" || ev.Record == nil {
				continue
			}
			for _, c := range ev.Removed {
				if !send("remove", feedEvent{CID: c.String()}) {
					return
				}
			}
			if ev.Superseded.Defined() {
				if !send("remove", feedEvent{CID: ev.Superseded.String()}) {
					return
				}
			}
			rec := ev.Record
			if rec.Record.Kind != protocol.KindPractice || !u.inFeed(rec.Record.Author, rec.Record.Topics, u.n.Config().Topics) {
				continue
			}
			pv, err := u.n.ViewPractice(rec)
			if err != nil {
				continue
			}
			it := itemOf(pv, tr.lang)
			fe := feedEvent{CID: pv.CID, Title: it.ShownTitle, Summary: it.ShownSummary, Region: pv.Region,
				Country: pv.Country, Lang: it.ShownLang, Topics: pv.Topics, Created: tr.datetime(pv.Created),
				URL: "/practices/" + url.PathEscape(pv.CID), Own: pv.Author == u.self, LangName: tr.langName(pv.Language)}
			for _, t := range pv.Topics {
				fe.Labels = append(fe.Labels, tr.topicLabel(t))
			}
			if it.Translated {
				fe.Original, fe.OrigNote = pv.Title, tr.T("practice.original_title", "Lang", tr.langName(pv.Language))
			}
			if !send("practice", fe) {
				return
			}
		}
	}
}

// ---- Atom feeds ----

// Atom 1.0 (RFC 4287) documents.
type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Author     atomPerson     `xml:"author"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    atomText       `xml:"summary"`
	Content    *atomText      `xml:"content,omitempty"`
	Rights     string         `xml:"rights,omitempty"`
}

// atomFeed serves /feeds/{topic}.atom: the newest practices of a topic.
// Feed readers cannot sign in, so besides a session the feed accepts the
// API token or the read-only feed token (shown on the topics page) as the
// ?token= query parameter.
func (u *webUI) atomFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	topic, ok := strings.CutSuffix(file, ".atom")
	if !ok || protocol.ValidTopic(topic) != nil || topic == protocol.ControlTopic {
		u.notFound(w, r)
		return
	}
	tok := r.URL.Query().Get("token")
	if u.session(r) == nil && !tokensEqual(tok, u.token) && !tokensEqual(tok, u.feedToken) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "This feed needs ?token=FEEDTOKEN (shown on the web UI's topics page) or a signed-in session.")
		return
	}
	views, err := u.n.Practices(node.PracticeQuery{Topic: topic, Limit: 50})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cfg := u.n.Config()
	base := baseURL(r)
	f := atomFeed{ID: "urn:livinglab:" + cfg.Federation.Name + ":topic:" + topic,
		Title:     topic + " – " + cfg.Federation.Name + " living-lab practices",
		Subtitle:  "Practices on " + topic + " held by the node of " + cfg.Region,
		Updated:   started.UTC().Format(time.RFC3339),
		Links:     []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/feeds/" + url.PathEscape(topic) + ".atom"}, {Rel: "alternate", Type: "text/html", Href: base + "/practices?topic=" + url.QueryEscape(topic)}},
		Author:    atomPerson{Name: cfg.Region},
		Generator: "livinglab " + node.Version}
	var newest time.Time
	for _, pv := range views {
		if pv.Created.After(newest) {
			newest = pv.Created
		}
		ts := pv.Created.UTC().Format(time.RFC3339)
		e := atomEntry{ID: "urn:livinglab:record:" + pv.CID, Title: atomText{Type: "text", Lang: pv.Language, Body: pv.Title},
			Updated: ts, Published: ts, Author: atomPerson{Name: nonEmpty(pv.Region, u.regionOf(pv.Author), pv.Author)},
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/practices/" + url.PathEscape(pv.CID)}},
			Summary: atomText{Type: "text", Lang: pv.Language, Body: pv.Summary}, Rights: pv.Licence}
		for _, t := range pv.Topics {
			e.Categories = append(e.Categories, atomCategory{Term: t})
		}
		var body []string
		for _, part := range []struct{ label, text string }{{"Problem", pv.Problem}, {"Approach", pv.Approach},
			{"Results", pv.Results}, {"Lessons", strings.Join(pv.Lessons, "\n")}, {"Transferability", pv.Transferability}} {
			if strings.TrimSpace(part.text) != "" {
				body = append(body, part.label+": "+part.text)
			}
		}
		if len(body) > 0 {
			e.Content = &atomText{Type: "text", Lang: pv.Language, Body: strings.Join(body, "\n\n")}
		}
		f.Entries = append(f.Entries, e)
	}
	if !newest.IsZero() {
		f.Updated = newest.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=60")
	fmt.Fprint(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		u.log.Warn("atom feed", "topic", topic, "err", err)
	}
}

func nonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
