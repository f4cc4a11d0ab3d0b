// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"testing"
	"time"

	"github.com/livinglab/livinglab/node"
)

// Five regions and a flooding member (six nodes): the flood stays within
// the per-author limit everywhere, the flooder is graylisted, outsiders
// (let past the gate, as during an invite window) get nothing stored,
// honest records arrive live and after one sync round all of them.
func TestAttackSmoke(t *testing.T) {
	ctx := smokeContext(t, "starts six nodes")
	res, err := RunAttack(ctx, AttackConfig{Nodes: 5, Latency: 5 * time.Millisecond, Records: 20, Rate: 10,
		PublishPerMin: 60, PublishBurst: 10, FloodFactor: 100, FloodValidS: 1, InvalidEvery: 4, Outsiders: 2,
		DialEvery: 100 * time.Millisecond, OutsidersPastGate: true, Settle: time.Second, Seed: 1, SyncPush: true, Dir: t.TempDir(), Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res.FloodValid < 100 || res.FloodInvalid == 0 {
		t.Fatalf("the flood sent %d valid and %d invalid records", res.FloodValid, res.FloodInvalid)
	}
	if res.FloodStoredMax > res.FloodAllowed || res.FloodStoredMaxSynced > res.FloodAllowed {
		t.Errorf("a node holds %d flood records (%d after sync), the limit allows %d", res.FloodStoredMax, res.FloodStoredMaxSynced, res.FloodAllowed)
	}
	if res.FloodPushed == 0 || res.FloodStoredMaxPushed > res.FloodAllowedPushed {
		t.Errorf("after the flooder pushed %d records by sync a node holds %d, the limit allows %d", res.FloodPushed, res.FloodStoredMaxPushed, res.FloodAllowedPushed)
	}
	if res.FloodStoredMin < 1 {
		t.Errorf("a node holds none of the flood: the limit's burst should have been let through")
	}
	if res.GraylistedAt != res.Nodes {
		t.Errorf("flooder graylisted at %d of %d nodes", res.GraylistedAt, res.Nodes)
	}
	if res.OutsiderStored != 0 || res.OutsiderSent == 0 || res.OutsiderConnected == 0 {
		t.Errorf("outsiders: %d stored of %d sent over %d connections", res.OutsiderStored, res.OutsiderSent, res.OutsiderConnected)
	}
	// Honest members stay >= 0 once refusals by the publishing limit are
	// ignored rather than rejected by the topic validator (gossipVerdict);
	// until then a relay may lose a few points, never its deliveries.
	if res.HonestMinScore < node.ScorePublishThreshold {
		t.Errorf("an honest member was scored %.2f", res.HonestMinScore)
	}
	if res.SyncedRatio != 1 {
		t.Errorf("after sync %.3f of the honest deliveries", res.SyncedRatio)
	}
	// A handful of deliveries on a busy test machine: live delivery and
	// latency are reported, and only gross failures fail the test.
	if res.Attack.LiveRatio < 0.9 {
		t.Errorf("live delivery under attack %.3f", res.Attack.LiveRatio)
	}
	t.Logf("baseline p99 %.1f ms, attack p99 %.1f ms (%.2fx); live %.3f; flood %d valid + %d invalid in %.1f s, held at most %d (limit %d); graylisted within %.1f s",
		res.Baseline.Latency.P99, res.Attack.Latency.P99, res.P99Ratio, res.Attack.LiveRatio, res.FloodValid, res.FloodInvalid,
		res.FloodS, res.FloodStoredMax, res.FloodAllowed, res.GraylistS)
}
