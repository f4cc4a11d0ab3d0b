// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzRoutes are the API endpoints that decode a request body.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/practices?dry_run=true"},
	{"PUT", "/api/v1/lab/stages"},
	{"POST", "/api/v1/lab/initiatives"},
	{"PUT", "/api/v1/lab/initiatives/fuzz"},
	{"POST", "/api/v1/lab/stakeholders"},
	{"POST", "/api/v1/lab/activities"},
	{"PUT", "/api/v1/lab/activities/fuzz"},
	{"POST", "/api/v1/lab/evaluations"},
	{"POST", "/api/v1/lab/lessons"},
	{"POST", "/api/v1/lab/lessons/fuzz/publish"},
	{"POST", "/api/v1/drafts"},
	{"PUT", "/api/v1/drafts/fuzz"},
	{"POST", "/api/v1/drafts/fuzz/preview"},
	{"POST", "/api/v1/drafts/fuzz/approve"},
	{"POST", "/api/v1/drafts/fuzz/publish"},
}

// FuzzAPIBody sends arbitrary bodies to every API endpoint that reads one,
// on a node with a real store: each must be answered with a 2xx or a 4xx
// and a JSON error, never a panic or a 500.
func FuzzAPIBody(f *testing.F) {
	api := newLabAPI(f)
	const bound = "127.0.0.1:1"
	h, token := api.h, api.token

	seeds := []string{
		`{"practice":{"title":"Village transport","summary":"Shared rides.","language":"en"},"topics":["transport"]}`,
		`{"practice":{"title":"Call Anna Svensson on +46 70 123 45 67","summary":"x","language":"sv"},"topics":["transport"]}`,
		`{"title":"Digital inclusion","stage":3,"topics":["elderly-care"]}`,
		`{"name":"Library","role":"public body","contact":"anna@example.org","phone":"+358 40 123 4567"}`,
		`{"counts":{"participants":12},"date":"2026-05-01","initiative":"x"}`,
		`{"stages":["one","two"]}`, `{"role":"member"}`, `{"hash":"abc","rev":1}`,
		`{"practice":{"title":"` + strings.Repeat("a", 5000) + `"}}`,
		`[]`, `null`, `{}`, `{"a":`, "\x00\xff", `{"practice":{"stage":-1,"topics":[1,2]}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(rt.method, "http://"+bound+rt.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, w.Code, w.Body.String())
		}
		if w.Code >= 400 && !strings.Contains(w.Header().Get("Content-Type"), "json") {
			t.Fatalf("%s %s: error %d without a JSON body: %q", rt.method, rt.path, w.Code, w.Body.String())
		}
	})
}
