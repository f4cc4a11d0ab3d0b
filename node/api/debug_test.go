// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"strings"
	"testing"
)

// The runtime's profiles answer to the API token only: a signed-in web
// session, even an administrator's, gets 401.
func TestProfilesNeedTheToken(t *testing.T) {
	h := Handler(&fakeNode{}, bound, &fakeUI{})
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1"} {
		if rec := send(h, "GET", path, bound, ""); rec.Code != 401 || errorCode(t, rec) != "unauthorised" {
			t.Fatalf("%s without credentials: %d %s", path, rec.Code, rec.Body)
		}
		if rec := send(h, "GET", path, bound, "", "Cookie", "session=signed-in"); rec.Code != 401 {
			t.Fatalf("%s with a session: %d", path, rec.Code)
		}
		if rec := send(h, "GET", path, "evil.example:7777", "", "Authorization", "Bearer secret"); rec.Code != 403 {
			t.Fatalf("%s with a foreign Host: %d", path, rec.Code)
		}
	}
	rec := send(h, "GET", "/debug/pprof/goroutine?debug=1", bound, "", "Authorization", "Bearer secret")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine profile:") {
		t.Fatalf("goroutine profile with the token: %d %.200s", rec.Code, rec.Body)
	}
	rec = send(h, "GET", "/debug/pprof/heap", bound, "", "Authorization", "Bearer secret")
	if rec.Code != 200 || rec.Body.Len() == 0 {
		t.Fatalf("heap profile with the token: %d", rec.Code)
	}
}
