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
	mux.HandleFunc("GET /debug/pprof/", s.tokenOnly("profiles need", pprof.Index))
	mux.HandleFunc("GET /debug/pprof/cmdline", s.tokenOnly("profiles need", pprof.Cmdline))
	mux.HandleFunc("GET /debug/pprof/profile", s.tokenOnly("profiles need", pprof.Profile))
	mux.HandleFunc("GET /debug/pprof/symbol", s.tokenOnly("profiles need", pprof.Symbol))
	mux.HandleFunc("GET /debug/pprof/trace", s.tokenOnly("profiles need", pprof.Trace))
}
