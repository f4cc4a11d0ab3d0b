// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// Pages that change or read the node's data (the lab, drafts, publishing)
// go through the node's own API in-process, as programs do.

// call runs one request against the node's API in-process, with the API
// token. An error answer comes back as *APIErrorResponse.
func (u *webUI) call(ctx context.Context, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req := httptest.NewRequestWithContext(ctx, method, path, &body)
	req.Header.Set("Authorization", "Bearer "+u.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	u.api.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		var e node.APIError
		if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
			e = node.APIError{Error: strings.TrimSpace(rec.Body.String()), Code: http.StatusText(rec.Code)}
		}
		if rec.Code == http.StatusNotFound && e.Code == "not_found" && strings.HasPrefix(e.Error, "no such API endpoint") {
			e.Error = "no lab data API" // shown as error.no_lab_api
		}
		return &node.APIErrorResponse{Status: rec.Code, APIError: e}
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// get fetches an API path into out for a page; when that fails it answers
// with the error page and returns false.
func (u *webUI) get(w http.ResponseWriter, r *http.Request, path string, out any) bool {
	if err := u.call(r.Context(), "GET", path, nil, out); err != nil {
		u.errorPage(w, r, apiStatus(err), apiMessage(err))
		return false
	}
	return true
}

// confirmed reports whether the form confirms a deletion. Until it does,
// it fetches the subject from path into v and shows the confirmation page
// that ask describes, with a delete button posting back to this path.
func (u *webUI) confirmed(w http.ResponseWriter, r *http.Request, path string, v any, ask func() confirmData) bool {
	if r.PostForm.Get("confirm") == "yes" {
		return true
	}
	if u.get(w, r, path, v) {
		d := ask()
		d.Button, d.Action = u.tr(r).T("confirm.delete_button"), r.URL.Path
		u.confirm(w, r, d)
	}
	return false
}

// apiStatus returns the HTTP status of an error of call.
func apiStatus(err error) int {
	var ae *node.APIErrorResponse
	if errors.As(err, &ae) {
		return ae.Status
	}
	return http.StatusInternalServerError
}

// apiMessage returns what to tell the person of an error of call: the
// API's message without the error class it starts with.
func apiMessage(err error) string {
	var ae *node.APIErrorResponse
	if errors.As(err, &ae) {
		msg := ae.APIError.Error
		if msg == "no lab data API" {
			if c, _ := loadCatalogue(); c != nil {
				return tr{lang: "en", c: c}.T("error.no_lab_api")
			}
		}
		for _, p := range []error{node.ErrBadRequest, knowledge.ErrInvalid, node.ErrForbidden} {
			msg = strings.TrimPrefix(msg, p.Error()+": ")
		}
		return msg
	}
	return err.Error()
}
