// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"maps"
	"testing"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
)

// Own records move the chain heads of their topics, in both record
// versions; other authors' records do not.
func TestOwnChainHeads(t *testing.T) {
	s := openTestStore(t)
	key, own := v1Key(t, 1)
	otherKey, _ := v1Key(t, 2)
	found := v1Seal(t, key, 1, nil, nil, &protocol.Membership{Action: protocol.ActionFound, Member: own,
		Region: "North Karelia", Role: protocol.RoleAdmin})
	a := v1Seal(t, key, 2, found, []string{"elderly-care", "transport"}, v1Practice("Village bus"))
	for _, r := range []*protocol.Signed{found, a} {
		if _, err := s.PutOwn(r); err != nil {
			t.Fatal(err)
		}
	}
	// A version 2 record continues the chain on elderly-care from the
	// version 1 record.
	r := protocol.Record{Version: protocol.RecordV2, Federation: "improve", Author: own, Seq: 3, Prev: a.CID.String(),
		Created: v1Base + 3*60_000, Topics: []string{"elderly-care"}}
	r.Chain = map[string]protocol.ChainLink{"elderly-care": {Seq: 2, Prev: a.CID.String()}}
	b := testrec.Seal(t, r, v1Practice("Night-time telecare"), key)
	if _, err := s.PutOwn(b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(v1Seal(t, otherKey, 1, nil, []string{"transport"}, v1Practice("Not ours"))); err != nil {
		t.Fatal(err)
	}
	got, err := s.OwnChains([]string{protocol.ControlTopic, "elderly-care", "transport", "housing"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ChainHead{protocol.ControlTopic: {Seq: 1, CID: found.CID.String()},
		"elderly-care": {Seq: 2, CID: b.CID.String()}, "transport": {Seq: 1, CID: a.CID.String()}, "housing": {}}
	if !maps.Equal(got, want) {
		t.Fatalf("chain heads %v, want %v", got, want)
	}
}
