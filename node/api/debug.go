// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"net/http"
	"net/http/pprof"
)

// mountDebug serves the Go runtime's profiles under /debug/pprof/ (heap,
// goroutines, CPU, allocations), as kubo and Syncthing do, so that an
// operator can see where a running node spends its memory or CPU:
//
//	curl -H "Authorization: Bearer $(cat ~/.livinglab/api.token)" \
//	  http://127.0.0.1:4800/debug/pprof/heap > heap.pprof
//	go tool pprof heap.pprof
//
// Profiles name the node's internals and a CPU profile costs CPU while it
// runs, so they need the API token: a signed-in web session is not enough.
func (s *server) mountDebug(mux *http.ServeMux) {
	tokenOnly := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !tokensEqual(bearer(r), s.token) {
				writeErr(w, http.StatusUnauthorized, "unauthorised", "profiles need the API token (Authorization: Bearer TOKEN; the token is in the home's api.token)")
				return
			}
			h(w, r)
		})
	}
	mux.Handle("GET /debug/pprof/", tokenOnly(pprof.Index))
	mux.Handle("GET /debug/pprof/cmdline", tokenOnly(pprof.Cmdline))
	mux.Handle("GET /debug/pprof/profile", tokenOnly(pprof.Profile))
	mux.Handle("GET /debug/pprof/symbol", tokenOnly(pprof.Symbol))
	mux.Handle("GET /debug/pprof/trace", tokenOnly(pprof.Trace))
}
