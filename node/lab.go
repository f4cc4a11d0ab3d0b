// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// The region's private lab data (initiatives, stakeholders, activities,
// evaluations, lessons, stages) and the drafts that turn it into public
// practices. Nothing here leaves the node except through PublishPractice and
// PublishLesson, behind the anonymisation gate.

// labPublishMu serialises approving and publishing drafts and lessons, so
// that one approval publishes once.
var labPublishMu sync.Mutex

// ConflictError is a request that contradicts the node's current state.
type ConflictError struct{ Code, Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// LabKind is one kind of private lab entity as the node serves it: its
// declaration (fields, which are personal, route) and the five operations
// every kind has, so a front end serves them all with one implementation.
// Entities travel as pointers to the kind's Go type (New, Get, Put) and
// lists as slices of it.
type LabKind struct {
	k  knowledge.LabKind
	st *knowledge.Store
}

// Decl is the kind's declaration.
func (l LabKind) Decl() *knowledge.Kind { return l.k.Decl() }

// New returns a pointer to a new, empty entity of the kind.
func (l LabKind) New() any { return l.k.New() }

// List lists the kind's entities, those of one initiative if given.
func (l LabKind) List(initiative string) (any, error) { return l.k.Query(l.st, initiative) }

// Get returns an entity.
func (l LabKind) Get(id string) (any, error) { return l.k.Find(l.st, id) }

// Put stores v (from New or Get) as a new entity (id "") or as entity id.
func (l LabKind) Put(v any, id string) (any, error) { return l.k.Store(l.st, v, id) }

// Delete removes an entity; cascade also removes what depends on it.
func (l LabKind) Delete(id string, cascade bool) error { return l.k.Remove(l.st, id, cascade) }

// LabKinds returns every kind of lab entity the node keeps.
func (n *Node) LabKinds() []LabKind {
	var out []LabKind
	for _, k := range knowledge.LabKinds() {
		out = append(out, LabKind{k: k, st: n.store})
	}
	return out
}

// Stages returns the lab's names of the innovation stages.
func (n *Node) Stages() ([]knowledge.Stage, error) { return n.store.Stages() }

// SetStages replaces the lab's names of the innovation stages.
func (n *Node) SetStages(st []knowledge.Stage) error { return n.store.SetStages(st) }

// ExportLab writes every private lab entity as one JSON document; without
// personal, the fields each kind declares personal are left out.
func (n *Node) ExportLab(w io.Writer, personal bool) error { return n.store.ExportLab(w, personal) }

// ---- drafts ----

// DraftPreview is exactly what publishing a draft would send, what the
// anonymisation gate did to it and the names it is unsure of.
type DraftPreview struct {
	Draft string `json:"draft"`
	Rev   int    `json:"rev"`
	// Practice and Topics are the public content exactly as it would
	// leave: every finding redacted and, unless confirmed, every uncertain
	// name too.
	Practice protocol.Practice `json:"practice"`
	Topics   []string          `json:"topics"`
	// Report lists every redaction; its candidates are the uncertain names
	// awaiting a decision (confirm to keep, redact to remove).
	Report GateReport `json:"report"`
	// Hash is the hex SHA-256 of the public bytes: what an approval names.
	Hash      string   `json:"hash"`
	Confirmed []string `json:"confirmed"`
	Redact    []string `json:"redact"`
	// Approved is true when the draft's approval covers exactly this.
	Approved bool `json:"approved"`
}

// draftInput turns a draft into publish input. A draft published before
// becomes a new version of the latest version held.
func (n *Node) draftInput(d *knowledge.Draft) PracticeInput {
	p := d.Public()
	if d.Published != "" {
		if c, err := cid.Decode(d.Published); err == nil && n.store.Has(c) {
			for range 10000 {
				next, ok := n.store.SupersededBy(c)
				if !ok || !n.store.Has(next) {
					break
				}
				c = next
			}
			p.Supersedes = c.String()
		}
	}
	return PracticeInput{Practice: p, Topics: slices.Clone(d.Topics)}
}

// previewDraft computes what publishing d with the given decisions would
// send, through the one publish path in dry-run mode.
func (n *Node) previewDraft(ctx context.Context, d *knowledge.Draft, confirmed, redact []string) (*DraftPreview, error) {
	in := n.draftInput(d)
	open, err := n.PublishPractice(ctx, in, Review{Confirmed: confirmed, Redact: redact, FailClosed: false}, true)
	if err != nil {
		return nil, err
	}
	out := open
	if len(open.Report.Candidates) > 0 {
		// Publishing fails closed: undecided names are redacted too.
		if out, err = n.PublishPractice(ctx, in, Review{Confirmed: confirmed, Redact: redact, FailClosed: true}, true); err != nil {
			return nil, err
		}
	}
	hash, err := knowledge.PublicHash(out.Practice, out.Topics)
	if err != nil {
		return nil, err
	}
	report := out.Report
	report.Candidates = open.Report.Candidates
	if report.Findings == nil {
		report.Findings = []GateFinding{}
	}
	if report.Candidates == nil {
		report.Candidates = []GateCandidate{}
	}
	return &DraftPreview{Draft: d.ID, Rev: d.Rev, Practice: out.Practice, Topics: out.Topics, Report: report, Hash: hash,
		Confirmed: nonNil(confirmed), Redact: nonNil(redact), Approved: d.Approval != nil && d.Approval.Hash == hash}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// CreateDraft assembles a new draft from an initiative's lab data.
func (n *Node) CreateDraft(initiative string) (*knowledge.Draft, error) {
	initiative = strings.TrimSpace(initiative)
	if initiative == "" {
		return nil, fmt.Errorf("%w: initiative is required: the ID of the initiative to assemble a draft from", ErrBadRequest)
	}
	d, err := n.store.AssembleDraft(initiative)
	if errors.Is(err, knowledge.ErrNotFound) {
		err = fmt.Errorf("%w: initiative: there is no initiative %q", ErrBadRequest, initiative)
	}
	if err != nil {
		return nil, err
	}
	return knowledge.Drafts.Put(n.store, *d)
}

// DraftDecisions are a reviewer's decisions on uncertain names.
type DraftDecisions struct {
	Confirmed []string `json:"confirmed"` // nil: the draft's stored decisions
	Redact    []string `json:"redact"`
}

func (dd DraftDecisions) apply(d *knowledge.Draft) (confirmed, redact []string) {
	confirmed, redact = d.Confirmed, d.Redact
	if dd.Confirmed != nil {
		confirmed = knowledge.TrimList(dd.Confirmed)
	}
	if dd.Redact != nil {
		redact = knowledge.TrimList(dd.Redact)
	}
	return confirmed, redact
}

// PreviewDraft shows what publishing the draft would send with the given
// decisions (nil lists: the draft's stored ones).
func (n *Node) PreviewDraft(ctx context.Context, id string, dd DraftDecisions) (*DraftPreview, error) {
	d, err := knowledge.Drafts.Get(n.store, id)
	if err != nil {
		return nil, err
	}
	conf, red := dd.apply(d)
	return n.previewDraft(ctx, d, conf, red)
}

// ApproveRequest approves the previewed public content of a draft.
type ApproveRequest struct {
	Hash string `json:"hash"`
	DraftDecisions
	By string `json:"by"` // who reviewed it (kept locally)
}

// ApproveDraft approves a draft's public content, named by the hash of
// its preview; a draft changed since that preview is refused.
func (n *Node) ApproveDraft(ctx context.Context, id string, req ApproveRequest) (*DraftPreview, error) {
	req.Hash = strings.ToLower(strings.TrimSpace(req.Hash))
	if req.Hash == "" {
		return nil, fmt.Errorf("%w: hash is required: preview the draft and approve the hash the preview shows", ErrBadRequest)
	}
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	d, err := knowledge.Drafts.Get(n.store, id)
	if err != nil {
		return nil, err
	}
	conf, red := req.apply(d)
	pv, err := n.previewDraft(ctx, d, conf, red)
	if err != nil {
		return nil, err
	}
	changed := &ConflictError{Code: "draft_changed", Msg: "the draft changed since the preview: what would leave is no longer what was previewed; preview it again and approve the new hash"}
	if pv.Hash != req.Hash {
		return nil, changed
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "api"
	}
	if _, err := n.store.ApproveDraft(d.ID, d.Rev, conf, red, knowledge.Approval{Hash: pv.Hash, By: by}); err != nil {
		if errors.Is(err, knowledge.ErrConflict) {
			err = changed
		}
		return nil, err
	}
	pv.Approved = true
	n.log.Info("approved draft", "draft", d.ID, "hash", pv.Hash)
	return pv, nil
}

// PublishDraft publishes an approved draft, if what would leave is still
// exactly what was approved.
func (n *Node) PublishDraft(ctx context.Context, id string) (*Published, error) {
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	d, err := knowledge.Drafts.Get(n.store, id)
	if err != nil {
		return nil, err
	}
	if d.Approval == nil {
		return nil, &ConflictError{Code: "not_approved", Msg: fmt.Sprintf("draft %s is not approved: it was never approved, "+
			"or it was edited after its approval; preview it and approve the previewed hash. Nothing was published.", d.ID)}
	}
	pv, err := n.previewDraft(ctx, d, d.Confirmed, d.Redact)
	if err != nil {
		return nil, err
	}
	if pv.Hash != d.Approval.Hash {
		return nil, &ConflictError{Code: "draft_changed", Msg: fmt.Sprintf("the draft changed after it was approved: "+
			"what would leave (hash %s) is no longer what was approved (hash %s). Nothing was published; preview and approve it again.",
			pv.Hash, d.Approval.Hash)}
	}
	out, err := n.PublishPractice(ctx, n.draftInput(d), Review{Confirmed: d.Confirmed, Redact: d.Redact, FailClosed: true}, false)
	if err != nil {
		return nil, err
	}
	if h, _ := knowledge.PublicHash(out.Practice, out.Topics); h != d.Approval.Hash {
		n.log.Error("published practice differs from the approved preview", "draft", d.ID, "cid", out.CID, "hash", h, "approved", d.Approval.Hash)
	}
	if _, err := n.store.MarkDraftPublished(d.ID, out.CID); err != nil {
		n.log.Error("record the draft's publication", "draft", d.ID, "cid", out.CID, "err", err)
	}
	return out, nil
}

// ---- lessons ----

// PublishedLesson is the outcome of publishing a lesson.
type PublishedLesson struct {
	CID    string          `json:"cid"`
	Report GateReport      `json:"report"`
	DryRun bool            `json:"dry_run"`
	Lesson protocol.Lesson `json:"lesson"` // exactly as it leaves (or would leave)
	Topics []string        `json:"topics"`
}

// publicLesson returns the public form of a lesson: region and country
// from the config, insight and context scrubbed by the anonymisation gate
// (failing closed), validated.
func (n *Node) publicLesson(l protocol.Lesson) (*protocol.Lesson, GateReport, error) {
	cfg := n.Config()
	l.Region, l.Country = cfg.Region, cfg.Country
	clean, report, err := n.gateLesson(&l, Review{FailClosed: true})
	if err != nil {
		return nil, GateReport{}, err
	}
	if err := clean.Validate(); err != nil {
		return nil, report, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return clean, report, nil
}

// PublishLesson runs a lesson through the anonymisation gate, signs it and
// publishes it to its topic.
func (n *Node) PublishLesson(ctx context.Context, l protocol.Lesson, topic string) (*protocol.Signed, GateReport, error) {
	topics, err := normaliseTopics([]string{topic})
	if err != nil {
		return nil, GateReport{}, err
	}
	clean, report, err := n.publicLesson(l)
	if err != nil {
		return nil, report, err
	}
	rec, err := n.signAndStore(clean, topics)
	if err != nil {
		return nil, report, err
	}
	n.stats.published.Inc()
	n.broadcast(ctx, rec)
	n.log.Info("published lesson", "cid", rec.CID, "topic", topics[0], "redactions", len(report.Findings))
	return rec, report, nil
}

// PublishLabLesson publishes the lab's lesson id (or, with dryRun, shows
// what would leave) to its topic or its initiative's first topic.
func (n *Node) PublishLabLesson(ctx context.Context, id string, dryRun bool) (*PublishedLesson, error) {
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	les, err := knowledge.Lessons.Get(n.store, id)
	if err != nil {
		return nil, err
	}
	if les.Published != "" && !dryRun {
		if c, err := cid.Decode(les.Published); err == nil && n.store.Has(c) {
			return nil, &ConflictError{Code: "already_published", Msg: fmt.Sprintf("lesson %s is already published as %s; "+
				"to change it, retract that record and publish the lesson again", les.ID, les.Published)}
		}
	}
	topic := les.Topic
	if topic == "" && les.InitiativeID != "" {
		if ini, err := knowledge.Initiatives.Get(n.store, les.InitiativeID); err == nil && len(ini.Topics) > 0 {
			topic = ini.Topics[0]
		}
	}
	if topic == "" {
		return nil, fmt.Errorf("%w: topic: lesson %s has no topic (nor has its initiative); set one first", ErrBadRequest, les.ID)
	}
	pl := protocol.Lesson{Insight: les.Insight, Context: les.Context, Stage: les.Stage, Language: les.Language}
	if dryRun {
		if _, err := normaliseTopics([]string{topic}); err != nil {
			return nil, err
		}
		clean, report, err := n.publicLesson(pl)
		if err != nil {
			return nil, err
		}
		return &PublishedLesson{Report: report, DryRun: true, Lesson: *clean, Topics: []string{topic}}, nil
	}
	rec, report, err := n.PublishLesson(ctx, pl, topic)
	if err != nil {
		return nil, err
	}
	out := &PublishedLesson{CID: rec.CID.String(), Report: report, Topics: rec.Record.Topics}
	if p, err := rec.Record.DecodePayload(); err == nil {
		if l, ok := p.(*protocol.Lesson); ok {
			out.Lesson = *l
		}
	}
	if _, err := n.store.MarkLessonPublished(les.ID, out.CID); err != nil {
		n.log.Error("record the lesson's publication", "lesson", les.ID, "cid", out.CID, "err", err)
	}
	return out, nil
}
