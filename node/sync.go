// SPDX-License-Identifier: EUPL-1.2

// This file is over 600 lines: it holds both sides of the catch-up sync
// protocol (SyncTopic asks, handleSync answers) and the topic sets they
// reconcile, which change together.

package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
	"github.com/livinglab/livinglab/protocol/recon"
)

// Sync limits. A session moves at most syncBatch records per frame and
// gives every frame syncFrameTimeout, which sets the minimum transfer rate
// (a full frame of maxSyncFrame bytes within the timeout).
const (
	maxSyncFrame     = 4 << 20
	syncBatch        = 256
	syncFrameTimeout = 20 * time.Second
	maxSyncSessions  = 16
	maxReconRounds   = 64
	gapInterval      = 15 * time.Second
	maxSyncPerPeer   = 3
)

// SyncMsg is the one frame type of /livinglab/sync/1.
//
//	initiator                         responder
//	{op:recon, topic, recon}   ->
//	                           <-     {op:recon, recon} (or status busy / not a member / bad request)
//	... until the initiator's reconciler is done ...
//	{op:get, want:[cid...]}    ->
//	                           <-     {op:records, records:[envelope...]}
//	{op:push, records:[...]}   ->
//	                           <-     {op:ack}
//	{op:done}                  ->
type SyncMsg struct {
	Op      string   `cbor:"op"`
	Status  int      `cbor:"status"`
	Error   string   `cbor:"error"`
	Topic   string   `cbor:"topic"`
	Recon   []byte   `cbor:"recon"`
	Want    [][]byte `cbor:"want"`
	Records [][]byte `cbor:"records"`
}

// topicSets holds the reconciliation set of every topic this node keeps.
type topicSets struct {
	mu   sync.Mutex
	sets map[string]*recon.Set
}

func itemOf(created int64, c cid.Cid) (recon.Item, bool) {
	dm, err := multihash.Decode(c.Hash())
	if err != nil || dm.Code != multihash.SHA2_256 || len(dm.Digest) != 32 {
		return recon.Item{}, false
	}
	it := recon.Item{Time: uint64(created)}
	copy(it.ID[:], dm.Digest)
	return it, true
}

func cidOfID(id [32]byte) cid.Cid {
	mh, _ := multihash.Encode(id[:], multihash.SHA2_256)
	return cid.NewCidV1(cid.DagCBOR, mh)
}

// topicSet returns a snapshot of a topic's set, loading it from the store
// the first time.
func (n *Node) topicSet(topic string) (*recon.Set, error) {
	n.sets.mu.Lock()
	defer n.sets.mu.Unlock()
	if n.sets.sets == nil {
		n.sets.sets = map[string]*recon.Set{}
	}
	s, ok := n.sets.sets[topic]
	if !ok {
		var items []recon.Item
		err := n.store.TopicItems(topic, func(ti knowledge.TopicItem) error {
			if it, ok := itemOf(ti.Created, ti.CID); ok {
				items = append(items, it)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		s = recon.NewSet(items)
		n.sets.sets[topic] = s
	}
	return s.Snapshot(), nil
}

// updateSets keeps the loaded sets in step with the store.
func (n *Node) updateSets(rec *protocol.Signed, res knowledge.PutResult) {
	n.sets.mu.Lock()
	defer n.sets.mu.Unlock()
	topics := rec.Record.Topics
	if rec.Record.Kind == protocol.KindMembership || rec.Record.Kind == protocol.KindRetraction {
		topics = []string{protocol.ControlTopic}
	}
	if it, ok := itemOf(rec.Record.Created, rec.CID); ok {
		for _, t := range topics {
			if s := n.sets.sets[t]; s != nil {
				s.Insert(it)
			}
		}
	}
	for _, c := range res.Removed {
		info := res.RemovedFrom[c]
		if it, ok := itemOf(info.Created, c); ok {
			for _, t := range info.Topics {
				if s := n.sets.sets[t]; s != nil {
					s.Remove(it)
				}
			}
		}
	}
}

// syncState records, per topic and peer, the last sync.
type syncState struct {
	mu   sync.Mutex
	last map[string]map[peer.ID]SyncResult
	sem  chan struct{}
	// debounce of gap-triggered syncs
	gaps map[string]time.Time
	// open sync sessions served, per peer
	perPeer map[peer.ID]int
	// topics: one session at a time per topic started by this node
	topics map[string]chan struct{}
}

// lockTopic waits until no other session this node started is
// reconciling topic. A node that meets several members at once (joining,
// coming back online) would otherwise fetch the same missing records from
// each of them in parallel; one after the other, the later sessions find
// only what the earlier ones could not supply.
func (n *Node) lockTopic(ctx context.Context, topic string) (func(), error) {
	n.syncSt.mu.Lock()
	if n.syncSt.topics == nil {
		n.syncSt.topics = map[string]chan struct{}{}
	}
	ch := n.syncSt.topics[topic]
	if ch == nil {
		ch = make(chan struct{}, 1)
		n.syncSt.topics[topic] = ch
	}
	n.syncSt.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SyncResult describes one finished sync session.
type SyncResult struct {
	Topic    string    `json:"topic"`
	Peer     string    `json:"peer"`
	At       time.Time `json:"at"`
	Got      int       `json:"got"`
	Sent     int       `json:"sent"`
	InSync   bool      `json:"in_sync"`
	Error    string    `json:"error,omitempty"`
	BytesOut int       `json:"bytes_out"`
	BytesIn  int       `json:"bytes_in"`
}

func (n *Node) recordSync(r SyncResult, p peer.ID) {
	n.syncSt.mu.Lock()
	defer n.syncSt.mu.Unlock()
	if n.syncSt.last == nil {
		n.syncSt.last = map[string]map[peer.ID]SyncResult{}
	}
	if n.syncSt.last[r.Topic] == nil {
		n.syncSt.last[r.Topic] = map[peer.ID]SyncResult{}
	}
	n.syncSt.last[r.Topic][p] = r
}

// memberConnected runs catch-up with a member that just connected: the
// control topic first (roster, tombstones), then every subscribed topic.
func (n *Node) memberConnected(ctx context.Context, p peer.ID) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(200 * time.Millisecond):
	}
	n.syncAllTopics(ctx, p)
}

func (n *Node) syncAllTopics(ctx context.Context, p peer.ID) {
	for _, t := range append([]string{protocol.ControlTopic}, n.Config().Topics...) {
		if _, err := n.SyncTopic(ctx, p, t); err != nil {
			n.log.Debug("sync failed", "peer", p, "topic", t, "err", err)
		}
	}
}

func (n *Node) connectedMembers() []peer.ID {
	nw := n.net
	if nw == nil {
		return nil
	}
	var out []peer.ID
	for _, p := range nw.host.Network().Peers() {
		if n.roster.IsMember(p) {
			out = append(out, p)
		}
	}
	return out
}

func (n *Node) syncTopicWithAll(ctx context.Context, topic string) {
	for _, p := range n.connectedMembers() {
		if _, err := n.SyncTopic(ctx, p, topic); err != nil {
			n.log.Debug("sync failed", "peer", p, "topic", topic, "err", err)
		}
	}
}

// syncLoop syncs every topic with a random connected member periodically.
func (n *Node) syncLoop(ctx context.Context) error {
	iv := time.Duration(n.Config().Sync.Interval)
	if iv <= 0 {
		iv = 30 * time.Second
	}
	for {
		jit := time.Duration(rand.Int64N(int64(iv) / 2))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(iv/2 + jit):
		}
		ps := n.connectedMembers()
		if len(ps) == 0 || n.Federation() == "" {
			continue
		}
		n.walkRemovedChains(ctx)
		n.syncAllTopics(ctx, ps[rand.IntN(len(ps))])
	}
}

// maxGapWalk is how many missing predecessors in a row checkGap fetches
// one by one before it reconciles the topic instead.
const maxGapWalk = 8

// checkGap fetches what is missing when a record gossiped on topic, a
// topic this node follows, names a predecessor on that topic (its
// author's chain there, record format 2) that is not held. A moment later
// (records still in flight may land), the sender is asked for that one
// record, then for its predecessor on the topic in turn; a long run of
// missing records falls back to reconciling the topic. Only the topic's
// chain is followed, so the author's records on topics this node does not
// follow are never asked for. Version 1 records name no predecessor per
// topic: what gossip missed of them comes by the periodic sync.
//
// The gossip validator calls it: everything, the store lookups included,
// happens on another goroutine, so that relaying the record does not wait
// for them.
func (n *Node) checkGap(ctx context.Context, rec *protocol.Signed, topic string, from peer.ID) {
	if rec.Record.Chain[topic].Prev == "" || from == "" {
		return
	}
	n.spawn(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(gapDelay):
		}
		n.walkGap(ctx, rec, topic, from, 0)
	})
}

// gapDelay is how long a gossiped record's missing predecessor may still
// be in flight before it is fetched.
const gapDelay = 2 * time.Second

func (n *Node) walkGap(ctx context.Context, rec *protocol.Signed, topic string, from peer.ID, depth int) {
	prev, err := cid.Decode(rec.Record.Chain[topic].Prev) // "" (the first on the topic) does not decode
	if err != nil || n.store.Has(prev) {
		return
	}
	if _, err := n.store.Tomb(prev); err == nil {
		return
	}
	if depth >= maxGapWalk {
		n.syncGapTopic(ctx, topic, from)
		return
	}
	if !n.gapWanted("cid:" + prev.String()) {
		return
	}
	got, err := n.fetchRecords(ctx, from, []cid.Cid{prev})
	if err != nil {
		n.log.Debug("gap fetch failed", "peer", from, "cid", prev, "err", err)
		return
	}
	for _, r := range got {
		if n.store.Has(r.CID) && r.Record.Author == rec.Record.Author {
			n.walkGap(ctx, r, topic, from, depth+1)
		}
	}
}

// syncGapTopic reconciles a followed topic with from, at most once per
// gapInterval.
func (n *Node) syncGapTopic(ctx context.Context, t string, from peer.ID) {
	if (t != protocol.ControlTopic && !slices.Contains(n.Config().Topics, t)) || !n.gapWanted("topic:"+t) {
		return
	}
	n.spawn(func() {
		if _, err := n.SyncTopic(ctx, from, t); err != nil {
			n.log.Debug("gap sync failed", "peer", from, "topic", t, "err", err)
		}
	})
}

// gapWanted debounces gap fetches: true at most once per gapInterval for
// a key.
func (n *Node) gapWanted(key string) bool {
	n.syncSt.mu.Lock()
	defer n.syncSt.mu.Unlock()
	if n.syncSt.gaps == nil {
		n.syncSt.gaps = map[string]time.Time{}
	}
	now := time.Now()
	if now.Sub(n.syncSt.gaps[key]) < gapInterval {
		return false
	}
	if len(n.syncSt.gaps) > 4096 {
		for k, at := range n.syncSt.gaps {
			if now.Sub(at) >= gapInterval {
				delete(n.syncSt.gaps, k)
			}
		}
	}
	n.syncSt.gaps[key] = now
	return true
}

// fetchRaw asks peer p for records by CID (at most syncBatch) and returns
// what it sent, unchecked.
func (n *Node) fetchRaw(ctx context.Context, p peer.ID, cids []cid.Cid) ([][]byte, error) {
	nw := n.net
	if nw == nil {
		return nil, errors.New("not running")
	}
	if len(cids) > syncBatch {
		cids = cids[:syncBatch]
	}
	ctx, cancel := context.WithTimeout(ctx, syncFrameTimeout)
	defer cancel()
	ss, err := n.openSync(ctx, nw, p)
	if err != nil {
		return nil, err
	}
	defer ss.close()
	want := make([][]byte, len(cids))
	for i, c := range cids {
		want[i] = c.Bytes()
	}
	if err := ss.send(&SyncMsg{Op: "get", Want: want}); err != nil {
		return nil, err
	}
	m, err := ss.recv("records")
	if err != nil {
		return nil, err
	}
	ss.send(&SyncMsg{Op: "done"})
	return m.Records, nil
}

// fetchRecords asks p for records by CID and stores those this node keeps,
// as any record from a peer; it returns the valid records received.
func (n *Node) fetchRecords(ctx context.Context, p peer.ID, cids []cid.Cid) ([]*protocol.Signed, error) {
	raws, err := n.fetchRaw(ctx, p, cids)
	if err != nil {
		return nil, err
	}
	var out []*protocol.Signed
	for _, raw := range raws {
		rec, added, err := n.accept("", raw, p)
		if err != nil || !slices.ContainsFunc(cids, rec.CID.Equals) {
			continue
		}
		if added {
			n.stats.syncRecs.WithLabelValues("in").Inc()
		}
		out = append(out, rec)
	}
	return out, nil
}

// syncSession is a sync stream this node opened, counting its bytes.
type syncSession struct {
	n  *Node
	s  network.Stream
	c  *countedStream
	br *bufio.Reader
}

func (n *Node) openSync(ctx context.Context, nw *p2p, p peer.ID) (*syncSession, error) {
	s, err := nw.host.NewStream(network.WithAllowLimitedConn(ctx, "sync"), p, protocol.SyncProtocol)
	if err != nil {
		return nil, fmt.Errorf("open sync stream: %w", err)
	}
	ss := &syncSession{n: n, s: s, c: &countedStream{rw: s}}
	ss.br = bufio.NewReader(ss.c)
	return ss, nil
}

func (ss *syncSession) send(m *SyncMsg) error {
	ss.s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	return protocol.WriteFrame(ss.c, m)
}

// recv reads the next frame, which must be an op want with status OK.
func (ss *syncSession) recv(want string) (*SyncMsg, error) {
	ss.s.SetReadDeadline(time.Now().Add(syncFrameTimeout))
	var m SyncMsg
	if err := protocol.ReadFrame(ss.br, &m, maxSyncFrame); err != nil {
		return nil, err
	}
	if m.Status != protocol.StatusOK {
		return nil, fmt.Errorf("peer answered status %d: %s", m.Status, m.Error)
	}
	if m.Op != want {
		return nil, fmt.Errorf("%w: expected %q, got %q", protocol.ErrMalformed, want, m.Op)
	}
	return &m, nil
}

// close closes the stream and counts its bytes; it returns them.
func (ss *syncSession) close() (out, in int) {
	ss.s.Close()
	ss.n.stats.syncBytes.WithLabelValues("out").Add(float64(ss.c.out))
	ss.n.stats.syncBytes.WithLabelValues("in").Add(float64(ss.c.in))
	return ss.c.out, ss.c.in
}

// SyncTopic reconciles one topic with peer p: it fetches what this node
// lacks and pushes what p lacks.
func (n *Node) SyncTopic(ctx context.Context, p peer.ID, topic string) (res SyncResult, err error) {
	res = SyncResult{Topic: topic, Peer: p.String(), At: time.Now()}
	defer func() {
		if err != nil {
			res.Error = err.Error()
			n.stats.syncRuns.WithLabelValues("error").Inc()
		} else {
			n.stats.syncRuns.WithLabelValues("ok").Inc()
		}
		n.recordSync(res, p)
	}()
	nw := n.net
	if nw == nil {
		return res, errors.New("not running")
	}
	unlock, err := n.lockTopic(ctx, topic)
	if err != nil {
		return res, err
	}
	defer unlock()
	set, err := n.topicSet(topic)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	ss, err := n.openSync(ctx, nw, p)
	if err != nil {
		return res, err
	}
	defer func() { res.BytesOut, res.BytesIn = ss.close() }()
	send, recv := ss.send, ss.recv
	rc := recon.NewReconciler(set, recon.Options{})
	msg, err := rc.Initiate()
	if err != nil {
		return res, err
	}
	if err := send(&SyncMsg{Op: "recon", Topic: topic, Recon: msg}); err != nil {
		return res, err
	}
	for round := 0; ; round++ {
		if round > maxReconRounds {
			return res, errors.New("reconciliation did not converge")
		}
		m, err := recv("recon")
		if err != nil {
			return res, err
		}
		next, done, err := rc.Step(m.Recon)
		if err != nil {
			return res, err
		}
		if done {
			break
		}
		if err := send(&SyncMsg{Op: "recon", Topic: topic, Recon: next}); err != nil {
			return res, err
		}
	}
	// Fetch what this node lacks, in batches.
	need := rc.Need()
	for len(need) > 0 {
		k := min(len(need), syncBatch)
		batch := need[:k]
		need = need[k:]
		want := make([][]byte, 0, len(batch))
		for _, id := range batch {
			want = append(want, cidOfID(id).Bytes())
		}
		if err := send(&SyncMsg{Op: "get", Topic: topic, Want: want}); err != nil {
			return res, err
		}
		m, err := recv("records")
		if err != nil {
			return res, err
		}
		for _, raw := range m.Records {
			rec, added, err := n.accept("", raw, p)
			if err != nil {
				n.log.Debug("sync: refused record", "peer", p, "err", err)
				continue
			}
			if !slices.ContainsFunc(batch, func(id [32]byte) bool { return cidOfID(id).Equals(rec.CID) }) {
				continue
			}
			if added {
				res.Got++
				n.stats.syncRecs.WithLabelValues("in").Inc()
			}
		}
	}
	// Push what the peer lacks.
	have := rc.Have()
	for len(have) > 0 {
		var recs [][]byte
		size := 0
		for len(have) > 0 && len(recs) < syncBatch && size < maxSyncFrame/2 {
			rec, err := n.store.Get(cidOfID(have[0].ID))
			have = have[1:]
			if err != nil {
				continue // retracted or removed meanwhile
			}
			if !n.peerReads(p, rec.Record.Version) {
				continue // a node of the previous release cannot verify it
			}
			recs = append(recs, rec.Raw)
			size += len(rec.Raw)
		}
		if len(recs) == 0 {
			continue
		}
		if err := send(&SyncMsg{Op: "push", Topic: topic, Records: recs}); err != nil {
			return res, err
		}
		if _, err := recv("ack"); err != nil {
			return res, err
		}
		res.Sent += len(recs)
		n.stats.syncRecs.WithLabelValues("out").Add(float64(len(recs)))
	}
	send(&SyncMsg{Op: "done"})
	res.InSync = true
	return res, nil
}

// handleSync serves /livinglab/sync/1.
func (n *Node) handleSync(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	br := bufio.NewReader(s)
	send := func(m *SyncMsg) error {
		s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
		return protocol.WriteFrame(s, m)
	}
	if !n.roster.IsMember(p) {
		send(&SyncMsg{Status: protocol.StatusNotMember, Error: "not a member of this federation"})
		return
	}
	// At most maxSyncPerPeer sessions per peer, so one member cannot take
	// every slot; and at most maxSyncSessions in all.
	n.syncSt.mu.Lock()
	if n.syncSt.perPeer == nil {
		n.syncSt.perPeer = map[peer.ID]int{}
	}
	if n.syncSt.perPeer[p] >= maxSyncPerPeer {
		n.syncSt.mu.Unlock()
		n.stats.rejects.WithLabelValues("sync_peer_busy").Inc()
		send(&SyncMsg{Status: protocol.StatusBusy, Error: "too many sync sessions from this peer, try again later"})
		return
	}
	n.syncSt.perPeer[p]++
	n.syncSt.mu.Unlock()
	defer func() {
		n.syncSt.mu.Lock()
		if n.syncSt.perPeer[p]--; n.syncSt.perPeer[p] <= 0 {
			delete(n.syncSt.perPeer, p)
		}
		n.syncSt.mu.Unlock()
	}()
	select {
	case n.syncSt.sem <- struct{}{}:
		defer func() { <-n.syncSt.sem }()
	default:
		send(&SyncMsg{Status: protocol.StatusBusy, Error: "busy, try again later"})
		return
	}
	var rc *recon.Reconciler
	topic := ""
	for {
		s.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		var m SyncMsg
		if err := protocol.ReadFrame(br, &m, maxSyncFrame); err != nil {
			if errors.Is(err, protocol.ErrMalformed) || errors.Is(err, protocol.ErrFrameTooLarge) {
				n.log.Warn("sync: garbage from peer, disconnecting", "peer", p, "err", err)
				send(&SyncMsg{Status: protocol.StatusBadRequest, Error: err.Error()})
				s.Reset()
				n.net.host.Network().ClosePeer(p)
			}
			return
		}
		bad := func(msg string) {
			send(&SyncMsg{Status: protocol.StatusBadRequest, Error: msg})
		}
		switch m.Op {
		case "recon":
			if topic == "" {
				if err := protocol.ValidTopic(m.Topic); err != nil {
					bad(err.Error())
					return
				}
				topic = m.Topic
				set, err := n.topicSet(topic)
				if err != nil {
					send(&SyncMsg{Status: protocol.StatusInternal, Error: err.Error()})
					return
				}
				rc = recon.NewReconciler(set, recon.Options{})
			} else if m.Topic != topic {
				bad("one topic per session")
				return
			}
			reply, err := rc.Respond(m.Recon)
			if err != nil {
				bad("reconciliation: " + err.Error())
				return
			}
			if err := send(&SyncMsg{Op: "recon", Recon: reply}); err != nil {
				return
			}
		case "get":
			if len(m.Want) > syncBatch {
				bad(fmt.Sprintf("at most %d records per request", syncBatch))
				return
			}
			out := &SyncMsg{Op: "records"}
			size := 0
			for _, b := range m.Want {
				c, err := cid.Cast(b)
				if err != nil {
					bad("bad CID in request")
					return
				}
				rec, err := n.store.Get(c)
				if err != nil || size+len(rec.Raw) > maxSyncFrame-64<<10 || !n.peerReads(p, rec.Record.Version) {
					continue
				}
				out.Records = append(out.Records, rec.Raw)
				size += len(rec.Raw)
			}
			if err := send(out); err != nil {
				return
			}
		case "push":
			if len(m.Records) > syncBatch {
				bad(fmt.Sprintf("at most %d records per push", syncBatch))
				return
			}
			for _, raw := range m.Records {
				if _, added, err := n.accept("", raw, p); err != nil {
					n.log.Debug("sync: refused pushed record", "peer", p, "err", err)
				} else if added {
					n.stats.syncRecs.WithLabelValues("in").Inc()
				}
			}
			if err := send(&SyncMsg{Op: "ack"}); err != nil {
				return
			}
		case "done":
			return
		default:
			bad(fmt.Sprintf("unknown op %q", m.Op))
			return
		}
	}
}

// countedStream counts the bytes read from and written to a stream.
type countedStream struct {
	rw      network.Stream
	in, out int
}

func (c *countedStream) Read(b []byte) (int, error) {
	k, err := c.rw.Read(b)
	c.in += k
	return k, err
}

func (c *countedStream) Write(b []byte) (int, error) {
	k, err := c.rw.Write(b)
	c.out += k
	return k, err
}

func cidDecode(s string) (cid.Cid, error) { return cid.Decode(s) }
