// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/protocol"
)

// ErrAuthorLimit is returned when storing a record would put its author
// over the federation's publishing limit.
var ErrAuthorLimit = errors.New("author over the federation's publishing limit")

// pfxWindow keys count, per author and minute of signing time, the
// practices and lessons the store has taken in:
//
//	l/<author>\x00<minute since the epoch> -> uint32 count
//
// A record counts once it is stored and keeps counting after it is
// retracted or superseded, so withdrawing records never makes room for
// more.
var pfxWindow = []byte("l/")

// AuthorLimit bounds how many practices and lessons one author may sign,
// by the minute they were signed in: any j consecutive minutes (j = 1 ..
// Minutes) hold at most Burst + j*PerMin of them. That is what a token
// bucket of Burst records refilled at PerMin a minute lets through in j
// minutes, so an author within the publishing limit is never refused,
// and one beyond it gets at most PerMin + Burst/Minutes a minute in the
// long run. It is counted by signing time rather than arrival, so it holds
// the same whichever way records come (gossip, sync, from the author or
// from anyone else) and in whatever order. The zero value is no limit.
type AuthorLimit struct {
	Burst   int
	PerMin  int
	Minutes int
}

// limitMinutes is the longest run of minutes an AuthorLimit checks.
const limitMinutes = 4

// LimitFor is the AuthorLimit of a publishing limit of perMin records per
// minute with a burst.
func LimitFor(perMin, burst int) AuthorLimit {
	if perMin <= 0 || burst <= 0 {
		return AuthorLimit{}
	}
	return AuthorLimit{Burst: burst, PerMin: perMin, Minutes: limitMinutes}
}

func (l AuthorLimit) on() bool { return l.Burst > 0 && l.Minutes > 0 }

// authorStripes is the number of locks that serialise the stores of
// records by one author (see Store.put).
const authorStripes = 64

func authorStripe(author string) int {
	h := fnv.New32a()
	h.Write([]byte(author))
	return int(h.Sum32() % authorStripes)
}

func limited(k protocol.Kind) bool { return k == protocol.KindPractice || k == protocol.KindLesson }

func windowKey(author string, minute int64) []byte {
	return cat(pfxWindow, []byte(author), []byte{0}, u64(uint64(minute)))
}

func minuteOf(ms int64) int64 { return ms / int64(time.Minute/time.Millisecond) }

func readCount(txn *badger.Txn, k []byte) (uint32, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint32
	err = it.Value(func(v []byte) error {
		if len(v) != 4 {
			return fmt.Errorf("window count %x: %d bytes", k, len(v))
		}
		n = binary.BigEndian.Uint32(v)
		return nil
	})
	return n, err
}

// windowRoom tells whether one more record by author signed at ms stays
// within lim in every run of consecutive minutes that contains it.
func windowRoom(txn *badger.Txn, author string, ms int64, lim AuthorLimit) (bool, error) {
	if !lim.on() {
		return true, nil
	}
	m := minuteOf(ms)
	k := lim.Minutes
	counts := make([]int, 2*k-1) // minutes m-k+1 .. m+k-1; m at index k-1
	for i := range counts {
		c, err := readCount(txn, windowKey(author, m-int64(k)+1+int64(i)))
		if err != nil {
			return false, err
		}
		counts[i] = int(c)
	}
	for j := 1; j <= k; j++ { // runs of j minutes
		for start := k - j; start <= k-1; start++ { // runs that contain m
			sum := 1
			for _, c := range counts[start : start+j] {
				sum += c
			}
			if sum > lim.Burst+j*lim.PerMin {
				return false, nil
			}
		}
	}
	return true, nil
}

// countRecord adds a stored record to its author's minute.
func countRecord(txn *badger.Txn, r *protocol.Record) error {
	if !limited(r.Kind) {
		return nil
	}
	k := windowKey(r.Author, minuteOf(r.Created))
	n, err := readCount(txn, k)
	if err != nil {
		return err
	}
	return txn.Set(k, binary.BigEndian.AppendUint32(nil, n+1))
}

// AuthorRoom tells whether the store would take one more practice or
// lesson by author signed at ms under lim: the node checks it before
// signing one of its own (a record others would refuse must not be
// signed) and before relaying one it received.
func (s *Store) AuthorRoom(author string, ms int64, lim AuthorLimit) (bool, error) {
	ok := true
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = windowRoom(txn, author, ms, lim)
		return err
	})
	return ok, err
}

// migrateWindowCounts builds the per-author minute counts of the records
// a version 2 store holds. It sets (not adds to) every count, so running
// it again after an interruption gives the same result.
func migrateWindowCounts(db *badger.DB) error {
	counts := map[string]uint32{}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxRecord, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			err := it.Item().Value(func(raw []byte) error {
				env, err := protocol.DecodeEnvelope(raw)
				if err != nil {
					return err
				}
				r, err := protocol.DecodeBody(env.Body)
				if err != nil {
					return err
				}
				if limited(r.Kind) {
					counts[string(windowKey(r.Author, minuteOf(r.Created)))]++
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("record %x: %w", it.Item().Key(), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for k, n := range counts {
		if err := wb.Set([]byte(k), binary.BigEndian.AppendUint32(nil, n)); err != nil {
			return err
		}
	}
	return wb.Flush()
}
