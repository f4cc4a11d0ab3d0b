// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livinglab/livinglab/knowledge"
)

// visit is a kind of lab entity declared by this test alone: a home visit
// to an initiative's participants, its visitor's name and phone personal.
type visit struct {
	ID           string    `json:"id"`
	InitiativeID string    `json:"initiative_id"`
	Visitor      string    `json:"visitor"`
	Phone        string    `json:"phone"`
	Note         string    `json:"note"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

var visits = &knowledge.Entity[visit]{
	Kind: knowledge.Kind{Name: "visit", Plural: "visits", Route: "lab/visits", Prefix: "vis", ByInitiative: true,
		Short: "Home visits",
		Fields: knowledge.Fields(`
			initiative_id  initiative  text  -        -      initiative ID
			visitor        visitor     text  name     name   who visited
			phone          phone       text  contact  name   the visitor's phone
			note           note        text  -        short  what was done`),
		Columns: []string{"id", "note"}},
	Normalise: func(v *visit, tx knowledge.LabTx) error {
		if v.Visitor = strings.TrimSpace(v.Visitor); v.Visitor == "" {
			return fmt.Errorf("%w: visitor is required", knowledge.ErrInvalid)
		}
		if v.InitiativeID == "" {
			return nil
		}
		return tx.RequireInitiative("initiative_id", v.InitiativeID)
	},
	Of:     func(v *visit, ini string) bool { return v.InitiativeID == ini },
	Unlink: func(v *visit, _ string) { v.InitiativeID = "" },
}

func init() { knowledge.RegisterLabKind(visits) }

// A sixth kind of lab entity is a declaration: the store keeps it, the API
// serves it, its personal fields feed the gate and stay out of an export
// without personal data, and deleting its initiative unlinks it.
func TestLabKindDeclaredElsewhere(t *testing.T) {
	a := newLabAPI(t)
	ini, d := labDraftFixture(a)
	var v visit
	a.must(201, "POST", "/api/v1/lab/visits", map[string]any{"initiative_id": ini.ID, "visitor": " Hanna Heikkinen ",
		"phone": "+358 50 111 2222", "note": "Set up the tablet."}, &v)
	if !strings.HasPrefix(v.ID, "vis-") || v.Visitor != "Hanna Heikkinen" || v.Created.IsZero() {
		t.Fatalf("created: %+v", v)
	}
	a.fails(400, "POST", "/api/v1/lab/visits", map[string]any{"note": "no one"}, "visitor is required")
	a.fails(400, "POST", "/api/v1/lab/visits", map[string]any{"visitor": "X", "initiative_id": "ini-aaaaaa"}, "initiative_id")
	a.fails(400, "POST", "/api/v1/lab/visits", map[string]any{"visitor": "X", "colour": "red"}, "colour")

	for of, want := range map[string]int{ini.ID: 1, "ini-bbbbbb": 0, "": 1} {
		var list []visit
		if a.must(200, "GET", "/api/v1/lab/visits?initiative="+of, nil, &list); len(list) != want {
			t.Fatalf("visits of %q: %+v", of, list)
		}
	}
	var got visit
	a.must(200, "PUT", "/api/v1/lab/visits/"+v.ID, map[string]any{"note": "Showed video calls."}, &got)
	if got.Note != "Showed video calls." || got.Visitor != "Hanna Heikkinen" || !got.Created.Equal(v.Created) {
		t.Fatalf("updated: %+v", got)
	}
	a.must(200, "GET", "/api/v1/lab/visits/"+v.ID, nil, &got)
	if got.Note != "Showed video calls." {
		t.Fatalf("stored: %+v", got)
	}

	// Its personal fields feed the gate: a draft naming the visitor is
	// redacted in the preview.
	path := "/api/v1/drafts/" + d.ID
	a.must(200, "PUT", path, map[string]any{"difficulties": "Hanna Heikkinen (+358 50 111 2222) visited every week."}, nil)
	var pv DraftPreview
	a.must(200, "POST", path+"/preview", nil, &pv)
	for _, private := range []string{"Hanna", "Heikkinen", "111 2222"} {
		if strings.Contains(pv.Practice.Difficulties, private) {
			t.Errorf("preview leaks %q: %s", private, pv.Practice.Difficulties)
		}
	}

	// The export holds the visits; without personal data, not the visitor.
	raw := a.must(200, "GET", "/api/v1/lab/export", nil, nil)
	if !strings.Contains(raw, `"visits"`) || !strings.Contains(raw, "Hanna Heikkinen") {
		t.Errorf("export lacks the visit: %s", raw)
	}
	var doc struct{ Visits []map[string]any }
	a.must(200, "GET", "/api/v1/lab/export?personal=false", nil, &doc)
	if len(doc.Visits) != 1 || doc.Visits[0]["note"] != "Showed video calls." || doc.Visits[0]["visitor"] != nil ||
		doc.Visits[0]["phone"] != nil {
		t.Errorf("export without personal data: %v", doc.Visits)
	}
	var buf bytes.Buffer
	if err := a.n.ExportLab(&buf, false); err != nil || buf.String() == "" {
		t.Fatalf("export: %v", err)
	}

	// Deleting its initiative unlinks it; then it is deleted itself.
	a.must(200, "DELETE", "/api/v1/lab/initiatives/"+ini.ID+"?cascade=true", nil, nil)
	a.must(200, "GET", "/api/v1/lab/visits/"+v.ID, nil, &got)
	if got.InitiativeID != "" {
		t.Fatalf("visit still linked to a deleted initiative: %+v", got)
	}
	a.must(200, "DELETE", "/api/v1/lab/visits/"+v.ID, nil, nil)
	a.fails(404, "GET", "/api/v1/lab/visits/"+v.ID, nil, "visit")
}
