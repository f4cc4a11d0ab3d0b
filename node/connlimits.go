// SPDX-License-Identifier: EUPL-1.2

package node

// The limits an inbound connection meets before its handshake: connections
// per address and the rate at which an address may open them, charged more
// for a connection refused as a non-member after its handshake.

import (
	"maps"
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"golang.org/x/time/rate"
)

// acceptAddr decides, before any handshake, whether an inbound connection
// from this address is accepted: an address may hold at most
// limits.max_conns_per_ip connections and open new ones at a bounded rate
// (a burst of twice that, then one a second; a connection refused as a
// non-member after its handshake costs four more). Loopback is exempt
// when the node listens on loopback only; limits.max_conns_per_ip 0
// switches both limits off.
func (n *Node) acceptAddr(cm network.ConnMultiaddrs) bool {
	ip, err := manet.ToIP(cm.RemoteMultiaddr())
	if err != nil {
		return true // not an IP transport: the later gates decide
	}
	l := n.Config().Limits
	if l.MaxConnsPerIP <= 0 || ip.IsLoopback() && n.loopbackExempt() {
		return true
	}
	key := ipKey(ip)
	if !n.guard().allowDial(key, max(2*l.MaxConnsPerIP, dialMinBurst), 1, time.Now()) {
		n.stats.rejects.WithLabelValues("connection_rate_limited").Inc()
		n.log.Debug("refused connection: address dials too often", "addr", cm.RemoteMultiaddr())
		return false
	}
	if k := n.connsFrom(key); k >= l.MaxConnsPerIP {
		n.stats.rejects.WithLabelValues("connection_per_ip").Inc()
		n.log.Debug("refused connection: address holds too many", "addr", cm.RemoteMultiaddr(), "conns", k)
		return false
	}
	return true
}

// GateVerdict is what the connection gate decides for an inbound
// connection.
type GateVerdict int

const (
	GateAccepted               GateVerdict = iota
	GateRefusedBeforeHandshake             // per-address limits
	GateRefusedAfterHandshake              // not a member (and no invite open)
)

// GateInbound runs the connection gate on an inbound connection from
// address remote by peer p, exactly as the libp2p host does for a real one
// (the limits are charged and refusals counted), and returns its decision.
// Hosts without the gate (mock networks) use it to apply its decisions.
func (n *Node) GateInbound(remote ma.Multiaddr, p peer.ID) GateVerdict {
	cm := gateConn{remote}
	g := gater{n}
	if !g.InterceptAccept(cm) {
		return GateRefusedBeforeHandshake
	}
	if !g.InterceptSecured(network.DirInbound, p, cm) {
		return GateRefusedAfterHandshake
	}
	return GateAccepted
}

type gateConn struct{ remote ma.Multiaddr }

func (c gateConn) LocalMultiaddr() ma.Multiaddr  { return ma.StringCast("/ip4/0.0.0.0/tcp/0") }
func (c gateConn) RemoteMultiaddr() ma.Multiaddr { return c.remote }

// refusedAfterHandshake charges an address whose connection was refused
// after its handshake (a non-member): its next dials are refused before
// the handshake for longer.
func (n *Node) refusedAfterHandshake(cm network.ConnMultiaddrs) {
	ip, err := manet.ToIP(cm.RemoteMultiaddr())
	if err != nil {
		return
	}
	l := n.Config().Limits
	if l.MaxConnsPerIP <= 0 || ip.IsLoopback() && n.loopbackExempt() {
		return
	}
	n.guard().allowDial(ipKey(ip), max(2*l.MaxConnsPerIP, dialMinBurst), dialStrike, time.Now())
}

// pruneIfFull deletes the entries of a table that stale lets go once the
// table has dialTableMax entries, and tells whether there is room for one
// more.
func pruneIfFull[K comparable, V any](m map[K]V, stale func(V) bool) bool {
	if len(m) >= dialTableMax {
		maps.DeleteFunc(m, func(_ K, v V) bool { return stale(v) })
	}
	return len(m) < dialTableMax
}

// allowDial takes cost tokens from the address's bucket; it reports whether
// they were there. A charge that does not fit is still taken (the bucket
// goes into debt), so that repeated refusals keep the address out longer.
func (g *guardState) allowDial(key string, burst, cost int, now time.Time) bool {
	g.dialMu.Lock()
	defer g.dialMu.Unlock()
	e := g.dials[key]
	if e == nil {
		if !pruneIfFull(g.dials, func(x *dialEntry) bool { return now.Sub(x.seen) > dialIdleForget }) {
			// Too many addresses at once: the newcomers share one bucket.
			return g.overflow.AllowN(now, 1)
		}
		e = &dialEntry{lim: rate.NewLimiter(dialRate, burst)}
		g.dials[key] = e
	}
	e.seen = now
	if e.lim.Burst() != burst {
		e.lim.SetBurstAt(now, burst)
	}
	if cost == 1 {
		return e.lim.AllowN(now, 1)
	}
	r := e.lim.ReserveN(now, min(cost, burst))
	return r.OK() && r.DelayFrom(now) == 0
}

// loopbackExempt tells whether every address the node listens on is a
// loopback address (a federation on one machine), which exempts loopback
// connections from the per-address limits.
func (n *Node) loopbackExempt() bool {
	listen := n.opts.Listen
	if len(listen) == 0 {
		listen = n.Config().Listen
	}
	return onlyLoopback(listen)
}

// ipKey is the unit of the per-address limits: an IPv4 address or an IPv6
// /64 network.
func ipKey(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// connsFrom counts the node's connections with the address key.
func (n *Node) connsFrom(key string) int {
	nw := n.net
	if nw == nil || nw.host == nil {
		return 0
	}
	k := 0
	for _, c := range nw.host.Network().Conns() {
		if ip, err := manet.ToIP(c.RemoteMultiaddr()); err == nil && ipKey(ip) == key {
			k++
		}
	}
	return k
}
