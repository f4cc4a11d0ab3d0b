// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/internal/testrec"
	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// recordsNode serves one sealed record.
type recordsNode struct {
	fakeNode
	rec *protocol.Signed
}

func (f *recordsNode) Record(c cid.Cid) (*protocol.Signed, error) {
	if !c.Equals(f.rec.CID) {
		return nil, knowledge.ErrNotFound
	}
	return f.rec, nil
}

func (f *recordsNode) RecordBlock(c cid.Cid) (*node.RecordBlock, error) {
	if !c.Equals(f.rec.CID) {
		return nil, knowledge.ErrNotFound
	}
	var env protocol.Envelope
	if err := protocol.Unmarshal(f.rec.Raw, &env); err != nil {
		return nil, err
	}
	return &node.RecordBlock{CID: c, Kind: f.rec.Record.Kind, Body: env.Body, Sig: env.Sig, Envelope: f.rec.Raw}, nil
}

func sealedPractice(t *testing.T) *protocol.Signed {
	t.Helper()
	r := protocol.Record{Kind: protocol.KindPractice, Federation: "improve", Seq: 1, Created: time.Now().UnixMilli(), Topics: []string{"mobility"}}
	return testrec.Seal(t, r, &protocol.Practice{Title: "Village bus", Summary: "On demand.", Language: "en", Version: 1}, testrec.Key(t))
}

// A record's raw forms: the body its CID addresses, with the signature in
// a header, or the whole envelope; JSON stays the default.
func TestRawRecords(t *testing.T) {
	rec := sealedPractice(t)
	f := &recordsNode{rec: rec}
	h := Handler(f, bound, nil)
	path := "/api/v1/records/" + rec.CID.String()
	auth := []string{"Authorization", "Bearer secret"}
	get := func(hdr ...string) []string { return append(append([]string{}, auth...), hdr...) }

	res := send(h, "GET", path, bound, "", get()...)
	if res.Code != 200 || res.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("default: %d %s", res.Code, res.Header().Get("Content-Type"))
	}

	res = send(h, "GET", path, bound, "", get("Accept", "application/vnd.ipld.dag-cbor")...)
	if res.Code != 200 || res.Header().Get("Content-Type") != MediaDAGCBOR {
		t.Fatalf("dag-cbor: %d %s %s", res.Code, res.Header().Get("Content-Type"), res.Body)
	}
	body := res.Body.Bytes()
	if got := protocol.RecordCID(body); !got.Equals(rec.CID) {
		t.Fatalf("the body served hashes to %s, not %s", got, rec.CID)
	}
	sig, err := base64.StdEncoding.DecodeString(res.Header().Get(SignatureHeader))
	if err != nil {
		t.Fatalf("signature header: %v", err)
	}
	env, err := protocol.Marshal(&protocol.Envelope{Body: body, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.OpenExpect(env, rec.CID, time.Now()); err != nil {
		t.Fatalf("body and signature header do not verify: %v", err)
	}
	etag := res.Header().Get("ETag")
	if etag != `"`+rec.CID.String()+`"` || res.Header().Get("Cache-Control") != "public, max-age=29030400, immutable" {
		t.Fatalf("caching headers: ETag %s, Cache-Control %s", etag, res.Header().Get("Cache-Control"))
	}
	if res := send(h, "GET", path, bound, "", get("Accept", MediaDAGCBOR, "If-None-Match", etag)...); res.Code != 304 || res.Body.Len() != 0 {
		t.Fatalf("If-None-Match: %d", res.Code)
	}

	res = send(h, "GET", path, bound, "", get("Accept", "application/json;q=0.5, application/vnd.livinglab.envelope+cbor")...)
	if res.Code != 200 || res.Header().Get("Content-Type") != MediaEnvelope || !bytes.Equal(res.Body.Bytes(), rec.Raw) {
		t.Fatalf("envelope: %d %s", res.Code, res.Header().Get("Content-Type"))
	}
	if res := send(h, "GET", path, bound, "", get("Accept", "*/*")...); res.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("*/* gives %s", res.Header().Get("Content-Type"))
	}

	for _, tc := range []struct {
		path, accept string
		status       int
		code         string
	}{
		{path, "text/html", 406, "not_acceptable"},
		{path, "application/vnd.ipld.dag-cbor;q=0", 406, "not_acceptable"},
		{"/api/v1/records/" + testCID().String(), MediaDAGCBOR, 404, "not_found"},
		{"/api/v1/records/nonsense", MediaDAGCBOR, 400, "bad_request"},
	} {
		res := send(h, "GET", tc.path, bound, "", get("Accept", tc.accept)...)
		if res.Code != tc.status || errorCode(t, res) != tc.code {
			t.Errorf("%s with Accept %s: %d %s, want %d %s", tc.path, tc.accept, res.Code, res.Body, tc.status, tc.code)
		}
	}
}
