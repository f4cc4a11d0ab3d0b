// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// prepare maps d with im into the document the index is given, with the
// elements of each array text field ("all" holds the four texts of a
// record) joined into one field.
//
// bleve's segment builder merges the token frequencies of the elements of
// an array field itself, copying every term and location, on the one
// goroutine that builds a segment: about a tenth of a full rebuild's CPU,
// all of it on that goroutine. The joined field does that merge when it is analysed, which
// bleve does on every CPU, and without copying. The index is the same: one
// field with the summed length, and locations that carry their element's
// array position.
func prepare(im *mapping.IndexMappingImpl, d Doc) (*document.Document, error) {
	doc := document.NewDocument(d.CID)
	if err := im.MapDocument(doc, d.document()); err != nil {
		return nil, err
	}
	var joined map[string]*joinedField
	fields := doc.Fields[:0]
	for _, f := range doc.Fields {
		tf, ok := f.(*document.TextField)
		if !ok || len(tf.ArrayPositions()) == 0 || !tf.Options().IsIndexed() || tf.Options().IsStored() {
			fields = append(fields, f)
			continue
		}
		if j := joined[tf.Name()]; j != nil {
			j.parts = append(j.parts, tf)
			continue
		}
		if joined == nil {
			joined = make(map[string]*joinedField, 2)
		}
		j := &joinedField{TextField: tf, parts: []*document.TextField{tf}}
		joined[tf.Name()] = j
		fields = append(fields, j)
	}
	doc.Fields = fields
	return doc, nil
}

// joinedField is the elements of an array text field as one field. Its
// name, options and value are the first element's; the field is indexed
// only, never stored, so no element's value is needed after analysis.
type joinedField struct {
	*document.TextField
	parts  []*document.TextField
	length int
	freqs  index.TokenFrequencies
}

// Analyze analyses every element and joins their term frequencies.
func (j *joinedField) Analyze() {
	lengths := make([]int, len(j.parts))
	freqs := make([]index.TokenFrequencies, len(j.parts))
	for i, p := range j.parts {
		p.Analyze()
		lengths[i], freqs[i] = p.AnalyzedLength(), p.AnalyzedTokenFrequencies()
	}
	j.length, j.freqs = join(lengths, freqs)
}

// join sums the elements' lengths and merges their term frequencies into
// the first element's, in element order, as bleve's builder would.
func join(lengths []int, freqs []index.TokenFrequencies) (int, index.TokenFrequencies) {
	length := 0
	var out index.TokenFrequencies
	for i, pf := range freqs {
		length += lengths[i]
		if out == nil {
			out = pf
			continue
		}
		for term, tf := range pf {
			have, ok := out[term]
			if !ok {
				out[term] = tf
				continue
			}
			have.Locations = append(have.Locations, tf.Locations...)
			have.SetFrequency(have.Frequency() + tf.Frequency())
		}
	}
	return length, out
}

func (j *joinedField) AnalyzedLength() int { return j.length }

func (j *joinedField) AnalyzedTokenFrequencies() index.TokenFrequencies { return j.freqs }

func (j *joinedField) NumPlainTextBytes() uint64 {
	var n uint64
	for _, p := range j.parts {
		n += p.NumPlainTextBytes()
	}
	return n
}

func (j *joinedField) Size() int {
	n := 0
	for _, p := range j.parts {
		n += p.Size()
	}
	return n
}

func (j *joinedField) GoString() string {
	return fmt.Sprintf("&search.joinedField{Name:%s, Parts:%d}", j.Name(), len(j.parts))
}
