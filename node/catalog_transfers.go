// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"fmt"
	"sort"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// Where practices travel: a practice names the practices it adapts
// (adapted_from, usually other regions'), with what changed. The node
// reads these links both ways, for one practice and for the federation.

// PracticeRef is a practice at one end of an adaptation.
type PracticeRef struct {
	CID     string `json:"cid"`
	Title   string `json:"title,omitempty"`
	Region  string `json:"region,omitempty"`
	Country string `json:"country,omitempty"`
	// Held is false when this node does not hold the practice (it
	// follows other topics, or the practice was retracted).
	Held bool `json:"held"`
}

// AdaptationLink is one adaptation as a practice page shows it: the other
// practice and what changed.
type AdaptationLink struct {
	Practice PracticeRef `json:"practice"`
	Changes  string      `json:"changes"`
}

// Adaptations are a practice's links to the practices it adapts and to
// those that adapt it (any of its versions).
type Adaptations struct {
	AdaptedFrom []AdaptationLink `json:"adapted_from"`
	AdaptedBy   []AdaptationLink `json:"adapted_by"`
}

// Transfer is one practice adapted by another.
type Transfer struct {
	From    PracticeRef `json:"from"`
	To      PracticeRef `json:"to"`
	Changes string      `json:"changes"`
}

// TransferRoute counts the practices that travelled from one region to
// another.
type TransferRoute struct {
	FromRegion  string `json:"from_region"`
	FromCountry string `json:"from_country,omitempty"`
	ToRegion    string `json:"to_region"`
	ToCountry   string `json:"to_country,omitempty"`
	Practices   int    `json:"practices"`
}

// TransferMap is the federation-wide view of adaptations this node knows.
type TransferMap struct {
	Transfers []Transfer      `json:"transfers"`
	Routes    []TransferRoute `json:"routes"`
}

// practiceRef describes the practice c as far as this node knows it.
func (n *Node) practiceRef(c string) (PracticeRef, *protocol.Practice) {
	ref := PracticeRef{CID: c}
	id, err := cid.Decode(c)
	if err != nil {
		return ref, nil
	}
	rec, err := n.store.Get(id)
	if err != nil {
		return ref, nil
	}
	p, err := rec.Record.DecodePayload()
	if err != nil {
		return ref, nil
	}
	pr, ok := p.(*protocol.Practice)
	if !ok {
		return ref, nil
	}
	ref.Title, ref.Region, ref.Country, ref.Held = pr.Title, pr.Region, pr.Country, true
	return ref, pr
}

// identity is the practice identity (the first version's CID) of the
// practice version c, or c itself when this node does not hold it.
func (n *Node) identity(c string) string {
	if _, pr := n.practiceRef(c); pr != nil && pr.PracticeID != "" {
		return pr.PracticeID
	}
	return c
}

// eachAdapting calls fn for every current practice held that adapts
// another.
func (n *Node) eachAdapting(fn func(rec *protocol.Signed, p *protocol.Practice) error) error {
	return n.store.Each(knowledge.ListOptions{Kind: protocol.KindPractice}, func(rec *protocol.Signed) error {
		p, err := rec.Record.DecodePayload()
		if err != nil {
			return nil
		}
		if pr, ok := p.(*protocol.Practice); ok && len(pr.AdaptedFrom) > 0 {
			return fn(rec, pr)
		}
		return nil
	})
}

// Adaptations returns what the practice c adapts and what adapts it.
func (n *Node) Adaptations(c cid.Cid) (*Adaptations, error) {
	v, err := n.Practice(c)
	if err != nil {
		return nil, err
	}
	out := &Adaptations{AdaptedFrom: []AdaptationLink{}, AdaptedBy: []AdaptationLink{}}
	for _, a := range v.AdaptedFrom {
		ref, _ := n.practiceRef(a.Practice)
		out.AdaptedFrom = append(out.AdaptedFrom, AdaptationLink{Practice: ref, Changes: a.Changes})
	}
	self := v.PracticeID
	if self == "" {
		self = v.CID
	}
	err = n.eachAdapting(func(rec *protocol.Signed, p *protocol.Practice) error {
		for _, a := range p.AdaptedFrom {
			if n.identity(a.Practice) == self {
				ref, _ := n.practiceRef(rec.CID.String())
				out.AdaptedBy = append(out.AdaptedBy, AdaptationLink{Practice: ref, Changes: a.Changes})
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adaptations of %s: %w", c, err)
	}
	return out, nil
}

// Transfers lists every adaptation among the practices this node holds,
// and how many practices travelled along each route between regions.
func (n *Node) Transfers() (*TransferMap, error) {
	out := &TransferMap{Transfers: []Transfer{}, Routes: []TransferRoute{}}
	routes := map[[4]string]int{}
	err := n.eachAdapting(func(rec *protocol.Signed, p *protocol.Practice) error {
		to, _ := n.practiceRef(rec.CID.String())
		for _, a := range p.AdaptedFrom {
			from, _ := n.practiceRef(a.Practice)
			out.Transfers = append(out.Transfers, Transfer{From: from, To: to, Changes: a.Changes})
			if from.Held {
				routes[[4]string{from.Region, from.Country, to.Region, to.Country}]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("transfers: %w", err)
	}
	for k, count := range routes {
		out.Routes = append(out.Routes, TransferRoute{FromRegion: k[0], FromCountry: k[1], ToRegion: k[2], ToCountry: k[3], Practices: count})
	}
	sort.Slice(out.Routes, func(i, j int) bool {
		a, b := out.Routes[i], out.Routes[j]
		if a.Practices != b.Practices {
			return a.Practices > b.Practices
		}
		return fmt.Sprint(a) < fmt.Sprint(b)
	})
	return out, nil
}
