// SPDX-License-Identifier: EUPL-1.2

package anon

import "testing"

// TestNameEvidenceInContext covers the context that decides a run of
// capitalised words: coordination with a name, a proper noun opening a
// sentence before a known name, words that name a kind of organisation
// after the run, and a place preposition before a run that opens with a
// proper noun other than a given name.
func TestNameEvidenceInContext(t *testing.T) {
	byLang := map[string][]detCase{
		"en": {
			{name: "coordinated with a name", in: "Hope and Stanley painted the hall.", typ: TypePerson, redact: []string{"Hope", "Stanley"}},
			{name: "joined to a registered name", in: "Lily and Emily Clarke baked for the fair.", typ: TypePerson, redact: []string{"Lily", "Emily Clarke"}},
			{name: "proper noun before a surname", in: "Amir Khan translated the leaflets.", typ: TypePerson, redact: []string{"Amir Khan"}},
			{name: "given name after from", in: "The letter came from Bob, who drives the van.", typ: TypePerson, redact: []string{"Bob"}},
			{name: "places coordinated", in: "Buses ran between Carlisle and Penrith twice a day.", keep: []string{"Carlisle", "Penrith"}},
			{name: "place after at", in: "A new stop opened at Kirkby Stephen in May.", keep: []string{"Kirkby Stephen"}},
			{name: "row of houses and street", in: "She moved to 4 Beck Cottages, Station Lane last year.", typ: TypeAddress, redact: []string{"4 Beck Cottages, Station Lane"}},
		},
		"is": {
			{name: "common word before a patronymic", in: "Í gær kom Gísli Magnússon í heimsókn.", typ: TypePerson, redact: []string{"Gísli Magnússon"}},
			{name: "coordinated Icelandic names", in: "Snorri og Hildur sáu um kaffið.", typ: TypePerson, redact: []string{"Snorri", "Hildur"}},
		},
		"nb": {
			{name: "university after the name", in: "Rapporten ble skrevet ved Nord universitet i fjor.", keep: []string{"Nord universitet"}},
		},
	}
	for lang, cases := range byLang {
		g := New(Options{FailClosed: true, Language: lang, Registry: Registry{Names: []string{"Emily Clarke"}}})
		t.Run(lang, func(t *testing.T) { runDetCases(t, g, cases) })
	}
}

// TestMacSurnamesGluedOrApart finds a registered Mac or Mc surname written
// the other way, glued or apart, without taking "Mac" alone for a name.
func TestMacSurnamesGluedOrApart(t *testing.T) {
	g := New(Options{FailClosed: true, Language: "en", Registry: Registry{Names: []string{"Siobhán MacCarthy", "Liam Mac Suibhne"}}})
	runDetCases(t, g, []detCase{
		{name: "apart", in: "Photos by Siobhan Mac Carthy.", typ: TypePerson, redact: []string{"Siobhan Mac Carthy"}},
		{name: "glued", in: "Liam MacSuibhne drove.", typ: TypePerson, redact: []string{"Liam MacSuibhne"}},
		{name: "particle alone", in: "The café is called Mac and serves soup.", keep: []string{"Mac"}},
	})
}

// TestAgeAndCoordinationEvidence: an age in apposition marks a person; an
// unknown word joined to a place is a place.
func TestAgeAndCoordinationEvidence(t *testing.T) {
	en := New(Options{FailClosed: true, Language: "en"})
	runDetCases(t, en, []detCase{
		{name: "age in apposition", in: "Sinéad, 83, rang the office every week.", typ: TypePerson, redact: []string{"Sinéad"}},
		{name: "who is", in: "Mrs Lowther, who is 87, came by bus.", typ: TypeAge, redact: []string{"87"}},
	})
	fi := New(Options{FailClosed: true, Language: "fi"})
	runDetCases(t, fi, []detCase{
		{name: "unknown joined to a place", in: "Linja ajaa Kelvän ja Vuonislahden kautta.", keep: []string{"Kelvän", "Vuonislahden"}},
	})
}
