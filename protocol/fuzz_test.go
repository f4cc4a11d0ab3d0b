// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"errors"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// openSentinels are the errors every refusal of Open must wrap.
var openSentinels = []error{ErrMalformed, ErrTooLarge, ErrBadVersion, ErrBadKind, ErrBadSig, ErrFuture, ErrMissing, ErrInvalid, ErrBadKey}

// fuzzRecords returns valid envelopes of every kind.
func fuzzRecords(tb testing.TB) []*Signed {
	key, other := testKey(tb, 1), testKey(tb, 2)
	p1 := mustSeal(tb, practiceRecord(tb, key), key)
	v2 := testPractice()
	v2.Version, v2.PracticeID, v2.Supersedes = 2, p1.CID.String(), p1.CID.String()
	v2.Translations = map[string]Translation{"fi": {Title: "Yö", Summary: "Kesä"}}
	v2r := newRecord(tb, key, v2, "elderly-care", "transport")
	v2r.Seq, v2r.Prev = 2, p1.CID.String()
	return []*Signed{
		p1,
		mustSeal(tb, v2r, key),
		mustSeal(tb, newRecord(tb, other, &Lesson{Insight: "Ask first.", Context: "Villages", Stage: 2, Language: "sv", Country: "SE"}, "transport"), other),
		mustSeal(tb, newRecord(tb, key, &Retraction{Target: p1.CID.String(), Reason: "duplicate"}), key),
		mustSeal(tb, newRecord(tb, key, &Membership{Action: ActionFound, Member: idOf(tb, key), Region: "North Karelia",
			Country: "FI", Role: RoleAdmin, Addrs: []string{"/ip4/127.0.0.1/tcp/4801"}}), key),
		mustSeal(tb, newRecord(tb, key, &Membership{Action: ActionRemove, Member: idOf(tb, other), KeepUntilSeq: 3, RetractAll: true}), key),
	}
}

func FuzzOpenRecord(f *testing.F) {
	recs := fuzzRecords(f)
	for _, s := range recs {
		f.Add(s.Raw)
		env := envelopeOf(f, s.Raw)
		f.Add(env.Body)
		f.Add(reencodeUnsorted(f, &env))
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa2, 0x63, 's', 'i', 'g', 0x40, 0x64, 'b', 'o', 'd', 'y', 0x40})
	ledger := &fakeLedger{members: map[string]fakeMember{recs[0].Record.Author: {admin: true}}}
	v := &Validator{Federation: testFed, Founder: recs[0].Record.Author, Ledger: ledger, Now: func() time.Time { return testNow }}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Open(data, testNow)
		if err != nil {
			if s != nil {
				t.Fatalf("Open returned a record with the error %v", err)
			}
			for _, e := range openSentinels {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("Open error wraps no sentinel: %v", err)
		}
		// What opens is canonical, addressed by its body and stable.
		var env Envelope
		if err := Unmarshal(data, &env); err != nil {
			t.Fatalf("opened but the envelope does not decode: %v", err)
		}
		if !s.CID.Equals(RecordCID(env.Body)) {
			t.Fatalf("CID %s is not the body's address", s.CID)
		}
		body, err := Marshal(&s.Record)
		if err != nil || string(body) != string(env.Body) {
			t.Fatalf("opened a body that does not re-encode to itself")
		}
		p, err := s.Record.DecodePayload()
		if err != nil {
			t.Fatalf("opened a record whose payload does not decode: %v", err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("opened a record whose payload is invalid: %v", err)
		}
		if p.Kind() != s.Record.Kind {
			t.Fatalf("payload kind %s in a %s record", p.Kind(), s.Record.Kind)
		}
		if _, err := OpenExpect(data, s.CID, testNow); err != nil {
			t.Fatalf("OpenExpect with its own CID: %v", err)
		}
		if _, err := OpenExpect(data, cid.NewCidV1(cid.Raw, s.CID.Hash()), testNow); !errors.Is(err, ErrCIDMismatch) {
			t.Fatalf("OpenExpect with another CID: %v", err)
		}
		// The validator must judge it without panicking.
		for _, topic := range []string{"", ControlTopic, "elderly-care"} {
			_ = v.CheckSigned(topic, s)
		}
	})
}

func FuzzParseInvite(f *testing.F) {
	now := time.Now()
	inv, _ := testInvite(f, time.Hour)
	tok, err := inv.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(" " + tok + "\n")
	f.Add(InvitePrefix)
	f.Add(InvitePrefix + "oWF2AQ")
	f.Add("llinv2.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInvite(s, now)
		if err != nil {
			if got != nil {
				t.Fatalf("ParseInvite returned an invite with the error %v", err)
			}
			if !errors.Is(err, ErrBadInvite) {
				t.Fatalf("ParseInvite error is not ErrBadInvite: %v", err)
			}
			return
		}
		info, err := got.AddrInfo()
		if err != nil {
			t.Fatalf("a parsed invite has a bad AddrInfo: %v", err)
		}
		if len(info.Addrs) == 0 || len(got.Secret) != 16 {
			t.Fatalf("a parsed invite lacks addresses or secret: %+v", got)
		}
		again, err := got.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := ParseInvite(again, now); err != nil {
			t.Fatalf("re-encoded invite does not parse: %v", err)
		}
	})
}
