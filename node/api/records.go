// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livinglab/livinglab/node"
)

// Media types of a record's raw forms.
const (
	// MediaDAGCBOR is a record's body: the exact bytes its CID addresses.
	MediaDAGCBOR = "application/vnd.ipld.dag-cbor"
	// MediaEnvelope is the signed envelope {body, sig} as it travels
	// between nodes.
	MediaEnvelope = "application/vnd.livinglab.envelope+cbor"
	// MediaCAR is an offline bundle.
	MediaCAR = "application/vnd.ipld.car"
	// SignatureHeader carries, with a raw body, the author's Ed25519
	// signature (standard padded base64) over the signing prefix and the
	// body.
	SignatureHeader = "X-Livinglab-Signature"
)

// negotiate picks the answer's media type from an Accept header among
// offers (the first is the default). It returns "" when the header names
// none of them and allows no wildcard.
func negotiate(accept string, offers ...string) string {
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		cand := ""
		for _, o := range offers {
			if mt == o || mt == "*/*" || (strings.HasSuffix(mt, "/*") && strings.HasPrefix(o, strings.TrimSuffix(mt, "*"))) {
				cand = o
				break
			}
		}
		if cand != "" && q > bestQ {
			best, bestQ = cand, q
		}
	}
	return best
}

// record answers GET /api/v1/records/{cid}: the JSON view by default, the
// body as DAG-CBOR or the whole envelope when the Accept header asks.
func (s *server) record(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Accept")
	mt := negotiate(r.Header.Get("Accept"), "application/json", MediaDAGCBOR, MediaEnvelope)
	if mt == "" {
		writeErr(w, http.StatusNotAcceptable, "not_acceptable",
			fmt.Sprintf("records are served as application/json, %s (the body) or %s (the signed envelope); Accept: %q names none",
				MediaDAGCBOR, MediaEnvelope, r.Header.Get("Accept")))
		return
	}
	if mt == "application/json" {
		s.recordView(w, r)
		return
	}
	c, err := pathCID(r)
	if err != nil {
		writeError(w, err)
		return
	}
	b, err := s.svc.RecordBlock(c)
	if err != nil {
		writeError(w, err)
		return
	}
	etag := `"` + c.String() + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age=29030400, immutable")
	w.Header().Set(SignatureHeader, base64.StdEncoding.EncodeToString(b.Sig))
	w.Header().Set("X-Livinglab-Kind", string(b.Kind))
	if inm := r.Header.Get("If-None-Match"); inm != "" && (strings.Contains(inm, etag) || strings.TrimSpace(inm) == "*") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := b.Body
	if mt == MediaEnvelope {
		body = b.Envelope
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.String()+".bin"))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// bundleExport streams an offline bundle (GET /api/v1/bundle?topic=&since=).
func (s *server) bundleExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownParams(w, q, "bundle", "topic", "since") {
		return
	}
	o := node.BundleOptions{Topic: q.Get("topic")}
	if v := q.Get("since"); v != "" {
		t, err := parseDate(v)
		if err != nil {
			writeError(w, err)
			return
		}
		o.Since = t
	}
	b, err := s.svc.Bundle(o)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", MediaCAR+"; version=1")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "livinglab-"+b.Root().String()+".car"))
	w.Header().Set("X-Livinglab-Bundle-Root", b.Root().String())
	if err := b.WriteCAR(r.Context(), w); err != nil {
		// The status is sent: the truncated stream is what tells the
		// receiver, whose import refuses a bundle missing any block.
		s.svc.Logger().Error("bundle export failed", "err", err)
	}
}

// parseDate reads an RFC 3339 time or a YYYY-MM-DD date (UTC midnight).
func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: since must be a date (2026-05-01) or an RFC 3339 time, got %q", node.ErrBadRequest, v)
}

// bundleImport verifies and stores an offline bundle (POST /api/v1/bundle,
// the CAR file as the body).
func (s *server) bundleImport(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != MediaCAR {
		writeError(w, fmt.Errorf("%w: send the bundle as Content-Type: %s (got %q)", errMediaType, MediaCAR, r.Header.Get("Content-Type")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, node.MaxBundleBytes)
	rep, err := s.svc.ImportBundle(r.Context(), r.Body)
	answer(w, http.StatusOK, rep, err)
}
