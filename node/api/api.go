// SPDX-License-Identifier: EUPL-1.2

// Package api serves the node's HTTP API, /api/v1: its routes, the API
// token and session authorisation, the CSRF check of session requests, the
// Host check against DNS rebinding and the security headers of every
// answer (the web UI's pages included, which it mounts on the same mux).
//
// It owns the HTTP side only: every handler is a call to the node's service
// API, the Service interface, which *node.Node implements. It may import
// node, knowledge (types and errors) and protocol; never Badger, libp2p or
// the node's store, roster or network.
package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// Service is the node as the API uses it; *node.Node implements it.
type Service interface {
	Health() node.Health
	Identity() node.Identity
	Status() node.Status
	Config() node.Config
	Logger() *slog.Logger
	APIToken() (string, error)
	RequestLimit() int64
	Metrics() http.Handler
	ObserveRequest(pattern string, status int, d time.Duration)

	Members(all bool) []node.MemberView
	RemoveMember(ctx context.Context, id string, retractAll bool) (*protocol.Signed, error)
	Invite() (string, time.Time, error)
	Join(ctx context.Context, token string) error
	Subscribe(ctx context.Context, topic string) error
	Unsubscribe(topic string) error

	Practices(q node.PracticeQuery) ([]*node.PracticeView, error)
	Practice(c cid.Cid) (*node.PracticeView, error)
	History(c cid.Cid) ([]*node.PracticeView, error)
	Record(c cid.Cid) (*protocol.Signed, error)
	RecordBlock(c cid.Cid) (*node.RecordBlock, error)
	Bundle(o node.BundleOptions) (*node.Bundle, error)
	ImportBundle(ctx context.Context, r io.Reader) (*node.BundleReport, error)
	Catalog(q node.CatalogQuery) (map[string]any, error)
	Transfers() (*node.TransferMap, error)
	Adaptations(c cid.Cid) (*node.Adaptations, error)
	PublishPractice(ctx context.Context, in node.PracticeInput, rv node.Review, dryRun bool) (*node.Published, error)
	Retract(ctx context.Context, c cid.Cid, reason string) (*protocol.Signed, error)
	Search(ctx context.Context, q search.Query, networkWide bool) (*node.SearchResult, error)
	Reindex(progress func(done, total int)) error
	Scrub(ctx context.Context, progress func(done, total int)) (knowledge.CheckReport, error)
	IndexCount() uint64
	WriteBackup(w io.Writer, since uint64) (node.BackupManifest, error)

	LabKinds() []node.LabKind
	Stages() ([]knowledge.Stage, error)
	SetStages([]knowledge.Stage) error
	ExportLab(w io.Writer, personal bool) error
	CreateDraft(initiative string) (*knowledge.Draft, error)
	PreviewDraft(ctx context.Context, id string, dd node.DraftDecisions) (*node.DraftPreview, error)
	ApproveDraft(ctx context.Context, id string, req node.ApproveRequest) (*node.DraftPreview, error)
	PublishDraft(ctx context.Context, id string) (*node.Published, error)
	PublishLabLesson(ctx context.Context, id string, dryRun bool) (*node.PublishedLesson, error)

	Users() ([]node.UserView, error)
	AddUser(name, password string) error
	AddUserRole(name, password, role string) error
	SetUserRole(name, role string) error
	UserRole(name string) (string, error)
	SetPassword(name, password string) error
	DeleteUser(name string) error
}

// UI is the web UI as the API meets it: it mounts its pages on the same
// mux, vouches for signed-in browser sessions and ends a user's sessions
// when the account changes.
type UI interface {
	Mount(mux *http.ServeMux)
	// SessionUser names the account of the request's signed-in session,
	// if it carries one (and, for a request that changes state, the
	// session's CSRF token).
	SessionUser(r *http.Request) (string, bool)
	EndSessions(user string)
}

// server is the API of one node.
type server struct {
	svc   Service
	ui    UI
	token string
}

// Handler serves the API, and ui's pages if ui is not nil, for a node
// listening on bound.
func Handler(svc Service, bound string, ui UI) http.Handler {
	token, _ := svc.APIToken()
	s := &server{svc: svc, ui: ui, token: token}
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.auth(h)) }
	// What can take over or change the node itself is for administrators
	// (and the API token): backups hold the node's identity.
	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.admin(h)) }

	mux.HandleFunc("GET /api/v1/health", s.health)
	mux.Handle("GET /metrics", svc.Metrics())
	handle("GET /api/v1/id", s.id)
	handle("GET /api/v1/status", s.status)
	handle("GET /api/v1/members", s.members)
	admin("DELETE /api/v1/members/{id}", s.removeMember)
	admin("POST /api/v1/invites", s.invite)
	admin("POST /api/v1/join", s.join)
	handle("GET /api/v1/topics", s.topics)
	handle("PUT /api/v1/topics/{name}", s.subscribe)
	handle("DELETE /api/v1/topics/{name}", s.unsubscribe)
	handle("GET /api/v1/practices", s.listPractices)
	handle("POST /api/v1/practices", s.publish)
	handle("GET /api/v1/practices/{cid}", s.showPractice)
	handle("GET /api/v1/practices/{cid}/history", s.history)
	handle("POST /api/v1/practices/{cid}/retract", s.retract)
	handle("GET /api/v1/records/{cid}", s.record)
	handle("GET /api/v1/search", s.search)
	admin("POST /api/v1/reindex", s.reindex)
	admin("POST /api/v1/check", s.check)
	admin("GET /api/v1/backup", s.backup)
	admin("GET /api/v1/bundle", s.bundleExport)
	admin("POST /api/v1/bundle", s.bundleImport)
	handle("GET /api/v1/export", s.export)
	handle("GET /api/v1/catalog", s.catalog)
	handle("GET /api/v1/transfers", s.transfers)
	handle("GET /api/v1/practices/{cid}/adaptations", s.adaptations)
	s.mountLab(handle)
	s.mountUsers(mux)
	s.mountDebug(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	if ui != nil {
		ui.Mount(mux)
	}

	log := svc.Logger()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, bound) {
			writeErr(w, http.StatusForbidden, "bad_host", "Host header "+strconv.Quote(r.Host)+" is not this node's address")
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		defer func() {
			if rec := recover(); rec != nil {
				log.Error("API handler panic", "path", r.URL.Path, "panic", rec)
				writeErr(sw, http.StatusInternalServerError, "internal", "internal error")
			}
			_, pattern := mux.Handler(r)
			svc.ObserveRequest(pattern, sw.code, time.Since(start))
		}()
		mux.ServeHTTP(sw, r)
	})
}

// APIError is the JSON body of every error answer.
type APIError = node.APIError

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, APIError{Error: msg, Code: code})
}

// writeError maps an error to an HTTP status.
func writeError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	var ce *node.ConflictError
	var re *node.RetractedError
	switch {
	case errors.As(err, &mbe):
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", mbe.Limit))
	case errors.Is(err, errMediaType):
		writeErr(w, http.StatusUnsupportedMediaType, "unsupported_media_type", err.Error())
	case errors.As(err, &ce):
		writeErr(w, http.StatusConflict, ce.Code, ce.Msg)
	case errors.As(err, &re):
		writeErr(w, http.StatusGone, "retracted", re.Error())
	case errors.Is(err, knowledge.ErrConflict):
		writeErr(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, knowledge.ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, node.ErrForbidden), errors.Is(err, protocol.ErrNotAuthorised):
		writeErr(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, node.ErrBadRequest), errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrMissing),
		errors.Is(err, protocol.ErrBadInvite), errors.Is(err, protocol.ErrTooLarge), errors.Is(err, knowledge.ErrInvalid):
		writeErr(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, node.ErrPublishLimit):
		// The limit counts records by minute of signing time: room comes
		// back when the minute turns (perhaps not enough; then again).
		w.Header().Set("Retry-After", strconv.Itoa(60-time.Now().Second()))
		writeErr(w, http.StatusTooManyRequests, "publish_limit", err.Error())
	case errors.Is(err, node.ErrNotInFederation):
		writeErr(w, http.StatusConflict, "not_in_federation", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeErr(w, http.StatusGatewayTimeout, "timeout", err.Error())
	default:
		writeErr(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// answer writes v with status, or the error.
func answer(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, status, v)
}

// decodeBody reads a JSON body strictly: size limit, no unknown fields.
// readBody decodes the request body into v as decodeBody does; when that
// fails it answers with the error and returns false.
func readBody(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if err := decodeBody(w, r, v, limit); err != nil {
		writeError(w, err)
		return false
	}
	return true
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body, expected JSON", node.ErrBadRequest)
	}
	if err := jsonContentType(r); err != nil {
		return err
	}
	// encoding/json would replace invalid UTF-8 by U+FFFD without a word,
	// and the altered text would be signed and published.
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the body is not valid UTF-8", node.ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: empty body, expected JSON", node.ErrBadRequest)
		}
		return fmt.Errorf("%w: invalid JSON: %v", node.ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", node.ErrBadRequest)
	}
	return nil
}

// errMediaType is a request body that is not declared as JSON.
var errMediaType = errors.New("unsupported media type")

// jsonContentType requires a JSON endpoint's body to say it is JSON: a
// form or text/plain body is what a cross-site form can send without the
// browser asking first.
func jsonContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("%w: send the body as Content-Type: application/json (got %q)", errMediaType, ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return fmt.Errorf("%w: JSON bodies are UTF-8 (got charset %q)", errMediaType, cs)
	}
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// hostAllowed protects against DNS rebinding: only loopback names and the
// bound address are accepted as Host.
func hostAllowed(host, bound string) bool {
	// Host names compare without regard to case (RFC 4343).
	host, bound = strings.ToLower(host), strings.ToLower(bound)
	if host == bound {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	bh, _, _ := net.SplitHostPort(bound)
	return h == bh && bh != "" && bh != "0.0.0.0" && bh != "::"
}

// bearer is the API token a request carries, "" if none.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	return r.Header.Get("X-API-Key")
}

func tokensEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// auth lets a request through with the API token or a signed-in session.
func (s *server) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.caller(r); !ok {
			writeErr(w, http.StatusUnauthorized, "unauthorised", "missing or wrong API token (send Authorization: Bearer TOKEN; the token is in the home's api.token) or sign in")
			return
		}
		h(w, r)
	})
}

// admin is auth for what only administrators may do.
func (s *server) admin(h http.HandlerFunc) http.Handler {
	return s.auth(func(w http.ResponseWriter, r *http.Request) {
		if role, _ := s.caller(r); role != string(knowledge.RoleAdmin) {
			writeErr(w, http.StatusForbidden, "forbidden", "this needs an administrator's account (or the API token): backups, invites, joining, removing members and reindexing change or expose the node itself")
			return
		}
		h(w, r)
	})
}

// caller is the role of the request's credentials: the API token is the
// node's administrator; a signed-in session has its account's role.
func (s *server) caller(r *http.Request) (role string, ok bool) {
	if tokensEqual(bearer(r), s.token) {
		return string(knowledge.RoleAdmin), true
	}
	if s.ui == nil {
		return "", false
	}
	user, ok := s.ui.SessionUser(r)
	if !ok {
		return "", false
	}
	role, err := s.svc.UserRole(user)
	if err != nil {
		// The account was removed while its session lived.
		return "", false
	}
	return role, true
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Health())
}

func (s *server) id(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Identity())
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Status())
}

func (s *server) members(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Members(r.URL.Query().Get("all") == "true"))
}

func (s *server) removeMember(w http.ResponseWriter, r *http.Request) {
	rec, err := s.svc.RemoveMember(r.Context(), r.PathValue("id"), r.URL.Query().Get("retract_all") == "true")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"cid": rec.CID.String(), "removed": r.PathValue("id")})
}

func (s *server) invite(w http.ResponseWriter, r *http.Request) {
	tok, exp, err := s.svc.Invite()
	answer(w, http.StatusCreated, map[string]any{"token": tok, "expires": exp.UTC()}, err)
}

func (s *server) join(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if !readBody(w, r, &req, 16<<10) {
		return
	}
	if err := s.svc.Join(r.Context(), req.Token); err != nil {
		if !errors.Is(err, protocol.ErrBadInvite) {
			err = fmt.Errorf("%w: %v", node.ErrBadRequest, err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"federation": s.svc.Config().Federation.Name, "members": len(s.svc.Members(false))})
}

func (s *server) topicList() []string {
	if ts := s.svc.Config().Topics; ts != nil {
		return ts
	}
	return []string{}
}

func (s *server) topics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.topicList())
}

func (s *server) subscribe(w http.ResponseWriter, r *http.Request) {
	err := s.svc.Subscribe(r.Context(), r.PathValue("name"))
	answer(w, http.StatusOK, s.topicList(), err)
}

func (s *server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	err := s.svc.Unsubscribe(r.PathValue("name"))
	answer(w, http.StatusOK, s.topicList(), err)
}

func (s *server) listPractices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	topic := q.Get("topic")
	if topic != "" {
		if err := protocol.ValidTopic(topic); err != nil {
			writeError(w, fmt.Errorf("%w: %v", node.ErrBadRequest, err))
			return
		}
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 100000 {
			writeErr(w, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 100000")
			return
		}
		limit = l
	}
	out, err := s.svc.Practices(node.PracticeQuery{Topic: topic, Limit: limit, All: q.Get("all") == "true", Author: q.Get("author")})
	answer(w, http.StatusOK, out, err)
}

func pathCID(r *http.Request) (cid.Cid, error) {
	c, err := cid.Decode(r.PathValue("cid"))
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q is not a CID", node.ErrBadRequest, r.PathValue("cid"))
	}
	return c, nil
}

// byCID answers with what get returns for the request's {cid}.
func byCID[T any](w http.ResponseWriter, r *http.Request, get func(cid.Cid) (T, error)) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := get(c)
	answer(w, http.StatusOK, v, err)
}

func (s *server) showPractice(w http.ResponseWriter, r *http.Request) { byCID(w, r, s.svc.Practice) }

func (s *server) history(w http.ResponseWriter, r *http.Request) { byCID(w, r, s.svc.History) }

func (s *server) recordView(w http.ResponseWriter, r *http.Request) {
	byCID(w, r, func(c cid.Cid) (map[string]any, error) {
		rec, err := s.svc.Record(c)
		if err != nil {
			return nil, err
		}
		p, _ := rec.Record.DecodePayload()
		return map[string]any{"cid": rec.CID.String(), "kind": rec.Record.Kind, "author": rec.Record.Author,
			"seq": rec.Record.Seq, "prev": rec.Record.Prev, "created": rec.Record.CreatedTime(), "topics": rec.Record.Topics,
			"federation": rec.Record.Federation, "payload": p}, nil
	})
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	var in node.PracticeInput
	if !readBody(w, r, &in, int64(s.svc.Config().Limits.MaxRequestKB)<<10) {
		return
	}
	// A complete practice submitted in one step fails closed: every
	// finding and every uncertain name is redacted, except what the
	// submitter decided to keep (and with what it asked to redact).
	out, err := s.svc.PublishPractice(r.Context(), in, node.Review{Confirmed: in.Keep, Redact: in.Redact, FailClosed: true},
		r.URL.Query().Get("dry_run") == "true")
	status := http.StatusCreated
	if out != nil && out.DryRun {
		status = http.StatusOK
	}
	answer(w, status, out, err)
}

func (s *server) retract(w http.ResponseWriter, r *http.Request) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if !readBody(w, r, &req, 16<<10) {
		return
	}
	rec, err := s.svc.Retract(r.Context(), c, req.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"retracted": c.String(), "tombstone": rec.CID.String()})
}

// check runs the daemon's integrity scan now and repairs what it can from
// the members (what the daily scrub does).
func (s *server) check(w http.ResponseWriter, r *http.Request) {
	rep, err := s.svc.Scrub(r.Context(), nil)
	answer(w, http.StatusOK, rep, err)
}

func (s *server) reindex(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if err := s.svc.Reindex(nil); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": s.svc.IndexCount(), "took": time.Since(start).Round(time.Millisecond).String()})
}
