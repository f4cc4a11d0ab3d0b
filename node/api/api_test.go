// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// fakeNode is the service with what these tests need; any other method
// panics (the nil embedded interface), which the handler answers with 500.
type fakeNode struct {
	Service
	published []node.PracticeInput
	err       error // what Practice and PublishPractice return
	observed  []string
}

func (f *fakeNode) APIToken() (string, error) { return "secret", nil }
func (f *fakeNode) Logger() *slog.Logger      { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (f *fakeNode) Metrics() http.Handler     { return http.NotFoundHandler() }
func (f *fakeNode) Config() node.Config       { return node.DefaultConfig() }
func (f *fakeNode) RequestLimit() int64       { return 1 << 20 }
func (f *fakeNode) Health() node.Health       { return node.Health{Status: "ok", PeerID: "12D3Koo"} }
func (f *fakeNode) ObserveRequest(p string, status int, _ time.Duration) {
	f.observed = append(f.observed, fmt.Sprintf("%s %d", p, status))
}
func (f *fakeNode) Practice(c cid.Cid) (*node.PracticeView, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &node.PracticeView{CID: c.String(), Practice: protocol.Practice{Title: "Village transport"}}, nil
}
func (f *fakeNode) PublishPractice(_ context.Context, in node.PracticeInput, rv node.Review, dryRun bool) (*node.Published, error) {
	if !rv.FailClosed {
		return nil, errors.New("a practice sent in one step must fail closed")
	}
	if f.err != nil {
		return nil, f.err
	}
	f.published = append(f.published, in)
	return &node.Published{DryRun: dryRun}, nil
}
func (f *fakeNode) LabKinds() []node.LabKind { return nil }

// fakeUI vouches for requests that carry the cookie "signed-in".
type fakeUI struct{ ended []string }

func (u *fakeUI) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home page") })
}
func (u *fakeUI) SessionUser(r *http.Request) (string, bool) {
	c, err := r.Cookie("session")
	if err != nil || (r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != "csrf") {
		return "", false
	}
	switch c.Value {
	case "signed-in":
		return "aino", true
	case "champion":
		return "sean", true
	}
	return "", false
}
func (u *fakeUI) EndSessions(user string) { u.ended = append(u.ended, user) }

const bound = "127.0.0.1:7777"

func testCID() cid.Cid {
	h, err := multihash.Sum([]byte("a practice"), multihash.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

func send(h http.Handler, method, target, host, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e APIError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error answer %d is not JSON: %q", rec.Code, rec.Body.String())
	}
	return e.Code
}

// The API checks Host, then the token or the session (with its CSRF token
// for a change), and sets the security headers on every answer.
func TestHostAndAuthorisation(t *testing.T) {
	f, ui := &fakeNode{}, &fakeUI{}
	h := Handler(f, bound, ui)
	const practice = `{"title":"Village transport","topics":["transport"]}`
	c := testCID().String()

	if rec := send(h, "GET", "/api/v1/health", "evil.example:7777", ""); rec.Code != 403 || errorCode(t, rec) != "bad_host" {
		t.Fatalf("foreign Host: %d %s", rec.Code, rec.Body)
	}
	for _, host := range []string{bound, "localhost:7777", "[::1]:7777"} {
		if rec := send(h, "GET", "/api/v1/health", host, ""); rec.Code != 200 {
			t.Fatalf("health with Host %s: %d", host, rec.Code)
		}
	}
	rec := send(h, "GET", "/api/v1/practices/"+c, bound, "")
	if rec.Code != 401 || rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Content-Security-Policy") == "" {
		t.Fatalf("no credentials: %d, headers %v", rec.Code, rec.Header())
	}
	if rec := send(h, "GET", "/api/v1/practices/"+c, bound, "", "Authorization", "Bearer wrong"); rec.Code != 401 {
		t.Fatalf("wrong token: %d", rec.Code)
	}
	if rec := send(h, "GET", "/api/v1/practices/"+c, bound, "", "X-API-Key", "secret"); rec.Code != 200 {
		t.Fatalf("token as X-API-Key: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/api/v1/practices/"+c, bound, "", "Cookie", "session=signed-in"); rec.Code != 200 {
		t.Fatalf("session read: %d", rec.Code)
	}
	if rec := send(h, "POST", "/api/v1/practices", bound, practice, "Cookie", "session=signed-in"); rec.Code != 401 || len(f.published) != 0 {
		t.Fatalf("session write without CSRF token: %d, published %d", rec.Code, len(f.published))
	}
	if rec := send(h, "POST", "/api/v1/practices", bound, practice, "Cookie", "session=signed-in", "X-CSRF-Token", "csrf"); rec.Code != 201 || len(f.published) != 1 {
		t.Fatalf("session write with CSRF token: %d %s", rec.Code, rec.Body)
	}
	if f.published[0].Topics[0] != "transport" || f.published[0].Practice.Title != "Village transport" {
		t.Fatalf("published %+v", f.published[0])
	}
	if rec := send(h, "GET", "/", bound, ""); rec.Code != 200 || rec.Body.String() != "home page" {
		t.Fatalf("the UI's page: %d %q", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/api/v1/nothing", bound, "", "Authorization", "Bearer secret"); rec.Code != 404 || errorCode(t, rec) != "not_found" {
		t.Fatalf("unknown endpoint: %d %s", rec.Code, rec.Body)
	}
	if len(f.observed) == 0 || f.observed[0] != "GET /api/v1/health 200" {
		t.Fatalf("requests observed: %v", f.observed)
	}
}

// Every error of the service comes back with its status and code.
func TestErrorAnswers(t *testing.T) {
	c := testCID()
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("get: %w", knowledge.ErrNotFound), 404, "not_found"},
		{&node.RetractedError{CID: c, Reason: "duplicate"}, 410, "retracted"},
		{&node.ConflictError{Code: "draft_changed", Msg: "changed"}, 409, "draft_changed"},
		{fmt.Errorf("%w: no title", node.ErrBadRequest), 400, "bad_request"},
		{node.ErrForbidden, 403, "forbidden"},
		{fmt.Errorf("sign: %w", node.ErrPublishLimit), 429, "publish_limit"},
		{node.ErrNotInFederation, 409, "not_in_federation"},
		{errors.New("disk on fire"), 500, "internal"},
	} {
		f := &fakeNode{err: tc.err}
		h := Handler(f, bound, nil)
		rec := send(h, "GET", "/api/v1/practices/"+c.String(), bound, "", "Authorization", "Bearer secret")
		if rec.Code != tc.status || errorCode(t, rec) != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, rec.Code, rec.Body, tc.status, tc.code)
		}
		if tc.status == 429 && rec.Header().Get("Retry-After") == "" {
			t.Errorf("publishing limit without Retry-After")
		}
	}
	h := Handler(&fakeNode{}, bound, nil)
	if rec := send(h, "GET", "/api/v1/practices/not-a-cid", bound, "", "Authorization", "Bearer secret"); rec.Code != 400 {
		t.Errorf("bad CID: %d", rec.Code)
	}
	if rec := send(h, "POST", "/api/v1/practices", bound, `{"title":"x","extra":1}`, "Authorization", "Bearer secret"); rec.Code != 400 {
		t.Errorf("unknown field: %d %s", rec.Code, rec.Body)
	}
	// A JSON endpoint takes JSON only, in UTF-8: a text/plain or form body
	// is what a cross-site form can send, and invalid UTF-8 would be
	// replaced silently and signed.
	valid := `{"title":"Village transport","summary":"s","language":"en","topics":["transport"]}`
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
		if rec := send(h, "POST", "/api/v1/practices", bound, valid, "Authorization", "Bearer secret", "Content-Type", ct); rec.Code != 415 || errorCode(t, rec) != "unsupported_media_type" {
			t.Errorf("Content-Type %s: %d %s", ct, rec.Code, rec.Body)
		}
	}
	if rec := send(h, "POST", "/api/v1/practices", bound, "{\"title\":\"Caf\xe9\",\"summary\":\"s\",\"language\":\"en\",\"topics\":[\"transport\"]}",
		"Authorization", "Bearer secret"); rec.Code != 400 || !strings.Contains(rec.Body.String(), "UTF-8") {
		t.Errorf("invalid UTF-8: %d %s", rec.Code, rec.Body)
	}
	for _, host := range []string{"LOCALHOST:7777", "LocalHost", strings.ToUpper(bound)} {
		if rec := send(h, "GET", "/api/v1/health", host, ""); rec.Code != 200 {
			t.Errorf("Host %s: %d", host, rec.Code)
		}
	}
}

func (f *fakeNode) UserRole(name string) (string, error) {
	switch name {
	case "aino":
		return "admin", nil
	case "sean":
		return "champion", nil
	}
	return "", knowledge.ErrNotFound
}

func (f *fakeNode) WriteBackup(w io.Writer, since uint64) (node.BackupManifest, error) {
	io.WriteString(w, "archive")
	return node.BackupManifest{}, nil
}

// A champion works with the knowledge; what can take over or change the
// node itself (a backup holds its identity) is for administrators and the
// API token.
func TestRoles(t *testing.T) {
	f := &fakeNode{}
	h := Handler(f, bound, &fakeUI{})
	champion := []string{"Cookie", "session=champion", "X-CSRF-Token", "csrf"}
	admin := []string{"Cookie", "session=signed-in", "X-CSRF-Token", "csrf"}
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/backup", ""},
		{"POST", "/api/v1/invites", "{}"},
		{"DELETE", "/api/v1/members/12D3KooWExample", ""},
		{"POST", "/api/v1/join", `{"token":"llinv1.x"}`},
		{"POST", "/api/v1/reindex", ""},
		{"POST", "/api/v1/check", ""},
	} {
		if rec := send(h, rt.method, rt.path, bound, rt.body, champion...); rec.Code != 403 || errorCode(t, rec) != "forbidden" {
			t.Errorf("champion %s %s: %d %s", rt.method, rt.path, rec.Code, rec.Body)
		}
	}
	if rec := send(h, "POST", "/api/v1/check", bound, "", admin...); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"records": 7`) {
		t.Errorf("administrator's check: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/api/v1/backup", bound, "", admin...); rec.Code != 200 {
		t.Errorf("administrator's backup: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/api/v1/backup", bound, "", "Authorization", "Bearer secret"); rec.Code != 200 {
		t.Errorf("backup with the API token: %d %s", rec.Code, rec.Body)
	}
	practice := `{"title":"Village transport","summary":"s","language":"en","topics":["transport"]}`
	if rec := send(h, "POST", "/api/v1/practices", bound, practice, champion...); rec.Code != 201 {
		t.Errorf("a champion publishes: %d %s", rec.Code, rec.Body)
	}
}

func (f *fakeNode) Scrub(ctx context.Context, progress func(done, total int)) (knowledge.CheckReport, error) {
	return knowledge.CheckReport{Records: 7, Problems: []knowledge.Problem{}}, nil
}
