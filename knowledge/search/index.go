// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/livinglab/livinglab/knowledge/search/glossary"
)

// SchemaVersion identifies the mapping and analysis of the index. Bump it
// whenever a change makes existing index files wrong (fields, analyzers,
// boosts stored in the mapping); Open then reports ErrStale and the caller
// rebuilds from the record store.
const SchemaVersion = 5

var (
	// ErrBadQuery reports a query the user can fix: syntax, length, paging,
	// unknown facet or sort. The wrapped message says what is wrong.
	ErrBadQuery = errors.New("bad query")
	// ErrCorrupt reports an index directory that cannot be used. The index
	// is derived data: rebuild it with Rebuild.
	ErrCorrupt = errors.New("index corrupt")
	// ErrStale reports an index written with another SchemaVersion. Errors
	// wrapping ErrStale also wrap ErrCorrupt, so a caller that rebuilds on
	// ErrCorrupt handles both.
	ErrStale = errors.New("index schema stale")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("index closed")
	// ErrLocked reports an index directory held open by another process (or
	// another Index in this one). It is not corrupt: do not rebuild it.
	ErrLocked = errors.New("index in use")
)

// lockTimeout is how long Open waits for another holder of the index to
// let go before returning ErrLocked.
const lockTimeout = time.Second

const (
	metaFile  = "livinglab-search.json"
	indexDir  = "bleve"
	stateOK   = "ready"
	stateWork = "building"
)

// meta is the small file beside the bleve index.
type meta struct {
	Schema int    `json:"schema"`
	State  string `json:"state"`
	// Seq is the write sequence number the index held at the last Close.
	// Each batch stores its number inside the index too; an index that opens
	// with a lower number has silently lost writes (bleve falls back to an
	// older snapshot when the newest cannot be loaded) and is corrupt.
	Seq     uint64    `json:"seq"`
	Updated time.Time `json:"updated"`
}

// seqKey is the bleve internal key holding the write sequence number.
var seqKey = []byte("livinglab_seq")

func encodeSeq(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func decodeSeq(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("bad sequence number %x", b)
	}
	return binary.BigEndian.Uint64(b), nil
}

// Doc is one public record version as the index sees it.
type Doc struct {
	CID        string // content id of this record version (the index doc ID)
	PracticeID string // stable identity across versions (equal to CID for a first version)
	Kind       string // "practice" or "lesson"
	Title      string
	Summary    string
	Lessons    string
	Body       string // problem, approach, results, resources, transferability... concatenated
	Language   string // ISO 639-1 (en fi sv no nb nn da is ga de ...)
	Topics     []string
	Region     string
	Country    string
	Stage      int       // 0 = none, else 1..5
	Created    time.Time // the year facet is derived from it
	// Translations of the title and summary, keyed by language code. They
	// are searchable in their language and shown to readers of it.
	Translations map[string]Translation
	// Adapted: the practice names practices it adapts (adapted_from).
	Adapted bool
}

// Translation is a record's title and summary in another language.
type Translation struct {
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
}

// Index is the local full-text index. Its methods are safe for concurrent
// use.
type Index struct {
	dir     string
	mapping *mapping.IndexMappingImpl

	mu     sync.RWMutex // write-locked by Close only
	idx    bleve.Index
	closed bool

	seq atomic.Uint64 // last write sequence number handed out

	// bleveOnly ranks every query with bleve's searchers instead of the
	// term-at-a-time evaluator (topk.go): for comparing the two.
	bleveOnly bool
	// ranking admits this many term-at-a-time evaluations at once: each
	// uses every CPU already, and holds accumulators of several bytes per
	// record and clause, so more at once would only add memory.
	ranking chan struct{}

	langMu sync.RWMutex
	langs  map[string]bool // canonical codes of the languages with their own analysis in the index

	// noConcepts holds each language analyzer without its glossary filter,
	// by name, for snippets (snippetAnalyzer).
	noConcepts sync.Map

	glossMu sync.RWMutex
	gloss   *glossIndex // nil: no query expansion
	// glossPending is the glossary to build gloss from at the first query.
	glossPending *glossary.Glossary
}

// Open opens the index in dir, creating an empty one if dir is missing or
// empty. An index that cannot be read returns an error wrapping ErrCorrupt;
// one written with another SchemaVersion returns an error wrapping ErrStale
// (and ErrCorrupt). Either way the caller should call Rebuild.
func Open(dir string) (*Index, error) {
	if _, err := glossary.Default(); err != nil {
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0):
		return create(dir)
	case err != nil:
		return nil, fmt.Errorf("open search index %s: %w", dir, err)
	}

	m, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("open search index %s: schema %d, want %d: %w: %w", dir, m.Schema, SchemaVersion, ErrStale, ErrCorrupt)
	}
	if m.State != stateOK {
		return nil, fmt.Errorf("open search index %s: state %q (interrupted rebuild): %w", dir, m.State, ErrCorrupt)
	}
	return openExisting(dir, m.Seq)
}

func create(dir string) (*Index, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	im := newMapping()
	b, err := bleve.NewUsing(filepath.Join(dir, indexDir), im, bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, nil)
	if err != nil {
		return nil, fmt.Errorf("create search index %s: %w", dir, err)
	}
	if err := writeMeta(dir, stateOK, 0); err != nil {
		_ = b.Close()
		return nil, err
	}
	return newIndex(dir, im, b), nil
}

func openExisting(dir string, wantSeq uint64) (ix *Index, err error) {
	var b bleve.Index
	defer func() {
		// A damaged segment can make bleve panic instead of failing.
		if r := recover(); r != nil {
			if b != nil {
				_ = b.Close()
			}
			ix, err = nil, fmt.Errorf("open search index %s: %v: %w", dir, r, ErrCorrupt)
		}
	}()
	b, err = bleve.OpenUsing(filepath.Join(dir, indexDir), map[string]interface{}{"bolt_timeout": lockTimeout.String()})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open search index %s: %w", dir, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %v: %w", dir, err, ErrCorrupt)
	}
	im, ok := b.Mapping().(*mapping.IndexMappingImpl)
	if !ok {
		_ = b.Close()
		return nil, fmt.Errorf("open search index %s: unexpected mapping %T: %w", dir, b.Mapping(), ErrCorrupt)
	}
	ix = newIndex(dir, im, b)
	raw, err := b.GetInternal(seqKey)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open search index %s: %v: %w", dir, err, ErrCorrupt)
	}
	seq, err := decodeSeq(raw)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open search index %s: %v: %w", dir, err, ErrCorrupt)
	}
	if seq < wantSeq {
		_ = b.Close()
		return nil, fmt.Errorf("open search index %s: holds writes up to %d, %d were made: %w", dir, seq, wantSeq, ErrCorrupt)
	}
	ix.seq.Store(seq)
	if err := ix.check(); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open search index %s: %v: %w", dir, err, ErrCorrupt)
	}
	return ix, nil
}

func newIndex(dir string, im *mapping.IndexMappingImpl, b bleve.Index) *Index {
	ix := &Index{dir: dir, mapping: im, idx: b, langs: make(map[string]bool),
		ranking: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	if g, err := glossary.Default(); err == nil {
		// Matching the glossary's terms needs every language's analyser
		// (and lexicon): build it at the first query, not at open.
		ix.glossPending = g
	}
	ix.noteLanguages(indexedLanguages(b))
	return ix
}

// indexedLanguages returns the languages with their own analysis that
// records in b are written in (the language facet) or translated into
// (the translation fields).
func indexedLanguages(b bleve.Index) []string {
	var out []string
	if fields, err := b.Fields(); err == nil {
		for _, f := range fields {
			if _, code, ok := strings.Cut(f, "_"); ok {
				if _, known := languageByCode[code]; known {
					out = append(out, code)
				}
			}
		}
	}
	prefix := facetTerm(fieldLanguage, "")
	d, err := b.FieldDictPrefix(fieldFacet, []byte(prefix))
	if err != nil {
		return out
	}
	defer d.Close()
	for {
		e, err := d.Next()
		if err != nil || e == nil {
			break
		}
		if l, ok := languageFor(strings.TrimPrefix(e.Term, prefix)); ok {
			out = append(out, l.code)
		}
	}
	return out
}

// check reads a little of everything so a damaged index fails at Open rather
// than at the first search.
func (ix *Index) check() error {
	n, err := ix.idx.DocCount()
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	req := bleve.NewSearchRequestOptions(query.NewMatchAllQuery(), 10, 0, false)
	// Reading a few stored documents checks the segments without
	// touching every document (sorting would read a doc value of each,
	// tens of MiB of an index of 100,000 practices, at every start).
	req.Fields = []string{"*"}
	res, err := ix.idx.Search(req)
	if err != nil {
		return err
	}
	if res.Total != n {
		return fmt.Errorf("count %d but match-all finds %d", n, res.Total)
	}
	return nil
}

func readMeta(dir string) (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, fmt.Errorf("open search index %s: %v: %w", dir, err, ErrCorrupt)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("open search index %s: meta file: %v: %w", dir, err, ErrCorrupt)
	}
	return m, nil
}

func writeMeta(dir, state string, seq uint64) error {
	b, err := json.Marshal(meta{Schema: SchemaVersion, State: state, Seq: seq, Updated: time.Now().UTC()})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write search index meta: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, metaFile)); err != nil {
		return fmt.Errorf("write search index meta: %w", err)
	}
	return nil
}

// reader runs fn with the bleve index under the read lock, turning a panic
// from damaged index files into ErrCorrupt.
func (ix *Index) reader(fn func(b bleve.Index) error) (err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("search index %s: %v: %w", ix.dir, r, ErrCorrupt)
		}
	}()
	return fn(ix.idx)
}

// Put indexes d, replacing any document with the same CID.
func (ix *Index) Put(d Doc) error { return ix.PutBatch([]Doc{d}) }

// PutBatch indexes ds in one batch.
func (ix *Index) PutBatch(ds []Doc) error {
	var added []string
	err := ix.batch("put", len(ds), func(batch *bleve.Batch) error {
		for i := range ds {
			d := &ds[i]
			if d.CID == "" {
				return fmt.Errorf("put: document %d has no CID", i)
			}
			doc, err := prepare(ix.mapping, *d)
			if err != nil {
				return fmt.Errorf("put %s: %w", d.CID, err)
			}
			if err := batch.IndexAdvanced(doc); err != nil {
				return fmt.Errorf("put %s: %w", d.CID, err)
			}
			if l, ok := languageFor(normLanguage(d.Language)); ok {
				added = append(added, l.code)
			}
			added = append(added, d.translationLanguages()...)
		}
		return nil
	})
	if err == nil {
		ix.noteLanguages(added)
	}
	return err
}

// batch applies the n changes that fill adds to a batch at once, with the
// index's next sequence number. No changes is no batch.
func (ix *Index) batch(what string, n int, fill func(batch *bleve.Batch) error) error {
	if n == 0 {
		return nil
	}
	return ix.reader(func(b bleve.Index) error {
		batch := b.NewBatch()
		if err := fill(batch); err != nil {
			return err
		}
		batch.SetInternal(seqKey, encodeSeq(ix.seq.Add(1)))
		if err := b.Batch(batch); err != nil {
			return fmt.Errorf("%s batch: %w", what, err)
		}
		return nil
	})
}

func (ix *Index) noteLanguages(codes []string) {
	ix.langMu.RLock()
	missing := false
	for _, c := range codes {
		if !ix.langs[c] {
			missing = true
			break
		}
	}
	ix.langMu.RUnlock()
	if !missing {
		return
	}
	ix.langMu.Lock()
	for _, c := range codes {
		ix.langs[c] = true
	}
	ix.langMu.Unlock()
}

// presentLanguages returns the languages records are analysed in, sorted.
func (ix *Index) presentLanguages() []string {
	ix.langMu.RLock()
	defer ix.langMu.RUnlock()
	return languageCodes(ix.langs)
}

// Delete removes the document with this CID. Deleting a missing CID is not
// an error.
func (ix *Index) Delete(cid string) error { return ix.DeleteBatch([]string{cid}) }

// DeleteBatch removes several documents in one batch.
func (ix *Index) DeleteBatch(cids []string) error {
	return ix.batch("delete", len(cids), func(batch *bleve.Batch) error {
		for _, c := range cids {
			batch.Delete(c)
		}
		return nil
	})
}

// Count returns the number of indexed documents.
func (ix *Index) Count() (n uint64, err error) {
	err = ix.reader(func(b bleve.Index) error {
		n, err = b.DocCount()
		return err
	})
	return n, err
}

// Has reports whether a document with this CID is indexed.
func (ix *Index) Has(cid string) (ok bool, err error) {
	err = ix.reader(func(b bleve.Index) error {
		req := bleve.NewSearchRequestOptions(query.NewDocIDQuery([]string{cid}), 0, 0, false)
		req.Score = "none"
		res, err := b.Search(req)
		if err != nil {
			return err
		}
		ok = res.Total > 0
		return nil
	})
	return ok, err
}

// Close closes the index. Further calls return ErrClosed.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	// Record how far the index got, read back from the index itself so
	// concurrent batches that finished out of order cannot make it too high.
	raw, seqErr := ix.idx.GetInternal(seqKey)
	if err := ix.idx.Close(); err != nil {
		return fmt.Errorf("close search index %s: %w", ix.dir, err)
	}
	seq, err := decodeSeq(raw)
	if seqErr != nil || err != nil {
		return fmt.Errorf("close search index %s: read sequence: %v %v", ix.dir, seqErr, err)
	}
	return writeMeta(ix.dir, stateOK, seq)
}

// Dir returns the directory the index lives in.
func (ix *Index) Dir() string { return ix.dir }

// closeBuilder merges and writes the built index, turning a panic inside
// bleve into an error.
func closeBuilder(b bleve.Builder) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("build index: %v", r)
		}
	}()
	return b.Close()
}
