// SPDX-License-Identifier: EUPL-1.2

// Long file: the canary scenario plants personal data in every lab field and checks every way out
// (wire, API, logs, search, backups); its checks belong together. Its helpers are in
// canary_helpers_test.go.

package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/anon/anontest"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/protocol"
)

// Public text of the records the canary lab publishes. Each must reach
// the other regions (it proves the capture sees the records); none
// carries personal data.
const (
	canaryTelecareTitle = "Night-time telecare with village volunteers"
	canaryBusTitle      = "Evening bus for wheelchair users"
	canaryDriversTitle  = "Volunteer drivers for hospital visits"
	canaryLabLesson     = "Trusted local contacts matter more than the technology."
	canaryDirectLesson  = "Rural transport pilots need a named local champion."
	canaryCareTopic     = "elderly-care"
	canaryBusTopic      = "transport"
)

// canaryLab is the private data of one region's lab with personal values
// planted in every private field and in its free text.
type canaryLab struct {
	plan      *canaryPlan
	people    []*canaryPerson // registered stakeholders
	attendees []*canaryPerson // known only as activity attendees
	orgs      []string        // registered organisations

	draft, direct, private slotGroup

	iniTitle, iniService string
	iniDesc              *textSlot
	actNotes             [6]*textSlot
	actTitle, actPlace   [6]string
	actAttendees         [6][]string
	quotes               [3][3]*textSlot
	evaNotes             [3]*textSlot
	lesInsight           [2]*textSlot
	lesContext           [2]*textSlot
	draftRes, draftDiff  *textSlot
	draftTrans           *textSlot
	draftLinks           []string
	draftPeriod          string
	draftRoles           []string
	countGroup           string
	evaPeriod, evaUnit   string
	busTitle             string
	busDesc, busNotes    *textSlot
	stkNotes, stkConsent []*textSlot

	prTitle, prTransTitle string
	pr                    map[string]*textSlot
	prLessons, prRoles    []*textSlot
	prLinks               []string
	lessonInsight         *textSlot
	lessonContext         *textSlot

	// A registered stakeholder named, with contacts, only in the reason of
	// a retraction (a record that leaves the node without a draft).
	retractee     *canaryPerson
	retractReason string
}

type canaryName struct {
	given, surname, inflected, country, sentence string
}

// readCanaryPeople reads the canary lab's registered stakeholders and its
// attendees from testdata/canary/people.tsv.
func readCanaryPeople(t *testing.T) (registered, attendees []canaryName) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "canary", "people.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comma, rd.Comment, rd.FieldsPerRecord = '\t', '#', 6
	rows, err := rd.ReadAll()
	if err != nil || len(rows) == 0 || rows[0][0] != "known_as" {
		t.Fatalf("testdata/canary/people.tsv: no header line, or %v", err)
	}
	for _, row := range rows[1:] {
		n := canaryName{given: row[1], surname: row[2], inflected: row[3], country: row[4], sentence: row[5]}
		switch row[0] {
		case "stakeholder":
			registered = append(registered, n)
		case "attendee":
			attendees = append(attendees, n)
		default:
			t.Fatalf("testdata/canary/people.tsv: %s %s known as %q", n.given, n.surname, row[0])
		}
	}
	return registered, attendees
}

var canaryRoles = []string{"home-care nurse", "taxi driver", "village volunteer", "municipal planner", "family carer",
	"day-centre manager", "library worker", "youth worker", "physiotherapist", "IT support volunteer"}

var canaryOrgSuffix = map[string]string{"FI": " Ky", "SE": "s Hemtjänst AB", "NO": " Omsorg AS", "DK": " ApS",
	"IS": " ehf.", "IE": " Care Ltd", "GB": " Home Support Ltd"}

// buildCanaryLab plants well over 200 distinct personal values.
func buildCanaryLab(t *testing.T, seed int64) *canaryLab {
	registered, attendees := readCanaryPeople(t)
	r := rand.New(rand.NewSource(seed))
	p := &canaryPlan{r: r, index: map[string]*plantedValue{}}
	ids := anontest.IDs{R: r}
	l := &canaryLab{plan: p, pr: map[string]*textSlot{}}

	// Free-text fields, in three groups: what a draft assembled from the
	// initiative carries, what the complete practice and lesson published
	// directly carry, and private fields that are never assembled.
	const short, long = 2500, 30000
	l.iniDesc = l.draft.add("initiative[telecare].description", long,
		"Older people in remote villages wait weeks for a home-care visit.")
	for i := range l.actNotes {
		l.actNotes[i] = l.draft.add(fmt.Sprintf("activity[%d].notes", i), long, "The meeting went well.")
	}
	for j := range l.quotes {
		for k := range l.quotes[j] {
			l.quotes[j][k] = l.draft.add(fmt.Sprintf("evaluation[%d].quotes[%d]", j, k), short, "It made the nights calmer.")
		}
	}
	l.lesInsight[0] = l.draft.add("lesson[0].insight", short, canaryLabLesson)
	l.lesContext[0] = l.draft.add("lesson[0].context", long, "Learnt in the second winter of the pilot.")
	l.lesInsight[1] = l.draft.add("lesson[1].insight", short, "Night-time calls fall when a volunteer visits in the evening.")
	l.draftRes = l.draft.add("draft.resources", long, "Nurses, volunteers and forty tablets.")
	l.draftDiff = l.draft.add("draft.difficulties", long, "Mobile coverage was poor in the hills.")
	l.draftTrans = l.draft.add("draft.transferability", long, "Any municipality with a village association can reuse it.")
	l.busDesc = l.draft.add("initiative[bus].description", long, "Wheelchair users cannot reach evening events.")
	l.busNotes = l.draft.add("activity[bus].notes", long, "The first run was on time.")

	for _, f := range []string{"summary", "problem", "approach", "results", "resources", "difficulties", "transferability"} {
		limit := long
		if f == "summary" {
			limit = short
		}
		l.pr[f] = l.direct.add("practice."+f, limit, "Volunteer drivers take older residents to hospital appointments.")
	}
	l.pr["period"] = l.direct.add("practice.period", 240, "2016–2018.")
	l.pr["fi.summary"] = l.direct.add("practice.translations.fi.summary", short, "Vapaaehtoiset kuljettavat vanhuksia sairaalaan.")
	for i := range 3 {
		l.prLessons = append(l.prLessons, l.direct.add(fmt.Sprintf("practice.lessons[%d]", i), short, "Book the drivers a week ahead."))
	}
	for i, role := range []string{"volunteer driver", "hospital booking clerk"} {
		l.prRoles = append(l.prRoles, l.direct.add(fmt.Sprintf("practice.stakeholder_roles[%d]", i), 1000, role))
	}
	l.lessonInsight = l.direct.add("lesson.insight", short, canaryDirectLesson)
	l.lessonContext = l.direct.add("lesson.context", long, "Learnt when the village bus was cut.")

	for j := range l.evaNotes {
		l.evaNotes[j] = l.private.add(fmt.Sprintf("evaluation[%d].notes", j), long, "Internal note.")
	}
	l.lesContext[1] = l.private.add("lesson[1].context", long, "Not for publication.")

	nameSentences := []string{"%s joined the workshop.", "The notes from %s were useful.", "We thank %s for the photographs.",
		"Transport was arranged by %s and the village association."}
	quoteSentence := "I only trusted the tablet because %s showed me how it works."
	both := func(kind, v, sentence string) {
		p.deal(&l.draft, kind, v, sentence)
		p.deal(&l.direct, kind, v, sentence)
	}

	// Registered stakeholders: name, contacts, organisation, role.
	mk := func(n canaryName) *canaryPerson {
		per := &canaryPerson{given: n.given, surname: n.surname, inflected: n.inflected, inflSentence: n.sentence,
			country: n.country, name: n.given + " " + n.surname}
		per.email = canaryFoldASCII(n.given) + "." + canaryFoldASCII(n.surname) + "@" + canaryDomains[n.country]
		per.phone, per.phoneOther = canaryPhone(r, n.country)
		per.street = p.street(n.country)
		per.address = per.street + ", " + canaryPostcodes[n.country]
		return per
	}
	for i, n := range registered {
		per := mk(n)
		per.role = canaryRoles[i%len(canaryRoles)]
		if i%3 == 0 {
			per.organisation = per.surname + canaryOrgSuffix[n.country]
		} else {
			per.organisation = "Municipal home-care service"
		}
		l.people = append(l.people, per)
		l.stkNotes = append(l.stkNotes, l.private.add(fmt.Sprintf("stakeholder[%d].notes", i), long, "Prefers evening calls."))
		l.stkConsent = append(l.stkConsent, l.private.add(fmt.Sprintf("stakeholder[%d].consent", i), 3500,
			"Consent given in writing at the first workshop."))
	}
	// One role names a colleague: the draft must leave it out.
	l.people[3].role = "assistant to " + l.people[7].name
	p.field("name", l.people[7].name, "stakeholder[3].role")

	for i, per := range l.people {
		f := fmt.Sprintf("stakeholder[%d].", i)
		p.field("name", per.name, f+"name")
		p.field("email", per.email, f+"email")
		p.field("phone", per.phone, f+"phone")
		p.field("address", per.address, f+"address")
		if per.organisation != "Municipal home-care service" {
			p.field("organisation", per.organisation, f+"organisation")
		}
		written := per.name
		switch i % 5 {
		case 0:
			written = strings.ToUpper(written)
		case 1:
			written = strings.ToLower(written)
		}
		p.put(l.actNotes[i%6], "name", per.name, fmt.Sprintf(nameSentences[i%4], per.name))
		p.put(l.quotes[(i/3)%3][i%3], "name", per.name, fmt.Sprintf(quoteSentence, per.name))
		p.deal(&l.direct, "name", per.name, fmt.Sprintf(nameSentences[(i+1)%4], written))
		p.deal(&l.private, "name", per.name, fmt.Sprintf("Neighbour of %s.", per.name))
		both("inflected-name", per.inflected, fmt.Sprintf(per.inflSentence, per.inflected))
		both("email", per.email, fmt.Sprintf("Write to %s for the slides.", per.email))
		both("phone", per.phone, fmt.Sprintf("Call %s tomorrow.", per.phone))
		both("phone", per.phoneOther, fmt.Sprintf("Contact number: %s.", per.phoneOther))
		both("street-address", per.street, fmt.Sprintf("Meetings were at %s in the evening.", per.street))
		both("address", per.address, fmt.Sprintf("Post for the group goes to %s.", per.address))
	}
	for _, i := range []int{1, 8, 15, 25, 16} { // surnames alone
		both("surname", l.people[i].surname, fmt.Sprintf("%s said the tablet was too small.", l.people[i].surname))
	}
	for i, n := range attendees {
		per := mk(n)
		l.attendees = append(l.attendees, per)
		p.field("name", per.name, fmt.Sprintf("activity[%d].attendees", i%6))
		l.actAttendees[i%6] = append(l.actAttendees[i%6], per.name)
		both("name", per.name, fmt.Sprintf(nameSentences[i%4], per.name))
		both("inflected-name", per.inflected, fmt.Sprintf(per.inflSentence, per.inflected))
	}
	for i := range 6 { // registered people attend too
		l.actAttendees[i] = append(l.actAttendees[i], l.people[i*4].name)
		p.field("name", l.people[i*4].name, fmt.Sprintf("activity[%d].attendees", i))
	}
	l.orgs = []string{"Heikkilän Kyläpalvelu Oy", "Sjöbergs Bussresor AB", "Fjeldstad Transport AS", "Doherty Care Services Ltd"}
	for i, o := range l.orgs {
		p.field("organisation-name", o, fmt.Sprintf("stakeholder[org %d].name", i))
		both("organisation-name", o, fmt.Sprintf("Vehicles were lent by %s.", o))
	}

	// National identity numbers of all seven countries, with valid checks.
	type idv struct{ kind, v, sentence string }
	var idvs []idv
	for i := range 4 {
		idvs = append(idvs,
			idv{"fi-henkilotunnus", ids.FIHetu(), "Henkilötunnus %s oli lomakkeessa."},
			idv{"se-personnummer", ids.SEPersonnummer(i == 1, i%2 == 0), "Personnummer %s angavs på blanketten."},
			idv{"no-fodselsnummer", ids.NOFodselsnummer(i == 2), "Fødselsnummer %s ble oppgitt."},
			idv{"is-kennitala", ids.ISKennitala(), "Kennitala %s var á eyðublaðinu."},
			idv{"dk-cpr", ids.DKCPR(), "Borgeren (CPR %s) deltog."},
			idv{"ie-ppsn", ids.IEPPSN(i%2 == 1), "PPSN %s was on the form."},
			idv{"uk-nino", ids.UKNINO(), "NI number %s was given."})
	}
	for i, cc := range []string{"FI", "SE", "NO", "DK", "IS", "IE", "GB", "FI"} {
		idvs = append(idvs, idv{"iban", ids.IBAN(cc, i%2 == 0), "Payments went to %s last year."})
	}
	for _, c := range [][2]any{{"4", 16}, {"51", 16}, {"37", 15}, {"6011", 16}} {
		idvs = append(idvs, idv{"card", ids.Card(c[0].(string), c[1].(int)), "The card %s was charged."})
	}
	for _, cc := range []string{"FI", "SE", "NO", "DK", "IS", "IE", "GB"} {
		for range 2 {
			a, b := canaryPhone(r, cc)
			idvs = append(idvs, idv{"phone", a, "ring %s på kvällen."}, idv{"phone", b, "puh. %s"})
		}
	}
	for i, local := range []string{"kari.nyman", "siv.bergvik", "jon.holm72", "mette.dahl", "orla.keane", "ruth.pryce", "ville.oksa", "stina.fors"} {
		cc := []string{"FI", "SE", "NO", "DK", "IE", "GB", "FI", "SE"}[i]
		idvs = append(idvs, idv{"email", local + "@" + canaryDomains[cc], "Sähköposti: %s"})
	}
	idvs = append(idvs, idv{"email", "orla.keane (at) donegal (dot) example (dot) ie", "Her address is %s."},
		idv{"email", "ville.oksa [at] pielinen.example.fi", "Osoite: %s"})
	for _, cc := range []string{"FI", "SE", "NO", "DK", "IS", "IE", "GB", "FI"} {
		idvs = append(idvs, idv{"street-address", p.street(cc), "The key is kept at %s."})
	}
	for _, cc := range []string{"FI", "SE", "NO", "DK", "IS", "IE", "GB"} {
		idvs = append(idvs, idv{"postcode", canaryPostcodes[cc], "Post goes to %s."})
	}
	idvs = append(idvs,
		idv{"ip", fmt.Sprintf("%d.%d.%d.%d", 11+r.Intn(200), 10+r.Intn(240), 10+r.Intn(240), 10+r.Intn(240)), "The tablet at %s stopped responding."},
		idv{"ip", fmt.Sprintf("%d.%d.%d.%d", 11+r.Intn(200), 10+r.Intn(240), 10+r.Intn(240), 10+r.Intn(240)), "The router %s was reset."},
		idv{"ip", fmt.Sprintf("%d.%d.%d.%d", 11+r.Intn(200), 10+r.Intn(240), 10+r.Intn(240), 10+r.Intn(240)), "Alarms came from %s."},
		idv{"ip", fmt.Sprintf("2001:db8:%x:%x::%x", 4096+r.Intn(61440), 4096+r.Intn(61440), 4096+r.Intn(61440)), "Logged from %s overnight."})
	var tokens []string
	for range 4 {
		tok := fmt.Sprintf("%016x", r.Uint64())
		tokens = append(tokens, tok)
		idvs = append(idvs, idv{"url-token", tok, "The link https://portal.example.fi/consent?uid=%s was sent by text message."})
	}
	for _, c := range []string{"3 residents", "2 osallistujaa", "4 volunteers", "three carers", "2 deltagare", "3 deltakere"} {
		idvs = append(idvs, idv{"small-count", c, "Only %s came to the second meeting."})
	}
	for _, a := range [][2]string{{"aged 87", "The oldest participant was %s."}, {"91-vuotias", "Hän on %s."},
		{"93 år", "Hon är %s gammal."}, {"84 ára", "Hún er %s."}, {"96-year-old", "A %s man from Clonmany joined."},
		{"78 år", "Han er %s."}} {
		idvs = append(idvs, idv{"exact-age", a[0], a[1]})
	}
	for i, v := range idvs {
		both(v.kind, v.v, fmt.Sprintf(v.sentence, v.v))
		if i%3 == 0 {
			p.deal(&l.private, v.kind, v.v, fmt.Sprintf(v.sentence, v.v))
		}
	}

	// Titles, places and links.
	heikkila, andersson, engstrom := l.people[2], l.people[7], l.people[10]
	l.iniTitle = canaryTelecareTitle + " – " + heikkila.name + "'s pilot"
	p.field("name", heikkila.name, "initiative[telecare].title")
	l.iniService = l.people[6].name + "'s meal round"
	p.field("name", l.people[6].name, "initiative[telecare].service")
	l.busTitle = canaryBusTitle + " – route planned with " + engstrom.name
	p.field("name", engstrom.name, "initiative[bus].title")
	for i := range l.actTitle {
		l.actTitle[i] = []string{"Kick-off", "Tablet training", "", "Volunteer evening", "Survey round", "Feedback meeting"}[i]
		l.actPlace[i] = "Village hall"
	}
	l.actTitle[2] = "Kitchen-table interview at the " + l.people[1].surname + " farm"
	p.field("surname", l.people[1].surname, "activity[2].title")
	l.actPlace[1] = l.people[12].address
	p.field("address", l.people[12].address, "activity[1].place")
	l.actPlace[3] = p.street("FI") + ", " + canaryPostcodes["FI"]
	p.field("address", l.actPlace[3], "activity[3].place")
	l.draftPeriod = "2016–2018, pilot led by " + l.people[13].name
	p.field("name", l.people[13].name, "draft.period")
	l.draftRoles = []string{"home-care nurse", "night nurse on call at " + l.people[14].phoneOther, "village volunteer"}
	p.field("phone", l.people[14].phoneOther, "draft.stakeholder_roles[1]")
	l.countGroup = "the " + l.people[15].surname + " household"
	p.field("surname", l.people[15].surname, "activity[3].counts (group name)")
	l.evaPeriod = "2017, counted by " + l.people[16].name
	p.field("name", l.people[16].name, "evaluation[2].period")
	l.evaUnit = "% (survey sent from " + l.people[17].email + ")"
	p.field("email", l.people[17].email, "evaluation[1].unit")
	l.draftLinks = []string{"https://portal.example.fi/consent?uid=" + tokens[0], "https://www.interregeurope.eu/good-practices"}
	p.field("url-token", tokens[0], "draft.links[0]")
	l.prTitle = canaryDriversTitle + " – coordinated by " + andersson.name
	p.field("name", andersson.name, "practice.title")
	l.prTransTitle = "Vapaaehtoiset kuljettajat – " + l.people[0].inflected + " malli"
	p.field("inflected-name", l.people[0].inflected, "practice.translations.fi.title")
	l.prLinks = []string{"https://portal.example.fi/reset?token=" + tokens[1], "https://www.interregeurope.eu/good-practices"}
	p.field("url-token", tokens[1], "practice.links[0]")
	// A person who asked for a practice to be withdrawn, named in the
	// retraction's reason and nowhere else in free text.
	rt := mk(canaryName{"Hjördís", "Sveinsdóttir", "Sveinsdóttur", "IS", ""})
	rt.role = "village volunteer"
	l.retractee = rt
	for _, v := range [][2]string{{"name", rt.name}, {"email", rt.email}, {"phone", rt.phone}, {"address", rt.address}} {
		p.field(v[0], v[1], "stakeholder[retractee]."+v[0])
	}
	rtID := ids.FIHetu()
	l.retractReason = fmt.Sprintf("Withdrawn at the request of %s (%s, %s): the photo caption showed her henkilötunnus %s.",
		rt.name, rt.email, rt.phoneOther, rtID)
	for _, v := range [][2]string{{"name", rt.name}, {"email", rt.email}, {"phone", rt.phoneOther}, {"fi-henkilotunnus", rtID}} {
		p.field(v[0], v[1], "retraction.reason")
	}

	// A count under k that only the assembled results carry.
	p.field("small-count", "3 participants", "activity[bus].counts (assembled into the draft's results)")
	return l
}

// seed writes the lab through the node's lab API and returns the IDs of
// the two initiatives and of the lesson to publish.
func (l *canaryLab) seed(t *testing.T, api *canaryAPI) (telecare, bus, lesson string) {
	t.Helper()
	var ini knowledge.Initiative
	api.call(201, "POST", "/api/v1/lab/initiatives", map[string]any{"title": l.iniTitle, "service": l.iniService,
		"description": l.iniDesc.String(), "topics": []string{canaryCareTopic}, "stage": 4, "started": "2016-03-01",
		"status": "active", "language": "en"}, &ini)
	telecare = ini.ID
	api.call(201, "POST", "/api/v1/lab/initiatives", map[string]any{"title": l.busTitle, "service": "evening bus",
		"description": l.busDesc.String(), "topics": []string{canaryBusTopic}, "stage": 2, "started": "2017-09-01",
		"status": "active", "language": "en"}, &ini)
	bus = ini.ID

	for i, per := range l.people {
		api.call(201, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "person", "name": per.name,
			"role": per.role, "organisation": per.organisation, "email": per.email, "phone": per.phone,
			"address": per.address, "consent": l.stkConsent[i].String(), "consent_given": true,
			"notes": l.stkNotes[i].String(), "initiative_ids": []string{telecare}}, nil)
	}
	rt := l.retractee
	api.call(201, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "person", "name": rt.name,
		"role": rt.role, "email": rt.email, "phone": rt.phone, "address": rt.address,
		"consent_given": true, "initiative_ids": []string{telecare}}, nil)
	for _, o := range l.orgs {
		api.call(201, "POST", "/api/v1/lab/stakeholders", map[string]any{"kind": "organisation", "name": o,
			"role": "transport operator", "initiative_ids": []string{telecare, bus}}, nil)
	}
	kinds := []string{"workshop", "pilot", "interview", "meeting", "survey", "workshop"}
	counts := []map[string]int{{"residents": 9, "family carers": 4}, nil, nil, {"volunteers": 6, l.countGroup: 2}, nil, nil}
	ages := [][]int{{87, 91, 79}, {}, {}, {}, {93, 84, 96}, {}}
	for i := range l.actNotes {
		api.call(201, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": telecare, "kind": kinds[i],
			"title": l.actTitle[i], "date": fmt.Sprintf("2016-%02d-12", 3+i), "place": l.actPlace[i], "stage": 1 + i%4,
			"attendees": l.actAttendees[i], "notes": l.actNotes[i].String(), "counts": counts[i], "ages": ages[i]}, nil)
	}
	api.call(201, "POST", "/api/v1/lab/activities", map[string]any{"initiative_id": bus, "kind": "pilot",
		"title": "First evening run", "date": "2017-10-03", "place": "Bus depot", "notes": l.busNotes.String(),
		"counts": map[string]int{"wheelchair users": 3}, "ages": []int{87}}, nil)
	evals := []struct {
		indicator, unit, period string
		before, after           float64
	}{{"Night visits by the on-call nurse", "visits per month", "2017", 14, 6},
		{"Residents who feel safe at home", l.evaUnit, "2016–2017", 61, 83},
		{"Time to answer an alarm", "minutes", l.evaPeriod, 42, 12}}
	for j, e := range evals {
		var quotes []string
		for _, q := range l.quotes[j] {
			quotes = append(quotes, q.String())
		}
		api.call(201, "POST", "/api/v1/lab/evaluations", map[string]any{"initiative_id": telecare, "indicator": e.indicator,
			"unit": e.unit, "period": e.period, "before": e.before, "after": e.after, "quotes": quotes,
			"notes": l.evaNotes[j].String()}, nil)
	}
	var les knowledge.DraftLesson
	api.call(201, "POST", "/api/v1/lab/lessons", map[string]any{"initiative_id": telecare, "insight": l.lesInsight[0].String(),
		"context": l.lesContext[0].String(), "stage": 3, "topic": canaryCareTopic, "language": "en"}, &les)
	lesson = les.ID
	api.call(201, "POST", "/api/v1/lab/lessons", map[string]any{"initiative_id": telecare, "insight": l.lesInsight[1].String(),
		"context": l.lesContext[1].String(), "stage": 4, "language": "en"}, nil)
	return telecare, bus, lesson
}

// canaryPublishDraft assembles a draft from an initiative, optionally edits it,
// previews it, approves the previewed hash and publishes it.
func canaryPublishDraft(t *testing.T, api *canaryAPI, initiative string, edit map[string]any) Published {
	t.Helper()
	var d knowledge.Draft
	api.call(201, "POST", "/api/v1/drafts", map[string]any{"initiative": initiative}, &d)
	if edit != nil {
		api.call(200, "PUT", "/api/v1/drafts/"+d.ID, edit, &d)
	}
	var pv DraftPreview
	api.call(200, "POST", "/api/v1/drafts/"+d.ID+"/preview", nil, &pv)
	api.call(200, "POST", "/api/v1/drafts/"+d.ID+"/approve", map[string]any{"hash": pv.Hash, "by": "canary reviewer"}, &pv)
	if !pv.Approved {
		t.Fatalf("draft %s not approved", d.ID)
	}
	var out Published
	api.call(201, "POST", "/api/v1/drafts/"+d.ID+"/publish", nil, &out)
	return out
}

// TestCanaryNothingPersonalLeavesTheNode seeds a lab with several hundred
// planted personal values, runs every path by which data leaves a node
// across a federation of five, captures every byte that crosses the
// network (and every API answer another region gets) and requires that no
// planted value appears in any of it, in any case or encoding.
func TestCanaryNothingPersonalLeavesTheNode(t *testing.T) {
	start := time.Now()
	if err := anontest.CheckKnownNumbers(); err != nil {
		t.Fatal(err)
	}
	lab := buildCanaryLab(t, 20160301)
	if n := len(lab.plan.values); n < 200 {
		t.Fatalf("only %d planted values", n)
	}
	scanner := newCanaryScanner(lab.plan.values)
	checkCanaryScanner(t, lab.plan.values)

	capt := newWireCapture()
	f := newHarness(t)
	a := f.addTappedNode("A", true, capt)
	b := f.addTappedNode("B", false, capt, a)
	f.admit(a, b)
	c := f.addTappedNode("C", false, capt, a, b)
	f.admit(a, c)
	f.waitMesh(a, b, c)
	f.subscribe(b, canaryCareTopic, a, c)
	f.subscribe(b, canaryBusTopic, a, c)
	f.subscribe(c, canaryCareTopic, a, b)
	f.subscribe(c, canaryBusTopic, a, b)

	// D is linked to C alone and admitted by C: what A publishes reaches
	// D only through C, which relays it.
	d := f.addTappedNode("D", false, capt, c)
	for _, topic := range []string{canaryCareTopic, canaryBusTopic} {
		if err := d.Node().Subscribe(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
	}
	f.admit(c, d)
	eventually(t, 20*time.Second, "C meshes D into both topics", func() error {
		for _, topic := range []string{canaryCareTopic, canaryBusTopic} {
			if !capt.grafted("C", d.ID(), protocol.GossipTopic(testFederation, topic)) {
				return fmt.Errorf("D not in C's mesh for %s", topic)
			}
		}
		return nil
	})
	for _, tn := range []*testNode{a, b, c} {
		eventually(t, 10*time.Second, tn.name+" lists D", func() error {
			if !tn.Node().roster.IsMember(d.ID()) {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}

	// Seed A's lab and publish by every path.
	apiA := newCanaryAPI(t, a, capt)
	telecare, bus, lessonID := lab.seed(t, apiA)
	pubTelecare := canaryPublishDraft(t, apiA, telecare, map[string]any{"resources": lab.draftRes.String(),
		"difficulties": lab.draftDiff.String(), "transferability": lab.draftTrans.String(), "links": lab.draftLinks,
		"period": lab.draftPeriod, "stakeholder_roles": lab.draftRoles})
	pubBus := canaryPublishDraft(t, apiA, bus, nil)
	var pubLesson PublishedLesson
	apiA.call(201, "POST", "/api/v1/lab/lessons/"+lessonID+"/publish", nil, &pubLesson)

	var lessons, roles []string
	for _, s := range lab.prLessons {
		lessons = append(lessons, s.String())
	}
	for _, s := range lab.prRoles {
		roles = append(roles, s.String())
	}
	pr := protocol.Practice{Title: lab.prTitle, Summary: lab.pr["summary"].String(), Problem: lab.pr["problem"].String(),
		Approach: lab.pr["approach"].String(), Stage: 3, StakeholderRoles: roles, Results: lab.pr["results"].String(),
		Resources: lab.pr["resources"].String(), Difficulties: lab.pr["difficulties"].String(), Lessons: lessons,
		Transferability: lab.pr["transferability"].String(), Language: "en", Period: lab.pr["period"].String(),
		Links: lab.prLinks, Translations: map[string]protocol.Translation{"fi": {Title: lab.prTransTitle,
			Summary: lab.pr["fi.summary"].String()}}}
	pubDirect, err := a.Node().PublishPractice(context.Background(),
		PracticeInput{Practice: pr, Topics: []string{canaryCareTopic, canaryBusTopic}}, Review{FailClosed: true}, false)
	if err != nil {
		t.Fatalf("publish the complete practice: %v", err)
	}
	lessonRec, _, err := a.Node().PublishLesson(context.Background(), protocol.Lesson{Insight: lab.lessonInsight.String(),
		Context: lab.lessonContext.String(), Stage: 2, Language: "en"}, canaryBusTopic)
	if err != nil {
		t.Fatalf("publish the lesson: %v", err)
	}
	// A practice published by mistake is withdrawn at a person's request;
	// the reason names them.
	withdrawn := publish(t, a, "Village library pop-up", canaryCareTopic)
	tomb, err := a.Node().Retract(context.Background(), withdrawn, lab.retractReason)
	if err != nil {
		t.Fatalf("retract: %v", err)
	}
	published := time.Now()
	cids := map[string]string{"draft (telecare)": pubTelecare.CID, "draft (bus)": pubBus.CID,
		"lesson (lab API)": pubLesson.CID, "complete practice": pubDirect.CID, "lesson (direct)": lessonRec.CID.String()}
	controls := map[string]string{"draft (telecare)": canaryTelecareTitle, "draft (bus)": canaryBusTitle,
		"lesson (lab API)": canaryLabLesson, "complete practice": canaryDriversTitle, "lesson (direct)": canaryDirectLesson}
	canaryCheckPublished(t, a, cids, controls)
	canaryCheckSlots(t, a, cids, lab)

	var all []cid.Cid
	for _, s := range cids {
		all = append(all, cid.MustParse(s))
	}
	for _, tn := range []*testNode{b, c, d} {
		for _, x := range all {
			waitHas(t, tn, x, 20*time.Second)
		}
	}
	for _, tn := range []*testNode{b, c, d} {
		eventually(t, 20*time.Second, tn.name+" holds the tombstone", func() error {
			_, err := tn.Node().store.Tomb(withdrawn)
			return err
		})
	}
	if a.host.Network().Connectedness(d.ID()) == network.Connected {
		t.Fatalf("A is connected to D: the relay path is not tested")
	}
	eventually(t, 10*time.Second, "D got A's records in gossip relayed by C", func() error {
		for name, ctl := range controls {
			if !capt.received(d.ID(), c.ID(), ctl) {
				return fmt.Errorf("%s (%q) not received from C", name, ctl)
			}
		}
		return nil
	})

	// E comes late, after gossip has forgotten the records (gossipsub
	// keeps five one-second heartbeats): it catches up by sync.
	if wait := 6*time.Second - time.Since(published); wait > 0 {
		time.Sleep(wait)
	}
	e := f.addTappedNode("E", false, capt, a, b, c)
	for _, topic := range []string{canaryCareTopic, canaryBusTopic} {
		if err := e.Node().Subscribe(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
	}
	f.admit(b, e)
	for _, x := range all {
		waitHas(t, e, x, 30*time.Second)
	}
	eventually(t, 20*time.Second, "E holds the tombstone", func() error {
		_, err := e.Node().store.Tomb(withdrawn)
		return err
	})
	api := newCanaryAPI(t, e, capt)
	api.call(410, "GET", "/api/v1/practices/"+withdrawn.String(), nil, nil)
	api.call(200, "GET", "/api/v1/records/"+tomb.CID.String(), nil, nil)

	// Federated search: through the node, and raw answers of the search
	// protocol from every member the asker is linked to.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, asker := range []*testNode{b, e} {
		for _, q := range []string{"", "volunteers", "telecare"} {
			res, err := asker.Node().Search(ctx, search.Query{Text: q, PageSize: 50}, true)
			if err != nil {
				t.Fatalf("%s searches %q: %v", asker.name, q, err)
			}
			if res.Answered == 0 || len(res.Hits) == 0 {
				t.Fatalf("%s searches %q: %d answered, %d hits", asker.name, q, res.Answered, len(res.Hits))
			}
			j, _ := json.Marshal(res)
			capt.addAnswer("search "+asker.name+" Node.Search("+q+", network)", j)
		}
	}
	for _, pair := range [][2]*testNode{{b, a}, {b, c}, {b, e}, {c, d}, {e, a}} {
		raw := canaryRawSearch(t, ctx, pair[0], pair[1], search.Query{PageSize: 50})
		capt.addAnswer("search "+pair[0].name+" raw "+protocol.SearchProtocol+" answer of "+pair[1].name, raw)
	}

	// The API answers another region's users get, and the open-data
	// exports, on every node.
	for _, tn := range []*testNode{a, b, c, d, e} {
		api := newCanaryAPI(t, tn, capt)
		api.call(200, "GET", "/api/v1/export?format=json", nil, nil)
		api.call(200, "GET", "/api/v1/export?format=csv", nil, nil)
		api.call(200, "GET", "/api/v1/practices?all=true", nil, nil)
		for _, q := range []string{"", "volunteers"} {
			api.call(200, "GET", "/api/v1/search?network=true&q="+q, nil, nil)
		}
		for name, x := range cids {
			if strings.HasPrefix(name, "lesson") {
				api.call(200, "GET", "/api/v1/records/"+x, nil, nil)
			} else {
				api.call(200, "GET", "/api/v1/practices/"+x, nil, nil)
				api.call(200, "GET", "/api/v1/practices/"+x+"/history", nil, nil)
			}
		}
	}

	// The capture must have seen the records on every path, or the canary
	// proves nothing.
	canaryCheckCapture(t, capt, controls)

	// No planted value, in any encoding, anywhere.
	var leaks []canaryLeak
	total, streamBytes := 0, 0
	corpora := capt.corpora()
	for _, cp := range corpora {
		total += len(cp.data)
		if strings.HasPrefix(cp.name, "stream ") {
			streamBytes += len(cp.data)
		}
		leaks = append(leaks, scanner.scan(cp.name, cp.data)...)
	}
	canaryReportLeaks(t, leaks)
	canaryLogBytes(t, corpora)
	kinds := map[string]int{}
	for _, pv := range lab.plan.values {
		kinds[pv.kind]++
	}
	t.Logf("planted %d distinct personal values %v as %d needles; checked %d corpora, %d bytes (%d on streams, counted at both ends); %d values leaked; took %s",
		len(lab.plan.values), kinds, scanner.count, len(corpora), total, streamBytes, canaryCountValues(leaks),
		time.Since(start).Round(time.Millisecond))
}

// canaryLogBytes logs how many bytes were checked on each path.
func canaryLogBytes(t *testing.T, corpora []canaryCorpus) {
	t.Helper()
	byPath := map[string]int{}
	for _, cp := range corpora {
		path := cp.name
		f := strings.Fields(cp.name)
		switch {
		case len(f) >= 3 && f[0] == "stream":
			path = "stream " + f[2]
		case len(f) >= 4 && f[0] == "http":
			path = "http " + f[2] + " " + strings.SplitN(f[3], "?", 2)[0]
			if strings.HasPrefix(f[3], "/api/v1/practices/") || strings.HasPrefix(f[3], "/api/v1/records/") {
				path = "http " + f[2] + " " + strings.Join(strings.SplitN(f[3], "/", 5)[:4], "/") + "/…"
			}
		case len(f) >= 3 && f[0] == "search":
			path = "search " + strings.SplitN(f[2], "(", 2)[0]
		}
		byPath[path] += len(cp.data)
	}
	paths := make([]string, 0, len(byPath))
	for k := range byPath {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	for _, k := range paths {
		t.Logf("checked %9d bytes of %s", byPath[k], k)
	}
}

// canaryCheckPublished requires every published record to carry its public
// control text, the proof that the capture can see the records.
func canaryCheckPublished(t *testing.T, a *testNode, cids, controls map[string]string) {
	t.Helper()
	for name, s := range cids {
		x, err := cid.Decode(s)
		if err != nil {
			t.Fatalf("%s: CID %q: %v", name, s, err)
		}
		rec, err := a.Node().store.Get(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Contains(rec.Raw, []byte(controls[name])) {
			t.Fatalf("%s: the public text %q did not survive the gate, so it cannot show that the capture works", name, controls[name])
		}
	}
}

// canaryCheckSlots requires the public lead of every free-text field that
// planted values were dealt into in the published records: the fields left
// the node scrubbed, not dropped, so the scan covers what the gate did to
// them.
func canaryCheckSlots(t *testing.T, a *testNode, cids map[string]string, lab *canaryLab) {
	t.Helper()
	var all []byte
	for _, s := range cids {
		rec, err := a.Node().store.Get(cid.MustParse(s))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rec.Raw...)
	}
	for _, g := range []*slotGroup{&lab.draft, &lab.direct} {
		for _, s := range g.slots {
			if !bytes.Contains(all, []byte(s.lead)) {
				t.Errorf("%s: its public text %q is not in any published record", s.field, s.lead)
			}
		}
	}
}

// canaryRawSearch asks to for every record over the search protocol from from's
// host and returns the answer's bytes as they arrived.
func canaryRawSearch(t *testing.T, ctx context.Context, from, to *testNode, q search.Query) []byte {
	t.Helper()
	s, err := from.host.NewStream(ctx, to.ID(), protocol.SearchProtocol)
	if err != nil {
		t.Fatalf("%s opens a search stream to %s: %v", from.name, to.name, err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(10 * time.Second))
	if err := protocol.WriteFrame(s, &SearchRequest{Query: q}); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	raw, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("%s reads the search answer of %s: %v", from.name, to.name, err)
	}
	var ans SearchAnswer
	if err := protocol.ReadFrame(bufio.NewReader(bytes.NewReader(raw)), &ans, maxSearchAnswer); err != nil {
		t.Fatalf("search answer of %s: %v", to.name, err)
	}
	if ans.Status != protocol.StatusOK || len(ans.Results) == 0 {
		t.Fatalf("search answer of %s to %s: status %d (%s), %d records", to.name, from.name, ans.Status, ans.Error, len(ans.Results))
	}
	return raw
}

// canaryCheckCapture requires the public text of the records in the
// bytes of every path: gossip at every receiver (D's through C), sync at
// the late node, search, the tracer and the API answers.
func canaryCheckCapture(t *testing.T, capt *wireCapture, controls map[string]string) {
	t.Helper()
	type want struct {
		what          string
		data          []byte
		practicesOnly bool
	}
	wants := []want{
		{"gossipsub streams of B", capt.streamBytes("B", "/meshsub/"), false},
		{"gossipsub streams of C", capt.streamBytes("C", "/meshsub/"), false},
		{"gossipsub streams of D (relayed by C)", capt.streamBytes("D", "/meshsub/"), false},
		{"sync streams of E (the late node)", capt.streamBytes("E", protocol.SyncProtocol), false},
		{"search streams of B", capt.streamBytes("B", protocol.SearchProtocol), false},
		{"search streams of A", capt.streamBytes("A", protocol.SearchProtocol), false},
	}
	capt.mu.Lock()
	wants = append(wants, want{"gossipsub tracer", bytes.Clone(capt.tracer.Bytes()), false})
	for _, k := range capt.order {
		switch {
		case strings.Contains(k, "/api/v1/export"), strings.Contains(k, "/api/v1/practices?"):
			wants = append(wants, want{k, bytes.Clone(capt.http[k]), true})
		case strings.HasSuffix(k, "search?network=true&q="), strings.Contains(k, "Node.Search(, network)"), strings.Contains(k, " raw "):
			wants = append(wants, want{k, bytes.Clone(capt.http[k]), false})
		}
	}
	capt.mu.Unlock()
	for _, w := range wants {
		if len(w.data) == 0 {
			t.Errorf("nothing captured on %s", w.what)
			continue
		}
		for name, ctl := range controls {
			if w.practicesOnly && strings.HasPrefix(name, "lesson") {
				continue
			}
			if !bytes.Contains(w.data, []byte(ctl)) {
				t.Errorf("%s: the public text of the %s (%q) is not in the %d bytes captured", w.what, name, ctl, len(w.data))
			}
		}
	}
	if j := capt.streamBytes("E", protocol.JoinProtocolV2); !bytes.Contains(j, []byte(testFederation)) {
		t.Errorf("join streams of E: %d bytes without the federation's name", len(j))
	}
	for _, node := range []string{"B", "D"} {
		if g := capt.streamBytes(node, "/meshsub/"); !bytes.Contains(g, []byte("Withdrawn at the request of")) {
			t.Errorf("gossipsub streams of %s: the retraction is not in the %d bytes captured", node, len(g))
		}
	}
}

func canaryCountValues(ls []canaryLeak) int {
	m := map[string]bool{}
	for _, l := range ls {
		m[l.pv.value] = true
	}
	return len(m)
}

// canaryReportLeaks fails the test with one error per leaked value: what it is,
// where it was planted, and every path and encoding it was seen in.
func canaryReportLeaks(t *testing.T, ls []canaryLeak) {
	t.Helper()
	byValue := map[*plantedValue][]canaryLeak{}
	var order []*plantedValue
	for _, l := range ls {
		if _, ok := byValue[l.pv]; !ok {
			order = append(order, l.pv)
		}
		byValue[l.pv] = append(byValue[l.pv], l)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].kind < order[j].kind })
	for _, pv := range order {
		seen := byValue[pv]
		var where []string
		for _, l := range seen {
			where = append(where, l.canaryCorpus+" ["+l.enc+"]")
		}
		slices.Sort(where)
		where = slices.Compact(where)
		if len(where) > 24 {
			where = append(where[:24], fmt.Sprintf("and %d more", len(where)-24))
		}
		t.Errorf("LEAK %s %q (planted in %s) crossed the network or an API in %d places: %s\n\tcontext: %q",
			pv.kind, pv.value, strings.Join(pv.fields, ", "), len(seen), strings.Join(where, "; "), seen[0].context)
	}
}

// checkCanaryScanner proves the scanner finds a planted value in each
// encoding it claims to cover, and does not mistake a larger count for a
// planted small one.
func checkCanaryScanner(t *testing.T, values []*plantedValue) {
	t.Helper()
	pick := func(pred func(*plantedValue) bool) *plantedValue {
		for _, pv := range values {
			if pred(pv) {
				return pv
			}
		}
		t.Fatal("no planted value to test the scanner with")
		return nil
	}
	accented := pick(func(pv *plantedValue) bool {
		return pv.kind == "inflected-name" && strings.ContainsAny(pv.value, "óö")
	})
	spaced := pick(func(pv *plantedValue) bool { return pv.kind == "phone" && strings.Count(pv.value, " ") >= 2 })
	name := pick(func(pv *plantedValue) bool { return pv.kind == "name" })
	id := pick(func(pv *plantedValue) bool { return pv.kind == "se-personnummer" })
	count := pick(func(pv *plantedValue) bool { return pv.value == "3 residents" })
	cb, err := protocol.Marshal(map[string]any{"n": 7, "name": accented.value})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		data []byte
		pv   *plantedValue
		enc  string
	}{
		{cb, accented, "CBOR text string"},
		{[]byte(`{"text":"` + canaryJSONASCII("met "+accented.value) + `"}`), accented, "JSON \\u escapes"},
		{[]byte("x " + strings.ToUpper(name.value) + " y"), name, "text (any case)"},
		{[]byte("tel:" + strings.ReplaceAll(spaced.value, " ", ".") + ";"), spaced, "text without spaces, dashes and dots"},
		{[]byte(base64.StdEncoding.EncodeToString([]byte("ab " + id.value + " cd"))), id, "base64"},
		{[]byte(base64.URLEncoding.EncodeToString([]byte("z" + name.value))), name, "base64"}, // url or std: equal for most text
	}
	s := newCanaryScanner(values)
	for _, c := range cases {
		ok := false
		for _, l := range s.scan("self-test", c.data) {
			ok = ok || (l.pv == c.pv && strings.HasPrefix(l.enc, c.enc))
		}
		if !ok {
			t.Fatalf("the scanner misses %q written as %s in %q", c.pv.value, c.enc, c.data)
		}
	}
	if ls := s.scan("self-test", []byte("fewer than 5 residents; 13 residents came")); len(ls) != 0 {
		t.Fatalf("the scanner reports %q in text without it", ls[0].pv.value)
	}
	if ls := s.scan("self-test", []byte("then "+count.value+" came")); len(ls) == 0 {
		t.Fatalf("the scanner misses %q", count.value)
	}
}
