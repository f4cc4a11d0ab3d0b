// SPDX-License-Identifier: EUPL-1.2

// Long file: local and federated search are one path (query, ranking, facets, snippets, remote answers
// merged like local ones); splitting would cut that path across files.

package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// docOf turns a practice or lesson record into its index document.
func docOf(rec *protocol.Signed) (search.Doc, bool) {
	p, err := rec.Record.DecodePayload()
	if err != nil {
		return search.Doc{}, false
	}
	d := search.Doc{CID: rec.CID.String(), PracticeID: rec.CID.String(), Topics: rec.Record.Topics, Created: rec.Record.CreatedTime()}
	switch p := p.(type) {
	case *protocol.Practice:
		d.Kind = "practice"
		if p.PracticeID != "" {
			d.PracticeID = p.PracticeID
		}
		d.Title, d.Summary, d.Lessons = p.Title, p.Summary, strings.Join(p.Lessons, "\n")
		d.Body = strings.Join([]string{p.Problem, p.Approach, p.Results, p.Resources, p.Difficulties, p.Transferability, strings.Join(p.StakeholderRoles, ", ")}, "\n")
		d.Language, d.Region, d.Country, d.Stage = p.Language, p.Region, p.Country, p.Stage
		d.Adapted = len(p.AdaptedFrom) > 0
		if len(p.Translations) > 0 {
			d.Translations = make(map[string]search.Translation, len(p.Translations))
			for l, t := range p.Translations {
				d.Translations[l] = search.Translation{Title: t.Title, Summary: t.Summary}
			}
		}
	case *protocol.Lesson:
		d.Kind = "lesson"
		d.Title, d.Summary, d.Body = p.Insight, p.Insight, p.Context
		d.Language, d.Region, d.Country, d.Stage = p.Language, p.Region, p.Country, p.Stage
	default:
		return search.Doc{}, false
	}
	return d, true
}

// openIndex opens the search index, rebuilding it from the store when it is
// missing, stale, corrupt or out of step with the store.
func (n *Node) openIndex(progress func(done, total int)) error {
	// The marker exists while the index is open: finding it means the last
	// run ended without closing the index (a crash), and the index may
	// differ from the store in ways its size does not show.
	dirty := n.home.Index() + ".dirty"
	if _, err := os.Stat(dirty); err == nil {
		n.log.Warn("the last run did not close the search index, rebuilding")
		if err := n.Reindex(progress); err != nil {
			return err
		}
		return os.WriteFile(dirty, nil, 0o600)
	}
	if err := os.WriteFile(dirty, nil, 0o600); err != nil {
		return err
	}
	ix, err := search.Open(n.home.Index())
	if err == nil {
		want, cerr := n.countIndexable()
		got, gerr := ix.Count()
		if cerr == nil && gerr == nil && uint64(want) == got {
			n.idxMu.Lock()
			n.index = ix
			n.idxMu.Unlock()
			return nil
		}
		n.log.Warn("search index out of step with the store, rebuilding", "index", got, "store", want)
		ix.Close()
	} else {
		n.log.Warn("search index unusable, rebuilding", "err", err)
	}
	return n.Reindex(progress)
}

// searchIndex returns the current index (nil while it is being rebuilt).
func (n *Node) searchIndex() *search.Index {
	n.idxMu.RLock()
	defer n.idxMu.RUnlock()
	return n.index
}

// indexableKinds are the record kinds the search index holds.
var indexableKinds = []protocol.Kind{protocol.KindPractice, protocol.KindLesson}

// countIndexable counts what the index should hold from the store's keys,
// without reading a record.
func (n *Node) countIndexable() (int, error) {
	total := 0
	for _, k := range indexableKinds {
		c, err := n.store.CountKind(k)
		if err != nil {
			return 0, err
		}
		total += c
	}
	return total, nil
}

// Reindex rebuilds the search index from the store, streaming the records
// so that memory does not grow with the size of the store.
//
// The runtime's soft memory limit is raised while the rebuild runs (see
// liftMemoryLimit).
func (n *Node) Reindex(progress func(done, total int)) error {
	n.idxMu.Lock()
	defer n.idxMu.Unlock()
	defer liftMemoryLimit()()
	if n.index != nil {
		n.index.Close()
		n.index = nil
	}
	total, err := n.countIndexable()
	if err != nil {
		return err
	}
	start := time.Now()
	seen := 0
	ix, err := search.Rebuild(n.home.Index(), total, func(yield func(search.Doc) error) error {
		for _, k := range indexableKinds {
			err := n.store.Each(knowledge.ListOptions{Kind: k}, func(r *protocol.Signed) error {
				seen++
				if d, ok := docOf(r); ok {
					return yield(d)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}, func(done, total int) {
		if progress != nil {
			progress(done, total)
		}
		if total > 0 && (done == total || done%5000 == 0) {
			n.log.Info("reindex progress", "done", done, "total", total)
		}
	})
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	n.index = ix
	n.log.Info("search index rebuilt", "records", seen, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// updateIndex keeps the index in step with a store change.
func (n *Node) updateIndex(rec *protocol.Signed, res knowledge.PutResult) {
	op := indexOp{}
	for _, c := range res.Removed {
		op.del = append(op.del, c.String())
	}
	var restored []indexOp
	for _, ref := range res.RemovedFrom {
		if !ref.Restored.Defined() {
			continue
		}
		if prev, err := n.store.Get(ref.Restored); err == nil {
			if d, ok := docOf(prev); ok {
				restored = append(restored, indexOp{put: &d})
			}
		}
	}
	if res.Superseded.Defined() {
		op.del = append(op.del, res.Superseded.String())
	}
	// Everything needed comes from the store's answer. A read here would
	// first wait until Badger has published the commit just made (its
	// read watermark, kept by another goroutine): with 50 nodes sharing
	// two cores that wait was 1.5 ms at the median, on the way of every
	// gossiped record to being stored.
	if d, ok := docOf(rec); ok && !res.Newer.Defined() {
		op.put = &d // not an older version arriving late
	}
	if op.put == nil && len(op.del) == 0 && len(restored) == 0 {
		return
	}
	ops := append([]indexOp{op}, restored...)
	n.idxq.mu.Lock()
	// Hold the record's writer back while the queue is full: where
	// records are stored faster than they are indexed for long (large
	// records, a slow disk), the queue would otherwise hold every one.
	for n.idxq.running && len(n.idxq.pending) >= n.idxq.limit() {
		n.idxq.space.Wait()
	}
	if n.idxq.running {
		n.idxq.pending = append(n.idxq.pending, ops...)
		n.idxq.mu.Unlock()
		select {
		case n.idxq.wake <- struct{}{}:
		default:
		}
		return
	}
	n.idxq.mu.Unlock()
	n.applyIndex(ops)
}

// indexOp is one change to the search index.
type indexOp struct {
	put *search.Doc
	del []string
}

// indexQueue batches index changes: records are stored (and acknowledged)
// without waiting for bleve, and the indexer applies what accumulated in
// one batch. After a crash the index is rebuilt (see openIndex), so a
// change still queued when the process died is not lost.
type indexQueue struct {
	mu      sync.Mutex
	running bool
	pending []indexOp
	wake    chan struct{}
	flush   chan struct{} // FlushIndex: apply what is queued now
	// applying is set while the indexer applies a batch it has taken
	// off pending.
	applying bool
	// space (on mu) is signalled when the indexer takes changes off
	// pending; maxPending overrides maxIndexPending (tests).
	space      *sync.Cond
	maxPending int
}

func (q *indexQueue) limit() int {
	if q.maxPending > 0 {
		return q.maxPending
	}
	return maxIndexPending
}

const (
	// maxIndexBatch bounds one batch, so searches see new records promptly.
	maxIndexBatch = 2000
	// indexBatchMin and indexDelay: a change waits up to indexDelay for
	// others to join it until indexBatchMin are queued. Every batch
	// becomes a bleve segment that later has to be merged, so applying
	// each record of a slow stream on its own costs far more than the
	// record (most of a node's CPU in a busy federation), and a segment
	// built and merged while records arrive delays them (with 50 nodes on
	// two cores, p99 publish-to-stored was 40 ms with batches every
	// 5-15 s, 34 ms every 30-90 s). Nobody sees the delay: every search,
	// local or from a peer, first applies what is queued (at most
	// indexBatchMin records, a few hundred milliseconds).
	indexBatchMin = 512
	indexDelay    = time.Minute
	// maxIndexPending bounds the queue: a writer waits while this many
	// changes are queued (a few KiB each).
	maxIndexPending = 4 * maxIndexBatch
)

// indexer applies queued index changes until ctx ends, then drains the
// queue and leaves later changes to be applied synchronously.
func (n *Node) indexer(ctx context.Context) error {
	n.idxq.mu.Lock()
	n.idxq.running = true
	n.idxq.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
		case <-n.idxq.wake:
		case <-n.idxq.flush:
		}
		n.gatherIndexBatch(ctx)
		for {
			n.idxq.mu.Lock()
			batch := n.idxq.pending
			if len(batch) > maxIndexBatch {
				batch = batch[:maxIndexBatch]
			}
			// A copy of the rest, so that the batch's documents are
			// not kept alive by the queue's array once applied.
			n.idxq.pending = append([]indexOp(nil), n.idxq.pending[len(batch):]...)
			n.idxq.space.Broadcast()
			if ctx.Err() != nil && len(batch) == 0 {
				n.idxq.running = false
				n.idxq.pending = nil
				n.idxq.mu.Unlock()
				return nil
			}
			n.idxq.applying = len(batch) > 0
			n.idxq.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			n.applyIndex(batch)
			n.idxq.mu.Lock()
			n.idxq.applying = false
			n.idxq.mu.Unlock()
		}
	}
}

// gatherIndexBatch waits, after the first queued change, until enough
// changes are queued, indexDelay has passed, a flush is asked for or ctx
// ends.
func (n *Node) gatherIndexBatch(ctx context.Context) {
	// Spread over half to one and a half indexDelay, so that nodes that
	// received the same records do not all index them at the same moment
	// (several nodes on one machine).
	deadline := time.NewTimer(indexDelay/2 + rand.N(indexDelay))
	defer deadline.Stop()
	for {
		n.idxq.mu.Lock()
		enough := len(n.idxq.pending) >= min(indexBatchMin, n.idxq.limit())
		n.idxq.mu.Unlock()
		if enough {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-n.idxq.flush:
			return
		case <-deadline.C:
			return
		case <-n.idxq.wake:
		}
	}
}

func (n *Node) applyIndex(ops []indexOp) {
	n.idxMu.RLock()
	defer n.idxMu.RUnlock()
	ix := n.index
	if ix == nil {
		return
	}
	if len(ops) >= indexBatchMin {
		// A full batch (a catch-up, a burst) needs a few hundred MiB of
		// heap while it is analysed and built, like a rebuild.
		defer liftMemoryLimit()()
	}
	puts := map[string]search.Doc{}
	var order []string
	var del []string
	for _, op := range ops {
		for _, c := range op.del {
			delete(puts, c)
			del = append(del, c)
		}
		if op.put != nil {
			if _, ok := puts[op.put.CID]; !ok {
				order = append(order, op.put.CID)
			}
			puts[op.put.CID] = *op.put
		}
	}
	if len(del) > 0 {
		if err := ix.DeleteBatch(del); err != nil {
			n.log.Error("search index delete", "err", err)
		}
	}
	docs := make([]search.Doc, 0, len(puts))
	for _, c := range order {
		if d, ok := puts[c]; ok {
			docs = append(docs, d)
		}
	}
	// bleve builds each batch's segment on one goroutine after analysing
	// its documents in parallel; two halves applied at once keep both
	// cores busy. Each document is in one half only, so the order of
	// changes to one record is kept.
	parts := [][]search.Doc{docs}
	if len(docs) >= 2*minIndexSplit {
		parts = [][]search.Doc{docs[:len(docs)/2], docs[len(docs)/2:]}
	}
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Go(func() {
			if err := ix.PutBatch(part); err != nil {
				n.log.Error("search index put", "records", len(part), "err", err)
			}
		})
	}
	wg.Wait()
}

// minIndexSplit is the smallest half worth a batch of its own.
const minIndexSplit = 64

// FlushIndex waits until every queued index change is applied (tests,
// and searches that must see a record just stored).
func (n *Node) FlushIndex(ctx context.Context) error {
	for {
		n.idxq.mu.Lock()
		done := len(n.idxq.pending) == 0 && !n.idxq.applying
		n.idxq.mu.Unlock()
		if done {
			return nil
		}
		select {
		case n.idxq.flush <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// SearchHit is one result as the API shows it.
type SearchHit struct {
	search.Hit
	// Source says where the record came from: "local" or the regions of
	// the members that answered with it.
	Source   []string `json:"source"`
	Verified bool     `json:"verified"`
	Author   string   `json:"author"`
}

// SearchResult is the answer of /api/v1/search.
type SearchResult struct {
	Total    uint64                         `json:"total"`
	Page     int                            `json:"page"`
	PageSize int                            `json:"page_size"`
	Hits     []SearchHit                    `json:"hits"`
	Facets   map[string][]search.FacetCount `json:"facets,omitempty"`
	Network  bool                           `json:"network"`
	Asked    int                            `json:"peers_asked"`
	Answered int                            `json:"peers_answered"`
	// Unanswered lists the members that were asked, or could not be, and
	// gave no answer, with the reason.
	Unanswered []SearchPeer `json:"peers_unanswered,omitempty"`
	// Coverage says how much of the network answered, for people: "3 of 11
	// regions answered".
	Coverage string `json:"coverage,omitempty"`
	// TotalExact is false when a member matched more records than it
	// lists, so Total is a lower bound.
	TotalExact bool `json:"total_exact"`
	// QueryLanguage is the language the query was detected to be in; hits
	// are shown in it unless the request named a reader language.
	QueryLanguage string `json:"query_language,omitempty"`
	Took          string `json:"took"`
	Warning       string `json:"warning,omitempty"`
}

// SearchPeer is a member that did not answer a federated search.
type SearchPeer struct {
	Peer   string `json:"peer"`
	Region string `json:"region"`
	Reason string `json:"reason"`
}

// maxNetworkWindow is how deep a federated search pages: members send
// their best results up to this many, and pages beyond it are refused.
const maxNetworkWindow = search.MaxPageSize

// checkSearchFilters rejects filter values this node cannot know of: a
// topic that no indexed record carries and this node does not follow
// (unless the search goes to the network, where others may follow it), a
// region of no indexed record and no member. Case does not matter.
func (n *Node) checkSearchFilters(ix *search.Index, q *search.Query, networkWide bool) error {
	if len(q.Topics) > 0 && !networkWide {
		known := map[string]bool{}
		vals, err := ix.FacetValues("topic")
		if err != nil {
			return err
		}
		for _, v := range append(vals, n.Config().Topics...) {
			known[strings.ToLower(v)] = true
		}
		for _, t := range q.Topics {
			if !known[strings.ToLower(strings.TrimSpace(t))] {
				return fmt.Errorf("%w: unknown topic %q: no record here carries it and this node does not follow it", ErrBadRequest, t)
			}
		}
	}
	if len(q.Regions) > 0 {
		vals, err := ix.FacetValues("region")
		if err != nil {
			return err
		}
		if r := n.Config().Region; r != "" {
			vals = append(vals, r)
		}
		for _, m := range n.roster.List(false) {
			vals = append(vals, m.Region)
		}
		for _, r := range q.Regions {
			r = strings.TrimSpace(r)
			if !slices.ContainsFunc(vals, func(v string) bool { return strings.EqualFold(v, r) }) {
				return fmt.Errorf("%w: unknown region %q (known: %s)", ErrBadRequest, r, strings.Join(uniqueSorted(vals), ", "))
			}
		}
	}
	for _, l := range append(slices.Clone(q.Languages), q.Reader) {
		if l == "" {
			continue
		}
		if _, err := search.ValidLanguage(l); err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	return nil
}

func uniqueSorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(slices.DeleteFunc(out, func(s string) bool { return s == "" }))
}

// Search searches this node's index, and with network the members' too.
func (n *Node) Search(ctx context.Context, q search.Query, networkWide bool) (*SearchResult, error) {
	// Read your writes: wait (briefly) for index changes still queued.
	fctx, fcancel := context.WithTimeout(ctx, 2*time.Second)
	n.FlushIndex(fctx)
	fcancel()
	ix := n.searchIndex()
	if ix == nil {
		return nil, errors.New("search index not ready")
	}
	start := time.Now()
	if err := n.checkSearchFilters(ix, &q, networkWide); err != nil {
		return nil, err
	}
	page, size := max(q.Page, 1), q.PageSize
	if size == 0 {
		size = search.DefaultPageSize
	}
	lq := q
	if networkWide {
		// Merging needs every member's best results down to this page.
		if page*size > maxNetworkWindow {
			return nil, fmt.Errorf("%w: a network search shows the first %d results; page %d of %d goes beyond, narrow the search", ErrBadRequest, maxNetworkWindow, page, size)
		}
		lq.Page, lq.PageSize, lq.Facets, lq.TieByCID = 1, page*size, false, true
	}
	r, err := ix.Search(ctx, lq)
	if err != nil {
		if errors.Is(err, search.ErrBadQuery) {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		return nil, err
	}
	out := &SearchResult{Total: r.Total, Page: r.Page, PageSize: r.PageSize, Facets: r.Facets, Network: networkWide, TotalExact: true,
		QueryLanguage: r.QueryLanguage}
	if q.Reader == "" {
		q.Reader = r.QueryLanguage
	}
	for _, h := range r.Hits {
		sh := SearchHit{Hit: h, Source: []string{"local"}, Verified: true}
		if c, err := cidDecode(h.CID); err == nil {
			if a, ok := n.store.AuthorOf(c); ok {
				sh.Author = a
			}
		}
		out.Hits = append(out.Hits, sh)
	}
	if networkWide {
		out.Page, out.PageSize = page, size
		// The query text goes to every member: a query that names one of
		// the lab's stakeholders or carries personal data stays local.
		g, err := n.newGate(Review{})
		if err != nil {
			return nil, err
		}
		if _, fs, _ := g.Scrub("query", q.Text); len(fs) > 0 {
			out.Warning = "the query contains personal data (" + fs[0].Type + "), so it was not sent to other members; results are local"
			out.Hits = pageOf(out.Hits, page, size)
			if q.Facets {
				if lr, err := ix.Search(ctx, search.Query{Text: q.Text, Topics: q.Topics, Regions: q.Regions, Countries: q.Countries,
					Languages: q.Languages, Stages: q.Stages, Years: q.Years, Kind: q.Kind, PageSize: 1, Facets: true, FacetFields: q.FacetFields}); err == nil {
					out.Facets = lr.Facets
				}
			}
		} else {
			local, complete, err := ix.Matches(ctx, q, search.MaxMatches)
			if err != nil {
				return nil, err
			}
			n.federatedSearch(ctx, q, out, local, complete)
		}
	}
	if out.Hits == nil {
		out.Hits = []SearchHit{}
	}
	out.Took = time.Since(start).Round(time.Microsecond).String()
	return out, nil
}

// pageOf returns page (1-based) of hits.
func pageOf(hits []SearchHit, page, size int) []SearchHit {
	from := (page - 1) * size
	if from >= len(hits) {
		return []SearchHit{}
	}
	return hits[from:min(from+size, len(hits))]
}

// SearchRequest is what /livinglab/search/1 carries.
type SearchRequest struct {
	Query search.Query `cbor:"query"`
}

// SearchAnswer carries matching signed records, never anything else.
type SearchAnswer struct {
	Status  int            `cbor:"status"`
	Error   string         `cbor:"error"`
	Total   uint64         `cbor:"total"`
	Results []SearchRecord `cbor:"results"`
	// Matches are all matching records (up to search.MaxMatches) with
	// their facet values, so the asker counts each record once however
	// many members hold it; Complete says none were left out.
	Matches  []search.Match `cbor:"matches"`
	Complete bool           `cbor:"complete"`
}

// SearchRecord is one matching record with its score and snippets.
type SearchRecord struct {
	Record   []byte              `cbor:"record"`
	Score    float64             `cbor:"score"`
	Snippets map[string][]string `cbor:"snippets"`
}

const (
	searchDeadline   = 3 * time.Second
	maxSearchAnswer  = 8 << 20
	searchPerPeerRPS = 5
)

type searchLimiter struct {
	mu sync.Mutex
	m  map[peer.ID]*rate.Limiter
}

func (l *searchLimiter) allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[peer.ID]*rate.Limiter{}
	}
	lim, ok := l.m[p]
	if !ok {
		lim = rate.NewLimiter(searchPerPeerRPS, 2*searchPerPeerRPS)
		l.m[p] = lim
	}
	return lim.Allow()
}

// handleSearch answers another member's federated query from the index,
// with signed public records only.
func (n *Node) handleSearch(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	s.SetDeadline(time.Now().Add(10 * time.Second))
	send := func(a *SearchAnswer) { protocol.WriteFrame(s, a) }
	if !n.roster.IsMember(p) {
		send(&SearchAnswer{Status: protocol.StatusNotMember, Error: "not a member of this federation"})
		return
	}
	if !n.searchLim.allow(p) {
		n.stats.rejects.WithLabelValues("search_rate_limited").Inc()
		send(&SearchAnswer{Status: protocol.StatusBusy, Error: "too many queries, slow down"})
		return
	}
	var req SearchRequest
	if err := protocol.ReadFrame(bufio.NewReader(s), &req, 64<<10); err != nil {
		send(&SearchAnswer{Status: protocol.StatusBadRequest, Error: err.Error()})
		return
	}
	q := req.Query
	q.Facets = false
	if q.PageSize <= 0 || q.PageSize > maxNetworkWindow {
		q.PageSize = maxNetworkWindow
	}
	q.Page, q.TieByCID = 1, true
	ctx, cancel := context.WithTimeout(context.Background(), searchDeadline)
	defer cancel()
	// Answer with every record stored, including those whose index
	// change is still queued.
	fctx, fcancel := context.WithTimeout(ctx, searchDeadline/2)
	n.FlushIndex(fctx)
	fcancel()
	ix := n.searchIndex()
	if ix == nil {
		send(&SearchAnswer{Status: protocol.StatusBusy, Error: "index not ready"})
		return
	}
	r, err := ix.Search(ctx, q)
	if err != nil {
		code := protocol.StatusInternal
		if errors.Is(err, search.ErrBadQuery) {
			code = protocol.StatusBadRequest
		}
		send(&SearchAnswer{Status: code, Error: err.Error()})
		return
	}
	ans := &SearchAnswer{Total: r.Total}
	if ms, complete, err := ix.Matches(ctx, q, search.MaxMatches); err == nil {
		ans.Matches, ans.Complete = ms, complete
	}
	size := 0
	for _, h := range r.Hits {
		c, err := cidDecode(h.CID)
		if err != nil {
			continue
		}
		rec, err := n.store.Get(c)
		if err != nil || size+len(rec.Raw) > maxSearchAnswer-64<<10 || !n.peerReads(p, rec.Record.Version) {
			continue
		}
		size += len(rec.Raw)
		ans.Results = append(ans.Results, SearchRecord{Record: rec.Raw, Score: h.Score, Snippets: h.Snippets})
	}
	send(ans)
}

// federatedSearch asks every member, merges their answers with the local
// results by score, counts each record once (by CID) for the total and
// the facets, verifies every record before showing it, and says which
// members did not answer. out holds the local results down to the page
// asked for; local are the local matches for counting.
func (n *Node) federatedSearch(ctx context.Context, q search.Query, out *SearchResult, local []search.Match, localComplete bool) {
	page, size := out.Page, out.PageSize
	matches := append([]search.Match{}, local...)
	complete := localComplete
	defer func() {
		seen := map[string]bool{}
		for _, m := range matches {
			seen[m.CID] = true
		}
		for _, h := range out.Hits {
			seen[h.CID] = true
		}
		out.Total = uint64(len(seen))
		out.TotalExact = complete
		if q.Facets {
			out.Facets = search.MergeFacets(matches, networkFacets(q.FacetFields))
		}
		slices.SortStableFunc(out.Hits, func(a, b SearchHit) int {
			if q.Sort == search.SortDate {
				return b.Created.Compare(a.Created)
			}
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return strings.Compare(a.CID, b.CID)
		})
		out.Hits = pageOf(out.Hits, page, size)
		out.Coverage = fmt.Sprintf("%d of %d regions answered", out.Answered+1, out.Asked+1)
	}()

	// Every member but this node counts as asked; those not connected are
	// reported as such.
	connected := map[peer.ID]bool{}
	var peers []peer.ID
	for _, p := range n.connectedMembers() {
		connected[p] = true
		peers = append(peers, p)
	}
	self := ""
	if n.net != nil {
		self = n.net.host.ID().String()
	}
	regionOf := func(id string) string {
		if m, ok := n.roster.Get(id); ok && m.Region != "" {
			return m.Region
		}
		return id
	}
	for _, m := range n.roster.List(false) {
		id, err := peer.Decode(m.PeerID)
		if err != nil || m.PeerID == self || connected[id] {
			continue
		}
		out.Asked++
		out.Unanswered = append(out.Unanswered, SearchPeer{Peer: m.PeerID, Region: m.Region, Reason: "not connected"})
	}
	out.Asked += len(peers)
	if n.net == nil || len(peers) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, searchDeadline)
	defer cancel()
	type answer struct {
		from peer.ID
		ans  *SearchAnswer
		err  error
	}
	ch := make(chan answer, len(peers))
	rq := q
	rq.Facets, rq.FacetFields = false, nil
	rq.Page, rq.PageSize = 1, page*size
	for _, p := range peers {
		go func(p peer.ID) {
			a, err := n.askSearch(ctx, p, rq)
			if err != nil {
				n.log.Debug("federated search: no answer", "peer", p, "err", err)
			}
			ch <- answer{p, a, err}
		}(p)
	}
	byCID := map[string]int{}
	for i, h := range out.Hits {
		byCID[h.CID] = i
	}
	pending := map[peer.ID]bool{}
	for _, p := range peers {
		pending[p] = true
	}
	defer func() {
		for p := range pending {
			out.Unanswered = append(out.Unanswered, SearchPeer{Peer: p.String(), Region: regionOf(p.String()), Reason: "timed out"})
		}
		slices.SortFunc(out.Unanswered, func(a, b SearchPeer) int { return strings.Compare(a.Region, b.Region) })
	}()
	for range peers {
		var a answer
		select {
		case a = <-ch:
		case <-ctx.Done():
			return
		}
		delete(pending, a.from)
		region := regionOf(a.from.String())
		if a.ans == nil {
			reason := "refused or failed"
			if a.err != nil {
				reason = a.err.Error()
			}
			out.Unanswered = append(out.Unanswered, SearchPeer{Peer: a.from.String(), Region: region, Reason: reason})
			continue
		}
		out.Answered++
		if a.ans.Matches != nil || a.ans.Total == 0 {
			matches = append(matches, a.ans.Matches...)
			complete = complete && a.ans.Complete
		} else {
			complete = false // an older member: only its results count
		}
		for _, r := range a.ans.Results {
			rec, err := n.val.Check("", r.Record)
			if err != nil {
				n.stats.rejected(err)
				continue
			}
			key := rec.CID.String()
			if i, ok := byCID[key]; ok {
				if !slices.Contains(out.Hits[i].Source, region) {
					out.Hits[i].Source = append(out.Hits[i].Source, region)
				}
				// Members score with their own index statistics; the
				// best score counts, whoever answers first, so that pages
				// are stable.
				out.Hits[i].Score = max(out.Hits[i].Score, r.Score)
				continue
			}
			d, ok := docOf(rec)
			if !ok {
				continue
			}
			h := SearchHit{Hit: search.Hit{CID: key, PracticeID: d.PracticeID, Kind: d.Kind, Title: d.Title, Language: d.Language,
				Region: d.Region, Country: d.Country, Topics: d.Topics, Created: d.Created, Score: r.Score, Snippets: sanitizeSnippets(r.Snippets)},
				Source: []string{region}, Verified: true, Author: rec.Record.Author}
			h.Localize(d.Translations, q.Reader)
			byCID[key] = len(out.Hits)
			out.Hits = append(out.Hits, h)
			if a.ans.Matches == nil {
				matches = append(matches, search.Match{CID: key, Facets: map[string][]string{
					"topic": d.Topics, "region": {d.Region}, "country": {d.Country}, "language": {d.Language}}})
			}
		}
	}
}

// networkFacets are the facets a federated search can count from the
// members' matches: all asked for but stage.
func networkFacets(asked []string) []string {
	if len(asked) == 0 {
		asked = search.FacetNames
	}
	return slices.DeleteFunc(slices.Clone(asked), func(f string) bool { return f == "stage" })
}

// sanitizeSnippets keeps only the <mark> tags of a remote snippet; any other
// markup is escaped so a member cannot inject HTML into the web UI.
func sanitizeSnippets(in map[string][]string) map[string][]string {
	out := map[string][]string{}
	for f, frags := range in {
		for _, s := range frags {
			s = strings.NewReplacer("<mark>", "\x00", "</mark>", "\x01").Replace(s)
			s = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
			s = strings.NewReplacer("\x00", "<mark>", "\x01", "</mark>").Replace(s)
			out[f] = append(out[f], s)
		}
	}
	return out
}

func (n *Node) askSearch(ctx context.Context, p peer.ID, q search.Query) (*SearchAnswer, error) {
	s, err := n.net.host.NewStream(ctx, p, protocol.SearchProtocol)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if err := protocol.WriteFrame(s, &SearchRequest{Query: q}); err != nil {
		// A busy peer answers without reading the request: read its answer.
		var a SearchAnswer
		if rerr := protocol.ReadFrame(bufio.NewReader(s), &a, maxSearchAnswer); rerr == nil && a.Status != protocol.StatusOK {
			return nil, fmt.Errorf("status %d: %s", a.Status, a.Error)
		}
		return nil, err
	}
	var a SearchAnswer
	if err := protocol.ReadFrame(bufio.NewReader(s), &a, maxSearchAnswer); err != nil {
		return nil, err
	}
	if a.Status != protocol.StatusOK {
		return nil, fmt.Errorf("status %d: %s", a.Status, a.Error)
	}
	return &a, nil
}
