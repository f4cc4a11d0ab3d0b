// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Field limits, checked on every record built or received.
const (
	MaxTitle     = 300
	MaxShortText = 4000  // summary, insight, reason
	MaxLongText  = 64000 // problem, approach, results, ...
	MaxListItems = 100   // lessons, roles, links
	MaxTopics    = 16
	MaxAddrs     = 32
)

// Payload is the kind-specific content of a record.
type Payload interface {
	Kind() Kind
	Validate() error
}

// Practice is a good-practice record, shaped like a regional-policy good
// practice: what was done, with whom (roles, never names), what came of it
// and what another region needs to reuse it.
type Practice struct {
	// PracticeID is the stable identity across versions: the CID of the
	// first version. It is empty in the first version itself.
	PracticeID string `cbor:"practice_id" json:"practice_id"`
	// Supersedes is the CID of the version this one replaces ("" for the first).
	Supersedes       string                 `cbor:"supersedes" json:"supersedes"`
	Version          int                    `cbor:"version" json:"version"`
	Title            string                 `cbor:"title" json:"title"`
	Summary          string                 `cbor:"summary" json:"summary"`
	Problem          string                 `cbor:"problem" json:"problem"`
	Approach         string                 `cbor:"approach" json:"approach"`
	Stage            int                    `cbor:"stage" json:"stage"` // methodology stage reached, 0 = not given, 1..5
	StakeholderRoles []string               `cbor:"stakeholder_roles" json:"stakeholder_roles"`
	Results          string                 `cbor:"results" json:"results"`
	Resources        string                 `cbor:"resources" json:"resources"`
	Difficulties     string                 `cbor:"difficulties" json:"difficulties"`
	Lessons          []string               `cbor:"lessons" json:"lessons"`
	Transferability  string                 `cbor:"transferability" json:"transferability"`
	Language         string                 `cbor:"language" json:"language"`
	Translations     map[string]Translation `cbor:"translations" json:"translations,omitempty"`
	Licence          string                 `cbor:"licence" json:"licence"`
	Region           string                 `cbor:"region" json:"region"`
	Country          string                 `cbor:"country" json:"country"`
	Period           string                 `cbor:"period" json:"period"`
	Links            []string               `cbor:"links" json:"links"`
	// AdaptedFrom names the practices, usually other regions', that this
	// one adapts, and what changed (record version 2 only).
	AdaptedFrom []Adaptation `cbor:"-" json:"adapted_from,omitempty"`
}

// Translation carries a practice's headline fields in another language.
type Translation struct {
	Title   string `cbor:"title" json:"title"`
	Summary string `cbor:"summary" json:"summary"`
}

// DefaultLicence is applied to practices that name none.
const DefaultLicence = "CC-BY-4.0"

func (*Practice) Kind() Kind { return KindPractice }

// Validate checks required fields and limits.
func (p *Practice) Validate() error {
	if strings.TrimSpace(p.Title) == "" {
		return fmt.Errorf("%w: practice title", ErrMissing)
	}
	if strings.TrimSpace(p.Summary) == "" {
		return fmt.Errorf("%w: practice summary", ErrMissing)
	}
	if err := ValidLanguage(p.Language); err != nil {
		return err
	}
	if p.Version < 1 {
		return fmt.Errorf("%w: practice version %d, must be 1 or more", ErrInvalid, p.Version)
	}
	if p.Version == 1 && (p.PracticeID != "" || p.Supersedes != "") {
		return fmt.Errorf("%w: a first version has no practice_id or supersedes", ErrInvalid)
	}
	if p.Version > 1 {
		if _, err := cid.Decode(p.PracticeID); err != nil {
			return fmt.Errorf("%w: practice_id %q: %v", ErrInvalid, p.PracticeID, err)
		}
		if _, err := cid.Decode(p.Supersedes); err != nil {
			return fmt.Errorf("%w: supersedes %q: %v", ErrInvalid, p.Supersedes, err)
		}
	}
	if p.Stage < 0 || p.Stage > 5 {
		return fmt.Errorf("%w: stage %d, must be 1-5 (or 0 for none)", ErrInvalid, p.Stage)
	}
	if err := textLimit("title", p.Title, MaxTitle); err != nil {
		return err
	}
	for name, v := range map[string]string{"summary": p.Summary, "licence": p.Licence, "region": p.Region, "period": p.Period} {
		if err := textLimit(name, v, MaxShortText); err != nil {
			return err
		}
	}
	for name, v := range map[string]string{"problem": p.Problem, "approach": p.Approach, "results": p.Results,
		"resources": p.Resources, "difficulties": p.Difficulties, "transferability": p.Transferability} {
		if err := textLimit(name, v, MaxLongText); err != nil {
			return err
		}
	}
	for name, l := range map[string][]string{"lessons": p.Lessons, "stakeholder_roles": p.StakeholderRoles, "links": p.Links} {
		if len(l) > MaxListItems {
			return fmt.Errorf("%w: %s has %d items, at most %d", ErrInvalid, name, len(l), MaxListItems)
		}
		for _, v := range l {
			if err := textLimit(name, v, MaxShortText); err != nil {
				return err
			}
		}
	}
	for _, l := range p.Links {
		u, err := url.Parse(l)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w: link %q is not an http(s) URL", ErrInvalid, l)
		}
	}
	if p.Country != "" && !validCountry(p.Country) {
		return fmt.Errorf("%w: country %q, want a two-letter ISO 3166 code", ErrInvalid, p.Country)
	}
	if len(p.AdaptedFrom) > MaxAdaptedFrom {
		return fmt.Errorf("%w: adapted_from has %d items, at most %d", ErrInvalid, len(p.AdaptedFrom), MaxAdaptedFrom)
	}
	for _, a := range p.AdaptedFrom {
		if _, err := cid.Decode(a.Practice); err != nil {
			return fmt.Errorf("%w: adapted_from practice %q: %v", ErrInvalid, a.Practice, err)
		}
		if err := textLimit("adapted_from changes", a.Changes, MaxShortText); err != nil {
			return err
		}
	}
	if len(p.Translations) > 32 {
		return fmt.Errorf("%w: %d translations, at most 32", ErrInvalid, len(p.Translations))
	}
	for lang, t := range p.Translations {
		if err := ValidLanguage(lang); err != nil {
			return err
		}
		if err := textLimit("translation title", t.Title, MaxTitle); err != nil {
			return err
		}
		if err := textLimit("translation summary", t.Summary, MaxShortText); err != nil {
			return err
		}
	}
	return nil
}

// Lesson is one short insight with its context.
type Lesson struct {
	Insight  string `cbor:"insight" json:"insight"`
	Context  string `cbor:"context" json:"context"`
	Stage    int    `cbor:"stage" json:"stage"`
	Language string `cbor:"language" json:"language"`
	Region   string `cbor:"region" json:"region"`
	Country  string `cbor:"country" json:"country"`
}

func (*Lesson) Kind() Kind { return KindLesson }

// Validate checks required fields and limits.
func (l *Lesson) Validate() error {
	if strings.TrimSpace(l.Insight) == "" {
		return fmt.Errorf("%w: lesson insight", ErrMissing)
	}
	if err := ValidLanguage(l.Language); err != nil {
		return err
	}
	if l.Stage < 0 || l.Stage > 5 {
		return fmt.Errorf("%w: stage %d, must be 1-5 (or 0 for none)", ErrInvalid, l.Stage)
	}
	if err := textLimit("insight", l.Insight, MaxShortText); err != nil {
		return err
	}
	if err := textLimit("context", l.Context, MaxLongText); err != nil {
		return err
	}
	if l.Country != "" && !validCountry(l.Country) {
		return fmt.Errorf("%w: country %q", ErrInvalid, l.Country)
	}
	return textLimit("region", l.Region, MaxTitle)
}

// Retraction is a signed tombstone: it withdraws Target everywhere.
type Retraction struct {
	Target string `cbor:"target" json:"target"`
	Reason string `cbor:"reason" json:"reason"`
}

func (*Retraction) Kind() Kind { return KindRetraction }

// Validate checks the target and reason.
func (r *Retraction) Validate() error {
	if _, err := cid.Decode(r.Target); err != nil {
		return fmt.Errorf("%w: retraction target %q: %v", ErrInvalid, r.Target, err)
	}
	if strings.TrimSpace(r.Reason) == "" {
		return fmt.Errorf("%w: retraction reason", ErrMissing)
	}
	return textLimit("reason", r.Reason, MaxShortText)
}

// Membership actions.
const (
	ActionFound  = "found"  // the founder's own record: creates the federation
	ActionAdmit  = "admit"  // a member admits a new one
	ActionRemove = "remove" // a member is expelled
)

// Roles a member can hold.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Membership changes the federation's roster.
type Membership struct {
	Action  string   `cbor:"action" json:"action"`
	Member  string   `cbor:"member" json:"member"` // peer ID
	Region  string   `cbor:"region" json:"region"`
	Country string   `cbor:"country" json:"country"`
	Role    string   `cbor:"role" json:"role"`
	Addrs   []string `cbor:"addrs" json:"addrs"`
	// RetractAll, on a removal, withdraws every record the member signed.
	RetractAll bool `cbor:"retract_all" json:"retract_all"`
	// KeepUntilSeq, on a removal, keeps the member's records up to this
	// sequence number valid; anything it signs later is refused.
	KeepUntilSeq uint64 `cbor:"keep_until_seq" json:"keep_until_seq"`
	// KeepUntil, on a removal, is the CID of the member's record with
	// sequence number KeepUntilSeq. Each record names its predecessor, so
	// it names the whole history kept: a record the member's key signs
	// later with a lower number (a stolen key) is not on that chain.
	KeepUntil string `cbor:"keep_until,omitempty" json:"keep_until,omitempty"`
}

func (*Membership) Kind() Kind { return KindMembership }

// Validate checks the action, member and role.
func (m *Membership) Validate() error {
	switch m.Action {
	case ActionFound, ActionAdmit, ActionRemove:
	default:
		return fmt.Errorf("%w: membership action %q", ErrInvalid, m.Action)
	}
	if _, err := peer.Decode(m.Member); err != nil {
		return fmt.Errorf("%w: member %q: %v", ErrInvalid, m.Member, err)
	}
	if m.Action != ActionRemove {
		if strings.TrimSpace(m.Region) == "" {
			return fmt.Errorf("%w: member region", ErrMissing)
		}
		if m.Role != RoleAdmin && m.Role != RoleMember {
			return fmt.Errorf("%w: role %q", ErrInvalid, m.Role)
		}
	}
	if m.KeepUntil != "" {
		if m.Action != ActionRemove || m.KeepUntilSeq == 0 {
			return fmt.Errorf("%w: keep_until is for a removal that keeps records", ErrInvalid)
		}
		if _, err := cid.Decode(m.KeepUntil); err != nil {
			return fmt.Errorf("%w: keep_until %q: %v", ErrInvalid, m.KeepUntil, err)
		}
	}
	if m.Country != "" && !validCountry(m.Country) {
		return fmt.Errorf("%w: country %q", ErrInvalid, m.Country)
	}
	if len(m.Addrs) > MaxAddrs {
		return fmt.Errorf("%w: %d addresses, at most %d", ErrInvalid, len(m.Addrs), MaxAddrs)
	}
	return textLimit("region", m.Region, MaxTitle)
}

func textLimit(name, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrInvalid, name, len(v), max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, name)
	}
	return SafeText(name, v)
}

// SafeText refuses characters that can act on a reader's terminal or
// reorder what a reader sees (see UnsafeRune). Carriage returns stay
// allowed in records: text pasted from other systems carries them, and
// records signed before this rule may hold them.
func SafeText(name, v string) error {
	for i, r := range v {
		if r != '\r' && UnsafeRune(r) {
			return fmt.Errorf("%w: %s contains the control character U+%04X at byte %d (only tab and newline are allowed)", ErrInvalid, name, r, i)
		}
	}
	return nil
}

// UnsafeRune reports the characters that act on a terminal or reorder
// displayed text: C0 control characters other than tab and newline (ESC
// starts terminal escape sequences, BEL rings, NUL truncates, CR returns
// the cursor), DEL, C1 controls, and the bidirectional embeddings,
// overrides and isolates (U+202A-U+202E, U+2066-U+2069). Letters of every
// script and the left-to-right and right-to-left marks are not.
func UnsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// ValidLanguage checks an ISO 639-1 code (two lowercase letters).
func ValidLanguage(l string) error {
	if len(l) != 2 || l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z' {
		return fmt.Errorf("%w: language %q, want an ISO 639-1 code such as en, fi, sv", ErrInvalid, l)
	}
	return nil
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
