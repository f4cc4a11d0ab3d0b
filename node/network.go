// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
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
	gossipless sync.Map      // peer.ID -> time.Time: member first seen without a gossip stream
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
		nw.healGossip(time.Now())
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
