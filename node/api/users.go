// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"errors"
	"net/http"

	"github.com/livinglab/livinglab/knowledge"
)

// tokenOnly serves h to requests that carry the API token; a signed-in
// session is not enough. what starts the refusal: "managing accounts needs".
func (s *server) tokenOnly(what string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !tokensEqual(bearer(r), s.token) {
			writeErr(w, http.StatusUnauthorized, "unauthorised", what+" the API token (Authorization: Bearer TOKEN; the token is in the home's api.token)")
			return
		}
		h(w, r)
	}
}

// mountUsers adds /api/v1/users, the web UI's accounts. Managing accounts
// needs the API token: a signed-in session is not enough.
func (s *server) mountUsers(mux *http.ServeMux) {
	tokenOnly := func(h http.HandlerFunc) http.HandlerFunc { return s.tokenOnly("managing accounts needs", h) }
	// A session keeps the rights it was checked with per request, but a
	// changed or removed account should sign in again all the same.
	endSessions := func(name string, err error) error {
		if err == nil && s.ui != nil {
			s.ui.EndSessions(name)
		}
		return err
	}
	mux.HandleFunc("GET /api/v1/users", tokenOnly(func(w http.ResponseWriter, r *http.Request) {
		out, err := s.svc.Users()
		answer(w, http.StatusOK, out, err)
	}))
	mux.HandleFunc("POST /api/v1/users", tokenOnly(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name     string `json:"name"`
			Password string `json:"password"`
			Role     string `json:"role,omitempty"`
		}
		if !readBody(w, r, &req, 16<<10) {
			return
		}
		err := s.svc.AddUserRole(req.Name, req.Password, req.Role)
		userAnswer(w, http.StatusCreated, map[string]string{"name": req.Name}, err)
	}))
	mux.HandleFunc("PUT /api/v1/users/{name}/role", tokenOnly(userChange(4<<10, func(name string, req struct {
		Role string `json:"role"`
	}) (map[string]string, error) {
		return map[string]string{"name": name, "role": req.Role}, endSessions(name, s.svc.SetUserRole(name, req.Role))
	})))
	mux.HandleFunc("PUT /api/v1/users/{name}/password", tokenOnly(userChange(16<<10, func(name string, req struct {
		Password string `json:"password"`
	}) (map[string]string, error) {
		return map[string]string{"name": name}, endSessions(name, s.svc.SetPassword(name, req.Password))
	})))
	mux.HandleFunc("DELETE /api/v1/users/{name}", tokenOnly(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		err := endSessions(name, s.svc.DeleteUser(name))
		userAnswer(w, http.StatusOK, map[string]string{"removed": name}, err)
	}))
}

// userChange serves a change to the account named in the path: the JSON
// body (at most limit bytes) read into a Req, then change, which answers
// what the reply says of the account.
func userChange[Req any](limit int64, change func(name string, req Req) (map[string]string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if !readBody(w, r, &req, limit) {
			return
		}
		reply, err := change(r.PathValue("name"), req)
		userAnswer(w, http.StatusOK, reply, err)
	}
}

func userAnswer(w http.ResponseWriter, status int, v any, err error) {
	if errors.Is(err, knowledge.ErrExists) {
		writeErr(w, http.StatusConflict, "exists", err.Error())
		return
	}
	answer(w, status, v, err)
}
