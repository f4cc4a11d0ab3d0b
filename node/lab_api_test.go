// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// labAPI is a node that founded a federation, served through its HTTP
// handler without networking.
type labAPI struct {
	t     testing.TB
	n     *Node
	h     http.Handler
	token string
}

func newLabAPI(t testing.TB) *labAPI {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Region: "North Karelia", Country: "FI", Federation: "improve"}); err != nil {
		t.Fatal(err)
	}
	home := Home{Dir: dir}
	n, err := New(home, Options{NoAPI: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	tok, err := home.LoadToken()
	if err != nil {
		t.Fatal(err)
	}
	return &labAPI{t: t, n: n, h: n.apiHandler("127.0.0.1:1"), token: tok}
}

// do sends a request and decodes a JSON answer into out (if not nil). It
// returns the status and the raw body.
func (a *labAPI) do(method, path string, body any, out any) (int, string) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = "127.0.0.1:1"
	req.Header.Set("Authorization", "Bearer "+a.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			a.t.Fatalf("%s %s: decode %q: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec.Code, rec.Body.String()
}

// must sends a request that has to answer with status want.
func (a *labAPI) must(want int, method, path string, body, out any) string {
	a.t.Helper()
	code, raw := a.do(method, path, body, out)
	if code != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	return raw
}

// fails sends a request that has to fail with status want and an error
// mentioning every one of words.
func (a *labAPI) fails(want int, method, path string, body any, words ...string) {
	a.t.Helper()
	code, raw := a.do(method, path, body, nil)
	if code != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	var e APIError
	if err := json.Unmarshal([]byte(raw), &e); err != nil || e.Error == "" {
		a.t.Fatalf("%s %s: not an API error: %s", method, path, raw)
	}
	for _, w := range words {
		if !strings.Contains(e.Error, w) {
			a.t.Errorf("%s %s: error %q does not mention %q", method, path, e.Error, w)
		}
	}
}

func (a *labAPI) initiative(title string) knowledge.Initiative {
	a.t.Helper()
	var ini knowledge.Initiative
	a.must(201, "POST", "/api/v1/lab/initiatives", map[string]any{"title": title, "service": "telecare",
		"description": "Older people in remote villages wait weeks for a home-care visit.", "topics": []string{"elderly-care"},
		"stage": 2, "started": "2016-03-01", "status": "active", "language": "en"}, &ini)
	return ini
}

func TestLabAPIInitiatives(t *testing.T) {
	a := newLabAPI(t)
	ini := a.initiative("Telecare for older people")
	if !strings.HasPrefix(ini.ID, "ini-") || ini.Stage != 2 || ini.Created.IsZero() {
		t.Fatalf("created: %+v", ini)
	}
	var list []knowledge.Initiative
	a.must(200, "GET", "/api/v1/lab/initiatives", nil, &list)
	if len(list) != 1 || list[0].ID != ini.ID {
		t.Fatalf("list: %+v", list)
	}
	// An update changes the fields it names and keeps the others.
	var upd knowledge.Initiative
	a.must(200, "PUT", "/api/v1/lab/initiatives/"+ini.ID, map[string]any{"status": "paused", "stage": 3, "id": "ini-ignored"}, &upd)
	if upd.ID != ini.ID || upd.Status != "paused" || upd.Stage != 3 || upd.Title != ini.Title || !slices.Equal(upd.Topics, ini.Topics) {
		t.Fatalf("updated: %+v", upd)
	}
	var got knowledge.Initiative
	a.must(200, "GET", "/api/v1/lab/initiatives/"+ini.ID, nil, &got)
	if got.Status != "paused" {
		t.Fatalf("get after update: %+v", got)
	}
	a.must(200, "DELETE", "/api/v1/lab/initiatives/"+ini.ID, nil, nil)
	a.fails(404, "GET", "/api/v1/lab/initiatives/"+ini.ID, nil, ini.ID)
	a.fails(404, "DELETE", "/api/v1/lab/initiatives/"+ini.ID, nil)
	a.fails(404, "PUT", "/api/v1/lab/initiatives/"+ini.ID, map[string]any{"status": "active"})
}

func TestLabAPIValidation(t *testing.T) {
	a := newLabAPI(t)
	ini := a.initiative("Telecare")
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"title": "x", "language": "en"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"stage": 6}), "stage")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"stage": -1}), "stage")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"started": "2024-02-30"}), "started", "YYYY-MM-DD")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"ended": "yesterday"}), "ended")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"topics": []string{"Elderly Care"}}), "topics")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"language": "english"}), "language")
	a.fails(400, "POST", "/api/v1/lab/initiatives", base(map[string]any{"colour": "red"}), "colour")
	a.fails(400, "POST", "/api/v1/lab/initiatives", "", "empty body")
	a.fails(400, "POST", "/api/v1/lab/initiatives", "{", "invalid JSON")
	a.fails(400, "PUT", "/api/v1/lab/initiatives/"+ini.ID, map[string]any{"stage": 7}, "stage")
	a.fails(400, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": "ini-aaaaaa", "kind": "workshop"},
		"initiative_id", "ini-aaaaaa")
	a.fails(400, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "workshop", "date": "12/03/2024"}, "date")
	a.fails(400, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "party"}, "kind")
	a.fails(400, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "pilot", "ages": []int{200}}, "ages")
	a.fails(400, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "pilot", "counts": map[string]int{"a": -2}}, "counts")
	a.fails(400, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "person", "name": "A", "initiative_ids": []string{"ini-bbbbbb"}}, "initiative_ids")
	a.fails(400, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "person", "name": "A", "email": "nope"}, "email")
	a.fails(400, "POST", "/api/v1/lab/evaluations", map[string]any{"initiative_id": ini.ID}, "indicator")
	a.fails(400, "POST", "/api/v1/lab/lessons", map[string]any{"insight": "x", "initiative_id": "ini-cccccc"}, "initiative_id")
	a.fails(400, "POST", "/api/v1/drafts", map[string]any{"initiative": "ini-dddddd"}, "initiative")
	a.fails(400, "DELETE", "/api/v1/lab/initiatives/"+ini.ID+"?cascade=maybe", nil, "cascade")
	for _, p := range []string{"/api/v1/lab/stakeholders/stk-aaaaaa", "/api/v1/lab/activities/act-aaaaaa",
		"/api/v1/lab/evaluations/eva-aaaaaa", "/api/v1/lab/lessons/les-aaaaaa", "/api/v1/drafts/drf-aaaaaa", "/api/v1/lab/activities/..%2f"} {
		a.fails(404, "GET", p, nil)
	}
	a.fails(404, "POST", "/api/v1/drafts/drf-aaaaaa/preview", nil)
	a.fails(404, "POST", "/api/v1/lab/lessons/les-aaaaaa/publish", nil)
	big := strings.Repeat("x", 2<<20)
	if code, _ := a.do("POST", "/api/v1/lab/initiatives", base(map[string]any{"description": big}), nil); code != 413 {
		t.Errorf("oversized body: status %d", code)
	}
	// Without the token nothing is served.
	req := httptest.NewRequest("GET", "/api/v1/lab/initiatives", nil)
	req.Host = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("no token: status %d", rec.Code)
	}
}

func TestLabAPIEntities(t *testing.T) {
	a := newLabAPI(t)
	ini := a.initiative("Telecare")
	other := a.initiative("Other")

	var stk knowledge.Stakeholder
	a.must(201, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "person", "name": "Aino Mattila", "role": "Home-care nurse",
		"email": "aino@example.fi", "initiative_ids": []string{ini.ID}}, &stk)
	a.must(201, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "organisation", "name": "Village association",
		"initiative_ids": []string{other.ID}}, nil)
	var stks []knowledge.Stakeholder
	a.must(200, "GET", "/api/v1/lab/stakeholders?initiative="+ini.ID, nil, &stks)
	if len(stks) != 1 || stks[0].ID != stk.ID {
		t.Fatalf("stakeholders of initiative: %+v", stks)
	}
	a.must(200, "GET", "/api/v1/lab/stakeholders", nil, &stks)
	if len(stks) != 2 {
		t.Fatalf("all stakeholders: %+v", stks)
	}

	var act knowledge.Activity
	a.must(201, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "workshop", "title": "Kick-off",
		"date": "2016-04-12", "counts": map[string]int{"residents": 12, "carers": 6}, "attendees": []string{"Aino Mattila"}}, &act)
	if act.Stage != ini.Stage {
		t.Fatalf("activity stage defaults to the initiative's: %+v", act)
	}
	// Counts are replaced, not merged, by an update.
	var updated knowledge.Activity
	a.must(200, "PUT", "/api/v1/lab/activities/"+act.ID, map[string]any{"counts": map[string]int{"residents": 15}}, &updated)
	if len(updated.Counts) != 1 || updated.Counts["residents"] != 15 || updated.Title != "Kick-off" {
		t.Fatalf("updated activity: %+v", updated)
	}
	a.must(201, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": other.ID, "kind": "survey"}, nil)
	var acts []knowledge.Activity
	a.must(200, "GET", "/api/v1/lab/activities?initiative="+ini.ID, nil, &acts)
	if len(acts) != 1 || acts[0].ID != act.ID {
		t.Fatalf("activities of initiative: %+v", acts)
	}

	var ev knowledge.Evaluation
	a.must(201, "POST", "/api/v1/lab/evaluations", map[string]any{"initiative_id": ini.ID, "indicator": "Waiting time", "unit": "days",
		"before": 14, "after": 6, "quotes": []string{"Much better."}}, &ev)
	a.must(200, "PUT", "/api/v1/lab/evaluations/"+ev.ID, map[string]any{"after": 5.5}, &ev)
	if ev.Before == nil || *ev.Before != 14 || ev.After == nil || *ev.After != 5.5 {
		t.Fatalf("evaluation: %+v", ev)
	}
	var evs []knowledge.Evaluation
	a.must(200, "GET", "/api/v1/lab/evaluations?initiative="+other.ID, nil, &evs)
	if len(evs) != 0 {
		t.Fatalf("evaluations of the other initiative: %+v", evs)
	}

	var les knowledge.DraftLesson
	a.must(201, "POST", "/api/v1/lab/lessons", map[string]any{"initiative_id": ini.ID, "insight": "Involve carers early.",
		"published": "bafyforged"}, &les)
	if les.Language != "en" || les.Published != "" {
		t.Fatalf("lesson: %+v", les)
	}

	for _, p := range []string{"/api/v1/lab/stakeholders/" + stk.ID, "/api/v1/lab/evaluations/" + ev.ID, "/api/v1/lab/lessons/" + les.ID} {
		a.must(200, "DELETE", p, nil, nil)
		a.fails(404, "GET", p, nil)
	}

	// An initiative with activities is only deleted with cascade.
	a.fails(400, "DELETE", "/api/v1/lab/initiatives/"+ini.ID, nil, "cascade")
	a.must(200, "GET", "/api/v1/lab/activities/"+act.ID, nil, nil)
	a.must(200, "DELETE", "/api/v1/lab/initiatives/"+ini.ID+"?cascade=true", nil, nil)
	a.fails(404, "GET", "/api/v1/lab/activities/"+act.ID, nil)
	a.fails(404, "GET", "/api/v1/lab/initiatives/"+ini.ID, nil)
}

func TestLabAPIStages(t *testing.T) {
	a := newLabAPI(t)
	var st []knowledge.Stage
	a.must(200, "GET", "/api/v1/lab/stages", nil, &st)
	if len(st) != 5 || st[0].Name != "Ecosystem" || st[4].Name != "Co-production" {
		t.Fatalf("default stages: %+v", st)
	}
	six := append(st, knowledge.Stage{Name: "Scale", Goal: "Scale out."})
	a.must(200, "PUT", "/api/v1/lab/stages", six, &st)
	if len(st) != 6 || st[5].Number != 6 {
		t.Fatalf("stages: %+v", st)
	}
	a.fails(400, "PUT", "/api/v1/lab/stages", make([]knowledge.Stage, 10), "stages")
	a.fails(400, "PUT", "/api/v1/lab/stages", []knowledge.Stage{}, "stages")
	a.must(201, "POST", "/api/v1/lab/initiatives", map[string]any{"title": "x", "language": "en", "stage": 6}, nil)
}

// labDraftFixture records an initiative with personal data in its
// structured fields and assembles a draft from it.
func labDraftFixture(a *labAPI) (knowledge.Initiative, knowledge.Draft) {
	a.t.Helper()
	ini := a.initiative("Telecare for older people")
	for _, s := range []map[string]any{
		{"kind": "person", "name": "Aino Mattila", "role": "Home-care nurse", "email": "aino.mattila@example.fi",
			"phone": "+358 40 123 4567", "initiative_ids": []string{ini.ID}},
		{"kind": "organisation", "name": "Joensuu Seniors Club", "role": "Older residents' association", "initiative_ids": []string{ini.ID}},
	} {
		a.must(201, "POST", "/api/v1/lab/stakeholders", s, nil)
	}
	a.must(201, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": ini.ID, "kind": "workshop", "title": "Kick-off",
		"place": "Library hall", "stage": 1, "notes": "Mapped who provides care.", "attendees": []string{"Pekka Virtanen"},
		"counts": map[string]int{"residents": 12}}, nil)
	a.must(201, "POST", "/api/v1/lab/evaluations", map[string]any{"initiative_id": ini.ID, "indicator": "Waiting time",
		"unit": "days", "before": 14, "after": 6}, nil)
	var d knowledge.Draft
	a.must(201, "POST", "/api/v1/drafts", map[string]string{"initiative": ini.ID}, &d)
	return ini, d
}

func TestLabAPIDraftAssemble(t *testing.T) {
	a := newLabAPI(t)
	ini, d := labDraftFixture(a)
	if !strings.HasPrefix(d.ID, "drf-") || d.InitiativeID != ini.ID || d.Title != ini.Title || !slices.Equal(d.Topics, ini.Topics) {
		t.Fatalf("draft: %+v", d)
	}
	if !slices.Equal(d.StakeholderRoles, []string{"Home-care nurse", "Older residents' association"}) {
		t.Fatalf("roles: %q", d.StakeholderRoles)
	}
	raw := a.must(200, "GET", "/api/v1/drafts/"+d.ID, nil, nil)
	for _, private := range []string{"Aino", "Mattila", "aino.mattila@example.fi", "123 4567", "Joensuu Seniors Club", "Pekka"} {
		if strings.Contains(raw, private) {
			t.Errorf("draft contains %q: %s", private, raw)
		}
	}
	if !strings.Contains(d.Approach, "Stage 1 (Ecosystem): Workshop “Kick-off” in Library hall") ||
		!strings.Contains(d.Results, "12 participants took part in 1 activity.") ||
		!strings.Contains(d.Results, "Waiting time: 14 → 6 days") {
		t.Errorf("draft text:\napproach %s\nresults %s", d.Approach, d.Results)
	}
	var ds []knowledge.Draft
	a.must(200, "GET", "/api/v1/drafts", nil, &ds)
	if len(ds) != 1 {
		t.Fatalf("drafts: %+v", ds)
	}
	a.must(200, "GET", "/api/v1/drafts?initiative="+ini.ID, nil, &ds)
	if len(ds) != 1 {
		t.Fatalf("drafts of initiative: %+v", ds)
	}
	a.fails(400, "PUT", "/api/v1/drafts/"+d.ID, map[string]any{"stage": 9}, "stage")
	a.fails(400, "PUT", "/api/v1/drafts/"+d.ID, map[string]any{"links": []string{"javascript:alert(1)"}}, "links")
	a.must(200, "DELETE", "/api/v1/drafts/"+d.ID, nil, nil)
	a.fails(404, "GET", "/api/v1/drafts/"+d.ID, nil)
}

func TestLabAPIDraftReviewAndPublish(t *testing.T) {
	a := newLabAPI(t)
	_, d := labDraftFixture(a)
	path := "/api/v1/drafts/" + d.ID

	// Nothing is published without an approval.
	a.fails(409, "POST", path+"/publish", nil, "not approved", "Nothing was published")

	var pv DraftPreview
	a.must(200, "POST", path+"/preview", nil, &pv)
	if len(pv.Hash) != 64 || pv.Approved || pv.Practice.Region != "North Karelia" || pv.Practice.Country != "FI" ||
		pv.Practice.Version != 1 || pv.Practice.Licence != protocol.DefaultLicence || !slices.Equal(pv.Topics, []string{"elderly-care"}) {
		t.Fatalf("preview: %+v", pv)
	}
	if h, _ := knowledge.PublicHash(pv.Practice, pv.Topics); h != pv.Hash {
		t.Fatalf("preview hash %s is not the hash of the previewed practice %s", pv.Hash, h)
	}
	var again DraftPreview
	a.must(200, "POST", path+"/preview", "", &again)
	if again.Hash != pv.Hash {
		t.Fatal("preview is not deterministic")
	}

	// An edit after the preview: approving the old hash is refused.
	var edited knowledge.Draft
	a.must(200, "PUT", path, map[string]any{"resources": "Two nurses for a year; 40 tablets."}, &edited)
	if edited.Rev != d.Rev+1 || edited.Summary != d.Summary {
		t.Fatalf("edited: %+v", edited)
	}
	a.fails(409, "POST", path+"/approve", map[string]any{"hash": pv.Hash}, "the draft changed since the preview")
	a.fails(400, "POST", path+"/approve", map[string]any{}, "hash")

	a.must(200, "POST", path+"/preview", map[string]any{"confirmed": []string{"Library Hall"}}, &pv)
	if !slices.Equal(pv.Confirmed, []string{"Library Hall"}) {
		t.Fatalf("preview decisions: %+v", pv)
	}
	var ap DraftPreview
	a.must(200, "POST", path+"/approve", map[string]any{"hash": pv.Hash, "confirmed": []string{"Library Hall"}, "by": "champion"}, &ap)
	if !ap.Approved || ap.Hash != pv.Hash {
		t.Fatalf("approve: %+v", ap)
	}
	var stored knowledge.Draft
	a.must(200, "GET", path, nil, &stored)
	if stored.Approval == nil || stored.Approval.Hash != pv.Hash || stored.Approval.By != "champion" ||
		!slices.Equal(stored.Confirmed, []string{"Library Hall"}) {
		t.Fatalf("stored approval: %+v", stored)
	}
	a.must(200, "POST", path+"/preview", nil, &pv)
	if !pv.Approved {
		t.Fatal("the preview of an approved draft is not marked approved")
	}

	// An edit clears the approval: publishing is refused.
	a.must(200, "PUT", path, map[string]any{"difficulties": "Broadband in the villages."}, &stored)
	if stored.Approval != nil {
		t.Fatal("an edit kept the approval")
	}
	a.fails(409, "POST", path+"/publish", nil, "not approved")

	// Approve again, then change what would leave behind the API's back
	// (the approval stays): publishing is refused and nothing is signed.
	a.must(200, "POST", path+"/preview", nil, &pv)
	a.must(200, "POST", path+"/approve", map[string]any{"hash": pv.Hash}, nil)
	a.must(200, "GET", path, nil, &stored)
	tampered := stored
	tampered.Summary += " Changed after approval."
	putRawDraft(t, a.n, tampered)
	seq, _, _ := a.n.store.LastOwn()
	a.fails(409, "POST", path+"/publish", nil, "the draft changed after it was approved", "Nothing was published")
	if s, _, _ := a.n.store.LastOwn(); s != seq {
		t.Fatal("a record was signed although publishing was refused")
	}
	putRawDraft(t, a.n, stored)
	// The same when the node's settings change what would leave.
	if err := a.n.updateConfig(func(c *Config) { c.Region = "Pohjois-Karjala" }); err != nil {
		t.Fatal(err)
	}
	a.fails(409, "POST", path+"/publish", nil, "the draft changed after it was approved")
	if err := a.n.updateConfig(func(c *Config) { c.Region = "North Karelia" }); err != nil {
		t.Fatal(err)
	}

	// Approved and unchanged: published, exactly as previewed.
	var out Published
	a.must(201, "POST", path+"/publish", nil, &out)
	if out.CID == "" || out.DryRun {
		t.Fatalf("published: %+v", out)
	}
	if h, _ := knowledge.PublicHash(out.Practice, out.Topics); h != pv.Hash {
		t.Fatalf("published hash %s, approved %s", h, pv.Hash)
	}
	var view PracticeView
	a.must(200, "GET", "/api/v1/practices/"+out.CID, nil, &view)
	if view.Title != stored.Title || view.Difficulties != "Broadband in the villages." {
		t.Fatalf("published practice: %+v", view)
	}
	a.must(200, "GET", path, nil, &stored)
	if stored.Published != out.CID || stored.Approval != nil {
		t.Fatalf("draft after publishing: %+v", stored)
	}
	// The approval was used up.
	a.fails(409, "POST", path+"/publish", nil, "not approved")

	// Publishing the draft again makes a new version of the practice.
	a.must(200, "PUT", path, map[string]any{"transferability": "Needs a home-care service and village broadband."}, nil)
	a.must(200, "POST", path+"/preview", nil, &pv)
	if pv.Practice.Version != 2 || pv.Practice.Supersedes != out.CID || pv.Practice.PracticeID != out.CID {
		t.Fatalf("second version preview: %+v", pv.Practice)
	}
	a.must(200, "POST", path+"/approve", map[string]any{"hash": pv.Hash}, nil)
	var out2 Published
	a.must(201, "POST", path+"/publish", nil, &out2)
	if out2.Practice.Version != 2 || out2.Practice.Supersedes != out.CID {
		t.Fatalf("second version: %+v", out2.Practice)
	}
}

// putRawDraft writes a draft as stored, bypassing the store's rules (an
// edit there would clear the approval).
func putRawDraft(t *testing.T, n *Node, d knowledge.Draft) {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.store.DB().Update(func(txn *badger.Txn) error { return txn.Set([]byte("lab/drf/"+d.ID), b) }); err != nil {
		t.Fatal(err)
	}
}

func TestLabAPIDraftPreviewNeedsTopics(t *testing.T) {
	a := newLabAPI(t)
	var ini knowledge.Initiative
	a.must(201, "POST", "/api/v1/lab/initiatives", map[string]any{"title": "No topics", "language": "en"}, &ini)
	var d knowledge.Draft
	a.must(201, "POST", "/api/v1/drafts", map[string]string{"initiative": ini.ID}, &d)
	a.fails(400, "POST", "/api/v1/drafts/"+d.ID+"/preview", nil, "topic")
}

func TestLabAPILessonPublish(t *testing.T) {
	a := newLabAPI(t)
	ini := a.initiative("Telecare")
	var les knowledge.DraftLesson
	a.must(201, "POST", "/api/v1/lab/lessons", map[string]any{"initiative_id": ini.ID, "insight": "Involve carers from the first workshop.",
		"context": "Carers knew which visits mattered.", "stage": 1}, &les)
	var dry PublishedLesson
	a.must(200, "POST", "/api/v1/lab/lessons/"+les.ID+"/publish?dry_run=true", nil, &dry)
	if !dry.DryRun || dry.CID != "" || dry.Lesson.Region != "North Karelia" || !slices.Equal(dry.Topics, []string{"elderly-care"}) {
		t.Fatalf("dry run: %+v", dry)
	}
	var out PublishedLesson
	a.must(201, "POST", "/api/v1/lab/lessons/"+les.ID+"/publish", nil, &out)
	if out.CID == "" || out.Lesson.Insight != les.Insight || out.Lesson.Country != "FI" {
		t.Fatalf("published: %+v", out)
	}
	var rec map[string]any
	a.must(200, "GET", "/api/v1/records/"+out.CID, nil, &rec)
	if rec["kind"] != string(protocol.KindLesson) {
		t.Fatalf("record: %v", rec)
	}
	a.must(200, "GET", "/api/v1/lab/lessons/"+les.ID, nil, &les)
	if les.Published != out.CID {
		t.Fatalf("lesson not marked published: %+v", les)
	}
	a.fails(409, "POST", "/api/v1/lab/lessons/"+les.ID+"/publish", nil, "already published")

	var orphan knowledge.DraftLesson
	a.must(201, "POST", "/api/v1/lab/lessons", map[string]any{"insight": "No topic.", "language": "en"}, &orphan)
	a.fails(400, "POST", "/api/v1/lab/lessons/"+orphan.ID+"/publish", nil, "topic")
}

// Once the gate reads the lab's registry, stakeholder names written into
// a draft's free text are redacted in the preview.
func TestLabAPIPreviewRedactsRegistry(t *testing.T) {
	a := newLabAPI(t)
	_, d := labDraftFixture(a)
	if reg, err := a.n.labRegistry(); err != nil || len(reg.Names) == 0 {
		t.Skip("the gate does not read the lab registry")
	}
	path := "/api/v1/drafts/" + d.ID
	a.must(200, "PUT", path, map[string]any{"difficulties": "Aino Mattila (aino.mattila@example.fi) left mid-way; Pekka Virtanen took over."}, nil)
	var pv DraftPreview
	raw := a.must(200, "POST", path+"/preview", nil, &pv)
	for _, private := range []string{"Aino", "Mattila", "aino.mattila@example.fi", "Pekka", "Virtanen"} {
		if strings.Contains(pv.Practice.Difficulties, private) {
			t.Errorf("preview leaks %q: %s", private, pv.Practice.Difficulties)
		}
	}
	if len(pv.Report.Findings) == 0 {
		t.Errorf("no findings reported: %s", raw)
	}
}
