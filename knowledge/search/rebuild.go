// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/livinglab/livinglab/internal/sysmem"
)

// rebuildBatch is how many documents the offline builder puts in one
// segment before merging. The analysed documents of a batch are held in
// memory (about 100 KiB each with term locations), so it bounds the memory
// of a rebuild; more, smaller segments cost a little more merging at the
// end.
const rebuildBatch = 256

// How many segments the builder merges at once when the last document is
// in. bleve's default, 10, merges the 391 segments of 100,000 records in
// three passes, writing everything three times: a rebuild took 62-68 s
// here, 52-54 s when all are merged in one pass. But a merge reads every
// segment it merges through memory maps, and where the page cache cannot
// hold them all, the pages are read again and again: in a 384 MiB memory
// cgroup the one-pass merge of those 100,000 records had read 770 GB from
// disk when it was stopped after 14 minutes, while the three passes
// finished the whole rebuild in 58 s. So one pass is taken only where the
// memory available to the process holds the segments twice over
// (estimated at rebuildSegmentBytes per document). Each segment being
// merged is one open file: Go raises the process's soft limit on open
// files to the hard limit at start, far above rebuildMergeMax.
const (
	rebuildMergeMax     = 1000
	rebuildMergeSmall   = 10
	rebuildSegmentBytes = 16 << 10 // a generated practice took 9.4 KiB
)

// mergeFanIn chooses the final merge's fan-in for total documents, given
// the memory available to the process (if known).
func mergeFanIn(total int, avail uint64, known bool) int {
	if known && avail/2/rebuildSegmentBytes < uint64(max(total, 0)) {
		return rebuildMergeSmall
	}
	return rebuildMergeMax
}

// Rebuild deletes everything in dir and indexes the documents docs yields,
// then opens the result. total is only used for progress reports (0 if
// unknown); progress may be nil. The meta file says "building" until the
// last document is in, so an interrupted rebuild is reported as ErrCorrupt
// by the next Open. Documents with a CID already seen are skipped (a CID
// names immutable content). Close any Index open on dir first.
//
// Documents are analysed on every CPU while the builder writes segments:
// bleve's offline builder analyses them one at a time otherwise.
func Rebuild(dir string, total int, docs func(yield func(Doc) error) error, progress func(done, total int)) (*Index, error) {
	clean := filepath.Clean(dir)
	if dir == "" || clean == "/" || clean == "." {
		return nil, fmt.Errorf("rebuild search index: refusing to wipe %q", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
	}
	if err := writeMeta(dir, stateWork, 0); err != nil {
		return nil, err
	}
	im := newMapping()
	avail, known := sysmem.Available()
	builder, err := bleve.NewBuilder(filepath.Join(dir, indexDir), analysedMapping{im}, map[string]interface{}{
		"buildPathPrefix": dir,
		"batchSize":       rebuildBatch,
		"mergeMax":        mergeFanIn(total, avail, known),
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
	}

	// Workers analyse documents while one goroutine hands them to the
	// builder, which builds a segment of every rebuildBatch documents
	// under its lock: the next batch is analysed meanwhile.
	workers := max(1, runtime.GOMAXPROCS(0))
	in := make(chan Doc, 4*workers)
	analysed := make(chan *document.Document, rebuildBatch)
	var (
		errOnce  sync.Once
		buildErr error
		failed   = make(chan struct{})
	)
	fail := func(err error) {
		errOnce.Do(func() {
			buildErr = err
			close(failed)
		})
	}
	var analysers sync.WaitGroup
	for range workers {
		analysers.Add(1)
		go func() {
			defer analysers.Done()
			for d := range in {
				doc, err := analyse(im, d)
				if err != nil {
					fail(fmt.Errorf("rebuild: index %s: %w", d.CID, err))
					continue
				}
				select {
				case analysed <- doc:
				case <-failed:
				}
			}
		}()
	}
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		for doc := range analysed {
			select {
			case <-failed:
				continue // drain
			default:
			}
			if err := builder.Index(doc.ID(), doc); err != nil {
				fail(fmt.Errorf("rebuild: index %s: %w", doc.ID(), err))
			}
		}
	}()

	seen := make(map[string]struct{}, max(total, 0))
	done := 0
	yield := func(d Doc) error {
		if d.CID == "" {
			return fmt.Errorf("rebuild: document %d has no CID", done)
		}
		if _, dup := seen[d.CID]; dup {
			return nil
		}
		seen[d.CID] = struct{}{}
		select {
		case in <- d:
		case <-failed:
			return buildErr
		}
		done++
		if progress != nil && done%1000 == 0 {
			progress(done, total)
		}
		return nil
	}
	srcErr := docs(yield)
	close(in)
	analysers.Wait()
	close(analysed)
	<-indexed
	if srcErr == nil {
		srcErr = buildErr
	}
	if srcErr != nil {
		// The partial build is left behind with the meta file saying
		// "building"; the next Rebuild wipes it.
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, srcErr)
	}
	if progress != nil {
		progress(done, total)
	}
	if done == 0 {
		// bleve's builder cannot finish an empty index; start a fresh one.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
		}
		return create(dir)
	}
	if err := closeBuilder(builder); err != nil {
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
	}
	if err := writeMeta(dir, stateOK, 0); err != nil {
		return nil, err
	}
	ix, err := openExisting(dir, 0)
	if err != nil {
		return nil, err
	}
	// Mark the rebuilt index as written, so that losing it is detected after
	// the next Close.
	if err := ix.idx.SetInternal(seqKey, encodeSeq(ix.seq.Add(1))); err != nil {
		_ = ix.Close()
		return nil, fmt.Errorf("rebuild search index %s: %w", dir, err)
	}
	return ix, nil
}

// analyse prepares d with im and analyses its text fields, so that the
// builder, which analyses every field it is given, finds them done.
func analyse(im *mapping.IndexMappingImpl, d Doc) (*document.Document, error) {
	doc, err := prepare(im, d)
	if err != nil {
		return nil, err
	}
	for i, f := range doc.Fields {
		switch f.(type) {
		case *document.TextField, *joinedField:
			if f.Options().IsIndexed() {
				f.Analyze()
				doc.Fields[i] = analysedField{f}
			}
		}
	}
	return doc, nil
}

// analysedField is a text field analysed already: Analyze does nothing.
type analysedField struct{ document.Field }

func (analysedField) Analyze() {}

// analysedMapping is the index mapping given to the builder: it maps the
// documents analyse prepared by taking their fields, and anything else as
// the mapping itself does. It marshals as the mapping, which the index
// stores.
type analysedMapping struct{ *mapping.IndexMappingImpl }

func (m analysedMapping) MapDocument(doc *document.Document, data interface{}) error {
	pre, ok := data.(*document.Document)
	if !ok {
		return m.IndexMappingImpl.MapDocument(doc, data)
	}
	doc.Fields = pre.Fields
	doc.CompositeFields = pre.CompositeFields
	return nil
}
