// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Every kind declares exactly the fields its entities carry (besides
// their ID and times), so that what is personal is declared for each.
func TestLabKindsDeclareEveryField(t *testing.T) {
	for _, k := range LabKinds() {
		m, err := fieldsOf(k.New())
		if err != nil {
			t.Fatal(err)
		}
		var have, declared []string
		for key := range m {
			if key != "id" && key != "created" && key != "updated" {
				have = append(have, key)
			}
		}
		for _, f := range k.Decl().Fields {
			declared = append(declared, f.Key)
		}
		sort.Strings(have)
		sort.Strings(declared)
		if !slices.Equal(have, declared) {
			t.Errorf("%s: fields %v, declared %v", k.Decl().Name, have, declared)
		}
	}
}

// An export without personal data leaves out every field declared
// personal, and nothing else.
func TestLabExportWithoutPersonal(t *testing.T) {
	s := openTestStore(t)
	labFixture(t, s)
	var buf bytes.Buffer
	if err := s.ExportLab(&buf, false); err != nil {
		t.Fatal(err)
	}
	// (Free text may still name people: "Assistant to Aino Mattila" is a
	// role; the gate scrubs free text before anything leaves.)
	for _, private := range []string{"Pekka Virtanen", "aino.mattila@example.fi", "+358 40 123 4567", "Koulukatu", "Marja Nieminen", "Sari Laine"} {
		if strings.Contains(buf.String(), private) {
			t.Errorf("export without personal data holds %q", private)
		}
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ex := map[string][]map[string]any{}
	for _, k := range LabKinds() {
		var l []map[string]any
		if err := json.Unmarshal(doc[k.Decl().Plural], &l); err != nil {
			t.Fatalf("%s: %v", k.Decl().Plural, err)
		}
		ex[k.Decl().Plural] = l
	}
	if len(ex["stakeholders"]) != 5 || len(ex["activities"]) != 3 || len(ex["initiatives"]) != 2 {
		t.Fatalf("export: %d stakeholders, %d activities, %d initiatives", len(ex["stakeholders"]), len(ex["activities"]), len(ex["initiatives"]))
	}
	for _, st := range ex["stakeholders"] {
		for _, key := range []string{"name", "email", "phone", "address", "consent", "consent_given", "notes"} {
			if _, ok := st[key]; ok {
				t.Errorf("stakeholder keeps %s: %v", key, st)
			}
		}
		if st["role"] == "" || st["kind"] == "" || st["id"] == "" {
			t.Errorf("stakeholder lost its role, kind or ID: %v", st)
		}
	}
	for _, a := range ex["activities"] {
		if _, ok := a["attendees"]; ok {
			t.Errorf("activity keeps its attendees: %v", a)
		}
		if _, ok := a["counts"]; !ok {
			t.Errorf("activity lost its counts: %v", a)
		}
	}
}

// Whatever a kind declares personal feeds the gate's registry, and a role
// naming any of it is left out of an assembled draft.
func TestLabPersonalFieldsFeedRegistryAndDraft(t *testing.T) {
	s := openTestStore(t)
	ini := labFixture(t, s)
	if _, err := Stakeholders.Put(s, Stakeholder{Kind: "person", Name: "Ville Vallas", Role: "Coach of Marja Nieminen",
		InitiativeIDs: []string{ini.ID}}); err != nil {
		t.Fatal(err)
	}
	reg, err := s.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Aino Mattila", "Marja Nieminen", "Ville Vallas"} {
		if !slices.Contains(reg.Names, want) {
			t.Errorf("registry names lack %q: %v", want, reg.Names)
		}
	}
	for _, want := range []string{"aino.mattila@example.fi", "+358 40 123 4567", "Koulukatu 5, 80100 Joensuu"} {
		if !slices.Contains(reg.Contacts, want) {
			t.Errorf("registry contacts lack %q: %v", want, reg.Contacts)
		}
	}
	d, err := s.AssembleDraft(ini.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	for _, private := range append(reg.Names, reg.Contacts...) {
		if strings.Contains(string(b), private) {
			t.Errorf("assembled draft holds %q: %s", private, b)
		}
	}
}
