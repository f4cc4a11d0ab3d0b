// SPDX-License-Identifier: EUPL-1.2

package eval

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/livinglab/livinglab/knowledge/anon"
)

// OrdinaryPractice is one practice of a corpus without personal names.
type OrdinaryPractice struct {
	ID, Lang string
	Fields   []string // title, summary and body
}

// ReadPractices reads the corpus of practices in the file at path (see
// ParsePractices).
func ReadPractices(path string) ([]OrdinaryPractice, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := ParsePractices(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// ParsePractices reads a corpus of practices written without personal
// data: blocks separated by blank lines, with "id:", "lang:", "title:",
// "summary:" and "body:" lines (the search evaluation's relevance set,
// knowledge/search/testdata/relevance/practices.txt). Other lines are
// ignored.
func ParsePractices(r io.Reader) ([]OrdinaryPractice, error) {
	var out []OrdinaryPractice
	var cur OrdinaryPractice
	flush := func() {
		if cur.Lang != "" && len(cur.Fields) > 0 {
			out = append(out, cur)
		}
		cur = OrdinaryPractice{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "id":
			cur.ID = v
		case "lang":
			cur.Lang = v
		case "title", "summary", "body":
			cur.Fields = append(cur.Fields, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading practices: %w", err)
	}
	flush()
	return out, nil
}

// WordLoss is an ordinary word the gate replaced by a person placeholder.
type WordLoss struct {
	ID, Lang, Text, Evidence string
}

// OrdinaryResult is the gate's damage to a corpus without personal names.
type OrdinaryResult struct {
	Practices, Damaged int
	Losses             []WordLoss
}

// CheckOrdinary gates every practice of a corpus without personal names
// as on the one-step publish route (failing closed, no reviewer
// decisions, the practice's language) and lists every word replaced by a
// person placeholder: each is an ordinary word lost.
func CheckOrdinary(ps []OrdinaryPractice) OrdinaryResult {
	var res OrdinaryResult
	gates := map[string]*anon.Gate{}
	for _, p := range ps {
		g := gates[p.Lang]
		if g == nil {
			g = anon.New(anon.Options{FailClosed: true, Language: p.Lang})
			gates[p.Lang] = g
		}
		res.Practices++
		damaged := false
		for _, f := range p.Fields {
			_, fs, _ := g.Scrub("text", f)
			for _, x := range fs {
				if x.Type == anon.TypePerson {
					damaged = true
					res.Losses = append(res.Losses, WordLoss{ID: p.ID, Lang: p.Lang, Text: f[x.Start:x.End], Evidence: x.Evidence})
				}
			}
		}
		if damaged {
			res.Damaged++
		}
	}
	sort.SliceStable(res.Losses, func(i, j int) bool { return res.Losses[i].ID < res.Losses[j].ID })
	return res
}

// OrdinaryMarkdown renders the result for the report.
func OrdinaryMarkdown(r OrdinaryResult, source string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The %d practices of `%s` (written for the search evaluation in all the\n", r.Practices, source)
	b.WriteString("federation's languages, without personal names) gated in the same way: every word replaced by a\n")
	b.WriteString("person placeholder there is an ordinary word lost.\n\n")
	fmt.Fprintf(&b, "%d words replaced in %d of %d practices (%.1f %%).\n\n", len(r.Losses), r.Damaged, r.Practices,
		100*float64(r.Damaged)/float64(max(r.Practices, 1)))
	for _, l := range r.Losses {
		fmt.Fprintf(&b, "- %s (%s) `%s`: %s\n", l.ID, l.Lang, l.Text, l.Evidence)
	}
	if len(r.Losses) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
