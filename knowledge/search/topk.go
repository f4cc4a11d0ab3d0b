// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"
)

// The ranked search of a best-match query, evaluated term at a time.
//
// bleve scores a query document at a time: every clause's searcher yields
// its next match as an allocated document match, and a heap or slice merges
// them clause by clause. A best-match query here is a disjunction of one to
// three dozen term clauses (a word's stems in four fields, its glossary
// concept, the cross-language field), and on a large index of a small
// vocabulary most records match several of them, so that merge was most of
// a search's time. This evaluator reads each clause's postings straight
// from the index segments into per-record accumulators, one per compound
// clause, then scores every matching record from them and keeps the best.
// It gives bleve's scores (TF-IDF with query norm and coordination
// factors, the same formulas, summed in another order) and bleve's order,
// and the set of matching records for totals and facets; topk_test.go
// holds it to that. The clauses are read, and the records scored, on
// every CPU. A phrase is scored as bleve scores it, as the conjunction of
// its words, on the records where their positions follow each other (see
// matchPhrase). Queries of any other shape (date order, no words, phrases
// whose words have gaps between their positions) go to bleve.

// Node kinds of a compiled query.
const (
	opTerm = iota
	opOr
	opAnd
	opBool
)

// tnode is one clause of a compiled query.
type tnode struct {
	op int
	// term clauses
	field string
	term  []byte
	boost float64
	idf   float64
	qw    float64 // query weight: boost × idf × query norm
	// compound clauses
	min      int       // disjunction: matching children needed (at least 1)
	kids     []*tnode  // children, in query order
	inner    []*tnode  // the compound children
	terms    int       // number of term children
	slot     int       // accumulator index
	pi       int       // index in the scoring program
	coord    []float64 // disjunction: coordination factor by matching children
	into     int       // term clauses: the accumulator of the parent
	postings uint64    // term clauses: records with the term
	// phrase: a conjunction of terms of one field that must also stand
	// next to each other, in order, in one element of the field. Its
	// accumulator is filled where they do (matchPhrase), not term by term.
	phrase   bool
	ofPhrase bool // a term clause of a phrase
	// boolean
	must, should, not *tnode
}

// errUnsupported marks a query shape the evaluator leaves to bleve.
var errUnsupported = errors.New("query shape not evaluated term at a time")

// compileQuery turns a bleve query into clauses, or errUnsupported.
func compileQuery(q query.Query) (*tnode, error) {
	switch x := q.(type) {
	case *query.TermQuery:
		return &tnode{op: opTerm, field: x.FieldVal, term: []byte(x.Term), boost: x.BoostVal.Value()}, nil
	case *query.DisjunctionQuery:
		if x.BoostVal != nil && x.BoostVal.Value() != 1 {
			return nil, errUnsupported
		}
		if float64(int(x.Min)) != x.Min {
			return nil, errUnsupported
		}
		n, err := compileKids(opOr, x.Disjuncts)
		if err != nil {
			return nil, err
		}
		n.min = max(int(x.Min), 1)
		return n, nil
	case *query.ConjunctionQuery:
		if x.BoostVal != nil && x.BoostVal.Value() != 1 {
			return nil, errUnsupported
		}
		return compileKids(opAnd, x.Conjuncts)
	case *query.PhraseQuery:
		// bleve scores a phrase as the conjunction of its terms.
		if (x.BoostVal != nil && x.BoostVal.Value() != 1) || x.Fuzziness != 0 || len(x.Terms) < 2 || len(x.Terms) > 255 {
			return nil, errUnsupported
		}
		n := &tnode{op: opAnd, phrase: true}
		for _, term := range x.Terms {
			if term == "" {
				return nil, errUnsupported
			}
			n.kids = append(n.kids, &tnode{op: opTerm, field: x.FieldVal, term: []byte(term), boost: 1, ofPhrase: true})
			n.terms++
		}
		return n, nil
	case *query.BooleanQuery:
		if x.Filter != nil || (x.BoostVal != nil && x.BoostVal.Value() != 1) || x.Must == nil {
			return nil, errUnsupported
		}
		n := &tnode{op: opBool}
		var err error
		if n.must, err = compileQuery(x.Must); err != nil {
			return nil, err
		}
		if x.Should != nil {
			if n.should, err = compileQuery(x.Should); err != nil {
				return nil, err
			}
			if n.should.op != opOr {
				return nil, errUnsupported
			}
		}
		if x.MustNot != nil {
			if n.not, err = compileQuery(x.MustNot); err != nil {
				return nil, err
			}
		}
		if n.must.op == opTerm || (n.not != nil && n.not.op == opTerm) {
			return nil, errUnsupported
		}
		return n, nil
	}
	return nil, errUnsupported
}

func compileKids(op int, qs []query.Query) (*tnode, error) {
	if len(qs) == 0 {
		return nil, errUnsupported
	}
	n := &tnode{op: op}
	for _, q := range qs {
		k, err := compileQuery(q)
		if err != nil {
			return nil, err
		}
		if k.op == opBool {
			return nil, errUnsupported
		}
		n.kids = append(n.kids, k)
		if k.op == opTerm {
			n.terms++
		} else {
			n.inner = append(n.inner, k)
		}
	}
	return n, nil
}

// walk calls fn for n and every clause below it, parents first.
func (n *tnode) walk(fn func(*tnode)) {
	fn(n)
	for _, k := range n.kids {
		k.walk(fn)
	}
	for _, k := range []*tnode{n.must, n.should, n.not} {
		if k != nil {
			k.walk(fn)
		}
	}
}

// scoredTerms returns the term clauses that contribute to the score: all
// but those under a boolean's must-not.
func (n *tnode) scoredTerms(out []*tnode) []*tnode {
	switch n.op {
	case opTerm:
		return append(out, n)
	case opBool:
		out = n.must.scoredTerms(out)
		if n.should != nil {
			out = n.should.scoredTerms(out)
		}
		return out
	}
	for _, k := range n.kids {
		out = k.scoredTerms(out)
	}
	return out
}

// topDoc is one scored record.
type topDoc struct {
	num   uint64
	score float64
}

// topkResult is the outcome of a ranked evaluation.
type topkResult struct {
	total   uint64
	docs    []topDoc // the best k, best first
	matches *roaring.Bitmap
}

// evaluator holds one query's compiled clauses over one index snapshot.
type evaluator struct {
	snap   *scorch.IndexSnapshot
	root   *tnode
	segs   []*scorch.SegmentSnapshot
	offs   []uint64 // first record number of each segment
	n      uint64   // record numbers in the snapshot, deleted included
	slots  int      // compound clauses (accumulators)
	leaves []*tnode // every term clause
	prog   []*tnode // the compound clauses that are not simple, children first
	acc    *accumulators
	byID   bool // ties broken by external ID instead of record number
	idMu   sync.Mutex
	ids    map[uint64]string
}

// newEvaluator compiles q against the snapshot behind r.
func newEvaluator(r index.IndexReader, q query.Query, tieByID bool) (*evaluator, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, errUnsupported
	}
	root, err := compileQuery(q)
	if err != nil {
		return nil, err
	}
	lone := root.op == opTerm
	if lone {
		// A lone term scores as itself: a one-clause disjunction with a
		// coordination factor of 1 and no query norm.
		root = &tnode{op: opOr, min: 1, kids: []*tnode{root}, terms: 1}
	}
	e := &evaluator{snap: snap, root: root, byID: tieByID, segs: snap.Segments()}
	for _, s := range e.segs {
		e.offs = append(e.offs, e.n)
		e.n += s.Segment().Count()
	}
	if e.n > math.MaxUint32 {
		return nil, errUnsupported
	}
	docTotal, err := snap.DocCount()
	if err != nil {
		return nil, err
	}
	root.walk(func(t *tnode) {
		if t.op == opTerm {
			e.leaves = append(e.leaves, t)
		} else if t.op != opBool && t.terms > 0 {
			t.slot = e.slots
			e.slots++
			for _, k := range t.kids {
				k.into = t.slot
			}
		}
	})
	e.prog = e.program()
	for _, t := range e.leaves {
		if t.postings, err = e.count(t); err != nil {
			return nil, err
		}
		t.idf = 1.0 + math.Log(float64(docTotal)/float64(t.postings+1))
	}
	// The query norm of bleve's outermost compound searcher, applied to
	// every scored term below it.
	if lone {
		root.kids[0].qw = 1
	} else {
		scored := root.scoredTerms(nil)
		var sum float64
		for _, t := range scored {
			w := t.boost * t.idf
			sum += w * w
		}
		norm := 1.0 / math.Sqrt(sum)
		for _, t := range scored {
			t.qw = t.boost * t.idf * norm
		}
	}
	return e, nil
}

// count returns how many live records of the snapshot have term t: bleve's
// document frequency.
func (e *evaluator) count(t *tnode) (uint64, error) {
	var n uint64
	for _, s := range e.segs {
		d, err := s.Segment().Dictionary(t.field)
		if err != nil {
			return 0, err
		}
		pl, err := d.PostingsList(t.term, s.Deleted(), nil)
		if err != nil {
			return 0, err
		}
		n += pl.Count()
	}
	return n, nil
}

// accumulators of one evaluation, per compound clause (slot) and record:
// the sum of the scores of its matching term children and their number.
type accumulators struct {
	sum []float64
	cnt []uint8
}

var accPool sync.Pool

func getAccumulators(size int) *accumulators {
	a, _ := accPool.Get().(*accumulators)
	if a == nil || cap(a.sum) < size {
		return &accumulators{sum: make([]float64, size), cnt: make([]uint8, size)}
	}
	a.sum, a.cnt = a.sum[:size], a.cnt[:size]
	return a
}

// accBytes is the size of one record's accumulator for one clause.
const accBytes = 9

// maxAccumulatorBytes bounds one evaluation's accumulators; a query whose
// clauses on an index this large would need more is left to bleve, which
// scores record by record (about 7 million clause-records: a million
// records and seven compound clauses).
var maxAccumulatorBytes uint64 = 64 << 20

// readZapDirectly reads zap's postings through its own types; tests turn
// it off to run the path other segment formats take.
var readZapDirectly = true

// parallelMinRecords: an index with fewer records is evaluated on one
// goroutine.
var parallelMinRecords uint64 = 16384

// run evaluates the query and keeps the best k records.
//
// Work is split between goroutines: they take the compound clauses one at
// a time, longest term lists first, and read the clause's lists into its
// accumulator; then each scores a share of the records.
func (e *evaluator) run(ctx context.Context, k int) (*topkResult, error) {
	units := e.units()
	for _, u := range units {
		// More term children than a counter holds would overflow it.
		if len(u.leaves) > 255 {
			return nil, errUnsupported
		}
	}
	if uint64(e.slots)*e.n*accBytes > maxAccumulatorBytes {
		// bleve's searchers need memory for the best k only.
		return nil, errUnsupported
	}
	phrases := e.phraseTasks()
	workers := 1
	if e.n >= parallelMinRecords {
		workers = min(runtime.GOMAXPROCS(0), 4, max(len(units)+len(phrases), 1))
	}
	acc := getAccumulators(e.slots * int(e.n))
	defer accPool.Put(acc)
	e.acc = acc
	var next atomic.Int64
	parts := make([]*topkResult, workers)
	errs := make([]error, workers)
	var read, scored sync.WaitGroup
	read.Add(workers)
	scored.Add(workers)
	for w := range workers {
		go func() {
			defer scored.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(units)+len(phrases) || errs[w] != nil {
					break
				}
				if i < len(units) {
					errs[w] = e.read(ctx, acc, units[i])
				} else {
					errs[w] = e.matchPhrase(ctx, acc, phrases[i-len(units)])
				}
			}
			read.Done()
			read.Wait()
			if errs[w] != nil || ctx.Err() != nil {
				return
			}
			lo := e.n * uint64(w) / uint64(workers)
			hi := e.n * uint64(w+1) / uint64(workers)
			parts[w] = e.scoreRange(lo, hi, k)
		}()
	}
	scored.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &topkResult{matches: roaring.New()}
	var best []topDoc
	for _, p := range parts {
		out.total += p.total
		out.matches.Or(p.matches)
		best = append(best, p.docs...)
	}
	slices.SortFunc(best, e.compare)
	out.docs = best[:min(k, len(best))]
	return out, nil
}

// unit is a compound clause with term children: the work of reading its
// lists into its accumulator. A list is not cut into ranges of records:
// starting one part way through walks its record numbers from the start.
type unit struct {
	slot   int
	leaves []*tnode
	cost   uint64
}

// units lists the compound clauses with term children, longest lists
// first.
func (e *evaluator) units() []unit {
	bySlot := make([]unit, e.slots)
	for _, t := range e.leaves {
		if t.ofPhrase {
			continue // see matchPhrase
		}
		u := &bySlot[t.into]
		u.slot = t.into
		u.leaves = append(u.leaves, t)
		u.cost += t.postings + 1
	}
	// Phrases' slots have no unit.
	bySlot = slices.DeleteFunc(bySlot, func(u unit) bool { return len(u.leaves) == 0 })
	slices.SortStableFunc(bySlot, func(a, b unit) int { return cmp.Compare(b.cost, a.cost) })
	return bySlot
}

// phraseTask is the work of finding where a phrase occurs in one segment.
type phraseTask struct {
	n   *tnode
	seg int
}

// phraseTasks lists the work of filling the phrase clauses'
// accumulators, segment by segment, longest first.
func (e *evaluator) phraseTasks() []phraseTask {
	var out []phraseTask
	e.root.walk(func(n *tnode) {
		if !n.phrase {
			return
		}
		for si := range e.segs {
			out = append(out, phraseTask{n, si})
		}
	})
	slices.SortStableFunc(out, func(a, b phraseTask) int {
		return cmp.Compare(e.segs[b.seg].Segment().Count(), e.segs[a.seg].Segment().Count())
	})
	return out
}

// matchPhrase fills the phrase's accumulator for the records of one
// segment where its terms stand at consecutive positions within one
// element of the field, as bleve's phrase searcher requires, with the
// score of the conjunction of its terms. The rarest term leads; the others
// are advanced to its records.
func (e *evaluator) matchPhrase(ctx context.Context, acc *accumulators, task phraseTask) error {
	n, s, off := task.n, e.segs[task.seg], e.offs[task.seg]
	at := uint64(n.slot)*e.n + off
	sum := acc.sum[at : at+s.Segment().Count()]
	cnt := acc.cnt[at : at+s.Segment().Count()]
	clear(sum)
	clear(cnt)
	lead := 0
	for i, k := range n.kids {
		if k.postings < n.kids[lead].postings {
			lead = i
		}
	}
	d, err := s.Segment().Dictionary(n.kids[0].field)
	if err != nil {
		return err
	}
	its := make([]segment.PostingsIterator, len(n.kids))
	for i, k := range n.kids {
		pl, err := d.PostingsList(k.term, s.Deleted(), nil)
		if err != nil {
			return err
		}
		if pl.Count() == 0 {
			return nil
		}
		its[i] = pl.Iterator(true, true, true, nil)
	}
	posts := make([]segment.Posting, len(n.kids))
	for checked := 0; ; checked++ {
		if checked%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p, err := its[lead].Next()
		if err != nil || p == nil {
			return err
		}
		num := p.Number()
		posts[lead] = p
		all := true
		for i, it := range its {
			if i == lead {
				continue
			}
			if q := posts[i]; q != nil && q.Number() >= num {
				all = all && q.Number() == num
				continue
			}
			q, err := it.Advance(num)
			if err != nil {
				return err
			}
			if q == nil {
				return nil // this term has no more records
			}
			posts[i] = q
			all = all && q.Number() == num
		}
		if all && inSequence(posts) {
			// The terms' scores summed in query order, as bleve's
			// conjunction does (see readPostings).
			var v float64
			for i, k := range n.kids {
				v += k.weigh(sqrtFreq(posts[i].Frequency()), posts[i].Norm())
			}
			sum[num], cnt[num] = v, uint8(n.terms)
		}
	}
}

// inSequence reports whether a location of the first posting starts a run
// of locations of the others at the following positions, each in the same
// array element.
func inSequence(posts []segment.Posting) bool {
	for _, l := range posts[0].Locations() {
		ok := true
		for i := 1; i < len(posts) && ok; i++ {
			ok = false
			for _, m := range posts[i].Locations() {
				if m.Pos() == l.Pos()+uint64(i) && slices.Equal(m.ArrayPositions(), l.ArrayPositions()) {
					ok = true
					break
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// compare orders better records first: higher score, then, as bleve does,
// the earlier record or the smaller external ID.
func (e *evaluator) compare(a, b topDoc) int {
	switch {
	case a.score > b.score:
		return -1
	case a.score < b.score:
		return 1
	}
	if e.byID {
		if c := strings.Compare(e.externalID(a.num), e.externalID(b.num)); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.num, b.num)
}

func (e *evaluator) externalID(num uint64) string {
	e.idMu.Lock()
	defer e.idMu.Unlock()
	if id, ok := e.ids[num]; ok {
		return id
	}
	if e.ids == nil {
		e.ids = map[uint64]string{}
	}
	id, _ := e.snap.ExternalID(index.NewIndexInternalID(nil, num))
	e.ids[num] = id
	return id
}

// normCache holds bleve's norm of short field lengths.
var normCache = func() []float64 {
	c := make([]float64, 4096)
	for i := range c {
		c[i] = zapNorm(uint64(i))
	}
	return c
}()

// zapNorm is the norm zap derives from a field length.
func zapNorm(length uint64) float64 {
	return float64(float32(1.0 / math.Sqrt(float64(uint32(length)))))
}

// read fills the accumulator of u's clause from its term lists.
func (e *evaluator) read(ctx context.Context, acc *accumulators, u unit) error {
	sum := acc.sum[uint64(u.slot)*e.n : uint64(u.slot+1)*e.n]
	cnt := acc.cnt[uint64(u.slot)*e.n : uint64(u.slot+1)*e.n]
	clear(sum)
	clear(cnt)
	for si, s := range e.segs {
		off := e.offs[si]
		var d segment.TermDictionary
		var field string
		var pl segment.PostingsList
		var it segment.PostingsIterator
		for _, t := range u.leaves {
			if err := ctx.Err(); err != nil {
				return err
			}
			var err error
			if d == nil || t.field != field {
				if d, err = s.Segment().Dictionary(t.field); err != nil {
					return err
				}
				field = t.field
			}
			if pl, err = d.PostingsList(t.term, s.Deleted(), pl); err != nil {
				return err
			}
			if pl.Count() == 0 {
				continue
			}
			it = pl.Iterator(true, true, false, it)
			if zit, ok := it.(*zap.PostingsIterator); ok && readZapDirectly {
				err = readZap(zit, t, sum[off:], cnt[off:])
			} else {
				err = readPostings(it, t, sum[off:], cnt[off:])
			}
			if err != nil {
				return fmt.Errorf("postings of %s:%s: %w", t.field, t.term, err)
			}
		}
	}
	return nil
}

// readZap is readPostings for the segment format bleve writes, without an
// interface call per posting.
func readZap(it *zap.PostingsIterator, t *tnode, sum []float64, cnt []uint8) error {
	for {
		p, err := it.Next()
		if err != nil || p == nil {
			return err
		}
		post, ok := p.(*zap.Posting)
		if !ok {
			return fmt.Errorf("unexpected posting %T", p)
		}
		var norm float64
		if l := post.NormUint64(); l < uint64(len(normCache)) {
			norm = normCache[l]
		} else {
			norm = zapNorm(l)
		}
		num := post.Number()
		sum[num] += t.weigh(sqrtFreq(post.Frequency()), norm)
		cnt[num]++
	}
}

// readPostings adds each posting's score for term t (see weigh) to sum and
// counts it in cnt, by record number in the segment.
func readPostings(it segment.PostingsIterator, t *tnode, sum []float64, cnt []uint8) error {
	for {
		post, err := it.Next()
		if err != nil || post == nil {
			return err
		}
		num := post.Number()
		sum[num] += t.weigh(sqrtFreq(post.Frequency()), post.Norm())
		cnt[num]++
	}
}

// sqrtFreq is the square root of a term frequency, as bleve takes it.
func sqrtFreq(freq uint64) float64 {
	if freq < uint64(len(sqrtCache)) {
		return sqrtCache[freq]
	}
	return math.Sqrt(float64(freq))
}

// weigh is term t's score for a posting of its frequency's root tf and
// field norm, in the order bleve's term scorer multiplies them.
func (t *tnode) weigh(tf, norm float64) float64 {
	sc := tf * norm * t.idf
	if t.qw != 1 {
		sc *= t.qw
	}
	return sc
}

// scoreBlock is how many records scoreRange evaluates a clause for at a
// time.
const scoreBlock = 512

// simple reports whether n is a compound clause of terms only: its value
// is read straight from its accumulator.
func (n *tnode) simple() bool { return (n.op == opOr || n.op == opAnd) && len(n.inner) == 0 }

// program lists the compound clauses that are not simple, children first,
// numbering them, and gives every compound clause its coordination
// factors.
func (e *evaluator) program() []*tnode {
	var out []*tnode
	var visit func(n *tnode)
	visit = func(n *tnode) {
		if n == nil || n.op == opTerm {
			return
		}
		if n.op == opOr {
			n.coord = make([]float64, len(n.kids)+1)
			for c := range n.coord {
				n.coord[c] = float64(c) / float64(len(n.kids))
			}
		}
		for _, k := range n.inner {
			visit(k)
		}
		visit(n.must)
		visit(n.should)
		visit(n.not)
		if !n.simple() {
			n.pi = len(out)
			out = append(out, n)
		}
	}
	visit(e.root)
	return out
}

// block holds the values of the program's clauses for a block of records.
type block struct {
	vals []float64
	oks  []bool
	cnts []int32
}

// kid returns the values of clause n on the block's records from base
// on: from its accumulator if it is simple, else from the block.
func (e *evaluator) kid(n *tnode, b *block, base uint64, m int, v []float64, ok []bool) ([]float64, []bool) {
	if !n.simple() {
		return b.vals[n.pi*scoreBlock : n.pi*scoreBlock+m], b.oks[n.pi*scoreBlock : n.pi*scoreBlock+m]
	}
	at := uint64(n.slot)*e.n + base
	sum, cnt := e.acc.sum[at:at+uint64(m)], e.acc.cnt[at:at+uint64(m)]
	if n.op == opAnd {
		for j, c := range cnt {
			ok[j] = int(c) == n.terms
			v[j] = sum[j]
		}
		return v, ok
	}
	for j, c := range cnt {
		ok[j] = int(c) >= n.min
		v[j] = sum[j] * n.coord[c]
	}
	return v, ok
}

// scoreRange scores records lo..hi-1, counts and lists the matches, and
// keeps the best k. It evaluates one clause at a time for a block of
// records, children before parents, as bleve's searchers combine their
// children's scores: a disjunction sums its matching children's and
// multiplies by the share of children that match (the coordination
// factor), a conjunction sums them, a boolean query adds its optional
// part to the required one.
func (e *evaluator) scoreRange(lo, hi uint64, k int) *topkResult {
	out := &topkResult{matches: roaring.New()}
	h := make([]topDoc, 0, k+1)
	b := &block{
		vals: make([]float64, len(e.prog)*scoreBlock),
		oks:  make([]bool, len(e.prog)*scoreBlock),
		cnts: make([]int32, scoreBlock),
	}
	kv, kok := make([]float64, scoreBlock), make([]bool, scoreBlock)
	for base := lo; base < hi; base += scoreBlock {
		m := int(min(scoreBlock, hi-base))
		for _, n := range e.prog {
			v := b.vals[n.pi*scoreBlock : n.pi*scoreBlock+m]
			ok := b.oks[n.pi*scoreBlock : n.pi*scoreBlock+m]
			switch n.op {
			case opOr, opAnd:
				c := b.cnts[:m]
				if n.terms > 0 {
					at := uint64(n.slot)*e.n + base
					copy(v, e.acc.sum[at:at+uint64(m)])
					for j, x := range e.acc.cnt[at : at+uint64(m)] {
						c[j] = int32(x)
					}
				} else {
					clear(v)
					clear(c)
				}
				if n.op == opAnd {
					for j := range ok {
						ok[j] = int(c[j]) == n.terms
					}
					for _, kid := range n.inner {
						kv, kok := e.kid(kid, b, base, m, kv[:m], kok[:m])
						for j := range ok {
							ok[j] = ok[j] && kok[j]
							v[j] += kv[j]
						}
					}
					continue
				}
				for _, kid := range n.inner {
					kv, kok := e.kid(kid, b, base, m, kv[:m], kok[:m])
					for j := range kok {
						if kok[j] {
							c[j]++
							v[j] += kv[j]
						}
					}
				}
				for j := range ok {
					ok[j] = int(c[j]) >= n.min
					if ok[j] {
						v[j] *= n.coord[c[j]]
					}
				}
			case opBool:
				mv, mok := e.kid(n.must, b, base, m, kv[:m], kok[:m])
				copy(v, mv)
				copy(ok, mok)
				if n.not != nil {
					_, nok := e.kid(n.not, b, base, m, kv[:m], kok[:m])
					for j := range ok {
						ok[j] = ok[j] && !nok[j]
					}
				}
				if n.should != nil {
					sv, sok := e.kid(n.should, b, base, m, kv[:m], kok[:m])
					for j := range ok {
						if sok[j] {
							v[j] += sv[j]
						}
					}
				}
			}
		}
		rv, rok := e.kid(e.root, b, base, m, kv[:m], kok[:m])
		for j, matched := range rok {
			if !matched {
				continue
			}
			num := base + uint64(j)
			out.total++
			out.matches.Add(uint32(num))
			d := topDoc{num: num, score: rv[j]}
			if len(h) < k {
				h = append(h, d)
				heapUp(h, len(h)-1, e.compare)
				continue
			}
			if k > 0 && e.compare(d, h[0]) < 0 {
				h[0] = d
				heapDown(h, 0, e.compare)
			}
		}
	}
	out.docs = h
	return out
}

// heapUp and heapDown keep h a heap with the worst record at the top.
func heapUp(h []topDoc, i int, cmp func(a, b topDoc) int) {
	for i > 0 {
		p := (i - 1) / 2
		if cmp(h[i], h[p]) <= 0 {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func heapDown(h []topDoc, i int, cmp func(a, b topDoc) int) {
	for {
		l, w := 2*i+1, i
		if l < len(h) && cmp(h[l], h[w]) > 0 {
			w = l
		}
		if r := l + 1; r < len(h) && cmp(h[r], h[w]) > 0 {
			w = r
		}
		if w == i {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// sqrtCache holds the square roots of small term frequencies, as bleve's
// scorer does.
var sqrtCache = func() []float64 {
	c := make([]float64, 64)
	for i := range c {
		c[i] = math.Sqrt(float64(i))
	}
	return c
}()

// ranked runs q term at a time and returns the page of hits (with fields,
// in score order) and the total, or errUnsupported for a query shape left
// to bleve. With fc, the matches are recorded for facet counts.
//
// With clauses, the hits get the clauses' term locations (see locate).
func (pl *planner) ranked(ctx context.Context, q query.Query, page, size int, tieByID bool, fields []string, fc *facetCollector, clauses []clause) (*bleve.SearchResult, error) {
	if pl.r == nil {
		return nil, errUnsupported
	}
	e, err := newEvaluator(pl.r, q, tieByID)
	if err != nil {
		return nil, err
	}
	select {
	case pl.ix.ranking <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	top, err := e.run(ctx, page*size)
	<-pl.ix.ranking
	if err != nil {
		return nil, err
	}
	if fc != nil {
		fc.useMatches(e.snap, top.matches)
	}
	res := &bleve.SearchResult{Total: top.total, Hits: bsearch.DocumentMatchCollection{}}
	skip := (page - 1) * size
	if skip >= len(top.docs) {
		return res, nil
	}
	docs := top.docs[skip:]
	ids := make([]string, len(docs))
	for i, d := range docs {
		if ids[i], err = e.snap.ExternalID(index.NewIndexInternalID(nil, d.num)); err != nil {
			return nil, err
		}
	}
	// The stored fields of the page, from the same snapshot.
	req := &bleve.SearchRequest{Fields: fields}
	var nums []uint64
	for i, d := range docs {
		h := &bsearch.DocumentMatch{ID: ids[i], IndexInternalID: index.NewIndexInternalID(nil, d.num), Score: d.score}
		if err, _ := bleve.LoadAndHighlightFields(h, req, "", e.snap, nil); err != nil {
			return nil, err
		}
		res.Hits = append(res.Hits, h)
		nums = append(nums, d.num)
	}
	if len(clauses) > 0 && len(res.Hits) > 0 {
		err := pl.locate(ctx, e, res.Hits, nums, clauses)
		if errors.Is(err, errUnsupported) {
			err = pl.addLocations(ctx, res, clauses)
		}
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// locate sets the term locations of the clauses on the hits (for
// snippets), reading them from the snapshot the hits were ranked on: for
// each word's terms, only on the hits, by advancing its lists to them.
// Unlike one conjunctive search over the hits, a hit that matched some of
// the words gets the locations of those. errUnsupported for clauses that
// need positions matched (phrases), which bleve then locates on the page.
func (pl *planner) locate(ctx context.Context, e *evaluator, hits []*bsearch.DocumentMatch, nums []uint64, clauses []clause) error {
	langs := pl.pageLanguages(hits)
	var roots []*tnode
	for _, c := range clauses {
		n, err := compileQuery(pl.highlightQuery(c, langs))
		if err != nil {
			return err
		}
		if n.op == opBool {
			return errUnsupported
		}
		roots = append(roots, n)
	}
	leaves := numberLeaves(roots)
	// found[h][leaf]: the leaf's locations on hit h, nil if absent.
	found := make([][][]*bsearch.Location, len(hits))
	for i := range found {
		found[i] = make([][]*bsearch.Location, len(leaves))
	}
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(nums[a], nums[b]) })
	// The lists are read on every CPU, one at a time each, longest first.
	byLength := slices.Clone(leaves)
	for _, t := range byLength {
		var err error
		if t.postings, err = e.count(t); err != nil {
			return err
		}
	}
	slices.SortStableFunc(byLength, func(a, b *tnode) int { return cmp.Compare(b.postings, a.postings) })
	workers := min(runtime.GOMAXPROCS(0), 4, len(leaves))
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pls segment.PostingsList
			var it segment.PostingsIterator
			for {
				i := int(next.Add(1)) - 1
				if i >= len(byLength) {
					return
				}
				t := byLength[i]
				if pls, it, errs[w] = e.locations(ctx, t, t.slot, order, nums, found, pls, it); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for h, hit := range hits {
		hit.Locations = matchedLocations(roots, found[h])
	}
	// The matched terms of the record's own text fields have no locations
	// in the index.
	texts := pl.textLocationsOf(hits, true, func(h int) map[string]map[string]bool {
		want := map[string]map[string]bool{}
		for field, terms := range hits[h].Locations {
			if !isTextField(field) {
				continue
			}
			for term, locs := range terms {
				if len(locs) == 0 {
					if want[field] == nil {
						want[field] = map[string]bool{}
					}
					want[field][term] = true
				}
			}
		}
		return want
	})
	for h, hit := range hits {
		for field, terms := range texts[h] {
			for term, locs := range terms {
				hit.Locations[field][term] = locs
			}
		}
	}
	return nil
}

// locations sets found[h][li], the locations of term t on the hits in
// order (indexes into nums, by record number), reusing pls and it.
func (e *evaluator) locations(ctx context.Context, t *tnode, li int, order []int, nums []uint64, found [][][]*bsearch.Location, pls segment.PostingsList, it segment.PostingsIterator) (segment.PostingsList, segment.PostingsIterator, error) {
	for si, s := range e.segs {
		if err := ctx.Err(); err != nil {
			return pls, it, err
		}
		off, n := e.offs[si], s.Segment().Count()
		d, err := s.Segment().Dictionary(t.field)
		if err != nil {
			return pls, it, err
		}
		if pls, err = d.PostingsList(t.term, s.Deleted(), pls); err != nil {
			return pls, it, err
		}
		if pls.Count() == 0 {
			continue
		}
		it = pls.Iterator(true, true, true, it)
		var post segment.Posting
		for _, h := range order {
			num := nums[h]
			if num < off || num >= off+n {
				continue
			}
			local := num - off
			if post == nil || post.Number() < local {
				if post, err = it.Advance(local); err != nil {
					return pls, it, fmt.Errorf("locations of %s:%s: %w", t.field, t.term, err)
				}
				if post == nil {
					break
				}
			}
			if post.Number() != local {
				continue
			}
			locs := make([]*bsearch.Location, 0, len(post.Locations()))
			for _, l := range post.Locations() {
				locs = append(locs, &bsearch.Location{Pos: l.Pos(), Start: l.Start(), End: l.End(), ArrayPositions: slices.Clone(l.ArrayPositions())})
			}
			found[h][li] = locs
		}
	}
	return pls, it, nil
}

// pageLanguages returns the languages the hits are written in, for
// locating their words; nil if none has one.
func (pl *planner) pageLanguages(hits []*bsearch.DocumentMatch) []language {
	var codes []string
	for _, h := range hits {
		if l := fieldString(h.Fields[fieldLanguage]); l != "" {
			codes = append(codes, l)
		}
	}
	if len(codes) == 0 {
		return nil
	}
	return pl.languages(codes)
}

// numberLeaves returns the term clauses of roots in order, each with its
// index as its slot.
func numberLeaves(roots []*tnode) []*tnode {
	var leaves []*tnode
	for _, r := range roots {
		r.walk(func(t *tnode) {
			if t.op == opTerm {
				t.slot = len(leaves)
				leaves = append(leaves, t)
			}
		})
	}
	return leaves
}

// matchedLocations returns the locations of the terms of roots that match
// on a hit, given the locations found of every term there (nil: absent):
// a term of a conjunction counts only where the whole conjunction matches.
func matchedLocations(roots []*tnode, found [][]*bsearch.Location) bsearch.FieldTermLocationMap {
	m := bsearch.FieldTermLocationMap{}
	var add func(n *tnode) bool
	// add adds the locations of n's matching terms and reports whether n
	// matches.
	add = func(n *tnode) bool {
		switch n.op {
		case opTerm:
			locs := found[n.slot]
			if locs == nil {
				return false
			}
			if m[n.field] == nil {
				m[n.field] = bsearch.TermLocationMap{}
			}
			m[n.field][string(n.term)] = append(m[n.field][string(n.term)], locs...)
			return true
		case opAnd:
			for _, k := range n.kids {
				if !matches(k, found) {
					return false
				}
			}
		}
		matched := false
		for _, k := range n.kids {
			matched = add(k) || matched
		}
		return matched
	}
	for _, r := range roots {
		add(r)
	}
	return m
}

// matches reports whether clause n matches given the locations found of
// its terms.
func matches(n *tnode, found [][]*bsearch.Location) bool {
	switch n.op {
	case opTerm:
		return found[n.slot] != nil
	case opAnd:
		for _, k := range n.kids {
			if !matches(k, found) {
				return false
			}
		}
		return true
	}
	c := 0
	for _, k := range n.kids {
		if matches(k, found) {
			c++
		}
	}
	return c >= max(n.min, 1)
}
