// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/protocol"
)

// get fetches path from a served node with the API token.
func (un *uiNode) get(path string, hdr ...string) (int, []byte, http.Header) {
	un.t.Helper()
	return un.send("GET", path, nil, hdr...)
}

func (un *uiNode) postCAR(car []byte) (int, []byte) {
	un.t.Helper()
	status, b, _ := un.send("POST", "/api/v1/bundle", bytes.NewReader(car), "Content-Type", "application/vnd.ipld.car")
	return status, b
}

// The open-data side over real HTTP: raw records, bundles, the catalogue,
// adaptations on the practice page and the transfers page.
func TestOpenDataOverHTTP(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	if err := un.n.Subscribe(t.Context(), "elderly-care"); err != nil {
		t.Fatal(err)
	}
	origin := publishTestPractice(t, un, "Night-time telecare with village volunteers", "elderly-care", "en")
	adapted := publishV2(t, un.n, PracticeInput{Practice: protocol.Practice{Title: "Telecare on the islands",
		Summary: "Night calls answered from the mainland.", Language: "en",
		AdaptedFrom: []protocol.Adaptation{{Practice: origin, Changes: "Answered from the mainland."}}}}, "elderly-care")

	// Raw: the body and its signature verify; the envelope is the stored one.
	code, body, h := un.get("/api/v1/records/"+adapted.CID.String(), "Accept", "application/vnd.ipld.dag-cbor")
	if code != 200 || !protocol.RecordCID(body).Equals(adapted.CID) {
		t.Fatalf("raw record: %d, hashes to %s", code, protocol.RecordCID(body))
	}
	sig, _ := base64.StdEncoding.DecodeString(h.Get("X-Livinglab-Signature"))
	env, err := envelope(body, sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.OpenExpect(env, adapted.CID, time.Now()); err != nil {
		t.Fatalf("raw body and signature: %v", err)
	}
	if code, b, _ := un.get("/api/v1/records/"+adapted.CID.String(), "Accept", "application/vnd.livinglab.envelope+cbor"); code != 200 || !bytes.Equal(b, adapted.Raw) {
		t.Fatalf("envelope: %d", code)
	}

	// A bundle goes out and comes back: nothing new.
	code, car, _ := un.get("/api/v1/bundle?topic=elderly-care")
	if code != 200 || len(car) == 0 {
		t.Fatalf("bundle export: %d %s", code, car)
	}
	code, rep := un.postCAR(car)
	var r BundleReport
	if code != 200 || json.Unmarshal(rep, &r) != nil || r.Added != 0 || r.Skipped != r.Records || r.Records != 3 {
		t.Fatalf("bundle import of its own records: %d %s", code, rep)
	}
	// Another federation (same name, another founder) refuses it whole.
	other := startUINode(t, "Connemara", "IE", "improve")
	if code, rep := other.postCAR(car); code != 400 || !strings.Contains(string(rep), "bundle refused") {
		t.Fatalf("a foreign bundle: %d %s", code, rep)
	}
	if code, rep := un.postCAR(car[:len(car)/2]); code != 400 || !strings.Contains(string(rep), "truncated") {
		t.Fatalf("a truncated bundle: %d %s", code, rep)
	}

	// The catalogue.
	code, cat, h := un.get("/api/v1/catalog?base=https://data.example.org")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/ld+json") ||
		!strings.Contains(string(cat), `"https://data.example.org/api/v1/records/`+origin+`"`) {
		t.Fatalf("catalogue: %d %s", code, cat)
	}

	// Search for adapted practices.
	var res SearchResult
	eventually(t, 20*time.Second, "the adapted practice is indexed", func() error {
		if code := un.apiDo("GET", "/api/v1/search?adapted=true", nil, &res); code != 200 {
			return io.ErrUnexpectedEOF
		}
		if res.Total != 1 || res.Hits[0].CID != adapted.CID.String() {
			return io.EOF
		}
		return nil
	})

	// The pages.
	b := newTestBrowser(t, un.base)
	b.signIn(uiTestUser, uiTestPassword)
	code, page := b.get("/practices/" + origin)
	if code != 200 || !strings.Contains(page, "Adapted by") || !strings.Contains(page, "Telecare on the islands") ||
		!strings.Contains(page, `<script type="application/ld+json">`) || !strings.Contains(page, `"identifier":"`+origin+`"`) {
		t.Fatalf("practice page: %d\n%s", code, sectionOf(page, "h-adapt"))
	}
	code, page = b.get("/practices/" + adapted.CID.String())
	if code != 200 || !strings.Contains(page, "Adapted from") || !strings.Contains(page, "Answered from the mainland.") {
		t.Fatalf("adapting practice page: %d", code)
	}
	code, page = b.get("/transfers")
	if code != 200 || !strings.Contains(page, "Where practices travelled") || !strings.Contains(page, "/practices/"+adapted.CID.String()) {
		t.Fatalf("transfers page: %d", code)
	}
	var tm TransferMap
	if code := un.apiDo("GET", "/api/v1/transfers", nil, &tm); code != 200 || len(tm.Transfers) != 1 {
		t.Fatalf("transfers: %d %+v", code, tm)
	}
	var ad Adaptations
	if code := un.apiDo("GET", "/api/v1/practices/"+origin+"/adaptations", nil, &ad); code != 200 || len(ad.AdaptedBy) != 1 {
		t.Fatalf("adaptations: %d %+v", code, ad)
	}
}
