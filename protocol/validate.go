// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
)

// Reasons a record is refused by policy (as opposed to being malformed).
var (
	ErrNotMember     = errors.New("author is not a member of the federation")
	ErrWrongFed      = errors.New("record belongs to another federation")
	ErrWrongTopic    = errors.New("record does not belong to this topic")
	ErrRetracted     = errors.New("record was retracted")
	ErrNotAuthorised = errors.New("author may not do this")
	// ErrUnverified: the record may be valid, but this node cannot tell
	// yet (it is still learning which records a removal kept). It is
	// not held against the sender, and sync offers it again later.
	ErrUnverified = errors.New("record cannot be verified yet")
)

// Ledger is the node state that validation needs.
type Ledger interface {
	// MemberStatus tells whether author may sign a record with sequence
	// number seq, and whether it is an administrator.
	MemberStatus(author string, seq uint64) (member, admin bool)
	// RetractedBy returns the signers of the tombstones held for c.
	RetractedBy(c cid.Cid) (by []string)
	// AuthorOf returns the author of a record held (or retracted) here.
	AuthorOf(c cid.Cid) (author string, ok bool)
	// AuthorCID returns the record held here that author signed with
	// sequence number seq.
	AuthorCID(author string, seq uint64) (c cid.Cid, ok bool)
	// KeptRecord tells whether c, signed by a removed member with
	// sequence number seq (one its removal keeps), is on the chain of
	// records the removal names (Membership.KeepUntil); kept is true as
	// well when the removal names none, or below a retracted link of the
	// chain that no node holds any more. known is false while the node
	// does not know the whole chain yet and c is not on the part it knows.
	KeptRecord(author string, seq uint64, c cid.Cid) (kept, known bool)
}

// Validator checks records exactly the same way whether they arrive by
// gossip, by sync or in a search answer.
type Validator struct {
	Federation string
	Founder    string
	Ledger     Ledger
	Now        func() time.Time
}

// Check decodes raw and applies the federation's rules. topic is the topic
// channel the record arrived on, or "" when it came by sync or search.
func (v *Validator) Check(topic string, raw []byte) (*Signed, error) {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	s, err := Open(raw, now)
	if err != nil {
		return nil, err
	}
	return s, v.CheckSigned(topic, s)
}

// CheckSigned applies the federation's rules to an already opened record.
func (v *Validator) CheckSigned(topic string, s *Signed) error {
	r := &s.Record
	if r.Federation != v.Federation {
		return fmt.Errorf("%w: %q, this node is in %q", ErrWrongFed, r.Federation, v.Federation)
	}
	if topic != "" {
		switch r.Kind {
		case KindMembership, KindRetraction:
			if topic != ControlTopic {
				return fmt.Errorf("%w: %s records travel on the control topic, not %q", ErrWrongTopic, r.Kind, topic)
			}
		default:
			if !slices.Contains(r.Topics, topic) {
				return fmt.Errorf("%w: %q not in %v", ErrWrongTopic, topic, r.Topics)
			}
		}
	}
	for _, by := range v.Ledger.RetractedBy(s.CID) {
		// A tombstone counts if the author itself or an administrator signed
		// it; anybody else's tombstone for a record not yet seen is void.
		if _, admin := v.Ledger.MemberStatus(by, 0); by == r.Author || admin {
			return fmt.Errorf("%w: %s", ErrRetracted, s.CID)
		}
	}
	p, err := r.DecodePayload()
	if err != nil {
		return err
	}
	if m, ok := p.(*Membership); ok && m.Action == ActionFound {
		if r.Author != v.Founder || m.Member != v.Founder {
			return fmt.Errorf("%w: only the founder %s founds the federation", ErrNotAuthorised, v.Founder)
		}
		return nil
	}
	current, _ := v.Ledger.MemberStatus(r.Author, 0)
	member, admin := v.Ledger.MemberStatus(r.Author, r.Seq)
	if !member {
		return fmt.Errorf("%w: %s", ErrNotMember, r.Author)
	}
	if !current {
		// A removal keeps the member's records up to a sequence number; a
		// stolen key can still sign new ones numbered below it. Where the
		// genuine record for that number is held, the new one is a second
		// version of it.
		if c, held := v.Ledger.AuthorCID(r.Author, r.Seq); held && !c.Equals(s.CID) {
			return fmt.Errorf("%w: a removed member's key signed a second record with sequence number %d", ErrNotAuthorised, r.Seq)
		}
		// Where the genuine record is not held, the chain the removal
		// names tells.
		if kept, known := v.Ledger.KeptRecord(r.Author, r.Seq, s.CID); !kept {
			if known {
				return fmt.Errorf("%w: record %d of removed member %s is not one its removal kept", ErrNotAuthorised, r.Seq, r.Author)
			}
			return fmt.Errorf("%w: whether the removal of %s kept record %d is not known yet", ErrUnverified, r.Author, r.Seq)
		}
	}
	switch p := p.(type) {
	case *Membership:
		if p.Action == ActionRemove && !admin {
			return fmt.Errorf("%w: only an administrator removes members", ErrNotAuthorised)
		}
		if p.Role == RoleAdmin && !admin {
			return fmt.Errorf("%w: only an administrator grants the admin role", ErrNotAuthorised)
		}
		if p.Action == ActionRemove && p.Member == v.Founder {
			return fmt.Errorf("%w: the founder cannot be removed", ErrNotAuthorised)
		}
	case *Retraction:
		target, _ := cid.Decode(p.Target)
		if a, ok := v.Ledger.AuthorOf(target); ok && a != r.Author && !admin {
			return fmt.Errorf("%w: only the author region retracts %s", ErrNotAuthorised, p.Target)
		}
	case *Practice:
		if p.Version > 1 {
			orig, _ := cid.Decode(p.PracticeID)
			if a, ok := v.Ledger.AuthorOf(orig); ok && a != r.Author {
				return fmt.Errorf("%w: only the original author region publishes versions of %s", ErrNotAuthorised, p.PracticeID)
			}
			prev, _ := cid.Decode(p.Supersedes)
			if a, ok := v.Ledger.AuthorOf(prev); ok && a != r.Author {
				return fmt.Errorf("%w: only the original author region publishes versions of %s", ErrNotAuthorised, p.PracticeID)
			}
		}
	}
	return nil
}
