// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"cmp"
	"fmt"

	"github.com/livinglab/livinglab/knowledge/anon"
	"github.com/livinglab/livinglab/protocol"
)

// GateReport is what the anonymisation gate found and replaced.
type GateReport struct {
	Findings   []GateFinding   `json:"findings"`
	Candidates []GateCandidate `json:"candidates"`
}

// GateFinding is one redaction. It never carries the original value: the
// report travels to the browser and into logs.
type GateFinding struct {
	Field       string `json:"field"`
	Type        string `json:"type"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	Replacement string `json:"replacement"`
	Detector    string `json:"detector"`
	Evidence    string `json:"evidence,omitempty"` // what decided the redaction
}

// GateCandidate is a possible person name for a person to confirm.
type GateCandidate struct {
	Field    string `json:"field"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
	Reason   string `json:"reason"`
	Evidence string `json:"evidence,omitempty"`
}

// Review carries a person's decisions on uncertain names.
type Review struct {
	Confirmed  []string // candidates confirmed as not personal: kept
	Redact     []string // candidates confirmed as personal: redacted
	FailClosed bool     // redact every remaining uncertain candidate
	Language   string   // the record's language; set from the record when empty
}

// newGate builds the anonymisation gate with the lab's registered
// stakeholders and the node's small-count threshold.
func (n *Node) newGate(rv Review) (*anon.Gate, error) {
	reg, err := n.labRegistry()
	if err != nil {
		return nil, fmt.Errorf("read the lab's stakeholder registry: %w", err)
	}
	return anon.New(anon.Options{K: n.Config().Anonymise.K, Registry: reg, Confirmed: rv.Confirmed,
		Redact: rv.Redact, FailClosed: rv.FailClosed, Language: rv.Language}), nil
}

// scrubber applies a gate to text fields and collects the report.
type scrubber struct {
	g   *anon.Gate
	rep GateReport
}

// newScrubber returns a scrubber for a review of a text in lang (unless
// the review names its language).
func (n *Node) newScrubber(rv Review, lang string) (*scrubber, error) {
	rv.Language = cmp.Or(rv.Language, lang)
	g, err := n.newGate(rv)
	if err != nil {
		return nil, err
	}
	return &scrubber{g: g}, nil
}

// report returns what the scrubber found, with empty lists rather than
// none, so that the JSON shows [].
func (s *scrubber) report() GateReport {
	if s.rep.Findings == nil {
		s.rep.Findings = []GateFinding{}
	}
	if s.rep.Candidates == nil {
		s.rep.Candidates = []GateCandidate{}
	}
	return s.rep
}

func (s *scrubber) text(field, v string) string {
	if v == "" {
		return v
	}
	clean, fs, cs := s.g.Scrub(field, v)
	for _, f := range fs {
		s.rep.Findings = append(s.rep.Findings, GateFinding{Field: field, Type: f.Type, Start: f.Start, End: f.End,
			Replacement: f.Replacement, Detector: f.Detector, Evidence: f.Evidence})
	}
	for _, c := range cs {
		s.rep.Candidates = append(s.rep.Candidates, GateCandidate{Field: field, Start: c.Start, End: c.End, Text: c.Text,
			Reason: c.Reason, Evidence: c.Evidence})
	}
	return clean
}

func (s *scrubber) list(field string, vs []string) []string {
	if vs == nil {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = s.text(fmt.Sprintf("%s[%d]", field, i), v)
	}
	return out
}

// gatePractice returns the public form of a practice. Only the public
// fields of protocol.Practice exist to be serialised (the allowlist: private
// lab entities have no path onto the wire); every free-text field is
// scrubbed. With rv.FailClosed, uncertain names are redacted too.
func (n *Node) gatePractice(p *protocol.Practice, rv Review) (*protocol.Practice, GateReport, error) {
	s, err := n.newScrubber(rv, p.Language)
	if err != nil {
		return nil, GateReport{}, err
	}
	out := protocol.Practice{
		PracticeID: p.PracticeID, Supersedes: p.Supersedes, Version: p.Version, Stage: p.Stage,
		Language: p.Language, Licence: p.Licence, Region: p.Region, Country: p.Country,
		Title:            s.text("title", p.Title),
		Summary:          s.text("summary", p.Summary),
		Problem:          s.text("problem", p.Problem),
		Approach:         s.text("approach", p.Approach),
		Results:          s.text("results", p.Results),
		Resources:        s.text("resources", p.Resources),
		Difficulties:     s.text("difficulties", p.Difficulties),
		Transferability:  s.text("transferability", p.Transferability),
		Period:           s.text("period", p.Period),
		Lessons:          s.list("lessons", p.Lessons),
		StakeholderRoles: s.list("stakeholder_roles", p.StakeholderRoles),
		Links:            s.list("links", p.Links),
	}
	if len(p.Translations) > 0 {
		out.Translations = map[string]protocol.Translation{}
		for lang, t := range p.Translations {
			out.Translations[lang] = protocol.Translation{Title: s.text("translations."+lang+".title", t.Title),
				Summary: s.text("translations."+lang+".summary", t.Summary)}
		}
	}
	// What changed in an adaptation is free text like any other; the
	// link to the adapted practice is a CID and passes as it is.
	for i, a := range p.AdaptedFrom {
		out.AdaptedFrom = append(out.AdaptedFrom, protocol.Adaptation{Practice: a.Practice,
			Changes: s.text(fmt.Sprintf("adapted_from.%d.changes", i), a.Changes)})
	}
	// A link the gate had to alter is no longer a usable URL: drop it.
	links := out.Links[:0]
	for i, l := range out.Links {
		if l == p.Links[i] {
			links = append(links, l)
		}
	}
	out.Links = links
	return &out, s.report(), nil
}

// gateLesson returns the public form of a lesson.
func (n *Node) gateLesson(l *protocol.Lesson, rv Review) (*protocol.Lesson, GateReport, error) {
	s, err := n.newScrubber(rv, l.Language)
	if err != nil {
		return nil, GateReport{}, err
	}
	out := protocol.Lesson{Insight: s.text("insight", l.Insight), Context: s.text("context", l.Context),
		Stage: l.Stage, Language: l.Language, Region: l.Region, Country: l.Country}
	return &out, s.report(), nil
}
