// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
)

// TestJoinedFieldsIndexAsArrays checks that joining the elements of the
// array fields before analysis indexes exactly what bleve indexes from the
// array itself: the same hits, scores, snippets, totals and facets, through
// both the online index and a rebuild.
func TestJoinedFieldsIndexAsArrays(t *testing.T) {
	docs := GenerateCorpus(400, 11)

	plain, err := create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.batch("put", len(docs), func(batch *bleve.Batch) error {
		for i := range docs {
			if err := batch.Index(docs[i].CID, docs[i].document()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if l, ok := languageFor(normLanguage(docs[i].Language)); ok {
			plain.noteLanguages([]string{l.code})
		}
		plain.noteLanguages(docs[i].translationLanguages())
	}

	online, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer online.Close()
	if err := online.PutBatch(docs); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := Rebuild(t.TempDir(), len(docs), func(yield func(Doc) error) error {
		for _, d := range docs {
			if err := yield(d); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()

	// Queries from the corpus's own words: single words, phrases (matched
	// by position in "all") and longer free text.
	var queries []string
	for i := 0; i < len(docs) && len(queries) < 60; i += 13 {
		w := strings.Fields(docs[i].Title)
		if len(w) >= 2 {
			queries = append(queries, w[0], fmt.Sprintf("%q", w[0]+" "+w[1]), docs[i].Title)
		}
		if s := strings.Fields(docs[i].Summary); len(s) >= 3 {
			queries = append(queries, fmt.Sprintf("%q", strings.Join(s[:3], " ")))
		}
	}
	ctx := context.Background()
	nonEmpty := 0
	for _, q := range queries {
		want, err := plain.Search(ctx, Query{Text: q, PageSize: 20})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		want.Took = 0
		if len(want.Hits) > 0 {
			nonEmpty++
		}
		for name, ix := range map[string]*Index{"online": online, "rebuilt": rebuilt} {
			got, err := ix.Search(ctx, Query{Text: q, PageSize: 20})
			if err != nil {
				t.Fatalf("%s %q: %v", name, q, err)
			}
			got.Took = 0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %q: results differ from the array-field index:\n got %+v\nwant %+v", name, q, got, want)
			}
		}
	}
	if nonEmpty < len(queries)/2 {
		t.Fatalf("only %d of %d queries found anything: the comparison says little", nonEmpty, len(queries))
	}
}
