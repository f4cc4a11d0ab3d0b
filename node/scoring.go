// SPDX-License-Identifier: EUPL-1.2

package node

// Gossipsub peer scoring for a federation (the limits an inbound connection
// meets before its handshake are in connlimits.go).
//
// A federation is small (tens of regions), every member is connected to
// every other, records are published by flooding and traffic is light. The
// score is therefore built on what a node knows for certain about a peer,
// not on delivery statistics:
//
//   - Membership (P5, application-specific): a current member starts at a
//     small positive score, anybody else (an outsider during an invite
//     window, a removed member) far below the graylist threshold, so its
//     RPCs are dropped unread and nothing is published to it.
//   - Invalid records (P4): a record that fails the checks every node makes
//     alike (encoding, signature, address, fields, federation, topic) counts
//     against the peer that delivered it, quadratically: seven within the
//     last hour graylist a peer. The counter fades to 1 % in an hour.
//   - Publishing beyond the per-author limit (P5): every record of an author
//     refused by the limiter adds to a counter that halves in ten minutes;
//     past a slack of ten it weighs quadratically on the author's score (26
//     refused records graylist it), and once that alone reaches the
//     graylist threshold the author stays graylisted for half an hour (its
//     records are no longer read, so the counter would otherwise stop just
//     past the threshold and the author come back within seconds). See
//     gossipVerdict: the refusal itself must not be reported as invalid,
//     since each node's limiter sees a slightly different stream and honest
//     relays would be blamed.
//   - Time in mesh and first deliveries (P1, P2): small rewards, capped.
//   - Mesh delivery rates (P3, P3b) are off: a quiet topic would penalise
//     honest members for the silence of their region.
//   - Colocation (P6): more than three peers on one address cost a peer
//     score, except on loopback and the members' announced addresses, and
//     a member is compensated for it in P5: regions that share a NAT or a
//     data centre are not penalised; outsiders already are by P5.
//   - Behaviour (P7): gossipsub's own protocol violations, mildly.

import (
	"errors"
	"math"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/livinglab/livinglab/protocol"
)

// Score thresholds. Below ScoreGossipThreshold a peer gets no gossip (IHAVE
// or IWANT), below ScorePublishThreshold nothing is published to it, below
// ScoreGraylistThreshold everything it sends is dropped unread.
const (
	ScoreGossipThreshold   = -250.0
	ScorePublishThreshold  = -500.0
	ScoreGraylistThreshold = -1000.0
)

const (
	// P5: membership.
	scoreMember    = 1.0
	scoreNonMember = 10 * ScoreGraylistThreshold

	// P4: invalid records, weight x count^2 per topic.
	invalidWeight = -25.0
	invalidMemory = time.Hour // the counter decays to 1 % in this time

	// P5: records refused by the per-author limit, weight x (count -
	// slack)^2: 26 of them graylist an author.
	floodWeight   = -4.0
	floodHalfLife = 10 * time.Minute
	floodSlack    = 10
	floodBox      = 30 * time.Minute
	floodBoxScore = 2 * ScoreGraylistThreshold

	// P1, P2: small capped rewards.
	meshTimeWeight   = 0.01
	meshTimeCap      = 300 // quanta of one second: at most 3 points
	firstDelivWeight = 0.5
	firstDelivCap    = 20 // at most 10 points per topic
	firstDelivMemory = 30 * time.Minute
	topicScoreCap    = 20.0

	// P6: colocation.
	colocationWeight    = -50.0
	colocationThreshold = 3

	// P7: gossipsub protocol violations.
	behaviourWeight    = -10.0
	behaviourThreshold = 6.0
	behaviourMemory    = 10 * time.Minute

	// How long a disconnected peer's score is kept: reconnecting does not
	// clear a penalty.
	retainScore = time.Hour
	// How often the scores are read back (PeerScores, metrics, topics
	// joined after start).
	scoreInspectPeriod = time.Second

	// Inbound connections per address before the handshake: a token bucket
	// per IPv4 address or IPv6 /64, refilled at dialRate; a connection
	// refused as a non-member after the handshake costs dialStrike more.
	dialRate       = 1.0 // per second
	dialMinBurst   = 8
	dialStrike     = 4
	dialTableMax   = 4096
	dialIdleForget = 2 * time.Minute
)

// guardState is a node's scoring and connection-limit state. It holds no
// reference to the node (see guardOf).
type guardState struct {
	scoreMu sync.Mutex
	snap    map[peer.ID]*pubsub.PeerScoreSnapshot
	// colo holds the P6 value of each peer in the last snapshot; it is
	// replaced, never modified, so that appScore (asked for every RPC a
	// peer sends) reads it without a lock.
	colo     atomic.Pointer[map[peer.ID]float64]
	flood    map[string]*decayingCounter // by author peer ID
	floodLen atomic.Int64                // len(flood), read without the lock
	ids      map[peer.ID]string          // peer IDs as strings (base58 is not free)
	scored   map[*pubsub.Topic]bool

	dialMu   sync.Mutex
	dials    map[string]*dialEntry
	overflow *rate.Limiter

	metricsOnce sync.Once
}

type dialEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// decayingCounter is a counter that halves every floodHalfLife; until is
// the end of a graylisting it caused.
type decayingCounter struct {
	v     float64
	at    time.Time
	until time.Time
}

func (c *decayingCounter) value(now time.Time) float64 {
	return c.v * math.Exp2(-float64(now.Sub(c.at))/float64(floodHalfLife))
}

func (c *decayingCounter) add(now time.Time, d float64) {
	c.v = c.value(now) + d
	c.at = now
}

// guards holds each node's guardState, keyed weakly so that a node that is
// no longer referenced takes its entry with it.
var guards sync.Map // weak.Pointer[Node] -> *guardState

func (n *Node) guard() *guardState {
	k := weak.Make(n)
	if g, ok := guards.Load(k); ok {
		return g.(*guardState)
	}
	g, loaded := guards.LoadOrStore(k, &guardState{flood: map[string]*decayingCounter{}, scored: map[*pubsub.Topic]bool{},
		dials: map[string]*dialEntry{}, overflow: rate.NewLimiter(4*dialRate, 4*dialMinBurst)})
	if !loaded {
		runtime.AddCleanup(n, func(k weak.Pointer[Node]) { guards.Delete(k) }, k)
	}
	return g.(*guardState)
}

// scoringOptions returns gossipsub's peer-scoring options for a federation.
// The node reads the scores back every second (PeerScores), so no other
// score inspector can be added.
func (n *Node) scoringOptions() []pubsub.Option {
	g := n.guard()
	cfg := n.Config()
	g.metricsOnce.Do(func() {
		n.stats.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livinglab_peers_graylisted",
			Help: "Peers whose gossipsub score is below the graylist threshold."}, func() float64 {
			k := 0
			for _, s := range g.scores() {
				if s < ScoreGraylistThreshold {
					k++
				}
			}
			return float64(k)
		}))
	})
	topics := map[string]*pubsub.TopicScoreParams{}
	if fed := cfg.Federation.Name; fed != "" {
		for _, t := range append([]string{protocol.ControlTopic}, cfg.Topics...) {
			topics[protocol.GossipTopic(fed, t)] = n.topicScoreParams(t)
		}
	}
	appSpecific := func(p peer.ID) float64 {
		return g.appScore(n.roster.IsMember(p), p)
	}
	params := &pubsub.PeerScoreParams{
		Topics:                      topics,
		TopicScoreCap:               topicScoreCap,
		AppSpecificScore:            appSpecific,
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    colocationWeight,
		IPColocationFactorThreshold: colocationThreshold,
		IPColocationFactorWhitelist: n.colocationWhitelist(),
		BehaviourPenaltyWeight:      behaviourWeight,
		BehaviourPenaltyThreshold:   behaviourThreshold,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(behaviourMemory),
		DecayInterval:               pubsub.DefaultDecayInterval,
		DecayToZero:                 pubsub.DefaultDecayToZero,
		RetainScore:                 retainScore,
	}
	nw := n.net
	inspect := func(m map[peer.ID]*pubsub.PeerScoreSnapshot) {
		g.record(m)
		if nw != nil {
			n.scoreJoinedTopics(g, nw)
		}
	}
	return []pubsub.Option{
		pubsub.WithPeerScore(params, scoreThresholds()),
		pubsub.WithPeerScoreInspect(pubsub.ExtendedPeerScoreInspectFn(inspect), scoreInspectPeriod),
	}
}

func scoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:   ScoreGossipThreshold,
		PublishThreshold:  ScorePublishThreshold,
		GraylistThreshold: ScoreGraylistThreshold,
		// Peers come from the roster; peer exchange is never trusted.
		AcceptPXThreshold:           100 * topicScoreCap,
		OpportunisticGraftThreshold: 1,
	}
}

// topicScoreParams returns the score parameters of a topic channel (its
// name, not the gossipsub topic). All topic channels, the control topic
// included, are scored alike.
func (n *Node) topicScoreParams(name string) *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               meshTimeWeight,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  meshTimeCap,
		FirstMessageDeliveriesWeight:   firstDelivWeight,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(firstDelivMemory),
		FirstMessageDeliveriesCap:      firstDelivCap,
		InvalidMessageDeliveriesWeight: invalidWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(invalidMemory),
	}
}

// scoreJoinedTopics gives every joined topic channel its score parameters
// (topics joined after gossipsub started are otherwise not scored).
func (n *Node) scoreJoinedTopics(g *guardState, nw *p2p) {
	type joined struct {
		name string
		t    *pubsub.Topic
	}
	var ts []joined
	nw.mu.Lock()
	for name, tc := range nw.topics {
		ts = append(ts, joined{name, tc.cur.topic})
		if tc.old != nil {
			ts = append(ts, joined{name, tc.old.topic})
		}
	}
	nw.mu.Unlock()
	g.scoreMu.Lock()
	live := map[*pubsub.Topic]bool{}
	var todo []joined
	for _, j := range ts {
		live[j.t] = true
		if !g.scored[j.t] {
			todo = append(todo, j)
		}
	}
	for t := range g.scored {
		if !live[t] {
			delete(g.scored, t)
		}
	}
	g.scoreMu.Unlock()
	for _, j := range todo {
		if err := j.t.SetScoreParams(n.topicScoreParams(j.name)); err != nil {
			continue // closed meanwhile, or gossipsub stopping
		}
		g.scoreMu.Lock()
		g.scored[j.t] = true
		g.scoreMu.Unlock()
	}
}

// appScore is P5: membership, compensation of colocation for members, and
// the penalty for publishing beyond the per-author limit.
func (g *guardState) appScore(member bool, p peer.ID) float64 {
	if !member {
		return scoreNonMember
	}
	s := scoreMember
	if colo := g.colo.Load(); colo != nil {
		s += (*colo)[p] * -colocationWeight
	}
	if g.floodLen.Load() > 0 {
		g.scoreMu.Lock()
		if c := g.flood[g.idStringLocked(p)]; c != nil {
			s += g.floodPenalty(c, time.Now())
		}
		g.scoreMu.Unlock()
	}
	return s
}

// idStringLocked returns p.String(), cached; g.scoreMu is held.
func (g *guardState) idStringLocked(p peer.ID) string {
	if s, ok := g.ids[p]; ok {
		return s
	}
	if g.ids == nil || len(g.ids) >= dialTableMax {
		g.ids = map[peer.ID]string{}
	}
	s := p.String()
	g.ids[p] = s
	return s
}

func (g *guardState) floodPenalty(c *decayingCounter, now time.Time) float64 {
	if now.Before(c.until) {
		return floodBoxScore
	}
	if over := c.value(now) - floodSlack; over > 0 {
		return floodWeight * over * over
	}
	return 0
}

// chargeFlood counts a live record of author refused by the per-author
// publishing limit.
func (g *guardState) chargeFlood(author string) {
	now := time.Now()
	g.scoreMu.Lock()
	defer g.scoreMu.Unlock()
	c := g.flood[author]
	if c == nil {
		pruneIfFull(g.flood, func(x *decayingCounter) bool { return x.value(now) < 1 && now.After(x.until) })
		c = &decayingCounter{at: now}
		g.flood[author] = c
	}
	g.floodLen.Store(int64(len(g.flood)))
	c.add(now, 1)
	if now.After(c.until) && g.floodPenalty(c, now) <= ScoreGraylistThreshold {
		c.until = now.Add(floodBox)
	}
}

func (g *guardState) record(m map[peer.ID]*pubsub.PeerScoreSnapshot) {
	colo := map[peer.ID]float64{}
	for p, s := range m {
		if s.IPColocationFactor > 0 {
			colo[p] = s.IPColocationFactor
		}
	}
	g.colo.Store(&colo)
	g.scoreMu.Lock()
	g.snap = m
	g.scoreMu.Unlock()
}

func (g *guardState) scores() map[peer.ID]float64 {
	g.scoreMu.Lock()
	defer g.scoreMu.Unlock()
	out := make(map[peer.ID]float64, len(g.snap))
	for p, s := range g.snap {
		out[p] = s.Score
	}
	return out
}

// PeerScores returns the gossipsub score this node gives each peer it
// tracks (connected peers and, for an hour, disconnected ones with a
// penalty), as of the last second. A peer below ScoreGraylistThreshold is
// ignored.
func (n *Node) PeerScores() map[peer.ID]float64 { return n.guard().scores() }

// gossipVerdict turns the verdict of the validator on a record that arrived
// by gossip from peer from into gossipsub's. A record is reported invalid
// (and counted against the peers that delivered it) only when every node
// would refuse it alike. Refusals that depend on this node's own state are
// ignored instead: the publishing limit (each node's limiter sees a
// slightly different stream; the author is charged in P5), a roster not yet
// up to date or a clock ahead (unless the author itself sent the record), a
// retraction this node holds, and record versions or kinds of a newer
// release.
func (n *Node) gossipVerdict(from peer.ID, rec *protocol.Signed, err error) pubsub.ValidationResult {
	switch {
	case err == nil:
		return pubsub.ValidationAccept
	case errors.Is(err, errRateLimited):
		if rec != nil {
			n.guard().chargeFlood(rec.Record.Author)
		}
		return pubsub.ValidationIgnore
	case errors.Is(err, protocol.ErrRetracted), errors.Is(err, protocol.ErrFuture), errors.Is(err, protocol.ErrUnverified),
		errors.Is(err, protocol.ErrBadVersion), errors.Is(err, protocol.ErrBadKind):
		return pubsub.ValidationIgnore
	case errors.Is(err, protocol.ErrNotMember), errors.Is(err, protocol.ErrNotAuthorised):
		if rec != nil && rec.Record.Author == from.String() {
			return pubsub.ValidationReject
		}
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationReject
}

// colocationWhitelist is loopback and every address the roster's members
// announced when they were admitted.
func (n *Node) colocationWhitelist() []*net.IPNet {
	out := []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
	seen := map[string]bool{}
	for _, m := range n.roster.List(false) {
		for _, a := range m.Addrs {
			x, err := ma.NewMultiaddr(a)
			if err != nil {
				continue
			}
			ip, err := manet.ToIP(x)
			if err != nil || ip.IsUnspecified() || ip.IsLoopback() || seen[ip.String()] {
				continue
			}
			seen[ip.String()] = true
			bits := 128
			if v4 := ip.To4(); v4 != nil {
				ip, bits = v4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	return out
}
