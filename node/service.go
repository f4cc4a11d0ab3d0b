// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// The node's service API: the exported methods of *Node that the front
// ends (the HTTP API in node/api, the web UI, the command-line programs and
// the simulator) use. Front ends never reach the store, the roster or the
// network themselves; every read and write goes through a method here or in
// publish.go, search.go, backup.go, status.go and lab.go.

// Has tells whether the node stores the record c.
func (n *Node) Has(c cid.Cid) bool { return n.store.Has(c) }

// IsMember tells whether the peer is a current federation member.
func (n *Node) IsMember(p peer.ID) bool { return n.roster.IsMember(p) }

// TopicRecords calls fn with every record the node stores under topic.
func (n *Node) TopicRecords(topic string, fn func(knowledge.TopicItem) error) error {
	return n.store.TopicItems(topic, fn)
}

// HasUser tells whether the web UI has an account of that name.
func (n *Node) HasUser(name string) bool { return n.store.HasUser(name) }

// AddUser adds a web UI account.
func (n *Node) AddUser(name, password string) error { return n.store.AddUser(name, password) }

// SetPassword replaces an account's password.
func (n *Node) SetPassword(name, password string) error { return n.store.SetPassword(name, password) }

// Health is the answer of /api/v1/health.
type Health struct {
	Status     string `json:"status"`
	PeerID     string `json:"peer_id"`
	Federation string `json:"federation"`
	Peers      int    `json:"peers"`
	Version    string `json:"version"`
}

// Health tells that the node runs, and with how many peers.
func (n *Node) Health() Health {
	h := Health{Status: "ok", PeerID: n.id.String(), Federation: n.Federation(), Version: Version}
	if nw := n.net; nw != nil {
		h.Peers = len(nw.host.Network().Peers())
	}
	return h
}

// Identity is the answer of /api/v1/id.
type Identity struct {
	PeerID     string   `json:"peer_id"`
	Region     string   `json:"region"`
	Country    string   `json:"country,omitempty"`
	Federation string   `json:"federation,omitempty"`
	Addrs      []string `json:"addrs"`
}

// Identity names the node: peer ID, region, federation, addresses.
func (n *Node) Identity() Identity {
	cfg := n.Config()
	return Identity{PeerID: n.id.String(), Region: cfg.Region, Country: cfg.Country,
		Federation: cfg.Federation.Name, Addrs: nonNil(n.Addrs())}
}

// MemberView is a federation member as the API shows it.
type MemberView struct {
	Member
	Connected bool `json:"connected"`
	Self      bool `json:"self"`
}

// Members lists the federation's members (all: removed ones too) and
// whether this node is connected to each.
func (n *Node) Members(all bool) []MemberView {
	out := []MemberView{}
	for _, m := range n.roster.List(all) {
		v := MemberView{Member: m, Self: m.PeerID == n.id.String()}
		if nw := n.net; nw != nil && !v.Self {
			for _, p := range nw.host.Network().Peers() {
				if p.String() == m.PeerID {
					v.Connected = true
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// PracticeView is a practice as the API and CLI show it.
type PracticeView struct {
	CID string `json:"cid"`
	protocol.Practice
	Author       string    `json:"author"`
	Topics       []string  `json:"topics"`
	Created      time.Time `json:"created"`
	Seq          uint64    `json:"seq"`
	SupersededBy string    `json:"superseded_by,omitempty"`
}

// ViewPractice turns a stored practice record into its view.
func (n *Node) ViewPractice(rec *protocol.Signed) (*PracticeView, error) {
	p, err := rec.Record.DecodePayload()
	if err != nil {
		return nil, err
	}
	pr, ok := p.(*protocol.Practice)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a %s, not a practice", ErrBadRequest, rec.CID, rec.Record.Kind)
	}
	v := &PracticeView{CID: rec.CID.String(), Practice: *pr, Author: rec.Record.Author, Topics: rec.Record.Topics,
		Created: rec.Record.CreatedTime(), Seq: rec.Record.Seq}
	if v.Lessons == nil {
		v.Lessons = []string{}
	}
	if s, ok := n.store.SupersededBy(rec.CID); ok && n.store.Has(s) {
		v.SupersededBy = s.String()
	}
	return v, nil
}

// PracticeQuery selects stored practices.
type PracticeQuery struct {
	Topic  string // "" for every topic
	Author string // "" for every author
	Limit  int    // 0 for no limit
	All    bool   // superseded versions too
	Oldest bool   // oldest first (default: newest first)
}

// Practices lists stored practices.
func (n *Node) Practices(q PracticeQuery) ([]*PracticeView, error) {
	if q.Topic != "" {
		if err := protocol.ValidTopic(q.Topic); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	recs, err := n.store.List(knowledge.ListOptions{Kind: protocol.KindPractice, Topic: q.Topic, Limit: q.Limit,
		NewestFirst: !q.Oldest, IncludeOld: q.All, Author: q.Author})
	if err != nil {
		return nil, err
	}
	out := []*PracticeView{}
	for _, rec := range recs {
		if v, err := n.ViewPractice(rec); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// RetractedError tells that a record was retracted.
type RetractedError struct {
	CID    cid.Cid
	Reason string
}

func (e *RetractedError) Error() string { return fmt.Sprintf("%s was retracted: %s", e.CID, e.Reason) }

// Practice returns a stored practice; a retracted one is a
// *RetractedError.
func (n *Node) Practice(c cid.Cid) (*PracticeView, error) {
	rec, err := n.held(c)
	if err != nil {
		return nil, err
	}
	return n.ViewPractice(rec)
}

// held returns a stored record; one this node holds a tombstone for is a
// *RetractedError.
func (n *Node) held(c cid.Cid) (*protocol.Signed, error) {
	rec, err := n.store.Get(c)
	if err != nil {
		if t, terr := n.store.Tomb(c); terr == nil {
			return nil, &RetractedError{CID: c, Reason: t.Reason}
		}
		return nil, err
	}
	return rec, nil
}

// History returns every stored version of the practice c is a version of.
func (n *Node) History(c cid.Cid) ([]*PracticeView, error) {
	rec, err := n.store.Get(c)
	if err != nil {
		return nil, err
	}
	v, err := n.ViewPractice(rec)
	if err != nil {
		return nil, err
	}
	pid := v.PracticeID
	if pid == "" {
		pid = v.CID
	}
	cids, err := n.store.Versions(pid)
	if err != nil {
		return nil, err
	}
	out := []*PracticeView{}
	for _, c := range cids {
		if rec, err := n.store.Get(c); err == nil {
			if v, err := n.ViewPractice(rec); err == nil {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// Record returns a stored signed record of any kind.
func (n *Node) Record(c cid.Cid) (*protocol.Signed, error) { return n.store.Get(c) }

// IndexCount is the number of records in the search index.
func (n *Node) IndexCount() uint64 {
	var c uint64
	if ix := n.searchIndex(); ix != nil {
		c, _ = ix.Count()
	}
	return c
}

// Metrics serves the node's Prometheus metrics.
func (n *Node) Metrics() http.Handler {
	return promhttp.HandlerFor(n.stats.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records the duration of one HTTP request.
func (n *Node) ObserveRequest(pattern string, status int, d time.Duration) {
	n.stats.apiLat.WithLabelValues(pattern, strconv.Itoa(status)).Observe(d.Seconds())
}

// Logger is the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// APIToken is the secret that authorises programs to use the HTTP API.
func (n *Node) APIToken() (string, error) { return n.home.LoadToken() }

// RequestLimit is the largest request body the node accepts, in bytes.
func (n *Node) RequestLimit() int64 {
	kb := n.Config().Limits.MaxRequestKB
	if kb <= 0 {
		kb = 1024
	}
	return int64(kb) << 10
}

// UserView is an account as /api/v1/users shows it.
type UserView struct {
	Name string `json:"name"`
	// Role is "admin" or "champion" (see knowledge.Role).
	Role     string    `json:"role"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// Users lists the web UI's accounts.
func (n *Node) Users() ([]UserView, error) {
	us, err := n.store.ListUsers()
	if err != nil {
		return nil, err
	}
	out := []UserView{}
	for _, x := range us {
		out = append(out, UserView{Name: x.Name, Role: string(x.EffectiveRole()), Created: x.Created, LastSeen: x.LastSeen})
	}
	return out, nil
}

// AddUserRole creates a web UI account with a role ("admin" or
// "champion"; "" for AddUser's default).
func (n *Node) AddUserRole(name, password, role string) error {
	var r knowledge.Role
	if role != "" {
		var err error
		if r, err = knowledge.ParseRole(role); err != nil {
			return err
		}
	}
	return n.store.AddUserRole(name, password, r)
}

// SetUserRole changes an account's role.
func (n *Node) SetUserRole(name, role string) error {
	r, err := knowledge.ParseRole(role)
	if err != nil {
		return err
	}
	return n.store.SetRole(name, r)
}

// UserRole is an account's role: "admin" or "champion".
func (n *Node) UserRole(name string) (string, error) {
	u, err := n.store.GetUser(name)
	if err != nil {
		return "", err
	}
	return string(u.EffectiveRole()), nil
}

// DeleteUser removes a web UI account.
func (n *Node) DeleteUser(name string) error { return n.store.DeleteUser(name) }

// CheckPassword checks an account's password.
func (n *Node) CheckPassword(name, password string) error {
	return n.store.CheckPassword(name, password)
}

// TouchUser records that an account signed in now.
func (n *Node) TouchUser(name string) error { return n.store.TouchUser(name) }

// HomeDir is the directory of the node's home.
func (n *Node) HomeDir() string { return n.home.Dir }

// FeedToken derives the read-only token that Atom feed URLs carry, so that
// a feed reader never holds the full API token.
func FeedToken(apiToken string) string {
	if apiToken == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(apiToken))
	m.Write([]byte("livinglab atom feeds v1"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Tombstone returns the retraction of a record, if the node holds one.
func (n *Node) Tombstone(c cid.Cid) (*knowledge.Tombstone, error) { return n.store.Tomb(c) }

// Member returns the roster's entry of a peer ID.
func (n *Node) Member(id string) (Member, bool) { return n.roster.Get(id) }

// IsAdmin tells whether this node may admit and remove members.
func (n *Node) IsAdmin() bool {
	_, admin := n.roster.MemberStatus(n.id.String(), 0)
	return admin
}

// PeerView is a connected peer.
type PeerView struct {
	ID     string
	Member bool // a current federation member
}

// ConnectedPeers lists the peers the node is connected to now.
func (n *Node) ConnectedPeers() []PeerView {
	nw := n.net
	if nw == nil {
		return nil
	}
	var out []PeerView
	for _, p := range nw.host.Network().Peers() {
		out = append(out, PeerView{ID: p.String(), Member: n.roster.IsMember(p)})
	}
	return out
}

// Serving returns a channel closed when the node stops serving, or nil if
// it is not serving.
func (n *Node) Serving() <-chan struct{} {
	nw := n.net
	if nw == nil {
		return nil
	}
	return nw.ctx.Done()
}
