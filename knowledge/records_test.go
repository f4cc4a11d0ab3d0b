package knowledge

import (
	"sync"
	"testing"

	"github.com/livinglab/livinglab/protocol"
)

// Gossip and sync deliver the same record, and a record races its
// retraction: concurrent puts must neither fail with Badger's transaction
// conflict nor store a record twice.
func TestConcurrentPutsOfTheSameRecords(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key, _ := v1Key(t, 7)
	var recs []*protocol.Signed
	var prev *protocol.Signed
	for i := range 40 {
		rec := v1Seal(t, key, uint64(i+1), prev, []string{"elderly-care"}, v1Practice("Practice "+string(rune('A'+i))))
		recs = append(recs, rec)
		prev = rec
	}
	const writers = 6
	added := make([]int, len(recs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers*len(recs))
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, rec := range recs {
				res, err := s.Put(rec)
				if err != nil {
					errs <- err
					continue
				}
				if res.Added {
					mu.Lock()
					added[i]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent put: %v", err)
	}
	for i, n := range added {
		if n != 1 {
			t.Errorf("record %d reported as added %d times, want once", i, n)
		}
	}
	if n, err := s.CountKind(protocol.KindPractice); err != nil || n != len(recs) {
		t.Fatalf("CountKind = %d, %v; want %d", n, err, len(recs))
	}
	if n, err := s.CountTopic("elderly-care"); err != nil || n != len(recs) {
		t.Fatalf("CountTopic = %d, %v; want %d", n, err, len(recs))
	}
}
