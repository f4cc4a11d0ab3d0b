// SPDX-License-Identifier: EUPL-1.2

// Package node is a livinglab node as a service: the libp2p host, gossipsub
// topic channels and their validators, federation membership and the
// connection gate, discovery, catch-up sync, federated search, publishing
// behind the anonymisation gate, the lab data and drafts, backups, and the
// daemon's lifecycle.
//
// Its exported methods are the node's service API (service.go lists the
// small ones): the front ends (node/api, node/web, the commands) use the
// node through them alone and never reach its store, roster or network.
// The package may import knowledge and protocol; it never imports its front
// ends or the commands (node/server wires the front ends, and the
// commands pass its handler in Options.Handler).
package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/anon"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// Options adjust a node beyond its config file (command-line flags, tests).
type Options struct {
	Listen    []string // replaces the config's listen addresses
	API       string   // replaces the config's API address
	Bootstrap []string // added to the config's bootstrap peers
	Logger    *slog.Logger
	// Host, if set, is used instead of building a libp2p host (tests use
	// mocknet hosts). The node does not gate its connections.
	Host host.Host
	// NoAPI disables the HTTP server (in-process tests).
	NoAPI bool
	// PubsubOptions are added to gossipsub's options (tracers in tests
	// and measurements).
	PubsubOptions []pubsub.Option
	// Handler builds what the node serves on its API address, the HTTP
	// API and web UI (node/server wires them); required unless NoAPI.
	Handler func(n *Node, bound string) http.Handler
	// Ready is called once the node is serving, with the bound API address.
	Ready func(apiAddr string)
	// RecordVersion, if set, is the record format this node signs,
	// whatever the members announced (tests of an upgrade).
	RecordVersion int
}

// Node is one region's node.
type Node struct {
	home Home
	opts Options
	log  *slog.Logger

	cfgMu sync.Mutex
	cfg   Config

	key   crypto.PrivKey
	id    peer.ID
	idStr string // id.String(), asked for every record received

	store  *knowledge.Store
	roster *Roster
	val    *protocol.Validator
	events *events
	stats  *stats

	pubMu sync.Mutex // serialises this node's own records (sequence numbers)

	net *p2p // libp2p side, set while serving

	invMu   sync.Mutex
	invites map[[32]byte]*pendingInvite

	integ integrity

	sets   topicSets
	syncSt syncState
	wire   wireState

	idxq  indexQueue
	idxMu sync.RWMutex
	index *search.Index

	bgMu     sync.Mutex
	bg       sync.WaitGroup
	stopping bool

	rateMu    sync.Mutex
	rates     map[string]*rate.Limiter
	follows   map[string]*rateFollow // by author, under rateMu
	kept      keptWalks
	searchLim searchLimiter
}

// New loads a node from its home: config, identity, store and roster.
func New(home Home, opts Options) (*Node, error) {
	cfg, err := LoadConfig(home.Config())
	if err != nil {
		return nil, err
	}
	// The anonymisation gate's lexicons ship inside the binary; a build
	// without them must not start publishing.
	if err := anon.Ready(); err != nil {
		return nil, err
	}
	key, id, err := home.LoadIdentity()
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	// The store reports damage it finds on read before the node exists.
	var damaged func(cid.Cid, error)
	st, err := knowledge.Open(home.Store(), knowledge.Options{
		MemTableMB: cfg.Store.MemTableMB, NumMemtables: cfg.Store.NumMemtables, BlockCacheMB: cfg.Store.BlockCacheMB,
		IndexCacheMB: cfg.Store.IndexCacheMB, ValueLogFileMB: cfg.Store.ValueLogFileMB,
		NumCompactors: cfg.Store.NumCompactors, SyncWrites: cfg.Store.SyncWrites, Logger: log,
		OnDamaged: func(c cid.Cid, err error) {
			if damaged != nil {
				damaged(c, err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	n := &Node{home: home, opts: opts, log: log, cfg: cfg, key: key, id: id, idStr: id.String(), store: st,
		roster: NewRoster(cfg.Federation.Founder), events: newEvents(), stats: newStats(),
		invites: map[[32]byte]*pendingInvite{}}
	n.integ.wake = make(chan struct{}, 1)
	damaged = n.damageFound
	n.stats.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livinglab_store_damaged_records",
		Help: "Stored records known to be damaged and not yet repaired."},
		func() float64 { return float64(len(st.Damaged())) }))
	n.syncSt.sem = make(chan struct{}, maxSyncSessions)
	n.idxq.wake = make(chan struct{}, 1)
	n.idxq.flush = make(chan struct{}, 1)
	n.idxq.space = sync.NewCond(&n.idxq.mu)
	n.val = &protocol.Validator{Federation: cfg.Federation.Name, Founder: cfg.Federation.Founder, Ledger: n}
	if err := n.loadRoster(); err != nil {
		st.Close()
		return nil, err
	}
	if err := n.loadInvites(); err != nil {
		st.Close()
		return nil, err
	}
	return n, nil
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.id }

// Config returns a copy of the current config.
func (n *Node) Config() Config {
	n.cfgMu.Lock()
	defer n.cfgMu.Unlock()
	c := n.cfg
	c.Topics = slices.Clone(c.Topics)
	return c
}

func (n *Node) updateConfig(fn func(*Config)) error {
	n.cfgMu.Lock()
	defer n.cfgMu.Unlock()
	c := n.cfg
	c.Topics = slices.Clone(c.Topics)
	fn(&c)
	if err := SaveConfig(n.home.Config(), c); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	n.cfg = c
	return nil
}

// Federation returns the federation name, "" before joining one.
func (n *Node) Federation() string { return n.Config().Federation.Name }

func (n *Node) loadRoster() error {
	recs, err := n.store.List(knowledge.ListOptions{Kind: protocol.KindMembership, IncludeOld: true})
	if err != nil {
		return fmt.Errorf("load roster: %w", err)
	}
	n.roster.Add(recs...)
	return nil
}

// MemberStatus implements protocol.Ledger.
func (n *Node) MemberStatus(author string, seq uint64) (bool, bool) {
	return n.roster.MemberStatus(author, seq)
}

// RetractedBy implements protocol.Ledger.
func (n *Node) RetractedBy(c cid.Cid) []string {
	ts, err := n.store.Tombs(c)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.By)
	}
	return out
}

// AuthorOf implements protocol.Ledger.
func (n *Node) AuthorOf(c cid.Cid) (string, bool) { return n.store.AuthorOf(c) }

// AuthorCID implements protocol.Ledger.
func (n *Node) AuthorCID(author string, seq uint64) (cid.Cid, bool) {
	return n.store.AuthorCID(author, seq)
}

// KeptRecord implements protocol.Ledger from the chain walked back from
// the record a removal names (see walkKept).
func (n *Node) KeptRecord(author string, seq uint64, c cid.Cid) (kept, known bool) {
	m, ok := n.roster.Get(author)
	if !ok || !m.Removed || m.KeepUntil == "" || m.KeepUntil == c.String() {
		return true, true
	}
	if _, ok := n.store.KeptLink(author, c); ok {
		return true, true
	}
	done, floor := n.store.KeptDone(author)
	if done && seq < floor {
		// Below a retracted record nobody holds, the chain cannot be
		// followed: only a second record for a held number is refused.
		return true, true
	}
	return false, done
}

// Close closes the store. Serve closes it on return; Close is for nodes
// that never served.
func (n *Node) Close() error {
	n.closeIndex()
	return n.store.Close()
}

// signAndStore builds this node's next record around payload, signs it and
// stores it. It is the only place where this node signs records, so the
// anonymisation gate sits in front of it (see publish.go).
func (n *Node) signAndStore(p protocol.Payload, topics []string) (*protocol.Signed, error) {
	fed := n.Federation()
	if fed == "" {
		return nil, ErrNotInFederation
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	seq, prev, err := n.store.LastOwn()
	if err != nil {
		return nil, err
	}
	r := protocol.Record{Version: n.recordVersion(), Federation: fed, Author: n.id.String(), Seq: seq + 1, Prev: prev,
		Created: time.Now().UnixMilli(), Topics: topics}
	if err := r.SetPayload(p); err != nil {
		return nil, err
	}
	if err := n.chainRecord(&r); err != nil {
		return nil, err
	}
	rec, err := protocol.Seal(r, n.key)
	if err != nil {
		return nil, err
	}
	if err := n.val.CheckSigned("", rec); err != nil {
		return nil, fmt.Errorf("refused by this node's own validator: %w", err)
	}
	// The federation's publishing limit is counted by signing time, by
	// every node: a record over it would be refused everywhere, so it is
	// not signed (the store checks and counts in one transaction).
	res, err := n.store.PutOwnLimited(rec, n.authorLimit())
	if errors.Is(err, knowledge.ErrAuthorLimit) {
		l := n.Config().Limits
		return nil, fmt.Errorf("%w: at most %d records at once and %d a minute; try again in a minute", ErrPublishLimit, l.PublishBurst, l.PublishPerMin)
	}
	if err != nil {
		return nil, err
	}
	n.afterStore(rec, res, "")
	return rec, nil
}

// recentWindow is how recently signed a record must be for the arrival
// rate to apply to it by sync. Older records are history a node catches
// up on; the limit by signing time still bounds them.
const recentWindow = 10 * time.Minute

// recentFromAuthor tells whether rec is a practice or lesson, signed
// within recentWindow, that this node does not hold yet.
func (n *Node) recentFromAuthor(rec *protocol.Signed) bool {
	k := rec.Record.Kind
	if k != protocol.KindPractice && k != protocol.KindLesson {
		return false
	}
	if time.Since(rec.Record.CreatedTime()) > recentWindow {
		return false
	}
	return !n.store.Has(rec.CID)
}

// ErrPublishLimit is returned when publishing would put this region over
// the federation's publishing limit (limits.publish_per_min and
// limits.publish_burst).
var ErrPublishLimit = errors.New("publishing limit reached")

// authorLimit is the federation's publishing limit as the store counts it.
func (n *Node) authorLimit() knowledge.AuthorLimit {
	l := n.Config().Limits
	return knowledge.LimitFor(l.PublishPerMin, l.PublishBurst)
}

// ErrNotInFederation refuses what needs a federation before the node has one.
var ErrNotInFederation = errors.New("this node is not in a federation yet: found one with init --federation or join one with an invite")

// afterStore updates derived state after a record was stored.
func (n *Node) afterStore(rec *protocol.Signed, res knowledge.PutResult, from peer.ID) {
	if !res.Added {
		return
	}
	n.updateSets(rec, res)
	n.updateIndex(rec, res)
	if rec.Record.Kind == protocol.KindMembership {
		n.roster.Add(rec)
		if nw := n.net; nw != nil && nw.ctx != nil {
			n.walkRemovedChains(nw.ctx)
		}
	}
	n.events.publish(Event{Type: "record", Record: rec, From: from, Removed: res.Removed, Superseded: res.Superseded, At: time.Now()})
}

// accept validates a record that arrived from a peer (by gossip, sync or
// join) and stores it if this node keeps it. It returns whether it was new.
func (n *Node) accept(topic string, raw []byte, from peer.ID) (*protocol.Signed, bool, error) {
	rec, err := n.val.Check(topic, raw)
	if err != nil {
		n.stats.rejected(err)
		return nil, false, err
	}
	if !n.keeps(rec) {
		return rec, false, nil
	}
	// A member's own recent records that it pushes or serves by sync
	// count against its arrival rate as they would by gossip: a flood
	// refused live cannot come in by the side door.
	if topic == "" && from != "" && rec.Record.Author == from.String() && n.recentFromAuthor(rec) && !n.authorAllowed(rec) {
		n.stats.rejected(errRateLimited)
		n.rateRefused(rec, "")
		return rec, false, errRateLimited
	}
	res, err := n.storeReceived(rec, from)
	return rec, res.Added, err
}

// storeReceived stores a valid record from a peer (by gossip, sync or
// join) and announces it. The publishing limit by signing time holds on
// every path, gossip or sync, from the author or from anyone: a flood
// beyond it, however it is dated, is never stored.
func (n *Node) storeReceived(rec *protocol.Signed, from peer.ID) (knowledge.PutResult, error) {
	res, err := n.store.PutLimited(rec, n.authorLimit())
	if err != nil {
		if errors.Is(err, protocol.ErrRetracted) || errors.Is(err, knowledge.ErrAuthorLimit) {
			n.stats.rejected(err)
		}
		return res, err
	}
	if res.Added {
		n.stats.received.Inc()
	}
	n.afterStore(rec, res, from)
	return res, nil
}

// keeps tells whether this node stores rec: control records always, others
// when they carry a subscribed topic or are its own.
func (n *Node) keeps(rec *protocol.Signed) bool {
	switch rec.Record.Kind {
	case protocol.KindMembership, protocol.KindRetraction:
		return true
	}
	if rec.Record.Author == n.idStr {
		return true
	}
	subs := n.Config().Topics
	for _, t := range rec.Record.Topics {
		if slices.Contains(subs, t) {
			return true
		}
	}
	return false
}

// closeIndex closes the search index (for nodes that never served).
func (n *Node) closeIndex() {
	n.idxMu.Lock()
	defer n.idxMu.Unlock()
	if n.index != nil {
		if n.index.Close() == nil {
			os.Remove(n.home.Index() + ".dirty")
		}
		n.index = nil
	}
}

// errRateLimited is a record refused for its author's publishing limit,
// by arrival rate (gossip) or by signing time (the store).
var errRateLimited = knowledge.ErrAuthorLimit

// authorAllowed applies the per-author publishing limit (records per minute
// with a burst) to practices and lessons arriving live by gossip, so a
// flooding member's excess is dropped by every node and never relayed,
// and to the member's own recent records arriving by sync (see accept).
// Control records are not limited.
func (n *Node) authorAllowed(rec *protocol.Signed) bool {
	if rec.Record.Kind != protocol.KindPractice && rec.Record.Kind != protocol.KindLesson {
		return true
	}
	l := n.Config().Limits
	if l.PublishPerMin <= 0 {
		return true
	}
	n.rateMu.Lock()
	defer n.rateMu.Unlock()
	if n.rates == nil {
		n.rates = map[string]*rate.Limiter{}
	}
	lim, ok := n.rates[rec.Record.Author]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(float64(l.PublishPerMin)/60), max(l.PublishBurst, 1))
		n.rates[rec.Record.Author] = lim
	}
	return lim.Allow()
}
