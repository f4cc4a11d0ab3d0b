// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// ErrBadRequest marks errors caused by the caller's input.
var ErrBadRequest = errors.New("bad request")

// ErrForbidden marks requests this node may not carry out.
var ErrForbidden = errors.New("forbidden")

// PracticeInput is a practice as a user submits it: its fields and topics.
type PracticeInput struct {
	protocol.Practice
	Topics []string `json:"topics"`
	// Keep and Redact are a reviewer's decisions on uncertain names, as for
	// drafts: words or phrases to keep, and words or phrases to redact. They
	// are not part of the record.
	Keep   []string `json:"keep,omitempty"`
	Redact []string `json:"redact,omitempty"`
}

// Published is the outcome of a publish: the record and what the
// anonymisation gate did to it.
type Published struct {
	Record *protocol.Signed `json:"-"`
	CID    string           `json:"cid"`
	Report GateReport       `json:"report"`
	// DryRun is true when nothing was signed or sent.
	DryRun bool `json:"dry_run"`
	// Practice is the public content exactly as it leaves (or would leave).
	Practice protocol.Practice `json:"practice"`
	Topics   []string          `json:"topics"`
}

func normaliseTopics(ts []string) ([]string, error) {
	var out []string
	for _, t := range ts {
		t = strings.TrimSpace(t)
		if err := protocol.ValidTopic(t); err != nil || t == protocol.ControlTopic {
			return nil, fmt.Errorf("%w: topic %q is not a lowercase slug such as elderly-care", ErrBadRequest, t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: a practice needs at least one topic", ErrBadRequest)
	}
	if len(out) > protocol.MaxTopics {
		return nil, fmt.Errorf("%w: at most %d topics", ErrBadRequest, protocol.MaxTopics)
	}
	return out, nil
}

// PublishPractice runs a practice through the anonymisation gate (with a
// person's review of uncertain names, if any), signs it and publishes it to
// its topics. With dryRun it only returns what would leave. This is the one
// path by which this node publishes practices.
func (n *Node) PublishPractice(ctx context.Context, in PracticeInput, rv Review, dryRun bool) (*Published, error) {
	topics, err := normaliseTopics(in.Topics)
	if err != nil {
		return nil, err
	}
	p := in.Practice
	cfg := n.Config()
	p.Region, p.Country = cfg.Region, cfg.Country
	if p.Licence == "" {
		p.Licence = protocol.DefaultLicence
	}
	if p.Supersedes != "" {
		prev, err := cid.Decode(p.Supersedes)
		if err != nil {
			return nil, fmt.Errorf("%w: supersedes %q is not a CID", ErrBadRequest, p.Supersedes)
		}
		old, err := n.store.Get(prev)
		if err != nil {
			return nil, fmt.Errorf("%w: the version to supersede, %s, is not held here", ErrBadRequest, prev)
		}
		if old.Record.Author != n.id.String() {
			return nil, fmt.Errorf("%w: only the author region publishes new versions of %s", ErrForbidden, prev)
		}
		op, err := old.Record.DecodePayload()
		if err != nil {
			return nil, err
		}
		oldP, ok := op.(*protocol.Practice)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a practice", ErrBadRequest, prev)
		}
		if next, ok := n.store.SupersededBy(prev); ok {
			return nil, fmt.Errorf("%w: %s is already superseded by %s; supersede the latest version", ErrBadRequest, prev, next)
		}
		p.Version = oldP.Version + 1
		p.PracticeID = oldP.PracticeID
		if p.PracticeID == "" {
			p.PracticeID = prev.String()
		}
	} else {
		p.Version, p.PracticeID = 1, ""
	}
	clean, report, err := n.gatePractice(&p, rv)
	if err != nil {
		return nil, err
	}
	if err := clean.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	out := &Published{Report: report, DryRun: dryRun, Practice: *clean, Topics: topics}
	if dryRun {
		return out, nil
	}
	rec, err := n.signAndStore(clean, topics)
	if err != nil {
		return nil, err
	}
	out.Record, out.CID = rec, rec.CID.String()
	n.stats.published.Inc()
	n.broadcast(ctx, rec)
	n.log.Info("published practice", "cid", rec.CID, "topics", topics, "redactions", len(report.Findings))
	return out, nil
}

// broadcast sends an own record on gossip; sync delivers it to whoever
// gossip misses (no peers yet, mesh not formed, offline members).
func (n *Node) broadcast(ctx context.Context, rec *protocol.Signed) {
	if nw := n.net; nw != nil {
		if !n.authorAllowed(rec) {
			// Beyond the federation's publishing limit the other nodes
			// would refuse the record live; they fetch it by sync.
			n.log.Info("publishing limit reached: the record goes out by sync", "cid", rec.CID)
			return
		}
		if err := nw.publish(ctx, rec); err != nil {
			n.log.Warn("gossip publish failed; sync will deliver the record", "cid", rec.CID, "err", err)
		}
	}
}

// Retract withdraws a record this node authored (or, for an administrator,
// any record) everywhere.
func (n *Node) Retract(ctx context.Context, c cid.Cid, reason string) (*protocol.Signed, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, fmt.Errorf("%w: a retraction needs a reason", ErrBadRequest)
	}
	if ts, err := n.store.Tombs(c); err == nil {
		for _, t := range ts {
			if t.By == n.id.String() {
				return nil, fmt.Errorf("%w: %s was already retracted by this node", ErrBadRequest, c)
			}
		}
	}
	author, ok := n.store.AuthorOf(c)
	if !ok {
		return nil, fmt.Errorf("%w: record %s", knowledge.ErrNotFound, c)
	}
	if _, admin := n.roster.MemberStatus(n.id.String(), 0); author != n.id.String() && !admin {
		return nil, fmt.Errorf("%w: only the author region retracts %s", ErrForbidden, c)
	}
	// The reason travels to every member: it goes through the gate too.
	g, err := n.newGate(Review{FailClosed: true})
	if err != nil {
		return nil, err
	}
	reason, _, _ = g.Scrub("reason", reason)
	rec, err := n.signAndStore(&protocol.Retraction{Target: c.String(), Reason: reason}, nil)
	if err != nil {
		return nil, err
	}
	n.stats.published.Inc()
	n.broadcast(ctx, rec)
	n.log.Info("retracted record", "cid", c, "retraction", rec.CID)
	return rec, nil
}

// Subscribe adds a topic channel and fetches its history from members.
func (n *Node) Subscribe(ctx context.Context, topic string) error {
	if err := protocol.ValidTopic(topic); err != nil || topic == protocol.ControlTopic {
		return fmt.Errorf("%w: topic %q is not a lowercase slug such as elderly-care", ErrBadRequest, topic)
	}
	if slices.Contains(n.Config().Topics, topic) {
		return nil
	}
	if err := n.updateConfig(func(c *Config) { c.Topics = append(c.Topics, topic) }); err != nil {
		return err
	}
	if nw := n.net; nw != nil && n.Federation() != "" {
		if err := nw.join(nw.ctx, topic); err != nil {
			return err
		}
		n.spawn(func() { n.syncTopicWithAll(nw.ctx, topic) })
	}
	return nil
}

// Unsubscribe leaves a topic channel. Records already held are kept.
func (n *Node) Unsubscribe(topic string) error {
	if !slices.Contains(n.Config().Topics, topic) {
		return fmt.Errorf("%w: not subscribed to %q", ErrBadRequest, topic)
	}
	if err := n.updateConfig(func(c *Config) {
		c.Topics = slices.DeleteFunc(c.Topics, func(t string) bool { return t == topic })
	}); err != nil {
		return err
	}
	if nw := n.net; nw != nil {
		nw.leave(topic)
	}
	return nil
}

// RemoveMember expels a member from the federation everywhere.
func (n *Node) RemoveMember(ctx context.Context, id string, retractAll bool) (*protocol.Signed, error) {
	p, err := peer.Decode(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a peer ID", ErrBadRequest, id)
	}
	m, ok := n.roster.Get(p.String())
	if !ok || m.Removed {
		return nil, fmt.Errorf("%w: %s is not a member", knowledge.ErrNotFound, p)
	}
	if _, admin := n.roster.MemberStatus(n.id.String(), 0); !admin {
		return nil, fmt.Errorf("%w: only an administrator removes members", ErrForbidden)
	}
	if p == n.id {
		return nil, fmt.Errorf("%w: a node cannot remove itself", ErrBadRequest)
	}
	// The last record of the member's held here is the last one kept;
	// naming it names the whole chain before it.
	var keep uint64
	var keepCID string
	if !retractAll {
		if recs, err := n.store.List(knowledge.ListOptions{Author: p.String(), IncludeOld: true}); err == nil {
			for _, r := range recs {
				if r.Record.Seq > keep {
					keep, keepCID = r.Record.Seq, r.CID.String()
				}
			}
		}
	}
	rec, err := n.signAndStore(&protocol.Membership{Action: protocol.ActionRemove, Member: p.String(),
		RetractAll: retractAll, KeepUntilSeq: keep, KeepUntil: keepCID}, nil)
	if err != nil {
		return nil, err
	}
	n.broadcast(ctx, rec)
	if nw := n.net; nw != nil {
		nw.host.Network().ClosePeer(p)
	}
	n.log.Info("removed member", "peer", p, "region", m.Region)
	return rec, nil
}
