// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// network is the node's libp2p side while it serves.
type p2p struct {
	n        *Node
	ctx      context.Context
	host     host.Host
	ps       *pubsub.PubSub
	dht      *dht.IpfsDHT
	ownsHost bool

	mu     sync.Mutex
	topics map[string]*topicChan // by topic channel name

	kick       chan struct{} // wakes the connector
	joinTarget sync.Map      // peer.ID -> time.Time: inviters being joined
	connSince  sync.Map      // peer.ID -> time.Time: first connection of non-members
}

// topicChan is one topic channel: its gossipsub topic of this gossip
// version and, while some member needs it, of the previous one.
type topicChan struct {
	name string
	cur  *gossipSub
	old  *gossipSub
}

// gossipSub is one subscribed gossipsub topic.
type gossipSub struct {
	name   string // gossipsub topic name
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	cancel context.CancelFunc
}

func (g *gossipSub) close(ps *pubsub.PubSub) {
	g.cancel()
	g.sub.Cancel()
	g.topic.Close()
	ps.UnregisterTopicValidator(g.name)
}

// gater refuses connections from peers outside the federation, right after
// the secure handshake, except an inviter being joined and, while this node
// has open invites, peers coming to join.
type gater struct{ n *Node }

func (g gater) InterceptPeerDial(p peer.ID) bool                                { return g.n.mayConnect(p, network.DirOutbound) }
func (g gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool                    { return true }
func (g gater) InterceptAccept(cm network.ConnMultiaddrs) bool                  { return g.n.acceptAddr(cm) }
func (g gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
func (g gater) InterceptSecured(dir network.Direction, p peer.ID, cm network.ConnMultiaddrs) bool {
	ok := g.n.mayConnect(p, dir)
	if !ok {
		if dir == network.DirInbound {
			g.n.refusedAfterHandshake(cm)
		}
		g.n.stats.rejects.WithLabelValues("connection_not_member").Inc()
		g.n.log.Debug("refused connection from non-member", "peer", p, "dir", dir)
	}
	return ok
}

func (n *Node) mayConnect(p peer.ID, dir network.Direction) bool {
	if n.roster.IsMember(p) {
		return true
	}
	if nw := n.net; nw != nil {
		if _, ok := nw.joinTarget.Load(p); ok {
			return true
		}
	}
	if m, known := n.roster.Get(p.String()); known && m.Removed {
		// A removed member is not a stranger coming to join.
		return false
	}
	return dir == network.DirInbound && n.hasOpenInvites()
}

// topicPeerFilter keeps gossip between members: a stranger let in to join
// (see mayConnect) may open the join protocol and nothing else, so its
// subscriptions are ignored and it never joins a topic's mesh.
func (n *Node) topicPeerFilter(p peer.ID, _ string) bool { return n.roster.IsMember(p) }

// GossipWireOptions are the gossipsub options that shape what goes on the
// wire, which every peer of a federation's topics must share (the version
// in protocol.GossipTopic names them). A message carries one signed record
// and nothing else: no gossipsub signature, key, sender or sequence number
// (StrictNoSign with no author, as the gossipsub specification defines
// it, so that any implementation's StrictNoSign peer accepts them). The
// record's own signature authenticates it (the validator checks it before
// anything is forwarded), so a second signature by the sending peer would
// cost every receiver another verification and about 100 bytes for
// nothing; the message ID is the hash of the topic and the record, so
// copies of one record are one message whoever forwards them, and a record
// in two topics is a message in each. Messages of the previous release
// on the previous gossip version's topics lose their sender and sequence
// number on arrival (stripLegacyAuthor), which this node would otherwise
// refuse.
func GossipWireOptions() []pubsub.Option {
	return []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(msgID),
		pubsub.WithMaxMessageSize(protocol.MaxRecordBytes + 16<<10),
		pubsub.WithAppSpecificRpcInspector(stripLegacyAuthor),
	}
}

// GossipDeliveryOptions are every gossipsub option of the node that shapes
// delivery: the wire options, flood publishing (a region's record goes to
// every subscriber it is connected to at once) and queue sizes. Peer
// scoring and validators come on top.
func GossipDeliveryOptions() []pubsub.Option {
	return append(GossipWireOptions(),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerOutboundQueueSize(256),
		pubsub.WithValidateQueueSize(1024),
	)
}

func msgID(m *pb.Message) string {
	h := sha256.New()
	h.Write([]byte(m.GetTopic()))
	h.Write([]byte{0})
	h.Write(m.Data)
	return string(h.Sum(nil))
}

// onlyLoopback tells whether every listen address is a loopback address,
// in which case LAN discovery and port mapping have nothing to do.
func onlyLoopback(addrs []string) bool {
	for _, a := range addrs {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return false
		}
		ip, err := manet.ToIP(m)
		if err != nil || !ip.IsLoopback() {
			return false
		}
	}
	return len(addrs) > 0
}

func (n *Node) startNetwork(ctx context.Context) (*p2p, error) {
	cfg := n.Config()
	listen := cfg.Listen
	if len(n.opts.Listen) > 0 {
		listen = n.opts.Listen
	}
	nw := &p2p{n: n, ctx: ctx, topics: map[string]*topicChan{}, kick: make(chan struct{}, 1)}
	n.net = nw
	// A roster change (an admission, a removal) is acted on at once.
	n.roster.OnChange(nw.wake)
	if n.opts.Host != nil {
		nw.host = n.opts.Host
	} else {
		loop := onlyLoopback(listen)
		cm, err := connmgr.NewConnManager(cfg.Limits.ConnsLow, cfg.Limits.ConnsHigh, connmgr.WithGracePeriod(time.Minute))
		if err != nil {
			return nil, fmt.Errorf("connection manager: %w", err)
		}
		rm, err := newResourceManager(cfg.Limits)
		if err != nil {
			return nil, err
		}
		opts := []libp2p.Option{
			libp2p.Identity(n.key),
			libp2p.ListenAddrStrings(listen...),
			libp2p.DefaultTransports,
			libp2p.ConnectionGater(gater{n}),
			libp2p.ConnectionManager(cm),
			libp2p.ResourceManager(rm),
			libp2p.UserAgent("livinglab/" + Version),
		}
		if cfg.NAT.PortMapping && !loop {
			opts = append(opts, libp2p.NATPortMap())
		}
		if cfg.NAT.HolePunching && !loop {
			opts = append(opts, libp2p.EnableHolePunching())
		}
		h, err := libp2p.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("start libp2p host on %v: %w", listen, err)
		}
		nw.host = h
		nw.ownsHost = true
		if cfg.Discovery.MDNS && !loop {
			svc := mdns.NewMdnsService(h, "livinglab", mdnsNotifee{n})
			if err := svc.Start(); err != nil {
				n.log.Warn("mDNS discovery not started", "err", err)
			}
		}
	}
	psOpts := append(GossipDeliveryOptions(), n.scoringOptions()...)
	psOpts = append(psOpts, pubsub.WithPeerFilter(n.topicPeerFilter))
	psOpts = append(psOpts, n.opts.PubsubOptions...)
	ps, err := pubsub.NewGossipSub(ctx, nw.host, psOpts...)
	if err != nil {
		nw.close()
		return nil, fmt.Errorf("start gossipsub: %w", err)
	}
	nw.ps = ps
	if cfg.Discovery.DHT {
		d, err := dht.New(nw.host, dht.ProtocolPrefix("/livinglab"), dht.Mode(dht.ModeServer),
			dht.BootstrapPeersFunc(func() []peer.AddrInfo { return n.roster.Peers() }))
		if err != nil {
			nw.close()
			return nil, fmt.Errorf("start DHT: %w", err)
		}
		nw.dht = d
	}
	nw.host.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		p := c.RemotePeer()
		if n.roster.IsMember(p) {
			n.spawn(func() { n.memberConnected(ctx, p) })
		} else {
			nw.connSince.LoadOrStore(p, time.Now())
		}
	}})
	nw.watchWire(ctx)
	if cfg.Federation.Name != "" {
		if err := nw.joinTopics(ctx); err != nil {
			nw.close()
			return nil, err
		}
	}
	return nw, nil
}

func newResourceManager(l LimitsConfig) (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	scaled := limits.Scale(int64(l.MaxMemoryMB)<<20, 1024)
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{Conns: rcmgr.LimitVal(l.ConnsHigh * 2), ConnsInbound: rcmgr.LimitVal(l.ConnsHigh)},
	}
	lim, err := rcmgr.NewFixedLimiter(partial.Build(scaled)), error(nil)
	if err != nil {
		return nil, err
	}
	var opts []rcmgr.Option
	if l.MaxConnsPerIP > 0 {
		opts = append(opts, rcmgr.WithLimitPerSubnet(
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: l.MaxConnsPerIP}},
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: l.MaxConnsPerIP}}))
	}
	rm, err := rcmgr.NewResourceManager(lim, opts...)
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	return rm, nil
}

type mdnsNotifee struct{ n *Node }

func (m mdnsNotifee) HandlePeerFound(pi peer.AddrInfo) {
	if nw := m.n.net; nw != nil && m.n.roster.IsMember(pi.ID) && pi.ID != m.n.id {
		nw.host.Peerstore().AddAddrs(pi.ID, pi.Addrs, peerstore.TempAddrTTL)
		nw.wake()
	}
}

func (nw *p2p) wake() {
	select {
	case nw.kick <- struct{}{}:
	default:
	}
}

func (nw *p2p) close() {
	nw.mu.Lock()
	for _, t := range nw.topics {
		t.cur.close(nw.ps)
		if t.old != nil {
			t.old.close(nw.ps)
		}
	}
	nw.topics = map[string]*topicChan{}
	nw.mu.Unlock()
	if nw.dht != nil {
		nw.dht.Close()
	}
	if nw.ownsHost {
		nw.host.Close()
	}
}

// joinTopics joins the control topic and every subscribed topic.
func (nw *p2p) joinTopics(ctx context.Context) error {
	if err := nw.join(ctx, protocol.ControlTopic); err != nil {
		return err
	}
	for _, t := range nw.n.Config().Topics {
		if err := nw.join(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// join subscribes to one topic channel and starts storing what arrives:
// on this gossip version's topic and, while some member needs it, on the
// previous version's.
func (nw *p2p) join(ctx context.Context, name string) error {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if _, ok := nw.topics[name]; ok {
		return nil
	}
	cur, err := nw.subscribeLocked(ctx, protocol.GossipVersion, name)
	if err != nil {
		return err
	}
	t := &topicChan{name: name, cur: cur}
	if !nw.n.allUpgraded() {
		if t.old, err = nw.subscribeLocked(ctx, protocol.LegacyGossipVersion, name); err != nil {
			cur.close(nw.ps)
			return err
		}
	}
	nw.topics[name] = t
	return nil
}

// subscribeLocked subscribes to a topic channel's gossipsub topic of one
// gossip version, with its validator.
func (nw *p2p) subscribeLocked(ctx context.Context, version int, name string) (*gossipSub, error) {
	n := nw.n
	gt := protocol.GossipTopicVersion(version, n.Federation(), name)
	err := nw.ps.RegisterTopicValidator(gt, nw.validator(ctx, name), pubsub.WithValidatorTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("validator for %s: %w", name, err)
	}
	t, err := nw.ps.Join(gt)
	if err != nil {
		nw.ps.UnregisterTopicValidator(gt)
		return nil, fmt.Errorf("join topic %s: %w", name, err)
	}
	sub, err := t.Subscribe()
	if err != nil {
		t.Close()
		nw.ps.UnregisterTopicValidator(gt)
		return nil, fmt.Errorf("subscribe %s: %w", name, err)
	}
	if err := t.SetScoreParams(n.topicScoreParams(name)); err != nil {
		n.log.Warn("topic channel not scored", "topic", name, "err", err)
	}
	tctx, cancel := context.WithCancel(ctx)
	go nw.readTopic(tctx, sub)
	return &gossipSub{name: gt, topic: t, sub: sub, cancel: cancel}, nil
}

// validator checks and stores the records gossiped on topic channel name.
func (nw *p2p) validator(ctx context.Context, name string) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	n := nw.n
	return func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if from == n.id {
			return pubsub.ValidationAccept
		}
		rec, err := n.val.Check(name, m.Data)
		keep := err == nil && n.keeps(rec)
		if err == nil && !n.store.Has(rec.CID) {
			// Over the author's arrival rate, or over the limit by
			// signing time as this node's store counts it: not relayed.
			// A record this node keeps meets the second limit where it is
			// stored (PutLimited, below), in the same transaction.
			if !n.authorAllowed(rec) {
				err = errRateLimited
				n.rateRefused(rec, name)
			} else if k := rec.Record.Kind; !keep && (k == protocol.KindPractice || k == protocol.KindLesson) {
				if ok, serr := n.store.AuthorRoom(rec.Record.Author, rec.Record.Created, n.authorLimit()); serr == nil && !ok {
					err = errRateLimited
				}
			}
		}
		if err != nil {
			n.stats.rejected(err)
			n.log.Debug("rejected gossiped record", "topic", name, "from", from, "err", err)
			// Invalid for every node: reject (the sender is penalised);
			// refused by this node's own state: ignore (see gossipVerdict).
			return n.gossipVerdict(from, rec, err)
		}
		if rec.Record.Version >= protocol.RecordV2 {
			// Only a node of this release signs version 2 records.
			n.markWire(rec.Record.Author)
		}
		m.ValidatorData = rec
		if !keep {
			return pubsub.ValidationAccept
		}
		// Stored here, as soon as it is known to be valid, rather than by
		// the subscription's reader after gossipsub's event loop has handed
		// the message on: a record that would put its author over the limit
		// by signing time is then refused before it is relayed. The
		// validator only read the author's count: records validated side
		// by side could still pass it together, PutLimited cannot.
		res, err := n.storeReceived(rec, from)
		switch {
		case errors.Is(err, knowledge.ErrAuthorLimit):
			return n.gossipVerdict(from, rec, errRateLimited)
		case errors.Is(err, protocol.ErrRetracted):
			return pubsub.ValidationIgnore
		case err != nil:
			// This node could not store it (a full disk, say); the record
			// is valid and the others may, so it is still relayed.
			n.log.Error("store gossiped record", "cid", rec.CID, "err", err)
		case res.Added:
			n.log.Debug("received record", "topic", name, "cid", rec.CID, "from", from)
			n.checkGap(ctx, rec, name, from) // the node's context: the validator's ends with it
		}
		return pubsub.ValidationAccept
	}
}

func (nw *p2p) leave(name string) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	t, ok := nw.topics[name]
	if !ok {
		return
	}
	t.cur.close(nw.ps)
	if t.old != nil {
		t.old.close(nw.ps)
	}
	delete(nw.topics, name)
}

// topicPeers returns the peers subscribed to a topic channel, on either
// gossip version.
func (nw *p2p) topicPeers(fed, name string) []peer.ID {
	ps := nw.ps.ListPeers(protocol.GossipTopic(fed, name))
	for _, p := range nw.ps.ListPeers(protocol.GossipTopicVersion(protocol.LegacyGossipVersion, fed, name)) {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// readTopic drains the topic's subscription: the validator stores what
// arrives, but gossipsub delivers a topic's messages only to a node that
// reads its subscription.
func (nw *p2p) readTopic(ctx context.Context, sub *pubsub.Subscription) {
	for {
		if _, err := sub.Next(ctx); err != nil {
			return
		}
	}
}

// publish sends an own record to every topic it belongs to, on this
// gossip version and, while some member needs it, on the previous one.
func (nw *p2p) publish(ctx context.Context, rec *protocol.Signed) error {
	var errs []error
	for _, name := range rec.Record.ChainTopics() {
		nw.mu.Lock()
		t, ok := nw.topics[name]
		var targets []*pubsub.Topic
		if ok {
			targets = append(targets, t.cur.topic)
			if t.old != nil {
				targets = append(targets, t.old.topic)
			}
		}
		nw.mu.Unlock()
		if !ok {
			// Publishing to a topic this node does not subscribe to.
			versions := []int{protocol.GossipVersion}
			if !nw.n.allUpgraded() {
				versions = append(versions, protocol.LegacyGossipVersion)
			}
			for _, v := range versions {
				tp, err := nw.ps.Join(protocol.GossipTopicVersion(v, nw.n.Federation(), name))
				if err == nil {
					err = tp.Publish(ctx, rec.Raw)
					tp.Close()
				} else if strings.Contains(err.Error(), "already exists") {
					err = nil
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("publish to %s: %w", name, err))
				}
			}
			continue
		}
		for _, tp := range targets {
			if err := tp.Publish(ctx, rec.Raw); err != nil {
				errs = append(errs, fmt.Errorf("publish to %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// connector keeps this node connected to every member it can reach, and
// closes connections of peers that are not (or no longer) members.
func (nw *p2p) connector(ctx context.Context) error {
	n := nw.n
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	nw.dialBootstrap(ctx)
	for {
		nw.reapStrangers()
		nw.connectMembers(ctx)
		nw.updateLegacy(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-nw.kick:
		}
		_ = n
	}
}

func (nw *p2p) dialBootstrap(ctx context.Context) {
	n := nw.n
	addrs := append(n.Config().Bootstrap, n.opts.Bootstrap...)
	for _, a := range addrs {
		info, err := peer.AddrInfoFromString(a)
		if err != nil {
			n.log.Warn("bad bootstrap address", "addr", a, "err", err)
			continue
		}
		nw.host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.PermanentAddrTTL)
	}
}

func (nw *p2p) connectMembers(ctx context.Context) {
	n := nw.n
	var wg sync.WaitGroup
	for _, info := range n.roster.Peers() {
		if info.ID == n.id || nw.host.Network().Connectedness(info.ID) == network.Connected {
			continue
		}
		if len(info.Addrs) > 0 {
			nw.host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.AddressTTL)
		}
		wg.Add(1)
		go func(info peer.AddrInfo) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if len(nw.host.Peerstore().Addrs(info.ID)) == 0 && nw.dht != nil {
				if found, err := nw.dht.FindPeer(cctx, info.ID); err == nil {
					nw.host.Peerstore().AddAddrs(found.ID, found.Addrs, peerstore.AddressTTL)
				}
			}
			if err := nw.host.Connect(cctx, peer.AddrInfo{ID: info.ID}); err != nil {
				n.log.Debug("member not reachable", "peer", info.ID, "err", err)
			}
		}(info)
	}
	wg.Wait()
}

// reapStrangers closes connections of peers that are not members once they
// have had time to join, and at once for removed members.
func (nw *p2p) reapStrangers() {
	n := nw.n
	for _, p := range nw.host.Network().Peers() {
		if n.roster.IsMember(p) {
			nw.connSince.Delete(p)
			continue
		}
		if _, ok := nw.joinTarget.Load(p); ok {
			continue
		}
		since, _ := nw.connSince.LoadOrStore(p, time.Now())
		if m, known := n.roster.Get(p.String()); (known && m.Removed) || time.Since(since.(time.Time)) > time.Minute {
			n.log.Info("closing connection of non-member", "peer", p)
			nw.host.Network().ClosePeer(p)
			nw.connSince.Delete(p)
		}
	}
}
