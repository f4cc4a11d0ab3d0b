// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// writeBundle exports a bundle from tn.
func writeBundle(t *testing.T, tn *testNode, o BundleOptions) []byte {
	t.Helper()
	b, err := tn.Node().Bundle(o)
	if err != nil {
		t.Fatalf("bundle of %s: %v", tn.name, err)
	}
	var buf bytes.Buffer
	if err := b.WriteCAR(context.Background(), &buf); err != nil {
		t.Fatalf("write bundle: %v", err)
	}
	return buf.Bytes()
}

// topicHoldings lists the CIDs tn holds under topic.
func topicHoldings(t *testing.T, tn *testNode, topic string) []string {
	t.Helper()
	var out []string
	if err := tn.Node().TopicRecords(topic, func(it knowledge.TopicItem) error {
		out = append(out, it.CID.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// offlineMember starts a node of federation fed (founded by founder) that
// follows topics and has never met a member: its own mock network.
func offlineMember(t *testing.T, name, fed, founder string, topics ...string) *testNode {
	t.Helper()
	f := newHarness(t)
	tn := f.initNode(name, InitOptions{Region: "Region " + name, Country: "NO"})
	changeConfig(t, tn.home, func(cfg *Config) {
		cfg.Federation = FederationConfig{Name: fed, Founder: founder}
		cfg.Topics = topics
	})
	bulkLimits(t, tn.home)
	f.start(tn)
	return tn
}

// storedCount is how many records of any kind tn holds.
func storedCount(t *testing.T, tn *testNode) int {
	t.Helper()
	n := 0
	for _, k := range []protocol.Kind{protocol.KindMembership, protocol.KindPractice, protocol.KindLesson, protocol.KindRetraction} {
		recs, err := tn.Node().store.List(knowledge.ListOptions{Kind: k, IncludeOld: true})
		if err != nil {
			t.Fatal(err)
		}
		n += len(recs)
	}
	return n
}

func TestBundleRoundTrip(t *testing.T) {
	f, nodes := newFederation(t, 2)
	a, b := nodes[0], nodes[1]
	f.subscribe(a, "mobility")
	f.subscribe(a, "health")
	f.subscribe(b, "mobility", a)
	f.subscribe(b, "health", a)
	var mine []cid.Cid
	for i := range 3 {
		mine = append(mine, publish(t, a, fmt.Sprintf("Village bus %d", i), "mobility"))
	}
	fromB := publish(t, b, "Shared taxis", "mobility", "health")
	onlyHealth := publish(t, a, "Care visits", "health")
	waitHas(t, a, fromB, 20*time.Second)
	if _, err := a.Node().Retract(context.Background(), mine[2], "published twice"); err != nil {
		t.Fatal(err)
	}

	car := writeBundle(t, a, BundleOptions{Topic: "mobility"})
	want := topicHoldings(t, a, "mobility")
	if len(want) != 3 {
		t.Fatalf("A holds %d mobility records, want 3", len(want))
	}

	c := offlineMember(t, "C", testFederation, a.ID().String(), "mobility")
	rep, err := c.Node().ImportBundle(context.Background(), bytes.NewReader(car))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	// Two membership records (found, admit), three practices and the
	// retraction.
	if rep.Records != 6 || rep.Added != 6 || rep.Skipped != 0 || len(rep.Refused) != 0 {
		t.Fatalf("import report %+v", rep)
	}
	if got := topicHoldings(t, c, "mobility"); !slices.Equal(got, want) {
		t.Fatalf("C holds %v under mobility, A holds %v", got, want)
	}
	if c.Node().Has(onlyHealth) {
		t.Fatal("a health practice came with a mobility bundle")
	}
	if !c.Node().IsMember(b.ID()) {
		t.Fatal("the bundle's membership records did not reach C's roster")
	}
	if _, err := c.Node().Practice(mine[2]); !errors.As(err, new(*RetractedError)) {
		t.Fatalf("the retracted practice on C: %v, want a retraction", err)
	}

	// Again: nothing new.
	rep, err = c.Node().ImportBundle(context.Background(), bytes.NewReader(car))
	if err != nil || rep.Added != 0 || rep.Skipped != 6 {
		t.Fatalf("second import: %+v, %v", rep, err)
	}

	// Only what was created since a moment: the bundle still carries the
	// roster and the tombstone.
	late := publish(t, a, "Late bus", "mobility")
	rec, err := a.Node().Record(late)
	if err != nil {
		t.Fatal(err)
	}
	since := writeBundle(t, a, BundleOptions{Topic: "mobility", Since: rec.Record.CreatedTime()})
	rep, err = c.Node().ImportBundle(context.Background(), bytes.NewReader(since))
	if err != nil || rep.Records != 4 || rep.Added != 1 {
		t.Fatalf("import since: %+v, %v", rep, err)
	}
	if !c.Node().Has(late) {
		t.Fatal("the late practice is not on C")
	}
}

func TestBundleRefused(t *testing.T) {
	f, nodes := newFederation(t, 1)
	a := nodes[0]
	f.subscribe(a, "mobility")
	for i := range 2 {
		publish(t, a, fmt.Sprintf("Ferry timetable %d", i), "mobility")
	}
	car := writeBundle(t, a, BundleOptions{})
	c := offlineMember(t, "C", testFederation, a.ID().String(), "mobility")
	before := storedCount(t, c)

	refuse := func(name string, data []byte, want string) {
		t.Helper()
		_, err := c.Node().ImportBundle(context.Background(), bytes.NewReader(data))
		if !errors.Is(err, ErrBadBundle) || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want a refusal saying %q", name, err, want)
		}
		if n := storedCount(t, c); n != before {
			t.Fatalf("%s: C holds %d records after the refusal, %d before", name, n, before)
		}
	}

	// A flipped byte inside the last block (a signature block).
	tampered := slices.Clone(car)
	tampered[len(tampered)-5] ^= 0x01
	refuse("tampered", tampered, "does not match its CID")

	// Cut inside a block, and cut exactly at a block boundary.
	refuse("truncated", car[:len(car)-7], "truncated")
	refuse("cut at a block", car[:lastBlockStart(t, car)], "missing")

	refuse("not a CAR", []byte("hello"), "not a CAR")

	// Another federation's bundle.
	g := newHarness(t)
	x := g.initNode("X", InitOptions{Region: "Elsewhere", Country: "IS", Federation: "another"})
	bulkLimits(t, x.home)
	g.start(x)
	g.subscribe(x, "mobility")
	publish(t, x, "Harbour bus", "mobility")
	refuse("foreign", writeBundle(t, x, BundleOptions{}), `federation "another"`)

	// The genuine bundle still imports.
	rep, err := c.Node().ImportBundle(context.Background(), bytes.NewReader(car))
	if err != nil || rep.Added != 3 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
}

// lastBlockStart is the offset of the last block's section in a CARv1.
func lastBlockStart(t *testing.T, car []byte) int {
	t.Helper()
	br, err := carv2.NewBlockReader(bytes.NewReader(car))
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for {
		meta, err := br.SkipNext()
		if err != nil {
			break
		}
		last = int(meta.SourceOffset)
	}
	if last == 0 {
		t.Fatal("no blocks")
	}
	return last
}
