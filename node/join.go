package node

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// InviteTTL is how long an invite token stays valid.
const InviteTTL = 24 * time.Hour

const maxJoinFrame = 16 << 20

type pendingInvite struct {
	secret  []byte
	expires time.Time
	used    bool
}

// JoinRequest is what a joining node sends to its inviter.
type JoinRequest struct {
	Secret  []byte   `cbor:"secret"`
	Region  string   `cbor:"region"`
	Country string   `cbor:"country"`
	Addrs   []string `cbor:"addrs"`
}

// JoinResponse admits the joiner and hands it the federation's control
// records (roster and tombstones).
type JoinResponse struct {
	Status     int      `cbor:"status"`
	Error      string   `cbor:"error"`
	Federation string   `cbor:"fed"`
	Founder    string   `cbor:"founder"`
	Records    [][]byte `cbor:"records"`
}

// foundFederation signs the founder's own membership record in a new home.
func foundFederation(st *knowledge.Store, key crypto.PrivKey, cfg Config) error {
	id, _ := peer.IDFromPrivateKey(key)
	r := protocol.Record{Federation: cfg.Federation.Name, Author: id.String(), Seq: 1, Created: time.Now().UnixMilli()}
	if err := r.SetPayload(&protocol.Membership{Action: protocol.ActionFound, Member: id.String(),
		Region: cfg.Region, Country: cfg.Country, Role: protocol.RoleAdmin}); err != nil {
		return err
	}
	rec, err := protocol.Seal(r, key)
	if err != nil {
		return fmt.Errorf("found federation: %w", err)
	}
	_, err = st.PutOwn(rec)
	return err
}

func (n *Node) hasOpenInvites() bool {
	n.invMu.Lock()
	defer n.invMu.Unlock()
	now := time.Now()
	for k, inv := range n.invites {
		if inv.used || now.After(inv.expires) {
			delete(n.invites, k)
			continue
		}
		return true
	}
	return false
}

// Invite creates a one-time invite token for a new region.
func (n *Node) Invite() (string, time.Time, error) {
	cfg := n.Config()
	if cfg.Federation.Name == "" {
		return "", time.Time{}, ErrNotInFederation
	}
	if n.net == nil {
		return "", time.Time{}, errors.New("the daemon is not running")
	}
	addrs := n.net.host.Addrs()
	if len(addrs) == 0 {
		return "", time.Time{}, errors.New("this node has no listen addresses to put in an invite")
	}
	inv, err := protocol.NewInvite(cfg.Federation.Name, cfg.Federation.Founder, n.id, addrs, InviteTTL)
	if err != nil {
		return "", time.Time{}, err
	}
	tok, err := inv.Encode()
	if err != nil {
		return "", time.Time{}, err
	}
	exp := time.Unix(inv.Expires, 0)
	n.invMu.Lock()
	n.invites[string(inv.Secret)] = &pendingInvite{secret: inv.Secret, expires: exp}
	n.invMu.Unlock()
	return tok, exp, nil
}

func (n *Node) takeInvite(secret []byte) bool {
	n.invMu.Lock()
	defer n.invMu.Unlock()
	for _, inv := range n.invites {
		if subtle.ConstantTimeCompare(inv.secret, secret) == 1 {
			if inv.used || time.Now().After(inv.expires) {
				return false
			}
			inv.used = true
			return true
		}
	}
	return false
}

// handleJoin serves /livinglab/join/1 on the inviter's side.
func (n *Node) handleJoin(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(30 * time.Second))
	remote := s.Conn().RemotePeer()
	var req JoinRequest
	if err := protocol.ReadFrame(bufio.NewReader(s), &req, 64<<10); err != nil {
		protocol.WriteFrame(s, &JoinResponse{Status: protocol.StatusBadRequest, Error: "bad join request: " + err.Error()})
		return
	}
	fail := func(code int, msg string) {
		n.log.Warn("join refused", "peer", remote, "reason", msg)
		protocol.WriteFrame(s, &JoinResponse{Status: code, Error: msg})
	}
	if n.roster.IsMember(remote) {
		// Already a member (a retried join): hand over the records again.
	} else if !n.takeInvite(req.Secret) {
		fail(protocol.StatusForbidden, "invite unknown, used or expired; ask for a new one")
		return
	} else {
		if len(req.Addrs) > protocol.MaxAddrs {
			req.Addrs = req.Addrs[:protocol.MaxAddrs]
		}
		m := &protocol.Membership{Action: protocol.ActionAdmit, Member: remote.String(), Region: req.Region,
			Country: req.Country, Role: protocol.RoleMember, Addrs: req.Addrs}
		if err := m.Validate(); err != nil {
			fail(protocol.StatusBadRequest, err.Error())
			return
		}
		rec, err := n.signAndStore(m, nil)
		if err != nil {
			fail(protocol.StatusInternal, "admit: "+err.Error())
			return
		}
		n.log.Info("admitted a new member", "peer", remote, "region", req.Region)
		if err := n.net.publish(context.Background(), rec); err != nil {
			n.log.Warn("publish admission", "err", err)
		}
	}
	recs, err := n.store.List(knowledge.ListOptions{Topic: protocol.ControlTopic, IncludeOld: true})
	if err != nil {
		fail(protocol.StatusInternal, err.Error())
		return
	}
	cfg := n.Config()
	resp := &JoinResponse{Status: protocol.StatusOK, Federation: cfg.Federation.Name, Founder: cfg.Federation.Founder}
	for _, r := range recs {
		resp.Records = append(resp.Records, r.Raw)
	}
	if err := protocol.WriteFrame(s, resp); err != nil {
		n.log.Warn("join answer not sent", "peer", remote, "err", err)
	}
}

// Join joins a federation with an invite token.
func (n *Node) Join(ctx context.Context, token string) error {
	inv, err := protocol.ParseInvite(token, time.Now())
	if err != nil {
		return err
	}
	cfg := n.Config()
	if cfg.Federation.Name != "" && cfg.Federation.Name != inv.Federation {
		return fmt.Errorf("this node is already in federation %q", cfg.Federation.Name)
	}
	if n.net == nil {
		return errors.New("the daemon is not running")
	}
	info, err := inv.AddrInfo()
	if err != nil {
		return err
	}
	if info.ID == n.id {
		return errors.New("this invite was made by this node itself")
	}
	nw := n.net
	nw.joinTarget.Store(info.ID, time.Now())
	defer nw.joinTarget.Delete(info.ID)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	nw.host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.AddressTTL)
	if err := nw.host.Connect(ctx, info); err != nil {
		return fmt.Errorf("cannot reach the inviter %s at %v: %w", info.ID, info.Addrs, err)
	}
	s, err := nw.host.NewStream(ctx, info.ID, protocol.JoinProtocol)
	if err != nil {
		return fmt.Errorf("the inviter %s refused the connection (the invite may be used or expired, or the inviter is offline): %w", info.ID, err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(30 * time.Second))
	var addrs []string
	for _, a := range nw.host.Addrs() {
		addrs = append(addrs, a.String())
	}
	if len(addrs) > protocol.MaxAddrs {
		addrs = addrs[:protocol.MaxAddrs]
	}
	if err := protocol.WriteFrame(s, &JoinRequest{Secret: inv.Secret, Region: cfg.Region, Country: cfg.Country, Addrs: addrs}); err != nil {
		return fmt.Errorf("send join request: %w", err)
	}
	var resp JoinResponse
	if err := protocol.ReadFrame(bufio.NewReader(s), &resp, maxJoinFrame); err != nil {
		return fmt.Errorf("read join answer: %w", err)
	}
	if resp.Status != protocol.StatusOK {
		return fmt.Errorf("the inviter refused: %s", resp.Error)
	}
	if resp.Federation != inv.Federation || resp.Founder != inv.Founder {
		return fmt.Errorf("the inviter answered for federation %q, the invite names %q", resp.Federation, inv.Federation)
	}
	// Verify the roster from its founder before trusting anything.
	n.val.Federation, n.val.Founder = inv.Federation, inv.Founder
	n.roster.SetFounder(inv.Founder)
	var opened []*protocol.Signed
	for _, raw := range resp.Records {
		rec, err := protocol.Open(raw, time.Now())
		if err != nil || rec.Record.Federation != inv.Federation {
			continue
		}
		opened = append(opened, rec)
	}
	// Membership first (in time order, via the roster's fold), then retractions.
	for pass := 0; pass < 2; pass++ {
		for _, rec := range opened {
			if (pass == 0) != (rec.Record.Kind == protocol.KindMembership) {
				continue
			}
			if err := n.val.CheckSigned("", rec); err != nil {
				continue
			}
			res, err := n.store.Put(rec)
			if err != nil {
				continue
			}
			n.afterStore(rec, res, info.ID)
		}
		if pass == 0 {
			n.roster.Add(opened...)
		}
	}
	if !n.roster.IsMember(n.id) {
		return errors.New("the inviter's answer did not admit this node")
	}
	boot := []string{}
	for _, a := range info.Addrs {
		boot = append(boot, a.Encapsulate(ma.StringCast("/p2p/"+info.ID.String())).String())
	}
	if err := n.updateConfig(func(c *Config) {
		c.Federation = FederationConfig{Name: inv.Federation, Founder: inv.Founder}
		c.Bootstrap = append(c.Bootstrap, boot...)
	}); err != nil {
		return err
	}
	if err := nw.joinTopics(nw.ctx); err != nil {
		return err
	}
	n.log.Info("joined federation", "federation", inv.Federation, "inviter", info.ID)
	n.spawn(func() { n.memberConnected(nw.ctx, info.ID) })
	nw.wake()
	return nil
}
