// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// InvitePrefix starts every invite token so that it can be told apart from
// other strings a user might paste.
const InvitePrefix = "llinv1."

// MaxInviteBytes bounds a token, before decoding.
const MaxInviteBytes = 4096

// ErrBadInvite is returned for tokens that cannot be parsed or are expired.
var ErrBadInvite = errors.New("bad invite token")

// Invite is a one-time, expiring invitation into a federation. It names the
// inviter and where to reach it; the secret proves the holder was invited.
type Invite struct {
	V          int      `cbor:"v"`
	Federation string   `cbor:"fed"`
	Founder    string   `cbor:"founder"`
	Inviter    string   `cbor:"inviter"`
	Addrs      []string `cbor:"addrs"`
	Secret     []byte   `cbor:"secret"`
	Expires    int64    `cbor:"expires"` // Unix seconds
}

// NewInvite makes an invite with a fresh 128-bit secret.
func NewInvite(federation, founder string, inviter peer.ID, addrs []ma.Multiaddr, ttl time.Duration) (*Invite, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	inv := &Invite{V: 1, Federation: federation, Founder: founder, Inviter: inviter.String(),
		Secret: secret, Expires: time.Now().Add(ttl).Unix()}
	for _, a := range addrs {
		if len(inv.Addrs) == MaxAddrs {
			break
		}
		inv.Addrs = append(inv.Addrs, a.String())
	}
	return inv, nil
}

// Encode renders the token as one line of text.
func (inv *Invite) Encode() (string, error) {
	b, err := Marshal(inv)
	if err != nil {
		return "", err
	}
	return InvitePrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseInvite decodes and checks a token; now is used for the expiry.
func ParseInvite(tok string, now time.Time) (*Invite, error) {
	tok = strings.TrimSpace(tok)
	if len(tok) > MaxInviteBytes {
		return nil, fmt.Errorf("%w: %d bytes, too long", ErrBadInvite, len(tok))
	}
	if !strings.HasPrefix(tok, InvitePrefix) {
		return nil, fmt.Errorf("%w: it should start with %q", ErrBadInvite, InvitePrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok[len(InvitePrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInvite, err)
	}
	var inv Invite
	if err := Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInvite, err)
	}
	if inv.V != 1 {
		return nil, fmt.Errorf("%w: version %d", ErrBadInvite, inv.V)
	}
	if err := ValidFederation(inv.Federation); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInvite, err)
	}
	if _, err := peer.Decode(inv.Inviter); err != nil {
		return nil, fmt.Errorf("%w: inviter: %v", ErrBadInvite, err)
	}
	if _, err := peer.Decode(inv.Founder); err != nil {
		return nil, fmt.Errorf("%w: founder: %v", ErrBadInvite, err)
	}
	if len(inv.Secret) != 16 {
		return nil, fmt.Errorf("%w: secret must be 16 bytes", ErrBadInvite)
	}
	if len(inv.Addrs) == 0 || len(inv.Addrs) > MaxAddrs {
		return nil, fmt.Errorf("%w: %d addresses", ErrBadInvite, len(inv.Addrs))
	}
	for _, a := range inv.Addrs {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return nil, fmt.Errorf("%w: address %q: %v", ErrBadInvite, a, err)
		}
	}
	if now.Unix() > inv.Expires {
		return nil, fmt.Errorf("%w: expired at %s; ask for a new one", ErrBadInvite, time.Unix(inv.Expires, 0).UTC().Format(time.RFC3339))
	}
	return &inv, nil
}

// AddrInfo returns the inviter's peer ID and addresses for dialling.
func (inv *Invite) AddrInfo() (peer.AddrInfo, error) {
	id, err := peer.Decode(inv.Inviter)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	info := peer.AddrInfo{ID: id}
	for _, a := range inv.Addrs {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return peer.AddrInfo{}, err
		}
		info.Addrs = append(info.Addrs, m)
	}
	return info, nil
}
