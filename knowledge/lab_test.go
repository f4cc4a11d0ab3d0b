// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func mustInitiative(t *testing.T, s *Store) *Initiative {
	t.Helper()
	ini, err := Initiatives.Put(s, Initiative{Title: "Telecare for older people", Service: "telecare",
		Description: "Older people in remote villages wait weeks for home-care visits.",
		Topics:      []string{"elderly-care", "digital-services"}, Stage: 3, Started: "2016-03-01", Ended: "2018-05-31",
		Status: "active", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return ini
}

func fp(v float64) *float64 { return &v }

// try returns a function that puts v and returns the error.
func try[T any](e *Entity[T], s *Store, v T) func() error {
	return func() error { _, err := e.Put(s, v); return err }
}

func TestLabInitiativeCRUD(t *testing.T) {
	s := openTestStore(t)
	ini := mustInitiative(t, s)
	if !regexp.MustCompile(`^ini-[a-z2-7]{6}$`).MatchString(ini.ID) {
		t.Fatalf("id %q", ini.ID)
	}
	if ini.Created.IsZero() || ini.Updated.IsZero() {
		t.Fatal("timestamps not set")
	}
	got, err := Initiatives.Get(s, ini.ID)
	if err != nil || got.Title != ini.Title || !slices.Equal(got.Topics, ini.Topics) {
		t.Fatalf("get: %+v %v", got, err)
	}
	got.Status, got.Stage = "paused", 4
	upd, err := Initiatives.Put(s, *got)
	if err != nil {
		t.Fatal(err)
	}
	if upd.ID != ini.ID || !upd.Created.Equal(ini.Created) || upd.Status != "paused" || upd.Stage != 4 {
		t.Fatalf("update: %+v", upd)
	}
	second, err := Initiatives.Put(s, Initiative{Title: "Participatory plan", Language: "fi"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Stage != 1 || second.Status != StatusPlanned {
		t.Fatalf("defaults: stage %d status %q", second.Stage, second.Status)
	}
	list, err := Initiatives.List(s, "")
	if err != nil || len(list) != 2 || list[0].ID != ini.ID {
		t.Fatalf("list: %v %v", list, err)
	}
	if _, err := Initiatives.Put(s, Initiative{ID: "ini-aaaaaa", Title: "x", Language: "en"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of unknown: %v", err)
	}
	if _, err := Initiatives.Get(s, "ini-zzzzzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	if _, err := Initiatives.Get(s, "../../r/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get malformed: %v", err)
	}
	if err := s.DeleteInitiative(second.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Initiatives.Get(s, second.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteInitiative(second.ID, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestLabValidation(t *testing.T) {
	s := openTestStore(t)
	ini := mustInitiative(t, s)
	cases := []struct {
		name  string
		put   func() error
		field string
	}{
		{"no title", try(Initiatives, s, Initiative{Language: "en"}), "title"},
		{"stage 6", try(Initiatives, s, Initiative{Title: "x", Language: "en", Stage: 6}), "stage"},
		{"negative stage", try(Initiatives, s, Initiative{Title: "x", Language: "en", Stage: -1}), "stage"},
		{"bad date", try(Initiatives, s, Initiative{Title: "x", Language: "en", Started: "2024-13-01"}), "started"},
		{"end before start", try(Initiatives, s, Initiative{Title: "x", Language: "en", Started: "2024-02-01", Ended: "2024-01-01"}), "ended"},
		{"bad topic", try(Initiatives, s, Initiative{Title: "x", Language: "en", Topics: []string{"Elderly Care"}}), "topics"},
		{"control topic", try(Initiatives, s, Initiative{Title: "x", Language: "en", Topics: []string{"_federation"}}), "topics"},
		{"bad status", try(Initiatives, s, Initiative{Title: "x", Language: "en", Status: "done"}), "status"},
		{"bad language", try(Initiatives, s, Initiative{Title: "x", Language: "eng"}), "language"},
		{"no language", try(Initiatives, s, Initiative{Title: "x"}), "language"},
		{"long title", try(Initiatives, s, Initiative{Title: strings.Repeat("x", 301), Language: "en"}), "title"},
		{"stakeholder kind", try(Stakeholders, s, Stakeholder{Kind: "robot", Name: "R2"}), "kind"},
		{"stakeholder email", try(Stakeholders, s, Stakeholder{Kind: "person", Name: "A B", Email: "not-an-address"}), "email"},
		{"stakeholder phone", try(Stakeholders, s, Stakeholder{Kind: "person", Name: "A B", Phone: "call me"}), "phone"},
		{"stakeholder unknown initiative", try(Stakeholders, s, Stakeholder{Kind: "person", Name: "A B", InitiativeIDs: []string{"ini-aaaaaa"}}), "initiative_ids"},
		{"activity unknown initiative", try(Activities, s, Activity{InitiativeID: "ini-aaaaaa", Kind: "workshop"}), "initiative_id"},
		{"activity no initiative", try(Activities, s, Activity{Kind: "workshop"}), "initiative_id"},
		{"activity kind", try(Activities, s, Activity{InitiativeID: ini.ID, Kind: "party"}), "kind"},
		{"activity date", try(Activities, s, Activity{InitiativeID: ini.ID, Kind: "pilot", Date: "15.3.2024"}), "date"},
		{"activity stage", try(Activities, s, Activity{InitiativeID: ini.ID, Kind: "pilot", Stage: 9}), "stage"},
		{"activity negative count", try(Activities, s, Activity{InitiativeID: ini.ID, Kind: "pilot", Counts: map[string]int{"residents": -1}}), "counts"},
		{"activity age", try(Activities, s, Activity{InitiativeID: ini.ID, Kind: "pilot", Ages: []int{67, 131}}), "ages"},
		{"evaluation indicator", try(Evaluations, s, Evaluation{InitiativeID: ini.ID}), "indicator"},
		{"lesson insight", try(Lessons, s, DraftLesson{Language: "en"}), "insight"},
		{"lesson language", try(Lessons, s, DraftLesson{Insight: "x"}), "language"},
		{"lesson topic", try(Lessons, s, DraftLesson{Insight: "x", Language: "en", Topic: "A B"}), "topic"},
		{"draft link", try(Drafts, s, Draft{PracticeFields: PracticeFields{Links: []string{"ftp://x"}}}), "links"},
	}
	for _, c := range cases {
		err := c.put()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.field)
		}
	}
	// Updating an unknown entity of every kind is ErrNotFound.
	for name, err := range map[string]error{
		"stakeholder": try(Stakeholders, s, Stakeholder{ID: "stk-aaaaaa", Kind: "person", Name: "x"})(),
		"activity":    try(Activities, s, Activity{ID: "act-aaaaaa", InitiativeID: ini.ID, Kind: "pilot"})(),
		"evaluation":  try(Evaluations, s, Evaluation{ID: "eva-aaaaaa", InitiativeID: ini.ID, Indicator: "x"})(),
		"lesson":      try(Lessons, s, DraftLesson{ID: "les-aaaaaa", Insight: "x", Language: "en"})(),
		"draft":       try(Drafts, s, Draft{ID: "drf-aaaaaa"})(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("update unknown %s: %v", name, err)
		}
	}
}

func TestLabEntitiesCRUD(t *testing.T) {
	s := openTestStore(t)
	ini := mustInitiative(t, s)
	other, err := Initiatives.Put(s, Initiative{Title: "Other", Language: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	stk, err := Stakeholders.Put(s, Stakeholder{Kind: "person", Name: "Aino Mattila", Role: "Home-care nurse",
		InitiativeIDs: []string{ini.ID, ini.ID}, Email: "aino@example.fi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(stk.InitiativeIDs) != 1 {
		t.Fatalf("duplicate links kept: %v", stk.InitiativeIDs)
	}
	if _, err := Stakeholders.Put(s, Stakeholder{Kind: "organisation", Name: "Village association", InitiativeIDs: []string{other.ID}}); err != nil {
		t.Fatal(err)
	}
	if l, _ := Stakeholders.List(s, ini.ID); len(l) != 1 || l[0].ID != stk.ID {
		t.Fatalf("stakeholders of initiative: %v", l)
	}
	if l, _ := Stakeholders.List(s, ""); len(l) != 2 {
		t.Fatalf("all stakeholders: %v", l)
	}

	act, err := Activities.Put(s, Activity{InitiativeID: ini.ID, Kind: "Workshop", Title: "Kick-off", Date: "2016-04-12"})
	if err != nil {
		t.Fatal(err)
	}
	if act.Kind != "workshop" || act.Stage != ini.Stage {
		t.Fatalf("activity defaults: %+v", act)
	}
	act.Notes = "went well"
	act2, err := Activities.Put(s, *act)
	if err != nil || act2.Notes != "went well" || !act2.Created.Equal(act.Created) {
		t.Fatalf("update activity: %+v %v", act2, err)
	}
	if _, err := Activities.Put(s, Activity{InitiativeID: other.ID, Kind: "survey", Date: "2016-01-01"}); err != nil {
		t.Fatal(err)
	}
	if l, _ := Activities.List(s, ini.ID); len(l) != 1 {
		t.Fatalf("activities of initiative: %v", l)
	}
	if l, _ := Activities.List(s, ""); len(l) != 2 || l[0].Date != "2016-01-01" {
		t.Fatalf("activities by date: %v", l)
	}

	ev, err := Evaluations.Put(s, Evaluation{InitiativeID: ini.ID, Indicator: "Waiting time", Unit: "days", Before: fp(14), After: fp(6)})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := Evaluations.Get(s, ev.ID); err != nil || *g.After != 6 {
		t.Fatalf("get evaluation: %+v %v", g, err)
	}
	les, err := Lessons.Put(s, DraftLesson{InitiativeID: ini.ID, Insight: "Start with the carers."})
	if err != nil {
		t.Fatal(err)
	}
	if les.Language != "en" {
		t.Fatalf("lesson language not inherited: %q", les.Language)
	}
	if _, err := s.MarkLessonPublished(les.ID, "bafyfake"); err != nil {
		t.Fatal(err)
	}
	les.Insight = "Start with the carers, then the families."
	les.Published = ""
	les2, err := Lessons.Put(s, *les)
	if err != nil || les2.Published != "bafyfake" {
		t.Fatalf("published CID not kept on edit: %+v %v", les2, err)
	}

	for _, del := range []struct {
		name string
		del  func() error
		get  func() error
	}{
		{"stakeholder", func() error { return Stakeholders.Remove(s, stk.ID, false) }, func() error { _, err := Stakeholders.Get(s, stk.ID); return err }},
		{"activity", func() error { return Activities.Remove(s, act.ID, false) }, func() error { _, err := Activities.Get(s, act.ID); return err }},
		{"evaluation", func() error { return Evaluations.Remove(s, ev.ID, false) }, func() error { _, err := Evaluations.Get(s, ev.ID); return err }},
		{"lesson", func() error { return Lessons.Remove(s, les.ID, false) }, func() error { _, err := Lessons.Get(s, les.ID); return err }},
	} {
		if err := del.del(); err != nil {
			t.Fatalf("delete %s: %v", del.name, err)
		}
		if err := del.get(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s after delete: %v", del.name, err)
		}
		if err := del.del(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete %s twice: %v", del.name, err)
		}
	}
}

func TestLabCascade(t *testing.T) {
	s := openTestStore(t)
	ini := mustInitiative(t, s)
	act, _ := Activities.Put(s, Activity{InitiativeID: ini.ID, Kind: "pilot"})
	ev, _ := Evaluations.Put(s, Evaluation{InitiativeID: ini.ID, Indicator: "Satisfaction"})
	stk, _ := Stakeholders.Put(s, Stakeholder{Kind: "person", Name: "Aino Mattila", InitiativeIDs: []string{ini.ID}})
	les, _ := Lessons.Put(s, DraftLesson{InitiativeID: ini.ID, Insight: "x"})
	d, err := s.AssembleDraft(ini.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err = Drafts.Put(s, *d)
	if err != nil {
		t.Fatal(err)
	}

	err = s.DeleteInitiative(ini.ID, false)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cascade") {
		t.Fatalf("delete with activities: %v", err)
	}
	if _, err := Activities.Get(s, act.ID); err != nil {
		t.Fatal("refused delete removed an activity")
	}
	if err := s.DeleteInitiative(ini.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := Activities.Get(s, act.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("activity after cascade: %v", err)
	}
	if _, err := Evaluations.Get(s, ev.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("evaluation after cascade: %v", err)
	}
	if g, err := Stakeholders.Get(s, stk.ID); err != nil || len(g.InitiativeIDs) != 0 {
		t.Fatalf("stakeholder after cascade: %+v %v", g, err)
	}
	if g, err := Lessons.Get(s, les.ID); err != nil || g.InitiativeID != "" {
		t.Fatalf("lesson after cascade: %+v %v", g, err)
	}
	if g, err := Drafts.Get(s, d.ID); err != nil || g.InitiativeID != "" {
		t.Fatalf("draft after cascade: %+v %v", g, err)
	}
	// The unlinked lesson and draft can still be edited.
	if _, err := Drafts.Put(s, Draft{ID: d.ID, PracticeFields: PracticeFields{Title: "t"}}); err != nil {
		t.Fatal(err)
	}
}

func TestLabStages(t *testing.T) {
	s := openTestStore(t)
	st, err := s.Stages()
	if err != nil || len(st) != 5 {
		t.Fatalf("default stages: %v %v", st, err)
	}
	wantNames := []string{"Ecosystem", "Change", "Champions", "Engagement", "Co-production"}
	for i, v := range st {
		if v.Number != i+1 || v.Name != wantNames[i] || v.Goal == "" {
			t.Fatalf("stage %d: %+v", i, v)
		}
	}
	if err := s.SetStages(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no stages: %v", err)
	}
	if err := s.SetStages(make([]Stage, 10)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("10 stages: %v", err)
	}
	if err := s.SetStages([]Stage{{Number: 2, Name: "a"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("misnumbered: %v", err)
	}
	if err := s.SetStages([]Stage{{Name: "Explore"}, {Name: ""}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "name") {
		t.Fatalf("nameless: %v", err)
	}
	ini := mustInitiative(t, s) // stage 3
	if err := s.SetStages([]Stage{{Name: "Explore"}, {Name: "Deliver"}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ini.ID) {
		t.Fatalf("stages below an initiative's: %v", err)
	}
	six := append(DefaultStages(), Stage{Name: "Scale", Goal: "Scale out to other municipalities."})
	if err := s.SetStages(six); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stages(); len(st) != 6 || st[5].Number != 6 {
		t.Fatalf("after set: %v", st)
	}
	if _, err := Initiatives.Put(s, Initiative{Title: "x", Language: "en", Stage: 6}); err != nil {
		t.Fatalf("stage 6 of 6: %v", err)
	}
}

// labFixture is an initiative with stakeholders, activities, evaluations
// and lessons whose structured fields hold personal data.
func labFixture(t *testing.T, s *Store) *Initiative {
	t.Helper()
	ini := mustInitiative(t, s)
	other, _ := Initiatives.Put(s, Initiative{Title: "Other", Language: "en"})
	for _, v := range []Stakeholder{
		{Kind: "person", Name: "Aino Mattila", Role: "Home-care nurse", Email: "aino.mattila@example.fi", Phone: "+358 40 123 4567",
			Address: "Koulukatu 5, 80100 Joensuu", InitiativeIDs: []string{ini.ID}},
		{Kind: "person", Name: "Pekka Virtanen", Role: "home-care nurse", Phone: "040 765 4321", InitiativeIDs: []string{ini.ID}},
		{Kind: "organisation", Name: "Joensuu Seniors Club", Role: "Older residents' association", Email: "club@example.org", InitiativeIDs: []string{ini.ID}},
		{Kind: "person", Name: "Liisa Korhonen", Role: "Assistant to Aino Mattila", InitiativeIDs: []string{ini.ID}},
		{Kind: "person", Name: "Olli Other", Role: "Planner", InitiativeIDs: []string{other.ID}},
	} {
		if _, err := Stakeholders.Put(s, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []Activity{
		{InitiativeID: ini.ID, Kind: "workshop", Title: "Kick-off", Place: "Library hall", Stage: 1, Date: "2016-04-12",
			Attendees: []string{"Aino Mattila", "Marja Nieminen"}, Notes: "Mapped who provides care.", Counts: map[string]int{"residents": 12, "carers": 6}},
		{InitiativeID: ini.ID, Kind: "interview", Title: "Carer interviews", Stage: 1, Date: "2016-05-02",
			Attendees: []string{"Pekka Virtanen", "Kalle Nieminen", "Sari Laine"}},
		{InitiativeID: ini.ID, Kind: "pilot", Title: "Tablet pilot", Place: "Village", Stage: 3, Date: "2017-01-10",
			Notes: "Tablets installed in 20 homes", Counts: map[string]int{"households": 20}, Ages: []int{71, 84}},
	} {
		if _, err := Activities.Put(s, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Evaluations.Put(s, Evaluation{InitiativeID: ini.ID, Indicator: "Waiting time for a visit", Unit: "days", Before: fp(14),
		After: fp(6.5), Period: "2016-2017", Quotes: []string{"I feel less alone."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Lessons.Put(s, DraftLesson{InitiativeID: ini.ID, Insight: "Involve carers from the first workshop."}); err != nil {
		t.Fatal(err)
	}
	if _, err := Lessons.Put(s, DraftLesson{InitiativeID: other.ID, Insight: "Unrelated lesson."}); err != nil {
		t.Fatal(err)
	}
	return ini
}

func TestLabAssembleDraft(t *testing.T) {
	s := openTestStore(t)
	ini := labFixture(t, s)
	d, err := s.AssembleDraft(ini.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	all := string(b)
	for _, private := range []string{"Aino", "Mattila", "Pekka", "Virtanen", "Liisa", "Korhonen", "Marja", "Nieminen", "Sari",
		"Joensuu Seniors Club", "aino.mattila@example.fi", "club@example.org", "+358 40 123 4567", "040 765 4321",
		"Koulukatu", "Olli", "Planner", "Unrelated lesson", "71", "84"} {
		if strings.Contains(all, private) {
			t.Errorf("draft contains %q:\n%s", private, all)
		}
	}
	if !slices.Equal(d.StakeholderRoles, []string{"Home-care nurse", "Older residents' association"}) {
		t.Errorf("roles: %q", d.StakeholderRoles)
	}
	if d.Title != ini.Title || d.Problem != ini.Description || d.Language != "en" || d.Stage != 3 ||
		!slices.Equal(d.Topics, ini.Topics) || d.InitiativeID != ini.ID {
		t.Errorf("initiative fields: %+v", d)
	}
	if d.Period != "2016-03-01 – 2018-05-31" {
		t.Errorf("period %q", d.Period)
	}
	if !strings.Contains(d.Summary, "telecare") || !strings.Contains(d.Summary, "stage 3 of 5 (Champions)") {
		t.Errorf("summary %q", d.Summary)
	}
	for _, want := range []string{"Stage 1 (Ecosystem): Workshop “Kick-off” in Library hall: Mapped who provides care.",
		"Interview “Carer interviews”.", "Stage 3 (Champions): Pilot “Tablet pilot” in Village: Tablets installed in 20 homes."} {
		if !strings.Contains(d.Approach, want) {
			t.Errorf("approach lacks %q:\n%s", want, d.Approach)
		}
	}
	if strings.Contains(d.Approach, "Stage 2") {
		t.Errorf("approach names a stage without activities:\n%s", d.Approach)
	}
	// 12+6 counted, 3 interviewees listed, 20 households counted.
	for _, want := range []string{"41 participants took part in 3 activities.", "Waiting time for a visit: 14 → 6.5 days (2016-2017)",
		"Feedback: “I feel less alone.”"} {
		if !strings.Contains(d.Results, want) {
			t.Errorf("results lack %q:\n%s", want, d.Results)
		}
	}
	if !slices.Equal(d.Lessons, []string{"Involve carers from the first workshop."}) {
		t.Errorf("lessons %q", d.Lessons)
	}
	if d.ID != "" || d.Approval != nil {
		t.Errorf("assembled draft is stored or approved: %+v", d)
	}
	p := d.Public()
	if p.Version != 1 || p.Title != d.Title {
		t.Errorf("public: %+v", p)
	}
	if _, err := s.AssembleDraft("ini-aaaaaa"); !errors.Is(err, ErrNotFound) {
		t.Errorf("assemble unknown: %v", err)
	}
}

func TestLabRegistry(t *testing.T) {
	s := openTestStore(t)
	labFixture(t, s)
	r, err := s.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Aino Mattila", "Pekka Virtanen", "Joensuu Seniors Club", "Liisa Korhonen", "Olli Other",
		"Marja Nieminen", "Kalle Nieminen", "Sari Laine"} {
		if !slices.Contains(r.Names, n) {
			t.Errorf("registry names lack %q: %q", n, r.Names)
		}
	}
	if c := strings.Count(strings.Join(r.Names, "|"), "Aino Mattila"); c != 1 {
		t.Errorf("Aino Mattila listed %d times", c)
	}
	for _, c := range []string{"aino.mattila@example.fi", "+358 40 123 4567", "Koulukatu 5, 80100 Joensuu", "040 765 4321", "club@example.org"} {
		if !slices.Contains(r.Contacts, c) {
			t.Errorf("registry contacts lack %q: %q", c, r.Contacts)
		}
	}
	if slices.Contains(r.Names, "") || slices.Contains(r.Contacts, "") {
		t.Error("registry holds empty strings")
	}
}

func TestLabDraftApproval(t *testing.T) {
	s := openTestStore(t)
	ini := mustInitiative(t, s)
	d, _ := s.AssembleDraft(ini.ID)
	d, err := Drafts.Put(s, *d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Rev != 1 || !strings.HasPrefix(d.ID, "drf-") {
		t.Fatalf("new draft: %+v", d)
	}
	a, err := s.ApproveDraft(d.ID, d.Rev, []string{"Library Hall"}, nil, Approval{Hash: "abc", By: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Approval == nil || a.Approval.Hash != "abc" || a.Approval.At.IsZero() || !slices.Equal(a.Confirmed, []string{"Library Hall"}) {
		t.Fatalf("approved: %+v", a)
	}
	// An edit clears the approval and advances the revision; the
	// published CID and the initiative cannot be set by an edit.
	a.Summary = "changed"
	a.Published = "bafyfake"
	a.InitiativeID = ""
	e, err := Drafts.Put(s, *a)
	if err != nil {
		t.Fatal(err)
	}
	if e.Approval != nil || e.Rev != 2 || e.Published != "" || e.InitiativeID != ini.ID {
		t.Fatalf("edited: %+v", e)
	}
	if _, err := s.ApproveDraft(d.ID, 1, nil, nil, Approval{Hash: "abc"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("approve a stale revision: %v", err)
	}
	if _, err := s.ApproveDraft(d.ID, 2, nil, nil, Approval{Hash: "def"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.MarkDraftPublished(d.ID, "bafyreal")
	if err != nil || p.Published != "bafyreal" || p.Approval != nil {
		t.Fatalf("published: %+v %v", p, err)
	}
	if l, _ := Drafts.List(s, ini.ID); len(l) != 1 {
		t.Fatalf("drafts of initiative: %v", l)
	}
	if err := Drafts.Remove(s, d.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Drafts.Get(s, d.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestLabExport(t *testing.T) {
	s := openTestStore(t)
	labFixture(t, s)
	var buf bytes.Buffer
	if err := s.ExportPrivate(&buf); err != nil {
		t.Fatal(err)
	}
	var ex LabExport
	if err := json.Unmarshal(buf.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Initiatives) != 2 || len(ex.Stakeholders) != 5 || len(ex.Activities) != 3 || len(ex.Evaluations) != 1 ||
		len(ex.Lessons) != 2 || len(ex.Stages) != 5 {
		t.Fatalf("export: %d initiatives %d stakeholders %d activities %d evaluations %d lessons %d stages",
			len(ex.Initiatives), len(ex.Stakeholders), len(ex.Activities), len(ex.Evaluations), len(ex.Lessons), len(ex.Stages))
	}
	if !strings.Contains(buf.String(), "aino.mattila@example.fi") {
		t.Fatal("export lacks personal data")
	}
	// Lab data does not show up as records.
	recs, err := s.List(ListOptions{})
	if err != nil || len(recs) != 0 {
		t.Fatalf("records: %v %v", recs, err)
	}
}
