// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// The region's private lab data and its drafts: every kind of lab entity
// the node declares is served by the one generic implementation in
// mountKind, at /api/v1/ and the kind's route.

// mountLab adds the private lab data routes.
func (s *server) mountLab(handle func(string, http.HandlerFunc)) {
	create := map[string]http.HandlerFunc{"drafts": s.createDraft}
	for _, k := range s.svc.LabKinds() {
		s.mountKind(handle, k, create[k.Decl().Route])
	}
	handle("POST /api/v1/lab/lessons/{id}/publish", s.publishLesson)
	handle("GET /api/v1/lab/stages", s.stages)
	handle("PUT /api/v1/lab/stages", s.setStages)
	handle("GET /api/v1/lab/export", s.labExport)

	handle("POST /api/v1/drafts/{id}/preview", s.previewDraft)
	handle("POST /api/v1/drafts/{id}/approve", s.approveDraft)
	handle("POST /api/v1/drafts/{id}/publish", s.publishDraft)
}

// mountKind adds list and create on the kind's route, and get, update and
// delete on its /{id}. An update replaces the top-level fields present in
// the body and keeps the others. create, if set, replaces the plain create
// handler.
func (s *server) mountKind(handle func(string, http.HandlerFunc), kind node.LabKind, create http.HandlerFunc) {
	base := "/api/v1/" + kind.Decl().Route
	handle("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		out, err := kind.List(r.URL.Query().Get("initiative"))
		answer(w, http.StatusOK, out, err)
	})
	if create == nil {
		create = func(w http.ResponseWriter, r *http.Request) {
			v := kind.New()
			if err := s.readBody(w, r, v, false); err != nil {
				writeError(w, err)
				return
			}
			out, err := kind.Put(v, "")
			answer(w, http.StatusCreated, out, err)
		}
	}
	handle("POST "+base, create)
	handle("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		out, err := kind.Get(r.PathValue("id"))
		answer(w, http.StatusOK, out, err)
	})
	handle("PUT "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		cur, err := kind.Get(id)
		if err != nil {
			writeError(w, err)
			return
		}
		b, err := readAll(w, r, s.svc.RequestLimit())
		if err != nil {
			writeError(w, err)
			return
		}
		v, err := overlay(kind.New, cur, b)
		if err != nil {
			writeError(w, err)
			return
		}
		out, err := kind.Put(v, id)
		answer(w, http.StatusOK, out, err)
	})
	handle("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		cascade, err := boolParam(r, "cascade", false)
		if err != nil {
			writeError(w, err)
			return
		}
		id := r.PathValue("id")
		err = kind.Delete(id, cascade)
		answer(w, http.StatusOK, map[string]string{"deleted": id}, err)
	})
}

// overlay returns a new entity: the stored entity cur with the top-level
// fields of the JSON object b in place of its own. b is decoded strictly
// first, so an unknown field or a wrong type is refused.
func overlay(newV func() any, cur any, b []byte) (any, error) {
	if err := unmarshalStrict(b, newV()); err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("%w: invalid JSON: %v", node.ErrBadRequest, err)
	}
	cb, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(cb, &merged); err != nil {
		return nil, err
	}
	for k, f := range fields {
		merged[k] = f
	}
	mb, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	v := newV()
	return v, json.Unmarshal(mb, v)
}

// boolParam reads a true/false query parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%w: %s=%q, want true or false", node.ErrBadRequest, name, v)
	}
}

// readAll reads a request body up to limit bytes.
func readAll(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading the body: %v", node.ErrBadRequest, err)
	}
	return b, nil
}

// unmarshalStrict decodes one JSON value with no unknown fields into v
// (keeping the fields of v the body does not name).
func unmarshalStrict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("%w: empty body, expected JSON", node.ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON: %v", node.ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", node.ErrBadRequest)
	}
	return nil
}

// readBody decodes a JSON body into v; an empty body is an error unless
// optional.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	b, err := readAll(w, r, s.svc.RequestLimit())
	if err != nil {
		return err
	}
	if optional && len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return unmarshalStrict(b, v)
}

func (s *server) stages(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Stages()
	answer(w, http.StatusOK, st, err)
}

func (s *server) setStages(w http.ResponseWriter, r *http.Request) {
	withBody(s, http.StatusOK, false, func(_ *http.Request, st []knowledge.Stage) (any, error) {
		if err := s.svc.SetStages(st); err != nil {
			return nil, err
		}
		return s.svc.Stages()
	})(w, r)
}

func (s *server) labExport(w http.ResponseWriter, r *http.Request) {
	personal, err := boolParam(r, "personal", true)
	if err != nil {
		writeError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := s.svc.ExportLab(&buf, personal); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="livinglab-lab-data.json"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// withBody returns a handler that decodes the JSON body (which may be
// empty if optional) into a T and answers with status and what do returns.
func withBody[T any](s *server, status int, optional bool, do func(r *http.Request, req T) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if err := s.readBody(w, r, &req, optional); err != nil {
			writeError(w, err)
			return
		}
		out, err := do(r, req)
		answer(w, status, out, err)
	}
}

type draftRequest struct {
	Initiative string `json:"initiative"`
}

func (s *server) createDraft(w http.ResponseWriter, r *http.Request) {
	withBody(s, http.StatusCreated, false, func(_ *http.Request, req draftRequest) (any, error) {
		return s.svc.CreateDraft(req.Initiative)
	})(w, r)
}

func (s *server) previewDraft(w http.ResponseWriter, r *http.Request) {
	withBody(s, http.StatusOK, true, func(r *http.Request, req node.DraftDecisions) (any, error) {
		return s.svc.PreviewDraft(r.Context(), r.PathValue("id"), req)
	})(w, r)
}

func (s *server) approveDraft(w http.ResponseWriter, r *http.Request) {
	withBody(s, http.StatusOK, false, func(r *http.Request, req node.ApproveRequest) (any, error) {
		return s.svc.ApproveDraft(r.Context(), r.PathValue("id"), req)
	})(w, r)
}

func (s *server) publishDraft(w http.ResponseWriter, r *http.Request) {
	out, err := s.svc.PublishDraft(r.Context(), r.PathValue("id"))
	answer(w, http.StatusCreated, out, err)
}

func (s *server) publishLesson(w http.ResponseWriter, r *http.Request) {
	dryRun := r.URL.Query().Get("dry_run") == "true"
	out, err := s.svc.PublishLabLesson(r.Context(), r.PathValue("id"), dryRun)
	status := http.StatusCreated
	if dryRun {
		status = http.StatusOK
	}
	answer(w, status, out, err)
}
