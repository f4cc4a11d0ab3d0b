package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// APIError is the JSON body of every error answer.
type APIError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

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
	switch {
	case errors.As(err, &mbe):
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", mbe.Limit))
	case errors.Is(err, knowledge.ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrForbidden), errors.Is(err, protocol.ErrNotAuthorised):
		writeErr(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, ErrBadRequest), errors.Is(err, protocol.ErrInvalid), errors.Is(err, protocol.ErrMissing),
		errors.Is(err, protocol.ErrBadInvite), errors.Is(err, protocol.ErrTooLarge), errors.Is(err, knowledge.ErrInvalid):
		writeErr(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, ErrPublishLimit):
		// The limit counts records by minute of signing time: room comes
		// back when the minute turns (perhaps not enough; then again).
		w.Header().Set("Retry-After", strconv.Itoa(60-time.Now().Second()))
		writeErr(w, http.StatusTooManyRequests, "publish_limit", err.Error())
	case errors.Is(err, errNotInFederation):
		writeErr(w, http.StatusConflict, "not_in_federation", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeErr(w, http.StatusGatewayTimeout, "timeout", err.Error())
	default:
		writeErr(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// decodeBody reads a JSON body strictly: size limit, no unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: empty body, expected JSON", ErrBadRequest)
		}
		return fmt.Errorf("%w: invalid JSON: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrBadRequest)
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

func (n *Node) apiHandler(bound string) http.Handler {
	token, _ := n.home.LoadToken()
	mux := http.NewServeMux()
	auth := func(route string, h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !n.apiAuthorised(r, token) {
				writeErr(w, http.StatusUnauthorized, "unauthorised", "missing or wrong API token (send Authorization: Bearer TOKEN; the token is in the home's api.token) or sign in")
				return
			}
			h(w, r)
		})
	}
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, auth(pattern, h)) }

	mux.HandleFunc("GET /api/v1/health", n.apiHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.stats.reg, promhttp.HandlerOpts{}))
	handle("GET /api/v1/id", n.apiID)
	handle("GET /api/v1/status", n.apiStatus)
	handle("GET /api/v1/members", n.apiMembers)
	handle("DELETE /api/v1/members/{id}", n.apiRemoveMember)
	handle("POST /api/v1/invites", n.apiInvite)
	handle("POST /api/v1/join", n.apiJoin)
	handle("GET /api/v1/topics", n.apiTopics)
	handle("PUT /api/v1/topics/{name}", n.apiSubscribe)
	handle("DELETE /api/v1/topics/{name}", n.apiUnsubscribe)
	handle("GET /api/v1/practices", n.apiListPractices)
	handle("POST /api/v1/practices", n.apiPublish)
	handle("GET /api/v1/practices/{cid}", n.apiShowPractice)
	handle("GET /api/v1/practices/{cid}/history", n.apiHistory)
	handle("POST /api/v1/practices/{cid}/retract", n.apiRetract)
	handle("GET /api/v1/records/{cid}", n.apiRecord)
	handle("GET /api/v1/search", n.apiSearch)
	handle("POST /api/v1/reindex", n.apiReindex)
	handle("GET /api/v1/backup", n.apiBackup)
	handle("GET /api/v1/export", n.apiExport)
	n.mountLabAPI(handle)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	n.mountUI(mux)

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
				n.log.Error("API handler panic", "path", r.URL.Path, "panic", rec)
				writeErr(sw, http.StatusInternalServerError, "internal", "internal error")
			}
			_, pattern := mux.Handler(r)
			n.stats.apiLat.WithLabelValues(pattern, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		}()
		mux.ServeHTTP(sw, r)
	})
}

func (n *Node) apiAuthorised(r *http.Request, token string) bool {
	got := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else if h := r.Header.Get("X-API-Key"); h != "" {
		got = h
	}
	if got != "" && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
		return true
	}
	return n.sessionAuthorised(r)
}

// Health is the answer of /api/v1/health.
type Health struct {
	Status     string `json:"status"`
	PeerID     string `json:"peer_id"`
	Federation string `json:"federation"`
	Peers      int    `json:"peers"`
	Version    string `json:"version"`
}

func (n *Node) apiHealth(w http.ResponseWriter, r *http.Request) {
	h := Health{Status: "ok", PeerID: n.id.String(), Federation: n.Federation(), Version: Version}
	if nw := n.net; nw != nil {
		h.Peers = len(nw.host.Network().Peers())
	}
	writeJSON(w, http.StatusOK, h)
}

// Identity is the answer of /api/v1/id.
type Identity struct {
	PeerID     string   `json:"peer_id"`
	Region     string   `json:"region"`
	Country    string   `json:"country,omitempty"`
	Federation string   `json:"federation,omitempty"`
	Addrs      []string `json:"addrs"`
}

func (n *Node) apiID(w http.ResponseWriter, r *http.Request) {
	cfg := n.Config()
	writeJSON(w, http.StatusOK, Identity{PeerID: n.id.String(), Region: cfg.Region, Country: cfg.Country,
		Federation: cfg.Federation.Name, Addrs: nonNil(n.Addrs())})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (n *Node) apiMembers(w http.ResponseWriter, r *http.Request) {
	ms := n.roster.List(r.URL.Query().Get("all") == "true")
	type view struct {
		Member
		Connected bool `json:"connected"`
		Self      bool `json:"self"`
	}
	out := []view{}
	for _, m := range ms {
		v := view{Member: m, Self: m.PeerID == n.id.String()}
		if nw := n.net; nw != nil && !v.Self {
			for _, p := range nw.host.Network().Peers() {
				if p.String() == m.PeerID {
					v.Connected = true
				}
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) apiRemoveMember(w http.ResponseWriter, r *http.Request) {
	rec, err := n.RemoveMember(r.Context(), r.PathValue("id"), r.URL.Query().Get("retract_all") == "true")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"cid": rec.CID.String(), "removed": r.PathValue("id")})
}

func (n *Node) apiInvite(w http.ResponseWriter, r *http.Request) {
	tok, exp, err := n.Invite()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires": exp.UTC()})
}

func (n *Node) apiJoin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if err := decodeBody(w, r, &req, 16<<10); err != nil {
		writeError(w, err)
		return
	}
	if err := n.Join(r.Context(), req.Token); err != nil {
		if !errors.Is(err, protocol.ErrBadInvite) {
			err = fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		writeError(w, err)
		return
	}
	cfg := n.Config()
	writeJSON(w, http.StatusOK, map[string]any{"federation": cfg.Federation.Name, "members": len(n.roster.List(false))})
}

func (n *Node) apiTopics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(n.Config().Topics))
}

func (n *Node) apiSubscribe(w http.ResponseWriter, r *http.Request) {
	if err := n.Subscribe(r.Context(), r.PathValue("name")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNil(n.Config().Topics))
}

func (n *Node) apiUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := n.Unsubscribe(r.PathValue("name")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNil(n.Config().Topics))
}

// PracticeView is a practice as the API and CLI show it.
type PracticeView struct {
	CID string `json:"cid"`
	protocol.Practice
	Author       string    `json:"author"`
	Topics       []string  `json:"topics"`
	Created      time.Time `json:"created"`
	Seq          uint64    `json:"seq"`
	SupersededBy string    `json:"superseded_by,omitempty"`
}

// ViewPractice turns a stored practice record into its view.
func (n *Node) ViewPractice(rec *protocol.Signed) (*PracticeView, error) {
	p, err := rec.Record.DecodePayload()
	if err != nil {
		return nil, err
	}
	pr, ok := p.(*protocol.Practice)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a %s, not a practice", ErrBadRequest, rec.CID, rec.Record.Kind)
	}
	v := &PracticeView{CID: rec.CID.String(), Practice: *pr, Author: rec.Record.Author, Topics: rec.Record.Topics,
		Created: rec.Record.CreatedTime(), Seq: rec.Record.Seq}
	if v.Lessons == nil {
		v.Lessons = []string{}
	}
	if s, ok := n.store.SupersededBy(rec.CID); ok && n.store.Has(s) {
		v.SupersededBy = s.String()
	}
	return v, nil
}

func (n *Node) apiListPractices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	topic := q.Get("topic")
	if topic != "" {
		if err := protocol.ValidTopic(topic); err != nil {
			writeError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
			return
		}
	}
	limit := 0
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 100000 {
			writeErr(w, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 100000")
			return
		}
		limit = v
	}
	recs, err := n.store.List(knowledge.ListOptions{Kind: protocol.KindPractice, Topic: topic, Limit: limit,
		NewestFirst: true, IncludeOld: q.Get("all") == "true", Author: q.Get("author")})
	if err != nil {
		writeError(w, err)
		return
	}
	out := []*PracticeView{}
	for _, rec := range recs {
		if v, err := n.ViewPractice(rec); err == nil {
			out = append(out, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func pathCID(r *http.Request) (cid.Cid, error) {
	c, err := cid.Decode(r.PathValue("cid"))
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q is not a CID", ErrBadRequest, r.PathValue("cid"))
	}
	return c, nil
}

func (n *Node) apiShowPractice(w http.ResponseWriter, r *http.Request) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := n.store.Get(c)
	if err != nil {
		if t, terr := n.store.Tomb(c); terr == nil {
			writeErr(w, http.StatusGone, "retracted", fmt.Sprintf("%s was retracted: %s", c, t.Reason))
			return
		}
		writeError(w, err)
		return
	}
	v, err := n.ViewPractice(rec)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (n *Node) apiHistory(w http.ResponseWriter, r *http.Request) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := n.store.Get(c)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := n.ViewPractice(rec)
	if err != nil {
		writeError(w, err)
		return
	}
	pid := v.PracticeID
	if pid == "" {
		pid = v.CID
	}
	cids, err := n.store.Versions(pid)
	if err != nil {
		writeError(w, err)
		return
	}
	out := []*PracticeView{}
	for _, c := range cids {
		if rec, err := n.store.Get(c); err == nil {
			if v, err := n.ViewPractice(rec); err == nil {
				out = append(out, v)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) apiPublish(w http.ResponseWriter, r *http.Request) {
	var in PracticeInput
	if err := decodeBody(w, r, &in, int64(n.Config().Limits.MaxRequestKB)<<10); err != nil {
		writeError(w, err)
		return
	}
	// A complete practice submitted in one step fails closed: every
	// finding and every uncertain name is redacted.
	out, err := n.PublishPractice(r.Context(), in, Review{Confirmed: in.Keep, Redact: in.Redact, FailClosed: true},
		r.URL.Query().Get("dry_run") == "true")
	if err != nil {
		writeError(w, err)
		return
	}
	status := http.StatusCreated
	if out.DryRun {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

func (n *Node) apiRetract(w http.ResponseWriter, r *http.Request) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(w, r, &req, 16<<10); err != nil {
		writeError(w, err)
		return
	}
	rec, err := n.Retract(r.Context(), c, req.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"retracted": c.String(), "tombstone": rec.CID.String()})
}

func (n *Node) apiRecord(w http.ResponseWriter, r *http.Request) {
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := n.store.Get(c)
	if err != nil {
		writeError(w, err)
		return
	}
	p, _ := rec.Record.DecodePayload()
	writeJSON(w, http.StatusOK, map[string]any{"cid": rec.CID.String(), "kind": rec.Record.Kind, "author": rec.Record.Author,
		"seq": rec.Record.Seq, "prev": rec.Record.Prev, "created": rec.Record.CreatedTime(), "topics": rec.Record.Topics,
		"federation": rec.Record.Federation, "payload": p})
}

func (n *Node) apiReindex(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if err := n.Reindex(nil); err != nil {
		writeError(w, err)
		return
	}
	var c uint64
	if ix := n.searchIndex(); ix != nil {
		c, _ = ix.Count()
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": c, "took": time.Since(start).Round(time.Millisecond).String()})
}
