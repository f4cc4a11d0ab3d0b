// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/livinglab/livinglab/node"
)

// knownParams answers 400 and returns false when the query holds a
// parameter other than known; what names the request in the message.
func knownParams(w http.ResponseWriter, q url.Values, what string, known ...string) bool {
	for k := range q {
		if !slices.Contains(known, k) {
			writeErr(w, http.StatusBadRequest, "bad_request",
				fmt.Sprintf("unknown %s parameter %q (%s)", what, k, strings.Join(known, ", ")))
			return false
		}
	}
	return true
}

// catalog answers GET /api/v1/catalog: the public practices as a DCAT-AP
// 3.0 catalogue in JSON-LD. base (default: this request's host) is the
// public URL the catalogue's links start with.
func (s *server) catalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownParams(w, q, "catalogue", "topic", "base") {
		return
	}
	base := q.Get("base")
	if base == "" {
		base = "http://" + r.Host
	}
	c, err := s.svc.Catalog(node.CatalogQuery{Base: base, Topic: q.Get("topic")})
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/ld+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(c)
}

// transfers answers GET /api/v1/transfers: which practices were adapted
// by which, and how many travelled between each pair of regions.
func (s *server) transfers(w http.ResponseWriter, r *http.Request) {
	t, err := s.svc.Transfers()
	answer(w, http.StatusOK, t, err)
}

// adaptations answers GET /api/v1/practices/{cid}/adaptations.
func (s *server) adaptations(w http.ResponseWriter, r *http.Request) {
	byCID(w, r, s.svc.Adaptations)
}
