// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// result is the outcome of a full reconciliation between two sets.
type result struct {
	have     []Item
	need     [][IDSize]byte
	rounds   int // messages sent by the initiator
	sentA    int64
	sentB    int64
	maxFrame int
}

// reconcile runs a whole reconciliation between an initiator over a and a
// responder over b, checking every message against the size limit and the
// decoder.
func reconcile(t testing.TB, a, b *Set, optsA, optsB Options) result {
	t.Helper()
	ra := NewReconciler(a, optsA)
	rb := NewReconciler(b, optsB)
	limitA, limitB := optsA.normalize().MaxMessageBytes, optsB.normalize().MaxMessageBytes
	var res result
	check := func(msg []byte, limit int, who string) {
		t.Helper()
		if len(msg) > limit {
			t.Fatalf("%s sent %d bytes, limit %d", who, len(msg), limit)
		}
		if _, err := Decode(msg); err != nil {
			t.Fatalf("%s sent an undecodable message: %v", who, err)
		}
		res.maxFrame = max(res.maxFrame, len(msg))
	}
	msg, err := ra.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	for {
		res.rounds++
		if res.rounds > 100000 {
			t.Fatal("no convergence after 100000 rounds")
		}
		check(msg, limitA, "initiator")
		reply, err := rb.Respond(msg)
		if err != nil {
			t.Fatalf("round %d: Respond: %v", res.rounds, err)
		}
		if reply != nil {
			check(reply, limitB, "responder")
		}
		next, done, err := ra.Step(reply)
		if err != nil {
			t.Fatalf("round %d: Step: %v", res.rounds, err)
		}
		if done {
			if next != nil {
				t.Fatal("done with a message to send")
			}
			break
		}
		msg = next
	}
	res.have, res.need = ra.Have(), ra.Need()
	res.sentA, res.sentB = ra.Stats().BytesSent, rb.Stats().BytesSent
	if ra.Stats().BytesReceived != res.sentB || rb.Stats().BytesReceived != res.sentA {
		t.Fatalf("byte counters disagree: %+v %+v", ra.Stats(), rb.Stats())
	}
	return res
}

// checkDiff asserts that Have and Need are exactly a\b and b\a.
func checkDiff(t testing.TB, a, b *Set, res result) {
	t.Helper()
	var wantHave []Item
	for _, it := range a.items {
		if !b.Contains(it) {
			wantHave = append(wantHave, it)
		}
	}
	var wantNeed [][IDSize]byte
	for _, it := range b.items {
		if !a.Contains(it) {
			wantNeed = append(wantNeed, it.ID)
		}
	}
	if !slices.Equal(res.have, wantHave) {
		t.Fatalf("Have: got %d items, want %d", len(res.have), len(wantHave))
	}
	// Need comes in the order the ranges were settled.
	need := slices.Clone(res.need)
	byID := func(x, y [IDSize]byte) int { return bytes.Compare(x[:], y[:]) }
	slices.SortFunc(need, byID)
	slices.SortFunc(wantNeed, byID)
	if !slices.Equal(need, wantNeed) {
		t.Fatalf("Need: got %d IDs, want %d", len(res.need), len(wantNeed))
	}
}

func randItem(r *rand.Rand, tmin, tmax uint64) Item {
	var it Item
	if tmax == math.MaxUint64 && tmin == 0 {
		it.Time = r.Uint64()
	} else {
		it.Time = tmin + r.Uint64N(tmax-tmin+1)
	}
	for i := 0; i < IDSize; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			it.ID[i+j] = byte(v >> (8 * j))
		}
	}
	return it
}

// sets builds two sets sharing common items, with onlyA and onlyB items on
// one side only, from gen.
func sets(common, onlyA, onlyB int, gen func() Item) (*Set, *Set) {
	var a, b []Item
	for range common {
		it := gen()
		a, b = append(a, it), append(b, it)
	}
	for range onlyA {
		a = append(a, gen())
	}
	for range onlyB {
		b = append(b, gen())
	}
	return NewSet(a), NewSet(b)
}

func TestReconcileCases(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const month = 30 * 24 * 3600 * 1000
	now := uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	spread := func() Item { return randItem(r, now-month, now) }
	sameTime := func() Item { return randItem(r, now, now) }
	fewTimes := func() Item { return randItem(r, now, now+3) }
	anyTime := func() Item { return randItem(r, 0, math.MaxUint64) }
	extremes := func() Item {
		it := randItem(r, 0, 1)
		if r.IntN(2) == 0 {
			it.Time = math.MaxUint64 - it.Time
		}
		switch r.IntN(8) {
		case 0:
			it.ID = [IDSize]byte{}
		case 1:
			for i := range it.ID {
				it.ID[i] = 0xFF
			}
		}
		return it
	}
	// IDs sharing long prefixes at one time force 32-byte bound prefixes.
	base := randItem(r, now, now)
	longPrefix := func() Item {
		it := base
		k := IDSize - 1 - r.IntN(3)
		for i := k; i < IDSize; i++ {
			it.ID[i] = byte(r.IntN(256))
		}
		return it
	}

	cases := []struct {
		name                 string
		common, onlyA, onlyB int
		gen                  func() Item
	}{
		{"both empty", 0, 0, 0, spread},
		{"initiator empty", 0, 0, 500, spread},
		{"responder empty", 0, 500, 0, spread},
		{"initiator empty large", 0, 0, 5000, spread},
		{"responder empty large", 0, 5000, 0, spread},
		{"identical small", 10, 0, 0, spread},
		{"identical large", 20000, 0, 0, spread},
		{"disjoint", 0, 3000, 3000, spread},
		{"one missing on each side", 5000, 1, 1, spread},
		{"single item each", 0, 1, 1, spread},
		{"small difference", 10000, 7, 13, spread},
		{"large difference", 10000, 2000, 3000, spread},
		{"one side superset", 10000, 0, 1000, spread},
		{"same timestamp", 5000, 50, 50, sameTime},
		{"four timestamps", 5000, 300, 10, fewTimes},
		{"any uint64 time", 5000, 40, 40, anyTime},
		{"time 0 and max uint64", 2000, 100, 100, extremes},
		{"long shared prefixes", 300, 40, 40, longPrefix},
	}
	optsList := []Options{
		{},
		{Branching: 2, IDListThreshold: 1},
		{Branching: 3, IDListThreshold: 2, MaxMessageBytes: 600},
		{Branching: 64, IDListThreshold: 100, MaxMessageBytes: 4096},
		{Branching: 16, IDListThreshold: 16, MaxMessageBytes: MinMessageBytes},
	}
	if testing.Short() {
		optsList = optsList[:2]
	}
	for _, c := range cases {
		a, b := sets(c.common, c.onlyA, c.onlyB, c.gen)
		for _, opts := range optsList {
			res := reconcile(t, a, b, opts, opts)
			t.Run(c.name, func(t *testing.T) { checkDiff(t, a, b, res) })
		}
		// The two sides need not agree on options.
		res := reconcile(t, a, b, Options{Branching: 5, MaxMessageBytes: 1000}, Options{IDListThreshold: 40})
		t.Run(c.name+"/mixed options", func(t *testing.T) { checkDiff(t, a, b, res) })
	}
}

func TestReconcileRandom(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for seed := range iters {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		tmax := []uint64{0, 3, 1000, math.MaxUint64}[r.IntN(4)]
		gen := func() Item { return randItem(r, 0, tmax) }
		a, b := sets(r.IntN(3000), r.IntN(60), r.IntN(60), gen)
		optsA := Options{Branching: 2 + r.IntN(20), IDListThreshold: 1 + r.IntN(40), MaxMessageBytes: 512 + r.IntN(8192)}
		optsB := Options{Branching: 2 + r.IntN(20), IDListThreshold: 1 + r.IntN(40), MaxMessageBytes: 512 + r.IntN(8192)}
		res := reconcile(t, a, b, optsA, optsB)
		checkDiff(t, a, b, res)
	}
}

// TestReconcileMutations drives the sets through inserts and removals (as
// with tombstoned records) and reconciles after each batch.
func TestReconcileMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	gen := func() Item { return randItem(r, 1000, 2000) }
	a, b := sets(2000, 0, 0, gen)
	for range 20 {
		for range r.IntN(20) {
			it := gen()
			if r.IntN(2) == 0 {
				a.Insert(it)
			} else {
				b.Insert(it)
			}
		}
		for range r.IntN(10) {
			if a.Len() > 0 {
				a.Remove(a.items[r.IntN(a.Len())])
			}
		}
		checkDiff(t, a, b, reconcile(t, a, b, Options{}, Options{}))
	}
}

// large builds the 100,000-item scenario: common items spread over a month,
// plus d differences, each on a random side.
func large(n, d int, seed uint64) (*Set, *Set) {
	r := rand.New(rand.NewPCG(seed, seed))
	const month = 30 * 24 * 3600 * 1000
	now := uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	var a, b []Item
	for range n {
		it := randItem(r, now-month, now)
		a, b = append(a, it), append(b, it)
	}
	for range d {
		it := randItem(r, now-month, now)
		if r.IntN(2) == 0 {
			a = append(a, it)
		} else {
			b = append(b, it)
		}
	}
	return NewSet(a), NewSet(b)
}

// ceilLog returns ⌈log_b(n)⌉ for n >= 1.
func ceilLog(n, b int) int {
	k := 0
	for p := 1; p < n; p *= b {
		k++
	}
	return k
}

// TestReconcileBandwidth checks that the bytes exchanged grow with the
// difference, not with the set: 100,000 items, 1,000 differences.
func TestReconcileBandwidth(t *testing.T) {
	const n, d = 100000, 1000
	a, b := large(n, d, 42)
	start := time.Now()
	res := reconcile(t, a, b, Options{}, Options{})
	elapsed := time.Since(start)
	checkDiff(t, a, b, res)
	total := res.sentA + res.sentB
	levels := math.Log(n) / math.Log(16)
	t.Logf("n=%d d=%d: initiator sent %d B, responder sent %d B, total %d B (%.0f B per difference, %.1f per difference per log16(n)), %d rounds, largest message %d B, %v",
		n, d, res.sentA, res.sentB, total, float64(total)/d, float64(total)/d/levels, res.rounds, res.maxFrame, elapsed)

	// Localising one difference costs, per level of the search, a split
	// into 16 Fingerprint ranges of about 21 bytes each (bound, mode and a
	// 16-byte fingerprint); below the level where each range holds about
	// one difference that is log16(n/d) levels, above it the splits are
	// shared. Add the ID lists that settle the last ranges. At these sizes
	// this comes to about 120·d·log16(n) bytes; the bound leaves a margin
	// and still catches anything that grows with n (sending every ID would
	// cost 3.2 MB).
	const fixed = 4096
	bound := int64(160*float64(d)*levels) + fixed
	if total > bound {
		t.Errorf("exchanged %d bytes, bound %d", total, bound)
	}
	if full := int64(n * IDSize); total*5 > full {
		t.Errorf("exchanged %d bytes, more than a fifth of sending all IDs (%d)", total, full)
	}
	if elapsed > time.Second {
		t.Errorf("took %v", elapsed)
	}
}

// TestReconcileRounds checks the number of round trips without a frame
// limit. Each message takes the search one level down (a range of m items
// becomes Branching ranges of m/Branching), and the last ranges are settled
// by an ID list and, when the initiator sent it, the reply: at most
// ⌈log_B n⌉ + 4 messages, half of them from the initiator.
func TestReconcileRounds(t *testing.T) {
	for _, c := range []struct{ n, d, branching int }{
		{100000, 1000, 16},
		{100000, 1, 16},
		{100000, 100000, 16},
		{20000, 200, 4},
		{20000, 20, 2},
	} {
		a, b := large(c.n, c.d, uint64(c.n+c.d))
		opts := Options{MaxMessageBytes: MaxWireBytes, Branching: c.branching}
		res := reconcile(t, a, b, opts, opts)
		checkDiff(t, a, b, res)
		bound := (ceilLog(c.n+c.d, c.branching) + 4) / 2
		t.Logf("n=%d d=%d branching=%d: %d rounds (bound %d), %d+%d bytes", c.n, c.d, c.branching, res.rounds, bound, res.sentA, res.sentB)
		if res.rounds > bound {
			t.Errorf("n=%d d=%d branching=%d: %d rounds, bound %d", c.n, c.d, c.branching, res.rounds, bound)
		}
	}
}

// TestReconcileSmallFrames checks that splitting messages at a small
// MaxMessageBytes still converges, and that no message exceeds it.
func TestReconcileSmallFrames(t *testing.T) {
	for _, limit := range []int{MinMessageBytes, 1000, 4096} {
		a, b := large(5000, 400, uint64(limit))
		res := reconcile(t, a, b, Options{MaxMessageBytes: limit}, Options{MaxMessageBytes: limit})
		checkDiff(t, a, b, res)
		t.Logf("limit %d: %d rounds, %d+%d bytes, largest message %d", limit, res.rounds, res.sentA, res.sentB, res.maxFrame)
	}
	// One side holds 20,000 items the other lacks: the ID lists alone span
	// many frames.
	a, b := large(0, 0, 1)
	b2, _ := large(20000, 0, 2)
	res := reconcile(t, a, b2, Options{MaxMessageBytes: 4096}, Options{MaxMessageBytes: 4096})
	checkDiff(t, a, b2, res)
	t.Logf("initiator lacks 20,000 items, 4 KiB frames: %d rounds, %d+%d bytes", res.rounds, res.sentA, res.sentB)
	res = reconcile(t, b2, b, Options{MaxMessageBytes: 4096}, Options{MaxMessageBytes: 4096})
	checkDiff(t, b2, b, res)
	t.Logf("responder lacks 20,000 items, 4 KiB frames: %d rounds, %d+%d bytes", res.rounds, res.sentA, res.sentB)
}

func TestReconcilerState(t *testing.T) {
	s := NewSet(nil)
	r := NewReconciler(s, Options{})
	if _, _, err := r.Step(nil); !errors.Is(err, ErrState) {
		t.Errorf("Step before Initiate: %v", err)
	}
	msg, err := r.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Initiate(); !errors.Is(err, ErrState) {
		t.Errorf("second Initiate: %v", err)
	}
	if _, err := r.Respond(msg); !errors.Is(err, ErrState) {
		t.Errorf("Respond on initiator: %v", err)
	}
	resp := NewReconciler(s, Options{})
	reply, err := resp.Respond(msg)
	if err != nil || reply != nil {
		t.Fatalf("identical empty sets: reply %x, err %v", reply, err)
	}
	if _, err := resp.Initiate(); !errors.Is(err, ErrState) {
		t.Errorf("Initiate on responder: %v", err)
	}
	if _, done, err := r.Step(reply); !done || err != nil {
		t.Fatalf("Step(nil): done %v err %v", done, err)
	}
	if _, _, err := r.Step(nil); !errors.Is(err, ErrState) {
		t.Errorf("Step after done: %v", err)
	}

	// A bad message poisons the reconciler.
	bad := NewReconciler(s, Options{})
	if _, err := bad.Respond([]byte{0x7f}); !errors.Is(err, ErrVersion) {
		t.Fatalf("bad version: %v", err)
	}
	if _, err := bad.Respond(msg); !errors.Is(err, ErrVersion) {
		t.Errorf("after error: %v", err)
	}
}

// TestDuplicateIDs checks that a responder listing an ID twice is refused.
func TestDuplicateIDs(t *testing.T) {
	r := NewReconciler(NewSet(nil), Options{})
	if _, err := r.Initiate(); err != nil {
		t.Fatal(err)
	}
	id := [IDSize]byte{1}
	msg, err := Encode(&Message{Ranges: []Range{{Upper: InfiniteBound, Mode: ModeIDList, IDs: [][IDSize]byte{id, id}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Step(msg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("duplicate IDs: %v", err)
	}
}

// TestIdenticalSetsOneRound checks the common periodic case: equal sets
// cost one fingerprint and an empty reply.
func TestIdenticalSetsOneRound(t *testing.T) {
	a, _ := large(100000, 0, 3)
	res := reconcile(t, a, a, Options{}, Options{})
	if res.rounds != 1 || res.sentB != 0 || res.sentA != 1+1+1+FingerprintSize {
		t.Fatalf("identical sets: %d rounds, %d+%d bytes", res.rounds, res.sentA, res.sentB)
	}
}

func BenchmarkReconcile100kMissing1k(b *testing.B) {
	// The initiator lacks 1,000 of the responder's 100,000 items.
	full, _ := large(100000, 0, 5)
	items := full.Items()
	r := rand.New(rand.NewPCG(5, 6))
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	missing := NewSet(items[1000:])
	var ra, rb *Reconciler
	rounds := 0
	for b.Loop() {
		ra, rb = NewReconciler(missing, Options{}), NewReconciler(full, Options{})
		msg, err := ra.Initiate()
		for rounds = 1; err == nil; rounds++ {
			var reply []byte
			if reply, err = rb.Respond(msg); err != nil {
				break
			}
			var done bool
			if msg, done, err = ra.Step(reply); done {
				break
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(ra.Need()) != 1000 || len(ra.Have()) != 0 {
		b.Fatalf("need %d have %d", len(ra.Need()), len(ra.Have()))
	}
	b.ReportMetric(float64(ra.Stats().BytesSent), "initiator-bytes/op")
	b.ReportMetric(float64(rb.Stats().BytesSent), "responder-bytes/op")
	b.ReportMetric(float64(rounds), "rounds/op")
}
