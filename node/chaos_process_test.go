// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Three real processes; each round one of them is killed with SIGKILL
// while practices are being published (the publisher itself in the last
// round), bits are flipped in records of its store while it is down, and
// it is started again. In the end every acknowledged record is held intact
// by every node: the damage was found, reported and repaired from the
// others, and `livinglab check` finds nothing on any stopped node.
func TestChaosKillAndBitFlips(t *testing.T) {
	home := processHomes(t)
	names := []string{"a", "b", "c"}
	ports := map[string]int{}
	for i, n := range names {
		args := []string{"init", "--home", home(n), "--region", "Region " + n, "--country", "NO"}
		if i == 0 {
			args = append(args, "--federation", testFederation)
		}
		mustCLI(t, "", args...)
		h := Home{Dir: home(n)}
		bulkLimits(t, h)
		changeConfig(t, h, func(cfg *Config) {
			cfg.Store.ScrubInterval = Duration(3 * time.Second)
			cfg.Sync.Interval = Duration(2 * time.Second)
		})
		ports[n] = freePort(t)
	}
	d := map[string]*daemon{}
	for _, n := range names {
		d[n] = opsStart(t, n, home(n), ports[n])
	}
	for _, n := range names[1:] {
		joinVia(t, livinglabBin(t), home("a"), home(n))
	}
	const topic = "elderly-care"
	for _, n := range names {
		mustCLI(t, home(n), "topics", "subscribe", topic)
	}
	listed := func(n string) ([]string, error) { return apiTopicCIDs(t, d[n], topic) }

	var acked []string
	rounds := []struct{ publisher, victim string }{{"a", "b"}, {"b", "c"}, {"c", "a"}, {"a", "a"}}
	for r, round := range rounds {
		const count = 12
		var mu sync.Mutex
		killed := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				var out Published
				_, err := apiCall(t, d[round.publisher], "POST", "/api/v1/practices",
					practiceFile(fmt.Sprintf("Round %d practice %d: volunteers drive older residents", r, i), topic), &out)
				if err == nil && out.CID != "" {
					mu.Lock()
					acked = append(acked, out.CID)
					mu.Unlock()
				}
				if i == count/3 {
					close(killed)
				}
			}
		}()
		<-killed
		opsKill(t, d[round.victim])
		wg.Wait()

		// Damage up to two records the victim holds and another node
		// holds too (damage to the only copy cannot be repaired by anyone).
		var others []string
		for _, n := range names {
			if n != round.victim {
				if got, err := listed(n); err == nil {
					others = append(others, got...)
				}
			}
		}
		var victims []string
		for _, c := range acked[:len(acked)-count/2] {
			if slices.Contains(others, c) && len(victims) < 2 {
				victims = append(victims, c)
			}
		}
		flipped := 0
		for _, c := range victims {
			if heldBy(t, home(round.victim), c) {
				damageOnDisk(t, Home{Dir: home(round.victim)}, cid.MustParse(c), func(raw []byte) {
					raw[len(raw)/2+rand.IntN(len(raw)/4)] ^= 1 << rand.IntN(8)
				})
				flipped++
			}
		}
		t.Logf("round %d: killed %s while %s published; %d acknowledged so far; flipped bits in %d stored records", r, round.victim, round.publisher, len(acked), flipped)
		d[round.victim] = opsStart(t, round.victim+" again", home(round.victim), ports[round.victim])
	}

	for _, n := range names {
		pollEvery(t, 90*time.Second, 250*time.Millisecond, n+" holds every acknowledged record intact", func() error {
			var st Status
			if err := json.Unmarshal([]byte(mustCLI(t, home(n), "status", "--json")), &st); err != nil {
				return err
			}
			if st.Integrity.Damaged > 0 {
				return fmt.Errorf("%d damaged records not yet repaired", st.Integrity.Damaged)
			}
			got, err := listed(n)
			if err != nil {
				return err
			}
			missing := 0
			for _, c := range acked {
				if !slices.Contains(got, c) {
					missing++
				}
			}
			if missing > 0 {
				return fmt.Errorf("%d of %d acknowledged records missing", missing, len(acked))
			}
			return nil
		})
	}
	found := 0.0
	for _, n := range names {
		found += metricValue(t, d[n], "livinglab_store_damaged_records_found_total", "")
	}
	if found == 0 {
		t.Fatal("no node reported the damaged records")
	}
	for _, n := range names {
		d[n].stop(true)
		if out := mustCLI(t, "", "check", "--home", home(n)); !strings.Contains(out, "No damage found") {
			t.Fatalf("check on %s after the run: %s", n, out)
		}
	}
	t.Logf("%d acknowledged records held intact by all three nodes; %v damaged records found and repaired", len(acked), found)
}

// heldBy tells whether a stopped node's store holds record c.
func heldBy(t *testing.T, home, c string) bool {
	t.Helper()
	key := append([]byte("r/"), cid.MustParse(c).Bytes()...)
	return onStoppedStore(t, Home{Dir: home}, func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	}) == nil
}
