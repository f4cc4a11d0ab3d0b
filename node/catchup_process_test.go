// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two real `livinglab run` processes: b is offline while a publishes 100
// practices and retracts one; b restarts and catches up to the 99 that
// remain, reports the topic in sync, and shows a new version's history.
func TestCatchUpProcesses(t *testing.T) {
	home := processHomes(t)
	mustCLI(t, "", "init", "--home", home("a"), "--region", "North Karelia", "--country", "FI", "--federation", testFederation)
	mustCLI(t, "", "init", "--home", home("b"), "--region", "Region b", "--country", "SE")
	for _, n := range []string{"a", "b"} {
		bulkLimits(t, Home{Dir: home(n)})
	}
	a := startDaemon(t, "a", home("a"))
	b := startDaemon(t, "b", home("b"))
	joinVia(t, livinglabBin(t), home("a"), home("b"))
	mustCLI(t, home("b"), "topics", "subscribe", catchupTopic)
	idA, idB := peerIDOfHome(t, home("a")), peerIDOfHome(t, home("b"))
	pollEvery(t, 20*time.Second, 200*time.Millisecond, "a and b list each other", func() error {
		for _, n := range []string{"a", "b"} {
			ids := memberIDs(t, home(n))
			if !slices.Contains(ids, idA) || !slices.Contains(ids, idB) {
				return fmt.Errorf("%s lists %v", n, ids)
			}
		}
		return nil
	})
	b.stop(true)

	const count = 100
	cids := make([]string, count)
	errs := make([]error, count)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += 4 {
				var out Published
				_, errs[i] = apiCall(t, a, "POST", "/api/v1/practices", practiceFile(fmt.Sprintf("Practice %d on night-time care", i), catchupTopic), &out)
				cids[i] = out.CID
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || cids[i] == "" {
			t.Fatalf("publish %d on a: %v", i, err)
		}
	}
	t.Logf("a published %d practices through its API in %s", count, time.Since(start).Round(time.Millisecond))
	retracted := cids[0]
	mustCLI(t, home("a"), "practice", "retract", retracted, "--reason", "withdrawn by the region")

	back := time.Now()
	b = startDaemon(t, "b again", home("b"))
	listed := func() ([]string, error) { return apiTopicCIDs(t, b, catchupTopic) }
	dt := pollEvery(t, 60*time.Second, 100*time.Millisecond, "b catches up", func() error {
		got, err := listed()
		if err != nil {
			return err
		}
		if len(got) != count-1 || slices.Contains(got, retracted) {
			return fmt.Errorf("b lists %d practices (retracted one listed: %v)", len(got), slices.Contains(got, retracted))
		}
		return nil
	})
	t.Logf("b caught up to %d practices and the retraction %s after its restart (%s since the daemon started)",
		count-1, dt.Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	got, _ := listed()
	slices.Sort(got)
	want := slices.Clone(cids[1:])
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("b lists other practices than the %d a kept", count-1)
	}
	if r := cli(t, home("b"), "practice", "show", retracted); r.Code == 0 || !strings.Contains(r.Stderr, "retracted") {
		t.Fatalf("b shows the retracted practice: %s", r)
	}

	pollEvery(t, 30*time.Second, 250*time.Millisecond, "b reports the topic in sync", func() error {
		var st Status
		if err := json.Unmarshal([]byte(mustCLI(t, home("b"), "status", "--json")), &st); err != nil {
			return err
		}
		for _, ts := range st.Topics {
			if ts.Topic != catchupTopic {
				continue
			}
			if ts.Records != count-1 || !ts.InSync || !ts.Subscribed {
				return fmt.Errorf("%s: %d records, in sync %v, subscribed %v", catchupTopic, ts.Records, ts.InSync, ts.Subscribed)
			}
			return nil
		}
		return fmt.Errorf("status lists no topic %s: %+v", catchupTopic, st.Topics)
	})

	v1 := cids[1]
	v2file := writeJSONFile(t, t.TempDir(), "v2.json", practiceFile("Practice 1 on night-time care, second edition", catchupTopic))
	all := cidRE.FindAllString(mustCLI(t, home("a"), "practice", "publish", "--file", v2file, "--supersedes", v1), -1)
	if len(all) == 0 {
		t.Fatalf("publish printed no CID")
	}
	v2 := all[len(all)-1]
	for _, n := range []string{"a", "b"} {
		pollEvery(t, 20*time.Second, 200*time.Millisecond, n+" lists both versions in the history", func() error {
			var vs []PracticeView
			if err := json.Unmarshal([]byte(mustCLI(t, home(n), "practice", "history", v1, "--json")), &vs); err != nil {
				return err
			}
			if len(vs) != 2 || vs[0].CID != v1 || vs[0].Version != 1 || vs[1].CID != v2 || vs[1].Version != 2 ||
				vs[1].PracticeID != v1 || vs[1].Supersedes != v1 || vs[0].SupersededBy != v2 {
				var got []string
				for _, v := range vs {
					got = append(got, fmt.Sprintf("%s v%d", v.CID, v.Version))
				}
				return fmt.Errorf("history %v", got)
			}
			return nil
		})
	}
	got, err := listed()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, v2) || slices.Contains(got, v1) || len(got) != count-1 {
		t.Fatalf("b lists %d practices, version 2 listed %v, version 1 listed %v", len(got), slices.Contains(got, v2), slices.Contains(got, v1))
	}
	// The history is the same when asked by the new version's CID.
	var vs []PracticeView
	if err := json.Unmarshal([]byte(mustCLI(t, home("b"), "practice", "history", v2, "--json")), &vs); err != nil || len(vs) != 2 {
		t.Fatalf("history by version 2's CID: %d versions, %v", len(vs), err)
	}
}
