// SPDX-License-Identifier: EUPL-1.2

// The topic channels over gossipsub: the wire options every member shares,
// joining and leaving a channel on this gossip version and the previous
// one, the validator that checks and stores what arrives, and publishing.

package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

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
