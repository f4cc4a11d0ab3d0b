// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

type rosterKey struct {
	key crypto.PrivKey
	id  peer.ID
}

func newRosterKey(t *testing.T) rosterKey {
	t.Helper()
	k := testrec.Key(t)
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return rosterKey{k, id}
}

// sealMembership signs a membership record of action on member by signer.
func sealMembership(t *testing.T, signer rosterKey, seq uint64, created time.Time, action string, member peer.ID, role string, addrs ...string) *protocol.Signed {
	t.Helper()
	r := protocol.Record{Federation: testFederation, Seq: seq, Created: created.UnixMilli()}
	m := &protocol.Membership{Action: action, Member: member.String(), Region: "Region " + member.String()[:8],
		Country: "FI", Role: role, Addrs: addrs}
	if action == protocol.ActionRemove {
		m.Region, m.Country, m.Role = "", "", ""
	}
	return testrec.Seal(t, r, m, signer.key)
}

// The roster's answers built once per change (Peers, IsMember, Gen) follow
// every admission and removal.
func TestRosterPeersFollowChanges(t *testing.T) {
	founder, b, c := newRosterKey(t), newRosterKey(t), newRosterKey(t)
	r := NewRoster(founder.id.String())
	if r.IsMember(founder.id) || len(r.Peers()) != 0 {
		t.Fatal("an empty roster has members")
	}
	t0 := time.Now().Add(-time.Hour)
	// The admission arrives before the founding record it depends on.
	admitB := sealMembership(t, founder, 2, t0.Add(time.Minute), protocol.ActionAdmit, b.id, protocol.RoleMember, "/ip4/192.0.2.1/tcp/4001")
	if r.Add(admitB) || r.IsMember(b.id) {
		t.Fatal("an admission by a signer not yet a member counted")
	}
	g0 := r.Gen()
	if !r.Add(sealMembership(t, founder, 1, t0, protocol.ActionFound, founder.id, protocol.RoleAdmin)) {
		t.Fatal("founding record not applied")
	}
	if r.Gen() == g0 {
		t.Fatal("generation unchanged by a change")
	}
	ps := r.Peers()
	if len(ps) != 2 || ps[0].ID != founder.id || ps[1].ID != b.id {
		t.Fatalf("peers %v, want the founder then b", ps)
	}
	if len(ps[1].Addrs) != 1 || ps[1].Addrs[0].String() != "/ip4/192.0.2.1/tcp/4001" {
		t.Fatalf("b's addresses %v", ps[1].Addrs)
	}
	if !r.IsMember(founder.id) || !r.IsMember(b.id) || r.IsMember(c.id) {
		t.Fatal("IsMember does not follow the roster")
	}
	// A caller changing its copy does not change the roster.
	ps[0] = peer.AddrInfo{ID: c.id}
	if r.Peers()[0].ID != founder.id {
		t.Fatal("Peers handed out the roster's own slice")
	}
	g1 := r.Gen()
	if r.Add(admitB) || r.Gen() != g1 {
		t.Fatal("a record applied twice changed the roster")
	}
	r.Add(sealMembership(t, founder, 3, t0.Add(2*time.Minute), protocol.ActionAdmit, c.id, protocol.RoleMember))
	r.Add(sealMembership(t, founder, 4, t0.Add(3*time.Minute), protocol.ActionRemove, b.id, ""))
	ps = r.Peers()
	if len(ps) != 2 || ps[0].ID != founder.id || ps[1].ID != c.id {
		t.Fatalf("peers after admitting c and removing b: %v", ps)
	}
	if r.IsMember(b.id) || !r.IsMember(c.id) {
		t.Fatal("IsMember does not follow the removal and admission")
	}
}

// allUpgraded keeps its answer only while neither the roster nor the set
// of members known to speak the new wire changes.
func TestAllUpgradedFollowsRosterAndMarks(t *testing.T) {
	_, nodes := newFederation(t, 2)
	a := nodes[0].Node() // the founder, an administrator
	for _, m := range a.roster.List(false) {
		if m.PeerID != a.idStr {
			a.markWire(m.PeerID)
		}
	}
	if !a.allUpgraded() {
		t.Fatal("every member marked, yet not all upgraded")
	}
	// A new member nobody has heard from yet.
	newcomer := newRosterKey(t)
	self := rosterKey{a.key, a.id}
	if !a.roster.Add(sealMembership(t, self, 100, time.Now(), protocol.ActionAdmit, newcomer.id, protocol.RoleMember)) {
		t.Fatal("admission not applied")
	}
	if a.allUpgraded() {
		t.Fatal("a member not heard from counts as upgraded")
	}
	a.markWire(newcomer.id.String())
	if !a.allUpgraded() {
		t.Fatal("marking the last member did not make every member upgraded")
	}
}
