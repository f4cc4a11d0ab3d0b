// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"errors"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// fakeLedger is node state for the validator.
type fakeLedger struct {
	members   map[string]fakeMember
	retracted map[cid.Cid]string
	authors   map[cid.Cid]string
	seqs      map[cid.Cid]uint64 // sequence numbers of the records in authors
	asked     []uint64           // seq numbers MemberStatus was asked about
	// chains: the records removals kept, by author; chainKnown: whether
	// the whole chain is known. An author without a chain: kept.
	chains     map[string]map[cid.Cid]bool
	chainKnown map[string]bool
}

func (l *fakeLedger) KeptRecord(author string, _ uint64, c cid.Cid) (bool, bool) {
	chain, ok := l.chains[author]
	if !ok || chain[c] {
		return true, true
	}
	return false, l.chainKnown[author]
}

type fakeMember struct {
	admin     bool
	removed   bool
	keepUntil uint64
}

func (l *fakeLedger) MemberStatus(author string, seq uint64) (bool, bool) {
	l.asked = append(l.asked, seq)
	m, ok := l.members[author]
	if !ok {
		return false, false
	}
	if m.removed {
		return seq > 0 && seq <= m.keepUntil, false
	}
	return true, m.admin
}

func (l *fakeLedger) RetractedBy(c cid.Cid) []string {
	if by, ok := l.retracted[c]; ok {
		return []string{by}
	}
	return nil
}

func (l *fakeLedger) AuthorCID(author string, seq uint64) (cid.Cid, bool) {
	for c, a := range l.authors {
		if a == author && l.seqs[c] == seq {
			return c, true
		}
	}
	return cid.Undef, false
}

func (l *fakeLedger) AuthorOf(c cid.Cid) (string, bool) {
	a, ok := l.authors[c]
	return a, ok
}

func TestValidator(t *testing.T) {
	founder, admin, alice, bob, outsider, gone := testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4), testKey(t, 5), testKey(t, 6)
	F, A, Al, B, O, G := idOf(t, founder), idOf(t, admin), idOf(t, alice), idOf(t, bob), idOf(t, outsider), idOf(t, gone)

	alicePractice := mustSeal(t, practiceRecord(t, alice), alice)
	bobPractice := mustSeal(t, func() Record { r := practiceRecord(t, bob); r.Seq = 3; return r }(), bob)
	unknownTarget := RecordCID([]byte("never seen"))
	retracted := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 2; return r }(), alice)
	voidTomb := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 4; return r }(), alice)
	adminTomb := mustSeal(t, func() Record { r := practiceRecord(t, alice); r.Seq = 5; return r }(), alice)

	newLedger := func() *fakeLedger {
		return &fakeLedger{
			members: map[string]fakeMember{F: {admin: true}, A: {admin: true}, Al: {}, B: {},
				G: {removed: true, keepUntil: 3}},
			retracted: map[cid.Cid]string{retracted.CID: Al, voidTomb.CID: B, adminTomb.CID: A},
			authors: map[cid.Cid]string{alicePractice.CID: Al, bobPractice.CID: B, retracted.CID: Al,
				voidTomb.CID: Al, adminTomb.CID: Al},
		}
	}

	seal := func(key crypto.PrivKey, p Payload, topics ...string) *Signed {
		return mustSeal(t, newRecord(t, key, p, topics...), key)
	}
	retraction := func(by crypto.PrivKey, target cid.Cid) *Signed {
		return seal(by, &Retraction{Target: target.String(), Reason: "withdrawn"})
	}
	version := func(by crypto.PrivKey, pid, sup cid.Cid) *Signed {
		p := testPractice()
		p.Version, p.PracticeID, p.Supersedes = 2, pid.String(), sup.String()
		return seal(by, p, "elderly-care")
	}
	member := func(by crypto.PrivKey, m *Membership) *Signed { return seal(by, m) }
	withSeq := func(key crypto.PrivKey, seq uint64) *Signed {
		r := practiceRecord(t, key)
		r.Seq = seq
		return mustSeal(t, r, key)
	}

	cases := []struct {
		name  string
		topic string
		rec   *Signed
		fed   string
		want  error // nil: accepted
	}{
		{name: "member's practice on its topic", topic: "elderly-care", rec: alicePractice},
		{name: "member's practice by sync", rec: alicePractice},
		{name: "non-member author", topic: "elderly-care", rec: seal(outsider, testPractice(), "elderly-care"), want: ErrNotMember},
		{name: "non-member author by sync", rec: seal(outsider, testPractice(), "elderly-care"), want: ErrNotMember},
		{name: "removed member's old record", rec: withSeq(gone, 3)},
		{name: "removed member's later record", rec: withSeq(gone, 4), want: ErrNotMember},
		{name: "wrong federation", topic: "elderly-care", rec: alicePractice, fed: "other-fed", want: ErrWrongFed},
		{name: "wrong federation by sync", rec: alicePractice, fed: "other-fed", want: ErrWrongFed},
		{name: "practice on another topic", topic: "transport", rec: alicePractice, want: ErrWrongTopic},
		{name: "practice on the control topic", topic: ControlTopic, rec: alicePractice, want: ErrWrongTopic},
		{name: "retraction on a topic channel", topic: "elderly-care", rec: retraction(alice, alicePractice.CID), want: ErrWrongTopic},
		{name: "membership on a topic channel", topic: "transport", rec: member(admin, &Membership{Action: ActionAdmit,
			Member: O, Region: "X", Role: RoleMember}), want: ErrWrongTopic},
		{name: "record retracted by its author", topic: "elderly-care", rec: retracted, want: ErrRetracted},
		{name: "record retracted by an administrator", topic: "elderly-care", rec: adminTomb, want: ErrRetracted},
		{name: "tombstone by a non-author non-admin is void", topic: "elderly-care", rec: voidTomb},
		{name: "author retracts own record", topic: ControlTopic, rec: retraction(alice, alicePractice.CID)},
		{name: "admin retracts another's record", topic: ControlTopic, rec: retraction(admin, alicePractice.CID)},
		{name: "non-author non-admin retraction", topic: ControlTopic, rec: retraction(bob, alicePractice.CID), want: ErrNotAuthorised},
		{name: "non-author non-admin retraction by sync", rec: retraction(bob, alicePractice.CID), want: ErrNotAuthorised},
		{name: "retraction by a non-member", topic: ControlTopic, rec: retraction(outsider, alicePractice.CID), want: ErrNotMember},
		{name: "retraction of a record not held", topic: ControlTopic, rec: retraction(bob, unknownTarget)},
		{name: "author publishes a new version", topic: "elderly-care", rec: version(alice, alicePractice.CID, alicePractice.CID)},
		{name: "version of another's practice", topic: "elderly-care", rec: version(bob, alicePractice.CID, alicePractice.CID), want: ErrNotAuthorised},
		{name: "version superseding another's record", topic: "elderly-care", rec: version(bob, bobPractice.CID, alicePractice.CID), want: ErrNotAuthorised},
		{name: "version claiming another's practice id", topic: "elderly-care", rec: version(bob, alicePractice.CID, bobPractice.CID), want: ErrNotAuthorised},
		{name: "version of a practice not held", topic: "elderly-care", rec: version(bob, unknownTarget, unknownTarget)},
		{name: "founder founds", topic: ControlTopic, rec: member(founder, &Membership{Action: ActionFound, Member: F, Region: "F", Role: RoleAdmin})},
		{name: "another founds", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionFound, Member: A, Region: "A", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "outsider founds", topic: ControlTopic, rec: member(outsider, &Membership{Action: ActionFound, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "founder's record naming another member", topic: ControlTopic, rec: member(founder, &Membership{Action: ActionFound, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "member admits", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleMember})},
		{name: "outsider admits itself", topic: ControlTopic, rec: member(outsider, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleMember}), want: ErrNotMember},
		{name: "member grants admin", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleAdmin}), want: ErrNotAuthorised},
		{name: "admin grants admin", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionAdmit, Member: O, Region: "O", Role: RoleAdmin})},
		{name: "member removes", topic: ControlTopic, rec: member(alice, &Membership{Action: ActionRemove, Member: B}), want: ErrNotAuthorised},
		{name: "admin removes", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionRemove, Member: B})},
		{name: "admin removes the founder", topic: ControlTopic, rec: member(admin, &Membership{Action: ActionRemove, Member: F}), want: ErrNotAuthorised},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fed := testFed
			if tc.fed != "" {
				fed = tc.fed
			}
			v := &Validator{Federation: fed, Founder: F, Ledger: newLedger(), Now: func() time.Time { return testNow }}
			err := v.CheckSigned(tc.topic, tc.rec)
			if tc.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckSigned: %v, want %v", err, tc.want)
			}
			// Check must agree with CheckSigned on the encoded form.
			s, cerr := v.Check(tc.topic, tc.rec.Raw)
			if (cerr == nil) != (err == nil) || (err != nil && !errors.Is(cerr, tc.want)) {
				t.Fatalf("Check: %v, CheckSigned: %v", cerr, err)
			}
			if cerr == nil && !s.CID.Equals(tc.rec.CID) {
				t.Fatalf("Check gave %s, want %s", s.CID, tc.rec.CID)
			}
		})
	}

	t.Run("seq is passed to the ledger", func(t *testing.T) {
		l := newLedger()
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		if err := v.CheckSigned("", withSeq(alice, 42)); err != nil {
			t.Fatal(err)
		}
		if len(l.asked) == 0 || l.asked[len(l.asked)-1] != 42 {
			t.Fatalf("MemberStatus asked about seq %v, want 42", l.asked)
		}
	})
	t.Run("a removed member's second record for a held sequence number", func(t *testing.T) {
		l := newLedger()
		held := withSeq(gone, 2)
		l.authors[held.CID] = G
		l.seqs = map[cid.Cid]uint64{held.CID: 2}
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		if err := v.CheckSigned("", held); err != nil {
			t.Fatalf("the held record: %v", err)
		}
		fork := mustSeal(t, func() Record { r := practiceRecord(t, gone); r.Seq, r.Created = 2, r.Created+1; return r }(), gone)
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrNotAuthorised) {
			t.Fatalf("a second record with the held sequence number: %v, want ErrNotAuthorised", err)
		}
		if err := v.CheckSigned("", withSeq(gone, 3)); err != nil {
			t.Fatalf("a kept sequence number with no record held: %v", err)
		}
	})
	t.Run("a removed member's record off the chain its removal kept", func(t *testing.T) {
		l := newLedger()
		genuine, fork := withSeq(gone, 2), mustSeal(t, func() Record { r := practiceRecord(t, gone); r.Seq, r.Created = 2, r.Created+1; return r }(), gone)
		l.chains = map[string]map[cid.Cid]bool{G: {genuine.CID: true}}
		l.chainKnown = map[string]bool{}
		v := &Validator{Federation: testFed, Founder: F, Ledger: l}
		// Neither is held here: only the chain tells them apart.
		if err := v.CheckSigned("", genuine); err != nil {
			t.Fatalf("the kept record: %v", err)
		}
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrUnverified) {
			t.Fatalf("a record not on the part of the chain known so far: %v, want ErrUnverified", err)
		}
		l.chainKnown[G] = true
		if err := v.CheckSigned("", fork); !errors.Is(err, ErrNotAuthorised) {
			t.Fatalf("a record off the whole chain: %v, want ErrNotAuthorised", err)
		}
		// A current member's records are not judged by any chain.
		l.chains[Al] = map[cid.Cid]bool{}
		l.chainKnown[Al] = true
		if err := v.CheckSigned("", withSeq(alice, 7)); err != nil {
			t.Fatalf("a current member's record: %v", err)
		}
	})
	t.Run("Check opens before judging", func(t *testing.T) {
		v := &Validator{Federation: testFed, Founder: F, Ledger: newLedger(), Now: func() time.Time { return testNow }}
		env := envelopeOf(t, alicePractice.Raw)
		env.Sig[0] ^= 0xff
		if _, err := v.Check("elderly-care", mustMarshal(t, &env)); !errors.Is(err, ErrBadSig) {
			t.Fatalf("Check: %v, want ErrBadSig", err)
		}
		r := practiceRecord(t, alice)
		r.Created = testNow.Add(time.Hour).UnixMilli()
		if _, err := v.Check("elderly-care", signRecord(t, alice, r)); !errors.Is(err, ErrFuture) {
			t.Fatalf("Check with the validator's clock: %v, want ErrFuture", err)
		}
	})
}
