package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// conflictError is a request that contradicts the current state (409).
type conflictError struct{ code, msg string }

func (e *conflictError) Error() string { return e.msg }

func writeLabError(w http.ResponseWriter, err error) {
	var ce *conflictError
	switch {
	case errors.As(err, &ce):
		writeErr(w, http.StatusConflict, ce.code, ce.msg)
	case errors.Is(err, knowledge.ErrConflict):
		writeErr(w, http.StatusConflict, "conflict", err.Error())
	default:
		writeError(w, err)
	}
}

// mountLabAPI adds the private lab data routes.
func (n *Node) mountLabAPI(handle func(string, http.HandlerFunc)) {
	st := n.store
	mountLab(n, handle, "/api/v1/lab/initiatives", labResource[knowledge.Initiative]{
		list:  func(string) ([]knowledge.Initiative, error) { return st.ListInitiatives() },
		get:   st.GetInitiative,
		put:   st.PutInitiative,
		del:   st.DeleteInitiative,
		setID: func(v *knowledge.Initiative, id string) { v.ID = id },
	})
	mountLab(n, handle, "/api/v1/lab/stakeholders", labResource[knowledge.Stakeholder]{
		list:  st.ListStakeholders,
		get:   st.GetStakeholder,
		put:   st.PutStakeholder,
		del:   func(id string, _ bool) error { return st.DeleteStakeholder(id) },
		setID: func(v *knowledge.Stakeholder, id string) { v.ID = id },
	})
	mountLab(n, handle, "/api/v1/lab/activities", labResource[knowledge.Activity]{
		list:  st.ListActivities,
		get:   st.GetActivity,
		put:   st.PutActivity,
		del:   func(id string, _ bool) error { return st.DeleteActivity(id) },
		setID: func(v *knowledge.Activity, id string) { v.ID = id },
		reset: func(v *knowledge.Activity, keys map[string]json.RawMessage) {
			if _, ok := keys["counts"]; ok {
				v.Counts = nil // replaced, not merged
			}
		},
	})
	mountLab(n, handle, "/api/v1/lab/evaluations", labResource[knowledge.Evaluation]{
		list:  st.ListEvaluations,
		get:   st.GetEvaluation,
		put:   st.PutEvaluation,
		del:   func(id string, _ bool) error { return st.DeleteEvaluation(id) },
		setID: func(v *knowledge.Evaluation, id string) { v.ID = id },
	})
	mountLab(n, handle, "/api/v1/lab/lessons", labResource[knowledge.DraftLesson]{
		list:  st.ListLessons,
		get:   st.GetLesson,
		put:   st.PutLesson,
		del:   func(id string, _ bool) error { return st.DeleteLesson(id) },
		setID: func(v *knowledge.DraftLesson, id string) { v.ID = id },
	})
	handle("POST /api/v1/lab/lessons/{id}/publish", n.apiPublishLesson)
	handle("GET /api/v1/lab/stages", n.apiStages)
	handle("PUT /api/v1/lab/stages", n.apiSetStages)
	handle("GET /api/v1/lab/export", n.apiLabExport)

	mountLab(n, handle, "/api/v1/drafts", labResource[knowledge.Draft]{
		list:   st.ListDrafts,
		get:    st.GetDraft,
		put:    st.PutDraft,
		del:    func(id string, _ bool) error { return st.DeleteDraft(id) },
		setID:  func(v *knowledge.Draft, id string) { v.ID = id },
		create: n.apiCreateDraft,
	})
	handle("POST /api/v1/drafts/{id}/preview", n.apiPreviewDraft)
	handle("POST /api/v1/drafts/{id}/approve", n.apiApproveDraft)
	handle("POST /api/v1/drafts/{id}/publish", n.apiPublishDraft)
}

// labResource is one kind of lab entity as the API serves it.
type labResource[T any] struct {
	list  func(initiative string) ([]T, error)
	get   func(id string) (*T, error)
	put   func(T) (*T, error)
	del   func(id string, cascade bool) error
	setID func(*T, string)
	// reset, if set, prepares a stored entity for an update with the
	// body's top-level keys (e.g. clears a map the body replaces).
	reset func(*T, map[string]json.RawMessage)
	// create, if set, replaces the plain create handler.
	create http.HandlerFunc
}

// mountLab adds list and create on base, and get, update and delete on
// base/{id}. An update changes the fields present in the body and keeps the
// others.
func mountLab[T any](n *Node, handle func(string, http.HandlerFunc), base string, res labResource[T]) {
	handle("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		out, err := res.list(strings.TrimSpace(r.URL.Query().Get("initiative")))
		if err != nil {
			writeLabError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	create := res.create
	if create == nil {
		create = func(w http.ResponseWriter, r *http.Request) {
			var v T
			if err := n.readLabBody(w, r, &v); err != nil {
				writeLabError(w, err)
				return
			}
			res.setID(&v, "")
			out, err := res.put(v)
			if err != nil {
				writeLabError(w, err)
				return
			}
			writeJSON(w, http.StatusCreated, out)
		}
	}
	handle("POST "+base, create)
	handle("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		out, err := res.get(r.PathValue("id"))
		if err != nil {
			writeLabError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	handle("PUT "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		cur, err := res.get(id)
		if err != nil {
			writeLabError(w, err)
			return
		}
		b, err := readBody(w, r, n.labBodyLimit())
		if err != nil {
			writeLabError(w, err)
			return
		}
		if res.reset != nil {
			var keys map[string]json.RawMessage
			if json.Unmarshal(b, &keys) == nil {
				res.reset(cur, keys)
			}
		}
		if err := unmarshalStrict(b, cur); err != nil {
			writeLabError(w, err)
			return
		}
		res.setID(cur, id)
		out, err := res.put(*cur)
		if err != nil {
			writeLabError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	handle("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		cascade := false
		if s := r.URL.Query().Get("cascade"); s != "" {
			switch s {
			case "true", "1":
				cascade = true
			case "false", "0":
			default:
				writeLabError(w, fmt.Errorf("%w: cascade=%q, want true or false", ErrBadRequest, s))
				return
			}
		}
		id := r.PathValue("id")
		if err := res.del(id, cascade); err != nil {
			writeLabError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"deleted": id})
	})
}

func (n *Node) labBodyLimit() int64 {
	kb := n.Config().Limits.MaxRequestKB
	if kb <= 0 {
		kb = 1024
	}
	return int64(kb) << 10
}

// readBody reads a request body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading the body: %v", ErrBadRequest, err)
	}
	return b, nil
}

// unmarshalStrict decodes one JSON value with no unknown fields into v
// (keeping the fields of v the body does not name).
func unmarshalStrict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("%w: empty body, expected JSON", ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrBadRequest)
	}
	return nil
}

// readLabBody decodes a required JSON body into v.
func (n *Node) readLabBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, n.labBodyLimit())
	if err != nil {
		return err
	}
	return unmarshalStrict(b, v)
}

// readOptionalBody decodes a JSON body into v if there is one.
func (n *Node) readOptionalBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, n.labBodyLimit())
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return unmarshalStrict(b, v)
}

func (n *Node) apiStages(w http.ResponseWriter, r *http.Request) {
	st, err := n.store.Stages()
	if err != nil {
		writeLabError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (n *Node) apiSetStages(w http.ResponseWriter, r *http.Request) {
	var st []knowledge.Stage
	if err := n.readLabBody(w, r, &st); err != nil {
		writeLabError(w, err)
		return
	}
	if err := n.store.SetStages(st); err != nil {
		writeLabError(w, err)
		return
	}
	n.apiStages(w, r)
}

func (n *Node) apiLabExport(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := n.store.ExportPrivate(&buf); err != nil {
		writeLabError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="livinglab-lab-data.json"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

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

// PublicHash is the hex SHA-256 of a practice's deterministic CBOR
// encoding followed by that of its topics.
func PublicHash(p protocol.Practice, topics []string) (string, error) {
	pb, err := protocol.Marshal(p)
	if err != nil {
		return "", err
	}
	tb, err := protocol.Marshal(topics)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(pb)
	h.Write(tb)
	return hex.EncodeToString(h.Sum(nil)), nil
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
	hash, err := PublicHash(out.Practice, out.Topics)
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

func (n *Node) apiCreateDraft(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Initiative string `json:"initiative"`
	}
	if err := n.readLabBody(w, r, &req); err != nil {
		writeLabError(w, err)
		return
	}
	if strings.TrimSpace(req.Initiative) == "" {
		writeLabError(w, fmt.Errorf("%w: initiative is required: the ID of the initiative to assemble a draft from", ErrBadRequest))
		return
	}
	d, err := n.store.AssembleDraft(strings.TrimSpace(req.Initiative))
	if errors.Is(err, knowledge.ErrNotFound) {
		err = fmt.Errorf("%w: initiative: there is no initiative %q", ErrBadRequest, req.Initiative)
	}
	if err != nil {
		writeLabError(w, err)
		return
	}
	if d, err = n.store.PutDraft(*d); err != nil {
		writeLabError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

// DraftDecisions are a reviewer's decisions on uncertain names.
type DraftDecisions struct {
	Confirmed []string `json:"confirmed"` // nil: the draft's stored decisions
	Redact    []string `json:"redact"`
}

func (dd DraftDecisions) apply(d *knowledge.Draft) (confirmed, redact []string) {
	confirmed, redact = d.Confirmed, d.Redact
	if dd.Confirmed != nil {
		confirmed = cleanNames(dd.Confirmed)
	}
	if dd.Redact != nil {
		redact = cleanNames(dd.Redact)
	}
	return confirmed, redact
}

func cleanNames(l []string) []string {
	out := []string{}
	for _, v := range l {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (n *Node) apiPreviewDraft(w http.ResponseWriter, r *http.Request) {
	var req DraftDecisions
	if err := n.readOptionalBody(w, r, &req); err != nil {
		writeLabError(w, err)
		return
	}
	d, err := n.store.GetDraft(r.PathValue("id"))
	if err != nil {
		writeLabError(w, err)
		return
	}
	conf, red := req.apply(d)
	pv, err := n.previewDraft(r.Context(), d, conf, red)
	if err != nil {
		writeLabError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pv)
}

// ApproveRequest approves the previewed public content of a draft.
type ApproveRequest struct {
	Hash string `json:"hash"`
	DraftDecisions
	By string `json:"by"` // who reviewed it (kept locally)
}

func (n *Node) apiApproveDraft(w http.ResponseWriter, r *http.Request) {
	var req ApproveRequest
	if err := n.readLabBody(w, r, &req); err != nil {
		writeLabError(w, err)
		return
	}
	req.Hash = strings.ToLower(strings.TrimSpace(req.Hash))
	if req.Hash == "" {
		writeLabError(w, fmt.Errorf("%w: hash is required: preview the draft and approve the hash the preview shows", ErrBadRequest))
		return
	}
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	d, err := n.store.GetDraft(r.PathValue("id"))
	if err != nil {
		writeLabError(w, err)
		return
	}
	conf, red := req.apply(d)
	pv, err := n.previewDraft(r.Context(), d, conf, red)
	if err != nil {
		writeLabError(w, err)
		return
	}
	changed := &conflictError{code: "draft_changed", msg: "the draft changed since the preview: what would leave is no longer what was previewed; preview it again and approve the new hash"}
	if pv.Hash != req.Hash {
		writeLabError(w, changed)
		return
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "api"
	}
	if _, err := n.store.ApproveDraft(d.ID, d.Rev, conf, red, knowledge.Approval{Hash: pv.Hash, By: by}); err != nil {
		if errors.Is(err, knowledge.ErrConflict) {
			err = changed
		}
		writeLabError(w, err)
		return
	}
	pv.Approved = true
	n.log.Info("approved draft", "draft", d.ID, "hash", pv.Hash)
	writeJSON(w, http.StatusOK, pv)
}

func (n *Node) apiPublishDraft(w http.ResponseWriter, r *http.Request) {
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	d, err := n.store.GetDraft(r.PathValue("id"))
	if err != nil {
		writeLabError(w, err)
		return
	}
	if d.Approval == nil {
		writeLabError(w, &conflictError{code: "not_approved", msg: fmt.Sprintf("draft %s is not approved: it was never approved, "+
			"or it was edited after its approval; preview it and approve the previewed hash. Nothing was published.", d.ID)})
		return
	}
	pv, err := n.previewDraft(r.Context(), d, d.Confirmed, d.Redact)
	if err != nil {
		writeLabError(w, err)
		return
	}
	if pv.Hash != d.Approval.Hash {
		writeLabError(w, &conflictError{code: "draft_changed", msg: fmt.Sprintf("the draft changed after it was approved: "+
			"what would leave (hash %s) is no longer what was approved (hash %s). Nothing was published; preview and approve it again.",
			pv.Hash, d.Approval.Hash)})
		return
	}
	out, err := n.PublishPractice(r.Context(), n.draftInput(d), Review{Confirmed: d.Confirmed, Redact: d.Redact, FailClosed: true}, false)
	if err != nil {
		writeLabError(w, err)
		return
	}
	if h, _ := PublicHash(out.Practice, out.Topics); h != d.Approval.Hash {
		n.log.Error("published practice differs from the approved preview", "draft", d.ID, "cid", out.CID, "hash", h, "approved", d.Approval.Hash)
	}
	if _, err := n.store.MarkDraftPublished(d.ID, out.CID); err != nil {
		n.log.Error("record the draft's publication", "draft", d.ID, "cid", out.CID, "err", err)
	}
	writeJSON(w, http.StatusCreated, out)
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

func (n *Node) apiPublishLesson(w http.ResponseWriter, r *http.Request) {
	dryRun := r.URL.Query().Get("dry_run") == "true"
	labPublishMu.Lock()
	defer labPublishMu.Unlock()
	les, err := n.store.GetLesson(r.PathValue("id"))
	if err != nil {
		writeLabError(w, err)
		return
	}
	if les.Published != "" && !dryRun {
		if c, err := cid.Decode(les.Published); err == nil && n.store.Has(c) {
			writeLabError(w, &conflictError{code: "already_published", msg: fmt.Sprintf("lesson %s is already published as %s; "+
				"to change it, retract that record and publish the lesson again", les.ID, les.Published)})
			return
		}
	}
	topic := les.Topic
	if topic == "" && les.InitiativeID != "" {
		if ini, err := n.store.GetInitiative(les.InitiativeID); err == nil && len(ini.Topics) > 0 {
			topic = ini.Topics[0]
		}
	}
	if topic == "" {
		writeLabError(w, fmt.Errorf("%w: topic: lesson %s has no topic (nor has its initiative); set one first", ErrBadRequest, les.ID))
		return
	}
	pl := protocol.Lesson{Insight: les.Insight, Context: les.Context, Stage: les.Stage, Language: les.Language}
	if dryRun {
		if _, err := normaliseTopics([]string{topic}); err != nil {
			writeLabError(w, err)
			return
		}
		clean, report, err := n.publicLesson(pl)
		if err != nil {
			writeLabError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, PublishedLesson{Report: report, DryRun: true, Lesson: *clean, Topics: []string{topic}})
		return
	}
	rec, report, err := n.PublishLesson(r.Context(), pl, topic)
	if err != nil {
		writeLabError(w, err)
		return
	}
	out := PublishedLesson{CID: rec.CID.String(), Report: report, Topics: rec.Record.Topics}
	if p, err := rec.Record.DecodePayload(); err == nil {
		if l, ok := p.(*protocol.Lesson); ok {
			out.Lesson = *l
		}
	}
	if _, err := n.store.MarkLessonPublished(les.ID, out.CID); err != nil {
		n.log.Error("record the lesson's publication", "lesson", les.ID, "cid", out.CID, "err", err)
	}
	writeJSON(w, http.StatusCreated, out)
}
