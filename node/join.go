// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bufio"
	"context"
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

// pendingInvite is an issued invite, kept in memory and in the store (by
// the hash of its secret) so that it survives a restart.
type pendingInvite struct {
	hash    [32]byte
	expires time.Time
	used    bool
	// reserved is set while a join/2 exchange that presented the invite
	// is under way; the invite is spent only when the exchange succeeds.
	reserved time.Time
}

// joinHold bounds how long a join exchange may hold an invite.
const joinHold = time.Minute

// JoinRequest is what a joining node sends to its inviter.
type JoinRequest struct {
	Secret  []byte   `cbor:"secret"`
	Region  string   `cbor:"region"`
	Country string   `cbor:"country"`
	Addrs   []string `cbor:"addrs"`
}

// JoinRequestV2 is the join/2 request: it also names the federation and
// founder the token names, so that the inviter refuses a token altered on
// the way before it touches the invite.
type JoinRequestV2 struct {
	Secret     []byte   `cbor:"secret"`
	Region     string   `cbor:"region"`
	Country    string   `cbor:"country"`
	Addrs      []string `cbor:"addrs"`
	Federation string   `cbor:"fed"`
	Founder    string   `cbor:"founder"`
}

// JoinConfirm is the joiner's answer to the offer of a join/2 exchange.
type JoinConfirm struct {
	OK    bool   `cbor:"ok"`
	Error string `cbor:"error"`
}

// JoinResponse admits the joiner and hands it the federation's control
// records (roster and tombstones). In join/2 the first JoinResponse is the
// offer (the control records, no admission yet) and the second carries the
// admission record.
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

// loadInvites reads the unused invites this node issued before a restart.
func (n *Node) loadInvites() error {
	invs, err := n.store.Invites()
	if err != nil {
		return fmt.Errorf("load invites: %w", err)
	}
	n.invMu.Lock()
	defer n.invMu.Unlock()
	for _, inv := range invs {
		n.invites[inv.Hash] = &pendingInvite{hash: inv.Hash, expires: time.Unix(inv.Expires, 0)}
	}
	return nil
}

// Invite creates a one-time invite token for a new region. It is kept
// until it is used or expires, across restarts.
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
	h := knowledge.InviteHash(inv.Secret)
	if err := n.store.SaveInvite(knowledge.Invite{Hash: h, Expires: inv.Expires}); err != nil {
		return "", time.Time{}, fmt.Errorf("keep invite: %w", err)
	}
	exp := time.Unix(inv.Expires, 0)
	n.invMu.Lock()
	n.invites[h] = &pendingInvite{hash: h, expires: exp}
	n.invMu.Unlock()
	return tok, exp, nil
}

// reserveInvite holds a valid invite for one join exchange.
func (n *Node) reserveInvite(secret []byte) bool {
	h := knowledge.InviteHash(secret)
	n.invMu.Lock()
	defer n.invMu.Unlock()
	inv, ok := n.invites[h]
	now := time.Now()
	if !ok || inv.used || now.After(inv.expires) || now.Before(inv.reserved) {
		return false
	}
	inv.reserved = now.Add(joinHold)
	return true
}

// releaseInvite gives back an invite whose exchange did not succeed.
func (n *Node) releaseInvite(secret []byte) {
	n.invMu.Lock()
	defer n.invMu.Unlock()
	if inv, ok := n.invites[knowledge.InviteHash(secret)]; ok {
		inv.reserved = time.Time{}
	}
}

// spendInvite marks a reserved invite used, in the store first: an invite
// that was used must stay used after a crash.
func (n *Node) spendInvite(secret []byte) error {
	h := knowledge.InviteHash(secret)
	n.invMu.Lock()
	inv, ok := n.invites[h]
	n.invMu.Unlock()
	if !ok {
		return errors.New("invite unknown")
	}
	if err := n.store.SaveInvite(knowledge.Invite{Hash: h, Expires: inv.expires.Unix(), Used: true}); err != nil {
		return err
	}
	n.invMu.Lock()
	inv.used = true
	n.invMu.Unlock()
	return nil
}

// takeInvite reserves and spends an invite at once (join/1, whose joiner
// does not confirm).
func (n *Node) takeInvite(secret []byte) bool {
	if !n.reserveInvite(secret) {
		return false
	}
	if err := n.spendInvite(secret); err != nil {
		n.log.Warn("spend invite", "err", err)
		n.releaseInvite(secret)
		return false
	}
	return true
}

// handleJoin serves /livinglab/join/1 on the inviter's side: the invite
// is spent and the joiner admitted before it has checked the answer
// (kept for joiners of earlier releases).
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
	} else if _, code, err := n.admitJoiner(remote, req.Region, req.Country, req.Addrs); err != nil {
		fail(code, err.Error())
		return
	}
	n.sendJoinOffer(s, remote, fail, "answer")
}

// sendJoinOffer writes the federation's control records to a joiner (what
// names the message in the log) and reports whether they went out.
func (n *Node) sendJoinOffer(s network.Stream, remote peer.ID, fail func(code int, msg string), what string) bool {
	offer, err := n.joinOffer()
	if err != nil {
		fail(protocol.StatusInternal, err.Error())
		return false
	}
	if err := protocol.WriteFrame(s, offer); err != nil {
		n.log.Warn("join "+what+" not sent", "peer", remote, "err", err)
		return false
	}
	return true
}

// handleJoinV2 serves /livinglab/join/2: the joiner gets the federation's
// control records first, checks them, and confirms; only then is the
// invite spent and the joiner admitted. A token altered on the way, or an
// exchange that fails on either side, leaves the invite usable and the
// roster as it was.
func (n *Node) handleJoinV2(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(joinHold))
	remote := s.Conn().RemotePeer()
	br := bufio.NewReader(s)
	var req JoinRequestV2
	if err := protocol.ReadFrame(br, &req, 64<<10); err != nil {
		protocol.WriteFrame(s, &JoinResponse{Status: protocol.StatusBadRequest, Error: "bad join request: " + err.Error()})
		return
	}
	fail := func(code int, msg string) {
		n.log.Warn("join refused", "peer", remote, "reason", msg)
		protocol.WriteFrame(s, &JoinResponse{Status: code, Error: msg})
	}
	cfg := n.Config()
	if req.Federation != cfg.Federation.Name || req.Founder != cfg.Federation.Founder {
		fail(protocol.StatusForbidden, fmt.Sprintf("the invite names federation %q (founder %s), this node is in %q: the token was altered or is for another federation",
			req.Federation, req.Founder, cfg.Federation.Name))
		return
	}
	member := n.roster.IsMember(remote)
	if !member {
		if !n.reserveInvite(req.Secret) {
			fail(protocol.StatusForbidden, "invite unknown, used or expired; ask for a new one")
			return
		}
	}
	admitted := false
	defer func() {
		if !member && !admitted {
			n.releaseInvite(req.Secret)
		}
	}()
	if !n.sendJoinOffer(s, remote, fail, "offer") {
		return
	}
	var conf JoinConfirm
	if err := protocol.ReadFrame(br, &conf, 64<<10); err != nil {
		n.log.Warn("join abandoned: no confirmation", "peer", remote, "err", err)
		return
	}
	if !conf.OK {
		n.log.Warn("join abandoned by the joiner", "peer", remote, "reason", conf.Error)
		return
	}
	final := &JoinResponse{Status: protocol.StatusOK, Federation: cfg.Federation.Name, Founder: cfg.Federation.Founder}
	if !member {
		if err := n.spendInvite(req.Secret); err != nil {
			fail(protocol.StatusInternal, "spend invite: "+err.Error())
			return
		}
		admitted = true
		rec, code, err := n.admitJoiner(remote, req.Region, req.Country, req.Addrs)
		if err != nil {
			fail(code, err.Error())
			return
		}
		final.Records = [][]byte{rec.Raw}
	}
	if err := protocol.WriteFrame(s, final); err != nil {
		// Admitted: a retried join is answered as a member's.
		n.log.Warn("join admission not sent", "peer", remote, "err", err)
	}
}

// admitJoiner signs, stores and publishes the admission of a new member.
func (n *Node) admitJoiner(remote peer.ID, region, country string, addrs []string) (*protocol.Signed, int, error) {
	if len(addrs) > protocol.MaxAddrs {
		addrs = addrs[:protocol.MaxAddrs]
	}
	m := &protocol.Membership{Action: protocol.ActionAdmit, Member: remote.String(), Region: region,
		Country: country, Role: protocol.RoleMember, Addrs: addrs}
	if err := m.Validate(); err != nil {
		return nil, protocol.StatusBadRequest, err
	}
	rec, err := n.signAndStore(m, nil)
	if err != nil {
		return nil, protocol.StatusInternal, fmt.Errorf("admit: %w", err)
	}
	n.log.Info("admitted a new member", "peer", remote, "region", region)
	if err := n.net.publish(context.Background(), rec); err != nil {
		n.log.Warn("publish admission", "err", err)
	}
	return rec, protocol.StatusOK, nil
}

// joinOffer is the federation's control records (roster and tombstones).
func (n *Node) joinOffer() (*JoinResponse, error) {
	recs, err := n.store.List(knowledge.ListOptions{Topic: protocol.ControlTopic, IncludeOld: true})
	if err != nil {
		return nil, err
	}
	cfg := n.Config()
	resp := &JoinResponse{Status: protocol.StatusOK, Federation: cfg.Federation.Name, Founder: cfg.Federation.Founder}
	for _, r := range recs {
		resp.Records = append(resp.Records, r.Raw)
	}
	return resp, nil
}

// readJoinAnswer reads the inviter's answer (what names it in errors) and
// checks it as checkJoinAnswer does.
func readJoinAnswer(br *bufio.Reader, inv *protocol.Invite, what string) (*JoinResponse, error) {
	var resp JoinResponse
	if err := protocol.ReadFrame(br, &resp, maxJoinFrame); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if err := checkJoinAnswer(&resp, inv); err != nil {
		return nil, err
	}
	return &resp, nil
}

// checkJoinAnswer refuses an inviter's answer that is an error or names
// another federation than the token.
func checkJoinAnswer(resp *JoinResponse, inv *protocol.Invite) error {
	if resp.Status != protocol.StatusOK {
		return fmt.Errorf("the inviter refused: %s", resp.Error)
	}
	if resp.Federation != inv.Federation || resp.Founder != inv.Founder {
		return fmt.Errorf("the inviter answered for federation %q, the invite names %q", resp.Federation, inv.Federation)
	}
	return nil
}

// verifyOffer checks a join/2 offer before the joiner confirms: every
// record opens, belongs to the federation, and the founder's founding
// record is among them.
func verifyOffer(records [][]byte, inv *protocol.Invite) error {
	founded := false
	for _, raw := range records {
		rec, err := protocol.Open(raw, time.Now())
		if err != nil {
			return fmt.Errorf("the inviter's offer holds an invalid record: %w", err)
		}
		if rec.Record.Federation != inv.Federation {
			return fmt.Errorf("the inviter's offer holds a record of federation %q", rec.Record.Federation)
		}
		if rec.Record.Kind == protocol.KindMembership && rec.Record.Author == inv.Founder {
			if p, err := rec.Record.DecodePayload(); err == nil && p.(*protocol.Membership).Action == protocol.ActionFound {
				founded = true
			}
		}
	}
	if !founded {
		return errors.New("the inviter's offer lacks the federation's founding record")
	}
	return nil
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
	s, err := nw.host.NewStream(ctx, info.ID, protocol.JoinProtocolV2, protocol.JoinProtocol)
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
	br := bufio.NewReader(s)
	var records [][]byte
	if s.Protocol() == protocol.JoinProtocol {
		// An inviter of an earlier release admits at once.
		if err := protocol.WriteFrame(s, &JoinRequest{Secret: inv.Secret, Region: cfg.Region, Country: cfg.Country, Addrs: addrs}); err != nil {
			return fmt.Errorf("send join request: %w", err)
		}
		resp, err := readJoinAnswer(br, inv, "join answer")
		if err != nil {
			return err
		}
		records = resp.Records
	} else {
		req := &JoinRequestV2{Secret: inv.Secret, Region: cfg.Region, Country: cfg.Country, Addrs: addrs,
			Federation: inv.Federation, Founder: inv.Founder}
		if err := protocol.WriteFrame(s, req); err != nil {
			return fmt.Errorf("send join request: %w", err)
		}
		var offer JoinResponse
		if err := protocol.ReadFrame(br, &offer, maxJoinFrame); err != nil {
			return fmt.Errorf("read join offer: %w", err)
		}
		if err := checkJoinAnswer(&offer, inv); err != nil {
			protocol.WriteFrame(s, &JoinConfirm{Error: err.Error()})
			return err
		}
		if err := verifyOffer(offer.Records, inv); err != nil {
			protocol.WriteFrame(s, &JoinConfirm{Error: err.Error()})
			return err
		}
		if err := protocol.WriteFrame(s, &JoinConfirm{OK: true}); err != nil {
			return fmt.Errorf("confirm join: %w", err)
		}
		final, err := readJoinAnswer(br, inv, "admission")
		if err != nil {
			return err
		}
		records = append(offer.Records, final.Records...)
	}
	// Verify the roster from its founder before trusting anything.
	n.val.Federation, n.val.Founder = inv.Federation, inv.Founder
	n.roster.SetFounder(inv.Founder)
	var opened []*protocol.Signed
	for _, raw := range records {
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
