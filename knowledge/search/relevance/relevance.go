// SPDX-License-Identifier: EUPL-1.2

// Package relevance reads the search relevance set (practices and graded
// queries written for this project, in knowledge/search/testdata/relevance)
// and scores rankings against it: nDCG@10, recall@10 and MRR. It is used
// by the search package's evaluation and by the node's evaluation of
// network-wide search.
package relevance

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Practice is one practice of the set.
type Practice struct {
	ID, Language, Region string
	Topics               []string
	Title, Summary, Body string
	Translations         map[string]Translation // by language code
}

// Translation is a practice's title and summary in another language.
type Translation struct{ Title, Summary string }

// Query is one graded query: Split is "tune" or "held" (kept aside from
// tuning), Kind "cross" for a query whose answers are mostly in other
// languages; Grades maps practice IDs to grades 1 to 3.
type Query struct {
	ID, Split, Kind, Text string
	Grades                map[string]int
}

// Dir is the set's folder relative to the module root.
const Dir = "knowledge/search/testdata/relevance"

// Load reads practices.txt and queries.txt from dir.
func Load(dir string) ([]Practice, []Query, error) {
	f, err := os.Open(filepath.Join(dir, "practices.txt"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var docs []Practice
	var cur *Practice
	flush := func() {
		if cur != nil {
			docs = append(docs, *cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, nil, fmt.Errorf("practices.txt: bad line %q", line)
		}
		if cur == nil {
			cur = &Practice{}
		}
		switch {
		case k == "id":
			cur.ID = v
		case k == "lang":
			cur.Language = v
		case k == "region":
			cur.Region = v
		case k == "topics":
			for _, tp := range strings.Split(v, ",") {
				cur.Topics = append(cur.Topics, strings.TrimSpace(tp))
			}
		case k == "title":
			cur.Title = v
		case k == "summary":
			cur.Summary = v
		case k == "body":
			cur.Body = v
		case strings.HasPrefix(k, "tr."):
			title, summary, _ := strings.Cut(v, " | ")
			if cur.Translations == nil {
				cur.Translations = map[string]Translation{}
			}
			cur.Translations[strings.TrimPrefix(k, "tr.")] = Translation{Title: title, Summary: summary}
		default:
			return nil, nil, fmt.Errorf("practices.txt: unknown key %q", k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	flush()
	ids := map[string]bool{}
	for _, d := range docs {
		if d.ID == "" || d.Title == "" || d.Language == "" || ids[d.ID] {
			return nil, nil, fmt.Errorf("practices.txt: bad or duplicate record %+v", d)
		}
		ids[d.ID] = true
	}

	qf, err := os.ReadFile(filepath.Join(dir, "queries.txt"))
	if err != nil {
		return nil, nil, err
	}
	var qs []Query
	for _, line := range strings.Split(string(qf), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, nil, fmt.Errorf("queries.txt: %d columns in %q", len(cols), line)
		}
		q := Query{ID: cols[0], Split: cols[1], Kind: cols[2], Text: cols[3], Grades: map[string]int{}}
		for _, j := range strings.Fields(cols[4]) {
			id, g, ok := strings.Cut(j, "=")
			if !ok || !ids[id] || len(g) != 1 || g[0] < '1' || g[0] > '3' {
				return nil, nil, fmt.Errorf("queries.txt %s: bad judgement %q", q.ID, j)
			}
			q.Grades[id] = int(g[0] - '0')
		}
		qs = append(qs, q)
	}
	return docs, qs, nil
}

// Metrics are the means over queries. A practice is relevant for recall
// and MRR at grade 2 or more; nDCG uses the grades as gains (2^g - 1).
type Metrics struct {
	n                 int
	ndcg, recall, mrr float64
}

// Cutoff is the rank the metrics look down to.
const Cutoff = 10

// Add scores one query's ranking (practice IDs, best first).
func (m *Metrics) Add(q Query, ranked []string) {
	dcg, idcg := 0.0, 0.0
	var ideal []int
	relevant := 0
	for _, g := range q.Grades {
		ideal = append(ideal, g)
		if g >= 2 {
			relevant++
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ideal)))
	for i := 0; i < Cutoff && i < len(ideal); i++ {
		idcg += (math.Pow(2, float64(ideal[i])) - 1) / math.Log2(float64(i+2))
	}
	found, rr := 0, 0.0
	for i, id := range ranked {
		if i >= Cutoff {
			break
		}
		g := q.Grades[id]
		dcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
		if g >= 2 {
			found++
			if rr == 0 {
				rr = 1 / float64(i+1)
			}
		}
	}
	m.n++
	if idcg > 0 {
		m.ndcg += dcg / idcg
	}
	if relevant > 0 {
		m.recall += float64(found) / float64(relevant)
	}
	m.mrr += rr
}

// N is the number of queries scored.
func (m Metrics) N() int { return m.n }

// Mean returns nDCG@10, recall@10 and MRR averaged over the queries.
func (m Metrics) Mean() (ndcg, recall, mrr float64) {
	if m.n == 0 {
		return 0, 0, 0
	}
	n := float64(m.n)
	return m.ndcg / n, m.recall / n, m.mrr / n
}
