// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func testInvite(t testing.TB, ttl time.Duration) (*Invite, crypto.PrivKey) {
	t.Helper()
	inviter := testKey(t, 7)
	id, _ := peer.IDFromPrivateKey(inviter)
	addrs := []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4801"), ma.StringCast("/ip4/127.0.0.1/udp/4801/quic-v1")}
	inv, err := NewInvite(testFed, idOf(t, testKey(t, 1)), id, addrs, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return inv, inviter
}

func TestInviteRoundTrip(t *testing.T) {
	inv, inviter := testInvite(t, time.Hour)
	tok, err := inv.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, InvitePrefix) || strings.ContainsAny(tok, " \n\t") || len(tok) > MaxInviteBytes {
		t.Fatalf("token %q is not one short line with the prefix", tok)
	}
	got, err := ParseInvite("  "+tok+"\n", time.Now())
	if err != nil {
		t.Fatalf("ParseInvite: %v", err)
	}
	if !reflect.DeepEqual(got, inv) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, inv)
	}
	if len(inv.Secret) != 16 {
		t.Fatalf("secret has %d bytes", len(inv.Secret))
	}
	info, err := got.AddrInfo()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := peer.IDFromPrivateKey(inviter); info.ID != want || len(info.Addrs) != 2 || info.Addrs[0].String() != "/ip4/127.0.0.1/tcp/4801" {
		t.Fatalf("AddrInfo = %v", info)
	}
	other, _ := testInvite(t, time.Hour)
	if bytes.Equal(other.Secret, inv.Secret) {
		t.Fatalf("two invites share a secret")
	}
	// Too many addresses are cut to the limit.
	var many []ma.Multiaddr
	for i := 0; i < MaxAddrs+8; i++ {
		many = append(many, ma.StringCast("/ip4/127.0.0.1/tcp/4801"))
	}
	big, err := NewInvite(testFed, inv.Founder, info.ID, many, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(big.Addrs) != MaxAddrs {
		t.Fatalf("%d addresses kept, want %d", len(big.Addrs), MaxAddrs)
	}
	btok, _ := big.Encode()
	if _, err := ParseInvite(btok, time.Now()); err != nil {
		t.Fatalf("an invite with %d addresses: %v", MaxAddrs, err)
	}
}

func TestParseInviteRejects(t *testing.T) {
	valid, _ := testInvite(t, time.Hour)
	tok, _ := valid.Encode()
	encode := func(fn func(*Invite)) string {
		inv := *valid
		inv.Addrs = append([]string{}, valid.Addrs...)
		fn(&inv)
		s, err := inv.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b64 := func(b []byte) string { return InvitePrefix + base64.RawURLEncoding.EncodeToString(b) }
	cases := []struct {
		name, tok string
		now       time.Time
		contains  string
	}{
		{name: "expired", tok: encode(func(i *Invite) { i.Expires = time.Now().Add(-time.Minute).Unix() }), contains: "expired"},
		{name: "expired by the clock", tok: tok, now: time.Now().Add(2 * time.Hour), contains: "expired"},
		{name: "empty", tok: ""},
		{name: "garbage", tok: "hello world"},
		{name: "only the prefix", tok: InvitePrefix},
		{name: "bad base64", tok: InvitePrefix + "!!!not base64!!!"},
		{name: "padded base64", tok: InvitePrefix + base64.URLEncoding.EncodeToString(mustMarshal(t, valid))},
		{name: "not CBOR", tok: b64([]byte("just some text"))},
		{name: "CBOR of another shape", tok: b64(mustMarshal(t, []int{1, 2, 3}))},
		{name: "unknown field", tok: b64(mustMarshal(t, map[string]any{"v": 1, "fed": testFed, "x": true}))},
		{name: "trailing bytes", tok: b64(append(mustMarshal(t, valid), 0))},
		{name: "wrong prefix", tok: "llinv2." + strings.TrimPrefix(tok, InvitePrefix), contains: InvitePrefix},
		{name: "no prefix", tok: strings.TrimPrefix(tok, InvitePrefix)},
		{name: "upper-case prefix", tok: strings.ToUpper(InvitePrefix) + strings.TrimPrefix(tok, InvitePrefix)},
		{name: "too long", tok: InvitePrefix + strings.Repeat("A", MaxInviteBytes), contains: "too long"},
		{name: "version 2", tok: encode(func(i *Invite) { i.V = 2 })},
		{name: "bad federation", tok: encode(func(i *Invite) { i.Federation = "Bad Fed" })},
		{name: "no federation", tok: encode(func(i *Invite) { i.Federation = "" })},
		{name: "bad inviter", tok: encode(func(i *Invite) { i.Inviter = "someone" })},
		{name: "bad founder", tok: encode(func(i *Invite) { i.Founder = "" })},
		{name: "short secret", tok: encode(func(i *Invite) { i.Secret = i.Secret[:15] })},
		{name: "no secret", tok: encode(func(i *Invite) { i.Secret = nil })},
		{name: "no addresses", tok: encode(func(i *Invite) { i.Addrs = nil })},
		{name: "too many addresses", tok: encode(func(i *Invite) {
			for len(i.Addrs) <= MaxAddrs {
				i.Addrs = append(i.Addrs, "/ip4/127.0.0.1/tcp/1")
			}
		})},
		{name: "bad address", tok: encode(func(i *Invite) { i.Addrs = []string{"127.0.0.1:4801"} })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = time.Now()
			}
			inv, err := ParseInvite(tc.tok, now)
			if err == nil {
				t.Fatalf("accepted: %+v", inv)
			}
			if !errors.Is(err, ErrBadInvite) {
				t.Fatalf("ParseInvite: %v, want ErrBadInvite", err)
			}
			if tc.contains != "" && !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("error %q should mention %q", err, tc.contains)
			}
		})
	}
}
