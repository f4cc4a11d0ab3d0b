// SPDX-License-Identifier: EUPL-1.2

package knowledge

// The lab's kinds of entity: each one declaration (its fields in a table,
// which are personal, their limits, how it relates to initiatives) with
// the validation its fields' limits do not cover and its typed store
// methods.

import (
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func init() {
	RegisterLabKind(Initiatives)
	RegisterLabKind(Stakeholders)
	RegisterLabKind(Activities)
	RegisterLabKind(Evaluations)
	RegisterLabKind(Lessons)
	RegisterLabKind(Drafts)
}

// Initiatives are services being co-produced in the lab. Deleting one
// deletes (with cascade) or is refused by its activities and evaluations;
// stakeholders, lessons and drafts are unlinked from it.
var Initiatives = &Entity[Initiative]{
	Kind: Kind{Name: "initiative", Plural: "initiatives", Route: "lab/initiatives", Prefix: labInitiative,
		Short: "Services being co-produced", Cascade: true,
		Fields: Fields(`
			title        title        text   -  name!  title
			service      service      text   -  name   the public service co-produced
			description  description  text   -  text   the problem and the aim (becomes the practice's problem)
			topics       topic        texts  -  -      topic slug such as elderly-care (repeatable)
			stage        stage        int    -  -      current stage (see lab stages)
			started      started      text   -  -      start date YYYY-MM-DD
			ended        ended        text   -  -      end date YYYY-MM-DD
			status       status       text   -  -      planned, active, paused or completed
			language     language     text   -  -      ISO 639-1 language of its texts, e.g. en, fi, sv`),
		Columns: []string{"id", "stage", "status", "language", "topics", "title"}},
	Normalise: func(v *Initiative, tx LabTx) error { return v.normalise(tx.Stages()) },
	Stage:     func(v *Initiative) int { return v.Stage },
	Delete:    func(s *Store, id string, cascade bool) error { return s.DeleteInitiative(id, cascade) },
}

func (v *Initiative) normalise(nStages int) error {
	v.Title, v.Service = strings.TrimSpace(v.Title), strings.TrimSpace(v.Service)
	v.Started, v.Ended = strings.TrimSpace(v.Started), strings.TrimSpace(v.Ended)
	v.Status = strings.ToLower(strings.TrimSpace(v.Status))
	v.Language = strings.TrimSpace(v.Language)
	ts, err := cleanTopics("topics", v.Topics)
	if err != nil {
		return err
	}
	v.Topics = ts
	if v.Stage == 0 {
		v.Stage = 1
	}
	if err := checkStage("stage", v.Stage, nStages, false); err != nil {
		return err
	}
	if err := checkDate("started", v.Started); err != nil {
		return err
	}
	if err := checkDate("ended", v.Ended); err != nil {
		return err
	}
	if v.Started != "" && v.Ended != "" && v.Ended < v.Started {
		return invalid("ended %s is before started %s", v.Ended, v.Started)
	}
	switch v.Status {
	case "":
		v.Status = StatusPlanned
	case StatusPlanned, StatusActive, StatusPaused, StatusCompleted:
	default:
		return invalid("status %q, want planned, active, paused or completed", v.Status)
	}
	return checkLanguage("language", v.Language)
}

// DeleteInitiative deletes an initiative. One that has activities or
// evaluations is refused unless cascade is set, which deletes them too.
// Stakeholders stay (their link to it is removed); lessons and drafts stay,
// unlinked, since they may already be public.
func (s *Store) DeleteInitiative(id string, cascade bool) error {
	return s.retryUpdate(func(txn *badger.Txn) error {
		if _, err := labGet[Initiative](txn, labInitiative, id); err != nil {
			return err
		}
		of := func(k LabKind) func(any) bool { return func(v any) bool { return k.of(v, id) } }
		var owned [][]any
		var counts []string
		for _, k := range LabKinds() {
			if !k.owned() {
				continue
			}
			l, err := k.list(txn, of(k))
			if err != nil {
				return err
			}
			owned = append(owned, l)
			counts = append(counts, plural(len(l), k.Decl().Name, k.Decl().Plural))
		}
		if n := slices.IndexFunc(owned, func(l []any) bool { return len(l) > 0 }); !cascade && n >= 0 {
			return invalid("initiative %s has %s; delete them first or delete with cascade", id, joinAnd(counts))
		}
		for _, k := range LabKinds() {
			if !k.owned() && !k.unlinkable() {
				continue
			}
			l, err := k.list(txn, of(k))
			if err != nil {
				return err
			}
			for _, v := range l {
				if k.unlinkable() {
					k.unlink(v, id)
					err = k.put(txn, v)
				} else {
					err = txn.Delete(labKey(k.Decl().Prefix, k.id(v)))
				}
				if err != nil {
					return err
				}
			}
		}
		return txn.Delete(labKey(labInitiative, id))
	})
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(l []string) string {
	if len(l) < 2 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
}

func requireInitiative(txn *badger.Txn, field, id string) error {
	if id == "" {
		return invalid("%s is required", field)
	}
	if !labExists(txn, labInitiative, id) {
		return invalid("%s: there is no initiative %q", field, id)
	}
	return nil
}

// Stakeholders are the people and organisations taking part: personal
// data, except their kind, role and organisation.
var Stakeholders = &Entity[Stakeholder]{
	Kind: Kind{Name: "stakeholder", Plural: "stakeholders", Route: "lab/stakeholders", Prefix: labStakeholder,
		Short: "People and organisations taking part (personal data: never published)", ByInitiative: true,
		Fields: Fields(`
			kind            kind           text   -        -      person or organisation
			name            name           text   name     name!  name
			role            role           text   -        name   role in the lab (the only thing a practice may carry, without the name)
			organisation    organisation   text   -        name   organisation
			email           email          text   contact  name   e-mail address
			phone           phone          text   contact  name   phone number
			address         address        text   contact  1000   postal address
			consent         consent        text   other    short  what was consented to, when and how
			consent_given   consent-given  bool   other    -      consent was given
			notes           notes          text   other    text   notes
			initiative_ids  initiative     texts  -        -      initiative ID (repeatable)`),
		Columns: []string{"id", "kind", "name", "role", "organisation"}},
	Normalise: (*Stakeholder).normalise,
	Of:        func(v *Stakeholder, ini string) bool { return slices.Contains(v.InitiativeIDs, ini) },
	Unlink: func(v *Stakeholder, ini string) {
		v.InitiativeIDs = slices.DeleteFunc(v.InitiativeIDs, func(id string) bool { return id == ini })
	},
}

var phoneRE = regexp.MustCompile(`^\+?[0-9 ()./-]{3,40}$`)

func (v *Stakeholder) normalise(tx LabTx) error {
	txn := tx.txn
	v.Kind = strings.ToLower(strings.TrimSpace(v.Kind))
	v.Name, v.Role = strings.TrimSpace(v.Name), strings.TrimSpace(v.Role)
	v.Organisation, v.Email = strings.TrimSpace(v.Organisation), strings.TrimSpace(v.Email)
	v.Phone, v.Address = strings.TrimSpace(v.Phone), strings.TrimSpace(v.Address)
	switch v.Kind {
	case KindPerson, KindOrganisation:
	case "":
		return invalid("kind is required: person or organisation")
	default:
		return invalid("kind %q, want person or organisation", v.Kind)
	}
	if v.Email != "" {
		if a, err := mail.ParseAddress(v.Email); err != nil || a.Address != v.Email {
			return invalid("email %q is not an e-mail address", v.Email)
		}
	}
	if v.Phone != "" && !phoneRE.MatchString(v.Phone) {
		return invalid("phone %q is not a phone number (digits, spaces, + ( ) . / -)", v.Phone)
	}
	ids := TrimList(v.InitiativeIDs)
	if len(ids) > MaxLabList {
		return invalid("initiative_ids has %d items, at most %d", len(ids), MaxLabList)
	}
	v.InitiativeIDs = []string{}
	for _, id := range ids {
		if err := requireInitiative(txn, "initiative_ids", id); err != nil {
			return err
		}
		if !slices.Contains(v.InitiativeIDs, id) {
			v.InitiativeIDs = append(v.InitiativeIDs, id)
		}
	}
	return nil
}

// Activities are workshops, interviews, pilots and other lab activities,
// by date. Their attendees are personal: only counted.
var Activities = &Entity[Activity]{
	Kind: Kind{Name: "activity", Plural: "activities", Route: "lab/activities", Prefix: labActivity,
		Short: "Workshops, interviews, pilots, meetings and surveys", ByInitiative: true,
		Fields: Fields(`
			initiative_id  initiative  text    -     -     initiative ID
			kind           kind        text    -     -     workshop, interview, pilot, meeting, survey or other
			title          title       text    -     name  title
			date           date        text    -     -     date YYYY-MM-DD
			place          place       text    -     name  place
			stage          stage       int     -     -     stage it belongs to (default: the initiative's current stage)
			attendees      attendee    texts   name  name  attendee name (repeatable; private, only counted)
			notes          notes       text    -     text  notes (scrubbed by the anonymisation gate before anything leaves)
			counts         count       counts  -     -     participants by group, GROUP=N (repeatable)
			ages           ages        ints    -     -     participants' ages, comma-separated`),
		Columns: []string{"id", "date", "kind", "stage", "title", "place"}},
	Normalise: (*Activity).normalise,
	Of:        func(v *Activity, ini string) bool { return v.InitiativeID == ini },
	Stage:     func(v *Activity) int { return v.Stage },
	Less: func(a, b *Activity) bool {
		if a.Date != b.Date {
			return a.Date < b.Date
		}
		return a.Created.Before(b.Created)
	},
}

func (v *Activity) normalise(tx LabTx) error {
	txn, nStages := tx.txn, tx.stages
	v.Kind = strings.ToLower(strings.TrimSpace(v.Kind))
	v.Title, v.Place, v.Date = strings.TrimSpace(v.Title), strings.TrimSpace(v.Place), strings.TrimSpace(v.Date)
	if err := requireInitiative(txn, "initiative_id", v.InitiativeID); err != nil {
		return err
	}
	if v.Kind == "" {
		return invalid("kind is required: one of %s", strings.Join(ActivityKinds, ", "))
	}
	if !slices.Contains(ActivityKinds, v.Kind) {
		return invalid("kind %q, want one of %s", v.Kind, strings.Join(ActivityKinds, ", "))
	}
	if err := checkDate("date", v.Date); err != nil {
		return err
	}
	if v.Stage == 0 {
		ini, err := labGet[Initiative](txn, labInitiative, v.InitiativeID)
		if err != nil {
			return err
		}
		v.Stage = ini.Stage
	}
	if err := checkStage("stage", v.Stage, nStages, false); err != nil {
		return err
	}
	v.Attendees = TrimList(v.Attendees)
	if len(v.Counts) > 100 {
		return invalid("counts has %d groups, at most 100", len(v.Counts))
	}
	counts := map[string]int{}
	for g, c := range v.Counts {
		g = strings.TrimSpace(g)
		if err := checkText("counts group", g, MaxLabName, true); err != nil {
			return err
		}
		if c < 0 || c > MaxLabCount {
			return invalid("counts[%q] is %d, want 0 to %d", g, c, MaxLabCount)
		}
		counts[g] += c
	}
	v.Counts = counts
	if len(v.Ages) > MaxLabList*10 {
		return invalid("ages has %d items, at most %d", len(v.Ages), MaxLabList*10)
	}
	for i, a := range v.Ages {
		if a < 0 || a > MaxAge {
			return invalid("ages[%d] is %d, want 0 to %d", i, a, MaxAge)
		}
	}
	if v.Ages == nil {
		v.Ages = []int{}
	}
	return nil
}

// Evaluations are indicators measured before and after, with feedback.
var Evaluations = &Entity[Evaluation]{
	Normalise: (*Evaluation).normalise,
	Of:        func(v *Evaluation, ini string) bool { return v.InitiativeID == ini },
	Kind: Kind{Name: "evaluation", Plural: "evaluations", Route: "lab/evaluations", Prefix: labEvaluation,
		Short: "Indicators before and after, and feedback", ByInitiative: true,
		Fields: Fields(`
			initiative_id  initiative  text    -  -      initiative ID
			indicator      indicator   text    -  name!  what was measured
			unit           unit        text    -  name   unit, e.g. days or %
			before         before      number  -  -      value before
			after          after       number  -  -      value after
			period         period      text    -  name   period measured, e.g. 2016-2017
			quotes         quote       texts   -  short  feedback quote (repeatable)
			notes          notes       text    -  text   notes`),
		Columns: []string{"id", "indicator", "before", "after", "unit", "period"}},
}

func (v *Evaluation) normalise(tx LabTx) error {
	txn := tx.txn
	v.Indicator, v.Unit, v.Period = strings.TrimSpace(v.Indicator), strings.TrimSpace(v.Unit), strings.TrimSpace(v.Period)
	if err := requireInitiative(txn, "initiative_id", v.InitiativeID); err != nil {
		return err
	}
	for name, p := range map[string]*float64{"before": v.Before, "after": v.After} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return invalid("%s is not a finite number", name)
		}
	}
	v.Quotes = TrimList(v.Quotes)
	return nil
}

// Lessons are lessons learnt, published one by one. Published is kept
// from the stored lesson; MarkLessonPublished sets it.
var Lessons = &Entity[DraftLesson]{
	Kind: Kind{Name: "lesson", Plural: "lessons", Route: "lab/lessons", Prefix: labLesson,
		Short: "Lessons learnt, published one by one", ByInitiative: true,
		Fields: Fields(`
			initiative_id  initiative  text  -  -       initiative ID (optional)
			insight        insight     text  -  short!  the insight, in a sentence or two
			context        context     text  -  long    its context
			stage          stage       int   -  -       stage it concerns
			topic          topic       text  -  -       topic slug (default: the initiative's first topic)
			language       language    text  -  -       ISO 639-1 language (default: the initiative's)
			published      -           text  -  -       the CID it was published as, set by the node`),
		Columns: []string{"id", "stage", "topic", "published", "insight"}},
	Normalise: (*DraftLesson).normalise,
	Keep: func(v, old *DraftLesson) {
		v.Published = ""
		if old != nil {
			v.Published = old.Published
		}
	},
	Of:     func(v *DraftLesson, ini string) bool { return v.InitiativeID == ini },
	Unlink: func(v *DraftLesson, _ string) { v.InitiativeID = "" },
	Stage:  func(v *DraftLesson) int { return v.Stage },
}

func (v *DraftLesson) normalise(tx LabTx) error {
	txn, nStages := tx.txn, tx.stages
	v.InitiativeID, v.Topic, v.Language = strings.TrimSpace(v.InitiativeID), strings.TrimSpace(v.Topic), strings.TrimSpace(v.Language)
	var ini *Initiative
	if v.InitiativeID != "" {
		if err := requireInitiative(txn, "initiative_id", v.InitiativeID); err != nil {
			return err
		}
		var err error
		if ini, err = labGet[Initiative](txn, labInitiative, v.InitiativeID); err != nil {
			return err
		}
	}
	if err := checkStage("stage", v.Stage, nStages, true); err != nil {
		return err
	}
	if v.Topic != "" {
		if err := checkTopic("topic", v.Topic); err != nil {
			return err
		}
	}
	if v.Language == "" && ini != nil {
		v.Language = ini.Language
	}
	return checkLanguage("language", v.Language)
}

// MarkLessonPublished records the CID a lesson was published as.
func (s *Store) MarkLessonPublished(id, c string) (*DraftLesson, error) {
	return Lessons.change(s, id, func(v *DraftLesson) error {
		v.Published, v.Updated = c, time.Now().UTC()
		return nil
	})
}

// Drafts are practices being prepared for publication: the public fields
// of a practice, and the reviewer's decisions on uncertain names. A draft
// keeps its initiative and publication; every write advances its revision
// and clears its approval. Newest first.
var Drafts = &Entity[Draft]{
	Kind: Kind{Name: "draft", Plural: "drafts", Route: "drafts", Prefix: labDraft,
		Short: "Practices being prepared for publication", ByInitiative: true,
		Fields: Fields(`
			initiative_id      -  text    -      -             the initiative it was assembled from
			title              -  text    -      title         the practice's title
			summary            -  text    -      short         a summary in a few sentences
			problem            -  text    -      long          the problem addressed
			approach           -  text    -      long          how it was approached, stage by stage
			stakeholder_roles  -  texts   -      public:short  the roles of those who took part, never their names
			results            -  text    -      long          participation, indicators and feedback
			resources          -  text    -      long          what it took
			difficulties       -  text    -      long          what was hard
			lessons            -  texts   -      public:short  lessons learnt
			transferability    -  text    -      long          what another region needs to do the same
			language           -  text    -      -             ISO 639-1 language of its texts
			stage              -  int     -      -             the stage reached
			period             -  text    -      short         when
			links              -  texts   -      public:short  http(s) links
			topics             -  texts   -      -             topic slugs
			confirmed          -  texts   -      name          uncertain names confirmed as not personal
			redact             -  texts   other  name          uncertain names confirmed as personal
			approval           -  object  -      -             the approval of the previewed public content, set by the node
			published          -  text    -      -             CID of the last published version, set by the node
			rev                -  int     -      -             content revision, advanced by every edit`)},
	Normalise: (*Draft).normalise,
	KeepFirst: true,
	Keep: func(v, old *Draft) {
		v.Published, v.Rev, v.Approval = "", 1, nil
		if old != nil {
			v.Published, v.InitiativeID, v.Rev = old.Published, old.InitiativeID, old.Rev+1
		}
	},
	Of:     func(v *Draft, ini string) bool { return v.InitiativeID == ini },
	Unlink: func(v *Draft, _ string) { v.InitiativeID = "" },
	Less:   func(a, b *Draft) bool { return a.Created.After(b.Created) },
}

func (v *Draft) normalise(tx LabTx) error {
	txn, nStages := tx.txn, tx.stages
	f := &v.PracticeFields
	f.Title, f.Language, f.Period = strings.TrimSpace(f.Title), strings.TrimSpace(f.Language), strings.TrimSpace(f.Period)
	f.StakeholderRoles, f.Lessons, f.Links = TrimList(f.StakeholderRoles), TrimList(f.Lessons), TrimList(f.Links)
	for _, l := range f.Links {
		u, err := url.Parse(l)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("links: %q is not an http(s) URL", l)
		}
	}
	if f.Language != "" {
		if err := checkLanguage("language", f.Language); err != nil {
			return err
		}
	}
	if err := checkStage("stage", f.Stage, nStages, true); err != nil {
		return err
	}
	ts, err := cleanTopics("topics", v.Topics)
	if err != nil {
		return err
	}
	v.Topics = ts
	v.Confirmed, v.Redact = TrimList(v.Confirmed), TrimList(v.Redact)
	if v.InitiativeID != "" && !labExists(txn, labInitiative, v.InitiativeID) {
		return invalid("initiative_id: there is no initiative %q", v.InitiativeID)
	}
	return nil
}
