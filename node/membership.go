// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/livinglab/livinglab/protocol"
)

// Member is one region in the federation's roster.
type Member struct {
	PeerID       string    `json:"peer_id"`
	Region       string    `json:"region"`
	Country      string    `json:"country,omitempty"`
	Role         string    `json:"role"`
	AdmittedBy   string    `json:"admitted_by"`
	Admitted     time.Time `json:"admitted"`
	Removed      bool      `json:"removed,omitempty"`
	RemovedAt    time.Time `json:"removed_at,omitzero"`
	KeepUntilSeq uint64    `json:"-"`
	KeepUntil    string    `json:"-"` // CID of the last record kept, if the removal names it
	Addrs        []string  `json:"addrs,omitempty"`
}

// Roster is the federation's member list, folded from membership records.
// Membership records may arrive in any order (gossip, sync); a record counts
// once its signer is a member, so the fold is repeated until it settles.
type Roster struct {
	mu       sync.RWMutex
	founder  string
	members  map[string]*Member
	applied  map[string]bool // membership record CIDs applied
	pending  []*protocol.Signed
	onChange func()
	// current holds the current members by peer ID, and peers their
	// parsed IDs and addresses sorted by admission, both rebuilt on every
	// change; gen counts the changes. current is replaced, never
	// modified: gossipsub asks IsMember for every RPC a peer sends, and
	// reads it without the lock.
	current atomic.Pointer[map[peer.ID]bool]
	peers   []peer.AddrInfo
	gen     uint64
}

// NewRoster creates an empty roster for a federation founded by founder.
func NewRoster(founder string) *Roster {
	return &Roster{founder: founder, members: map[string]*Member{}, applied: map[string]bool{}}
}

// SetFounder sets the trust root (when a node joins a federation).
func (r *Roster) SetFounder(f string) {
	r.mu.Lock()
	r.founder = f
	r.mu.Unlock()
}

// OnChange sets a function called (outside the roster's lock) after the
// roster changed.
func (r *Roster) OnChange(f func()) {
	r.mu.Lock()
	r.onChange = f
	r.mu.Unlock()
}

// Add folds membership records into the roster. It reports whether the
// roster changed.
func (r *Roster) Add(recs ...*protocol.Signed) bool {
	r.mu.Lock()
	for _, rec := range recs {
		if rec.Record.Kind == protocol.KindMembership && !r.applied[rec.CID.String()] {
			r.pending = append(r.pending, rec)
		}
	}
	sort.SliceStable(r.pending, func(i, j int) bool {
		a, b := r.pending[i].Record, r.pending[j].Record
		if a.Created != b.Created {
			return a.Created < b.Created
		}
		return r.pending[i].CID.String() < r.pending[j].CID.String()
	})
	changed := false
	for progress := true; progress; {
		progress = false
		rest := r.pending[:0]
		for _, rec := range r.pending {
			if r.apply(rec) {
				r.applied[rec.CID.String()] = true
				progress, changed = true, true
			} else if !r.applied[rec.CID.String()] {
				rest = append(rest, rec)
			}
		}
		r.pending = rest
	}
	if changed {
		current := make(map[peer.ID]bool, len(r.members))
		for id, m := range r.members {
			if pid, err := peer.Decode(id); err == nil && !m.Removed {
				current[pid] = true
			}
		}
		r.current.Store(&current)
		r.peers = r.peersLocked()
		r.gen++
	}
	cb := r.onChange
	r.mu.Unlock()
	if changed && cb != nil {
		cb()
	}
	return changed
}

func (r *Roster) apply(rec *protocol.Signed) bool {
	p, err := rec.Record.DecodePayload()
	if err != nil {
		return false
	}
	m := p.(*protocol.Membership)
	signer := r.members[rec.Record.Author]
	signerOK := signer != nil && !signer.Removed
	signerAdmin := signerOK && signer.Role == protocol.RoleAdmin
	at := rec.Record.CreatedTime()
	switch m.Action {
	case protocol.ActionFound:
		if rec.Record.Author != r.founder || m.Member != r.founder {
			return false
		}
		r.members[m.Member] = &Member{PeerID: m.Member, Region: m.Region, Country: m.Country, Role: protocol.RoleAdmin,
			AdmittedBy: m.Member, Admitted: at, Addrs: m.Addrs}
	case protocol.ActionAdmit:
		if !signerOK || (m.Role == protocol.RoleAdmin && !signerAdmin) {
			return false
		}
		if old := r.members[m.Member]; old != nil && !old.Removed && old.Admitted.After(at) {
			return true
		}
		if old := r.members[m.Member]; old != nil && old.Removed && old.RemovedAt.After(at) {
			return true // an admission older than the removal changes nothing
		}
		r.members[m.Member] = &Member{PeerID: m.Member, Region: m.Region, Country: m.Country, Role: m.Role,
			AdmittedBy: rec.Record.Author, Admitted: at, Addrs: m.Addrs}
	case protocol.ActionRemove:
		if !signerAdmin || m.Member == r.founder {
			return false
		}
		old := r.members[m.Member]
		if old == nil {
			old = &Member{PeerID: m.Member, Role: protocol.RoleMember}
			r.members[m.Member] = old
		}
		if old.Admitted.After(at) {
			return true // re-admitted later
		}
		old.Removed = true
		old.RemovedAt = at
		old.KeepUntilSeq = m.KeepUntilSeq
		old.KeepUntil = m.KeepUntil
	default:
		return false
	}
	return true
}

// MemberStatus implements protocol.Ledger. seq 0 asks about the member now.
func (r *Roster) MemberStatus(author string, seq uint64) (member, admin bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.members[author]
	if m == nil {
		return false, false
	}
	if m.Removed {
		return seq > 0 && seq <= m.KeepUntilSeq, false
	}
	return true, m.Role == protocol.RoleAdmin
}

// IsMember tells whether p is a current member. Gossipsub's peer scoring
// asks for every message from every peer, so it is a single lookup by
// peer ID, without turning p into its text form.
func (r *Roster) IsMember(p peer.ID) bool {
	c := r.current.Load()
	return c != nil && (*c)[p]
}

// Get returns a member's entry.
func (r *Roster) Get(id string) (Member, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.members[id]
	if m == nil {
		return Member{}, false
	}
	return *m, true
}

// List returns the roster sorted by admission time.
func (r *Roster) List(includeRemoved bool) []Member {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Member, 0, len(r.members))
	for _, m := range r.members {
		if m.Removed && !includeRemoved {
			continue
		}
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Member) int { return a.Admitted.Compare(b.Admitted) })
	return out
}

// Peers returns the current members' peer IDs and known addresses, sorted
// by admission time. The connector asks every few seconds, so the list is
// parsed once per roster change; callers must not modify it.
func (r *Roster) Peers() []peer.AddrInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.peers)
}

// Gen counts the roster's changes: equal values mean an unchanged roster.
func (r *Roster) Gen() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.gen
}

// peersLocked parses the current members' IDs and addresses; r.mu is held.
func (r *Roster) peersLocked() []peer.AddrInfo {
	ms := make([]*Member, 0, len(r.members))
	for _, m := range r.members {
		if !m.Removed {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *Member) int { return a.Admitted.Compare(b.Admitted) })
	var out []peer.AddrInfo
	for _, m := range ms {
		id, err := peer.Decode(m.PeerID)
		if err != nil {
			continue
		}
		info := peer.AddrInfo{ID: id}
		for _, a := range m.Addrs {
			if x, err := ma.NewMultiaddr(a); err == nil {
				info.Addrs = append(info.Addrs, x)
			}
		}
		out = append(out, info)
	}
	return out
}
