// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/protocol"
	"github.com/livinglab/livinglab/protocol/recon"
)

// frameBytes encodes v as one length-prefixed frame.
func frameBytes(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := protocol.WriteFrame(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawFrame prefixes payload with its length, as WriteFrame does.
func rawFrame(payload []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)
}

// syncOutcome is how a node reacted to bytes sent on a sync stream.
type syncOutcome struct {
	answer *SyncMsg // the first frame it sent, if any
	ended  bool     // it closed or reset the stream afterwards
	err    error    // why reading stopped
}

func (o syncOutcome) String() string {
	if o.answer == nil {
		return fmt.Sprintf("no answer, stream ended (%v)", o.err)
	}
	return fmt.Sprintf("answer op %q status %d %q, stream ended %v", o.answer.Op, o.answer.Status, o.answer.Error, o.ended)
}

// sendSyncBytes opens a sync stream from h to p, writes data (closing the
// write side afterwards when closeWrite is set) and reads what the node
// does: one answer frame and then the end of the stream, or the end
// straight away. A node that does neither within 10 s fails the test.
func sendSyncBytes(t *testing.T, h host.Host, p peer.ID, data []byte, closeWrite bool) syncOutcome {
	t.Helper()
	s := openSync(t, h, p, 10*time.Second)
	defer s.Reset()
	go func() {
		s.Write(data)
		if closeWrite {
			s.CloseWrite()
		}
	}()
	done := make(chan syncOutcome, 1)
	go func() {
		var o syncOutcome
		br := bufio.NewReader(s)
		var m SyncMsg
		if err := protocol.ReadFrame(br, &m, maxSyncFrame); err != nil {
			o.ended, o.err = true, err
			done <- o
			return
		}
		o.answer = &m
		var more SyncMsg
		o.err = protocol.ReadFrame(br, &more, maxSyncFrame)
		o.ended = o.err != nil
		done <- o
	}()
	select {
	case o := <-done:
		return o
	case <-time.After(10 * time.Second):
		t.Fatalf("the node neither answered nor closed the stream within 10 s")
		return syncOutcome{}
	}
}

// rawSyncTopic runs a whole sync exchange by hand from h, with an empty
// set: reconciliation, then fetching everything p holds in topic. It
// returns the records received.
func rawSyncTopic(t *testing.T, h host.Host, p peer.ID, topic string) [][]byte {
	t.Helper()
	s := openSync(t, h, p, 20*time.Second)
	defer s.Reset()
	s.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(s)
	call := func(req *SyncMsg, want string) *SyncMsg {
		t.Helper()
		werr := make(chan error, 1)
		go func() { werr <- protocol.WriteFrame(s, req) }()
		var m SyncMsg
		if err := protocol.ReadFrame(br, &m, maxSyncFrame); err != nil {
			t.Fatalf("%s: read answer: %v", req.Op, err)
		}
		if err := <-werr; err != nil {
			t.Fatalf("%s: write: %v", req.Op, err)
		}
		if m.Status != protocol.StatusOK || m.Op != want {
			t.Fatalf("%s: answer op %q status %d %q, want %q", req.Op, m.Op, m.Status, m.Error, want)
		}
		return &m
	}
	rc := recon.NewReconciler(nil, recon.Options{})
	msg, err := rc.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; ; round++ {
		if round > maxReconRounds {
			t.Fatalf("reconciliation did not converge")
		}
		m := call(&SyncMsg{Op: "recon", Topic: topic, Recon: msg}, "recon")
		next, done, err := rc.Step(m.Recon)
		if err != nil {
			t.Fatalf("reconciliation: %v", err)
		}
		if done {
			break
		}
		msg = next
	}
	var out [][]byte
	need := rc.Need()
	for len(need) > 0 {
		k := min(len(need), syncBatch)
		var want [][]byte
		for _, id := range need[:k] {
			want = append(want, cidOfID(id).Bytes())
		}
		need = need[k:]
		out = append(out, call(&SyncMsg{Op: "get", Topic: topic, Want: want}, "records").Records...)
	}
	go protocol.WriteFrame(s, &SyncMsg{Op: "done"})
	return out
}

// Bad input on /livinglab/sync/1 from a member: the node answers bad
// request or closes the stream, drops the connection of a peer sending
// garbage frames, and keeps serving sync to everybody.
func TestSyncCodecBadInput(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, catchupTopic, a)
	held := publishMany(t, catchupTopic, 5, a)
	for _, c := range held {
		waitHas(t, b, c, 5*time.Second)
	}
	h, _ := rawMember(t, f, a, b)
	var drops atomic.Int32
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == a.ID() {
			drops.Add(1)
		}
	}})
	connect := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Connect(ctx, peer.AddrInfo{ID: a.ID()}); err != nil {
			t.Fatalf("reconnect to A: %v", err)
		}
	}
	// stillServes checks that A serves a whole sync exchange to B and to
	// the test member.
	stillServes := func(t *testing.T) {
		t.Helper()
		res, err := b.Node().SyncTopic(context.Background(), a.ID(), catchupTopic)
		if err != nil || !res.InSync {
			t.Fatalf("A no longer serves B: %+v, %v", res, err)
		}
		connect()
		recs := rawSyncTopic(t, h, a.ID(), catchupTopic)
		if n, _ := a.Node().store.CountTopic(catchupTopic); len(recs) != n || n < len(held) {
			t.Fatalf("a hand-driven sync got %d records, A holds %d", len(recs), n)
		}
	}
	stillServes(t)

	goodRec, err := a.Node().store.Get(held[0])
	if err != nil {
		t.Fatal(err)
	}
	forged := badSignature(t, goodRec)
	manyCIDs := make([][]byte, syncBatch+1)
	for i := range manyCIDs {
		manyCIDs[i] = protocol.RecordCID([]byte{byte(i), byte(i >> 8)}).Bytes()
	}
	manyRecs := make([][]byte, syncBatch+1)
	for i := range manyRecs {
		manyRecs[i] = goodRec.Raw
	}
	garbage := make([]byte, 512)
	rand.Read(garbage)
	garbage[0] = 0xff // a CBOR break code where an item must start

	cases := []struct {
		name       string
		data       []byte
		closeWrite bool
		// want: "bad" (answer status bad request, then the end), "end" (the
		// stream ends, with or without a bad request answer), "ack" (the
		// push is acknowledged and its records refused).
		want       string
		disconnect bool
	}{
		{name: "truncated frame", data: frameBytes(t, &SyncMsg{Op: "recon", Topic: catchupTopic, Recon: bytes.Repeat([]byte{1}, 300)})[:100],
			closeWrite: true, want: "end"},
		{name: "truncated length prefix", data: []byte{0x80, 0x80}, closeWrite: true, want: "end"},
		{name: "empty stream", data: nil, closeWrite: true, want: "end"},
		{name: "oversized length prefix", data: binary.AppendUvarint(nil, maxSyncFrame+1), want: "end", disconnect: true},
		{name: "huge length prefix", data: binary.AppendUvarint(nil, 1<<62), want: "end", disconnect: true},
		{name: "overlong length prefix", data: append(bytes.Repeat([]byte{0xff}, 10), 0x01), want: "end", disconnect: true},
		{name: "garbage CBOR", data: rawFrame(garbage), want: "end", disconnect: true},
		{name: "CBOR of the wrong type", data: rawFrame([]byte{0x83, 0x01, 0x02, 0x03}), want: "end", disconnect: true},
		{name: "empty frame", data: rawFrame(nil), want: "end", disconnect: true},
		{name: "trailing bytes in frame", data: rawFrame(append(frameBytes(t, &SyncMsg{Op: "done"})[1:], 0x00)), want: "end", disconnect: true},
		{name: "unknown op", data: frameBytes(t, &SyncMsg{Op: "frobnicate", Topic: catchupTopic}), want: "bad"},
		{name: "empty op", data: frameBytes(t, &SyncMsg{Topic: catchupTopic}), want: "bad"},
		{name: "recon with garbage bytes", data: frameBytes(t, &SyncMsg{Op: "recon", Topic: catchupTopic, Recon: []byte{0x7f, 0xde, 0xad, 0xbe, 0xef}}), want: "bad"},
		{name: "recon with unknown mode", data: frameBytes(t, &SyncMsg{Op: "recon", Topic: catchupTopic, Recon: []byte{recon.Version, 0xff, 0x09}}), want: "bad"},
		{name: "recon without message", data: frameBytes(t, &SyncMsg{Op: "recon", Topic: catchupTopic}), want: "bad"},
		{name: "recon on a bad topic", data: frameBytes(t, &SyncMsg{Op: "recon", Topic: "Elderly Care", Recon: []byte{recon.Version}}), want: "bad"},
		{name: "get with too many CIDs", data: frameBytes(t, &SyncMsg{Op: "get", Topic: catchupTopic, Want: manyCIDs}), want: "bad"},
		{name: "get with a bad CID", data: frameBytes(t, &SyncMsg{Op: "get", Topic: catchupTopic, Want: [][]byte{[]byte("not a cid")}}), want: "bad"},
		{name: "push with too many records", data: frameBytes(t, &SyncMsg{Op: "push", Topic: catchupTopic, Records: manyRecs}), want: "bad"},
		{name: "push of a forged record", data: append(frameBytes(t, &SyncMsg{Op: "push", Topic: catchupTopic, Records: [][]byte{forged, garbage, nil}}),
			frameBytes(t, &SyncMsg{Op: "done"})...), want: "ack"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			connect()
			before := drops.Load()
			badSig := rejected(t, a, "bad_signature")
			start := time.Now()
			o := sendSyncBytes(t, h, a.ID(), tc.data, tc.closeWrite)
			t.Logf("%s after %s", o, time.Since(start).Round(time.Millisecond))
			switch tc.want {
			case "bad":
				if o.answer == nil || o.answer.Status != protocol.StatusBadRequest || o.answer.Error == "" || !o.ended {
					t.Fatalf("want a bad request answer and the end of the stream: %s", o)
				}
			case "end":
				if !o.ended || (o.answer != nil && o.answer.Status != protocol.StatusBadRequest) {
					t.Fatalf("want the stream closed (with at most a bad request answer): %s", o)
				}
			case "ack":
				if o.answer == nil || o.answer.Status != protocol.StatusOK || o.answer.Op != "ack" || !o.ended {
					t.Fatalf("want an ack, then the end of the stream after done: %s", o)
				}
				if after := rejected(t, a, "bad_signature"); after <= badSig {
					t.Fatalf("A counted no record with a bad signature (%v, was %v)", after, badSig)
				}
			}
			if tc.disconnect {
				eventually(t, 5*time.Second, "A drops the connection of the peer sending garbage", func() error {
					if drops.Load() == before {
						return errors.New("still connected")
					}
					return nil
				})
			}
			stillServes(t)
		})
	}
	if n, _ := a.Node().store.CountTopic(catchupTopic); n != len(held) {
		t.Fatalf("A holds %d records of %s after the bad input, want %d", n, catchupTopic, len(held))
	}

	t.Run("a stream left hanging does not block others", func(t *testing.T) {
		connect()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := h.NewStream(ctx, a.ID(), protocol.SyncProtocol)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Reset()
		go s.Write(frameBytes(t, &SyncMsg{Op: "recon", Topic: catchupTopic, Recon: bytes.Repeat([]byte{1}, 300)})[:50])
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		stillServes(t)
		t.Logf("A served two syncs in %s while a third stream hung", time.Since(start).Round(time.Millisecond))
	})
}

// A host the federation never admitted gets "not a member" on every
// sync request; the test bypasses the connection gate (mocknet hosts
// have none) to reach the handler.
func TestSyncCodecNonMember(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(b, catchupTopic, a)
	held := publish(t, a, "Held by members only", catchupTopic)
	h, key, _ := newOutsider(t, f)
	if _, err := f.mn.LinkPeers(h.ID(), a.ID()); err != nil {
		t.Fatal(err)
	}
	set := recon.NewSet(nil)
	first, err := recon.NewReconciler(set, recon.Options{}).Initiate()
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*SyncMsg{
		{Op: "recon", Topic: catchupTopic, Recon: first},
		{Op: "get", Topic: catchupTopic, Want: [][]byte{held.Bytes()}},
		{Op: "push", Topic: catchupTopic, Records: [][]byte{sealAs(t, key, 1, catchupTopic).Raw}},
		{Op: "done"},
	} {
		o := sendSyncBytes(t, h, a.ID(), frameBytes(t, req), false)
		if o.answer == nil || o.answer.Status != protocol.StatusNotMember || len(o.answer.Records) != 0 || !o.ended {
			t.Fatalf("%s from a non-member: %s, want status not a member and the end of the stream", req.Op, o)
		}
		if !strings.Contains(o.answer.Error, "not a member") {
			t.Fatalf("%s from a non-member: error %q", req.Op, o.answer.Error)
		}
	}
	if n, _ := a.Node().store.CountTopic(catchupTopic); n != 1 {
		t.Fatalf("A holds %d records of %s, want 1", n, catchupTopic)
	}
}

// syncSeeds returns valid frames of every op.
func syncSeeds(tb testing.TB) [][]byte {
	key := testrec.Key(tb)
	rec := sealPractice(tb, key, 1, "", protocol.Practice{Version: 1, Title: "Seed", Summary: "A seed record.", Language: "en"}, catchupTopic)
	first, err := recon.NewReconciler(nil, recon.Options{}).Initiate()
	if err != nil {
		tb.Fatal(err)
	}
	msgs := []SyncMsg{
		{Op: "recon", Topic: catchupTopic, Recon: first},
		{Op: "recon", Recon: []byte{recon.Version}},
		{Op: "get", Topic: catchupTopic, Want: [][]byte{rec.CID.Bytes(), cid.Undef.Bytes()}},
		{Op: "records", Records: [][]byte{rec.Raw}},
		{Op: "push", Topic: catchupTopic, Records: [][]byte{rec.Raw, rec.Raw}},
		{Op: "ack"},
		{Op: "done"},
		{Status: protocol.StatusNotMember, Error: "not a member of this federation"},
		{},
	}
	var out [][]byte
	for i := range msgs {
		out = append(out, frameBytes(tb, &msgs[i]))
	}
	return out
}

// FuzzSyncMsg feeds arbitrary bytes to the sync protocol's frame reader:
// it must not panic, must allocate no more than the frame limit plus a
// small multiple of the input, and what it accepts must encode back to a
// frame that decodes to the same message.
func FuzzSyncMsg(f *testing.F) {
	for _, s := range syncSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add([]byte{})
	f.Add(binary.AppendUvarint(nil, maxSyncFrame))
	f.Add(binary.AppendUvarint(nil, maxSyncFrame+1))
	f.Add(bytes.Repeat([]byte{0xff}, 11))
	f.Add(rawFrame([]byte{0xa1, 0x62, 'o', 'p', 0x62, 'o', 'p', 0x00}))
	f.Fuzz(func(t *testing.T, data []byte) {
		declared, _ := binary.Uvarint(data)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		var m SyncMsg
		err := protocol.ReadFrame(bufio.NewReader(bytes.NewReader(data)), &m, maxSyncFrame)
		runtime.ReadMemStats(&ms)
		limit := 64*uint64(len(data)) + 256<<10
		if declared <= maxSyncFrame {
			limit += declared
		}
		if got := ms.TotalAlloc - before; got > limit {
			t.Fatalf("reading a %d-byte input allocated %d bytes, limit %d", len(data), got, limit)
		}
		if err != nil {
			if !errors.Is(err, protocol.ErrMalformed) && !errors.Is(err, protocol.ErrFrameTooLarge) &&
				!errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "overflow") {
				t.Fatalf("unexpected kind of error: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := protocol.WriteFrame(&buf, &m); err != nil {
			t.Fatalf("accepted message does not encode: %v", err)
		}
		enc := bytes.Clone(buf.Bytes())
		var m2 SyncMsg
		if err := protocol.ReadFrame(bufio.NewReader(&buf), &m2, maxSyncFrame); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		buf.Reset()
		if err := protocol.WriteFrame(&buf, &m2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), enc) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc, buf.Bytes())
		}
	})
}
