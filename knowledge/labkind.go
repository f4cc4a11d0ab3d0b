// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Every kind of private lab entity (initiatives, stakeholders, activities,
// evaluations, lessons, drafts) is one declaration: an Entity with its
// fields, which of them are personal, its validation and how it relates to
// initiatives. The store, the node, the API and the CLI serve every
// registered kind with one implementation, so a new kind is a declaration
// and a RegisterLabKind call.

// FieldType is the shape of a field's value in JSON.
type FieldType int

// The field types.
const (
	FieldText   FieldType = iota // a string
	FieldInt                     // an integer
	FieldTexts                   // a list of strings
	FieldBool                    // true or false
	FieldNumber                  // a number, or null
	FieldCounts                  // an object of non-negative integers by group
	FieldInts                    // a list of integers
	FieldObject                  // an object the node sets
)

// Personal tells whether a field holds personal data, and which.
type Personal int

// The kinds of personal data. A personal field never leaves the node: no
// draft or public record copies it, the anonymisation gate redacts names
// and contacts wherever free text repeats them, and an export without
// personal data drops it.
const (
	NotPersonal     Personal = iota
	PersonalName             // names of people or organisations taking part
	PersonalContact          // e-mail addresses, phone numbers, street addresses
	PersonalOther            // other personal data (consent records, notes on a person)
)

// Field declares one field of a lab entity.
type Field struct {
	Key      string // the JSON key
	Flag     string // the command-line flag that sets it; "" if only a JSON file (or the node) sets it
	Type     FieldType
	Usage    string
	Personal Personal
}

// Kind is the declaration of a kind of lab entity that every front end
// reads: names, route, fields and how it is listed.
type Kind struct {
	Name   string // singular, e.g. "initiative"
	Plural string // e.g. "initiatives"
	Short  string // one line saying what it holds
	// Route is the API path of its collection below /api/v1/.
	Route string
	// Prefix is its IDs' and keys' prefix (three lowercase letters).
	Prefix  string
	Fields  []Field
	Columns []string // the columns of a list table
	// ByInitiative: lists can be filtered by initiative.
	ByInitiative bool
	// Cascade: deleting one may delete what depends on it.
	Cascade bool
}

// PersonalFields returns the keys of the fields holding personal data.
func (k *Kind) PersonalFields() []string {
	var out []string
	for _, f := range k.Fields {
		if f.Personal != NotPersonal {
			out = append(out, f.Key)
		}
	}
	return out
}

// LabTx is a lab entity's view of the store while it is validated.
type LabTx struct {
	txn    *badger.Txn
	stages int
}

// Stages is the lab's number of innovation stages.
func (tx LabTx) Stages() int { return tx.stages }

// Initiative returns a stored initiative.
func (tx LabTx) Initiative(id string) (*Initiative, error) {
	return labGet[Initiative](tx.txn, labInitiative, id)
}

// RequireInitiative checks that field names an existing initiative.
func (tx LabTx) RequireInitiative(field, id string) error {
	return requireInitiative(tx.txn, field, id)
}

// Entity declares a kind of lab entity of Go type T: the Kind every front
// end reads and what the store needs to keep it.
type Entity[T any] struct {
	Kind
	// Meta points at the entity's ID and times.
	Meta func(*T) (id *string, created, updated *time.Time)
	// Normalise trims and checks an entity before it is stored.
	Normalise func(v *T, tx LabTx) error
	// Keep, if set, carries fields over from the stored version (old is
	// nil for a new entity); with KeepFirst it runs before Normalise.
	Keep      func(v, old *T)
	KeepFirst bool
	// Of tells whether an entity belongs to an initiative.
	Of func(v *T, initiative string) bool
	// Unlink, if set, detaches an entity from a deleted initiative; an
	// entity of the initiative without it is deleted with the initiative
	// (cascade) or keeps it from being deleted.
	Unlink func(v *T, initiative string)
	// Stage, if set, is the stage an entity is at (0: none).
	Stage func(*T) int
	// Less orders a list (default: oldest first).
	Less func(a, b *T) bool
	// Delete, if set, replaces the plain deletion.
	Delete func(s *Store, id string, cascade bool) error
}

// LabKind is a kind of lab entity with its Go type hidden, for code that
// serves every kind alike. Values are pointers to entities (New, Get, Put)
// or slices of entities (List).
type LabKind interface {
	Decl() *Kind
	New() any
	Get(s *Store, id string) (any, error)
	List(s *Store, initiative string) (any, error)
	// Put stores v (a pointer from New) as a new entity (id "") or as the
	// entity id.
	Put(s *Store, v any, id string) (any, error)
	Remove(s *Store, id string, cascade bool) error

	list(txn *badger.Txn, keep func(any) bool) ([]any, error)
	put(txn *badger.Txn, v any) error
	owned() bool
	personal(v any) (names, contacts []string)
	unlinkable() bool
	unlink(v any, initiative string)
	of(v any, initiative string) bool
	stage(v any) int
	id(v any) string
}

var (
	kindsMu sync.RWMutex
	kinds   []LabKind
)

// RegisterLabKind adds a kind of lab entity to those the store, the node
// and its front ends serve. It panics if the kind's name, route or prefix
// is taken or malformed: registration happens at start.
func RegisterLabKind[T any](e *Entity[T]) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if len(e.Prefix) != 3 || strings.Trim(e.Prefix, "abcdefghijklmnopqrstuvwxyz") != "" {
		panic(fmt.Sprintf("lab kind %s: prefix %q is not three lowercase letters", e.Name, e.Prefix))
	}
	for _, k := range kinds {
		d := k.Decl()
		if d.Name == e.Name || d.Route == e.Route || d.Prefix == e.Prefix || d.Plural == e.Plural {
			panic(fmt.Sprintf("lab kind %s: name, route or prefix already taken by %s", e.Name, d.Name))
		}
	}
	kinds = append(kinds, e)
}

// LabKinds returns every registered kind of lab entity, in registration
// order.
func LabKinds() []LabKind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	return slices.Clone(kinds)
}

func kindByPrefix(prefix string) LabKind {
	for _, k := range LabKinds() {
		if k.Decl().Prefix == prefix {
			return k
		}
	}
	return nil
}

// ---- the one implementation ----

func (e *Entity[T]) Decl() *Kind { return &e.Kind }

func (e *Entity[T]) New() any { return new(T) }

func (e *Entity[T]) Get(s *Store, id string) (any, error) { return e.get(s, id) }

func (e *Entity[T]) List(s *Store, initiative string) (any, error) { return e.listOf(s, initiative) }

func (e *Entity[T]) Put(s *Store, v any, id string) (any, error) {
	p, ok := v.(*T)
	if !ok {
		return nil, fmt.Errorf("%s: a %T is not a %T", e.Name, v, p)
	}
	in := *p
	*e.idOf(&in) = id
	return e.putOne(s, in)
}

func (e *Entity[T]) Remove(s *Store, id string, cascade bool) error {
	if e.Delete != nil {
		return e.Delete(s, id, cascade)
	}
	return e.del(s, id)
}

func (e *Entity[T]) idOf(v *T) *string {
	id, _, _ := e.Meta(v)
	return id
}

// putOne creates an entity (empty ID) or replaces one.
func (e *Entity[T]) putOne(s *Store, v T) (*T, error) {
	err := s.labUpdate(func(txn *badger.Txn) error {
		st, err := stagesIn(txn)
		if err != nil {
			return err
		}
		tx := LabTx{txn: txn, stages: len(st)}
		in := v
		id, created, updated := e.Meta(&in)
		if !e.KeepFirst {
			if err := e.Normalise(&in, tx); err != nil {
				return err
			}
		}
		var old *T
		if *id != "" {
			if old, err = labGet[T](txn, e.Prefix, *id); err != nil {
				return err
			}
		}
		if e.Keep != nil {
			e.Keep(&in, old)
		}
		if e.KeepFirst {
			if err := e.Normalise(&in, tx); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		if old == nil {
			*id, *created = newID(txn, e.Prefix), now
		} else {
			_, oc, _ := e.Meta(old)
			*created = *oc
		}
		*updated = now
		v = in
		return labSet(txn, e.Prefix, *id, in)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (e *Entity[T]) get(s *Store, id string) (*T, error) {
	return labView(s, func(txn *badger.Txn) (*T, error) { return labGet[T](txn, e.Prefix, id) })
}

// listOf returns the entities of an initiative ("" for all), in order.
func (e *Entity[T]) listOf(s *Store, initiative string) ([]T, error) {
	out, err := labView(s, func(txn *badger.Txn) ([]T, error) {
		return labList(txn, e.Prefix, func(v *T) bool { return initiative == "" || e.Of == nil || e.Of(v, initiative) })
	})
	e.sort(out)
	return out, err
}

func (e *Entity[T]) sort(out []T) {
	less := e.Less
	if less == nil {
		less = func(a, b *T) bool {
			_, ca, _ := e.Meta(a)
			_, cb, _ := e.Meta(b)
			return ca.Before(*cb)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(&out[i], &out[j]) })
}

func (e *Entity[T]) del(s *Store, id string) error {
	return s.labUpdate(func(txn *badger.Txn) error {
		if _, err := labGet[T](txn, e.Prefix, id); err != nil {
			return err
		}
		return txn.Delete(labKey(e.Prefix, id))
	})
}

func (e *Entity[T]) list(txn *badger.Txn, keep func(any) bool) ([]any, error) {
	l, err := labList(txn, e.Prefix, func(v *T) bool { return keep == nil || keep(v) })
	if err != nil {
		return nil, err
	}
	e.sort(l)
	out := make([]any, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out, nil
}

func (e *Entity[T]) put(txn *badger.Txn, v any) error {
	p := v.(*T)
	return labSet(txn, e.Prefix, *e.idOf(p), p)
}

// owned tells whether an entity of this kind is deleted with its
// initiative.
func (e *Entity[T]) owned() bool { return e.Prefix != labInitiative && e.Of != nil && e.Unlink == nil }

func (e *Entity[T]) unlinkable() bool { return e.Of != nil && e.Unlink != nil }

func (e *Entity[T]) unlink(v any, initiative string) { e.Unlink(v.(*T), initiative) }

func (e *Entity[T]) of(v any, initiative string) bool { return e.Of != nil && e.Of(v.(*T), initiative) }

func (e *Entity[T]) stage(v any) int {
	if e.Stage == nil {
		return 0
	}
	return e.Stage(v.(*T))
}

func (e *Entity[T]) id(v any) string { return *e.idOf(v.(*T)) }

// personal returns the values of an entity's personal names and contacts.
func (e *Entity[T]) personal(v any) (names, contacts []string) {
	m, err := fieldsOf(v)
	if err != nil {
		return nil, nil
	}
	for _, f := range e.Fields {
		var dst *[]string
		switch f.Personal {
		case PersonalName:
			dst = &names
		case PersonalContact:
			dst = &contacts
		default:
			continue
		}
		switch x := m[f.Key].(type) {
		case string:
			*dst = append(*dst, x)
		case []any:
			for _, s := range x {
				if s, ok := s.(string); ok {
					*dst = append(*dst, s)
				}
			}
		}
	}
	return names, contacts
}

// fieldsOf returns an entity's JSON fields by key.
func fieldsOf(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// WithoutPersonal returns an entity's JSON fields without its personal
// ones.
func WithoutPersonal(k *Kind, v any) (map[string]any, error) {
	m, err := fieldsOf(v)
	if err != nil {
		return nil, err
	}
	for _, f := range k.PersonalFields() {
		delete(m, f)
	}
	return m, nil
}

// ---- the lab's kinds ----

func ofInitiative(id, initiative string) bool { return id == initiative }

// Initiatives are services being co-produced in the lab. Deleting one
// deletes (with cascade) or is refused by its activities and evaluations;
// stakeholders, lessons and drafts are unlinked from it.
var Initiatives = &Entity[Initiative]{
	Kind: Kind{Name: "initiative", Plural: "initiatives", Route: "lab/initiatives", Prefix: labInitiative,
		Short: "Services being co-produced", Cascade: true,
		Fields: []Field{
			{"title", "title", FieldText, "title", NotPersonal},
			{"service", "service", FieldText, "the public service co-produced", NotPersonal},
			{"description", "description", FieldText, "the problem and the aim (becomes the practice's problem)", NotPersonal},
			{"topics", "topic", FieldTexts, "topic slug such as elderly-care (repeatable)", NotPersonal},
			{"stage", "stage", FieldInt, "current stage (see lab stages)", NotPersonal},
			{"started", "started", FieldText, "start date YYYY-MM-DD", NotPersonal},
			{"ended", "ended", FieldText, "end date YYYY-MM-DD", NotPersonal},
			{"status", "status", FieldText, "planned, active, paused or completed", NotPersonal},
			{"language", "language", FieldText, "ISO 639-1 language of its texts, e.g. en, fi, sv", NotPersonal},
		},
		Columns: []string{"id", "stage", "status", "language", "topics", "title"}},
	Meta:      func(v *Initiative) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: func(v *Initiative, tx LabTx) error { return v.normalise(tx.Stages()) },
	Stage:     func(v *Initiative) int { return v.Stage },
	Delete:    func(s *Store, id string, cascade bool) error { return s.DeleteInitiative(id, cascade) },
}

// Stakeholders are the people and organisations taking part: personal
// data, except their role.
var Stakeholders = &Entity[Stakeholder]{
	Kind: Kind{Name: "stakeholder", Plural: "stakeholders", Route: "lab/stakeholders", Prefix: labStakeholder,
		Short: "People and organisations taking part (personal data: never published)", ByInitiative: true,
		Fields: []Field{
			{"kind", "kind", FieldText, "person or organisation", NotPersonal},
			{"name", "name", FieldText, "name", PersonalName},
			{"role", "role", FieldText, "role in the lab (the only thing a practice may carry, without the name)", NotPersonal},
			{"organisation", "organisation", FieldText, "organisation", NotPersonal},
			{"email", "email", FieldText, "e-mail address", PersonalContact},
			{"phone", "phone", FieldText, "phone number", PersonalContact},
			{"address", "address", FieldText, "postal address", PersonalContact},
			{"consent", "consent", FieldText, "what was consented to, when and how", PersonalOther},
			{"consent_given", "consent-given", FieldBool, "consent was given", PersonalOther},
			{"notes", "notes", FieldText, "notes", PersonalOther},
			{"initiative_ids", "initiative", FieldTexts, "initiative ID (repeatable)", NotPersonal},
		},
		Columns: []string{"id", "kind", "name", "role", "organisation"}},
	Meta:      func(v *Stakeholder) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: (*Stakeholder).normalise,
	Of:        func(v *Stakeholder, ini string) bool { return slices.Contains(v.InitiativeIDs, ini) },
	Unlink: func(v *Stakeholder, ini string) {
		v.InitiativeIDs = slices.DeleteFunc(v.InitiativeIDs, func(id string) bool { return id == ini })
	},
}

// Activities are workshops, interviews, pilots and other lab activities,
// by date. Their attendees are personal: only counted.
var Activities = &Entity[Activity]{
	Kind: Kind{Name: "activity", Plural: "activities", Route: "lab/activities", Prefix: labActivity,
		Short: "Workshops, interviews, pilots, meetings and surveys", ByInitiative: true,
		Fields: []Field{
			{"initiative_id", "initiative", FieldText, "initiative ID", NotPersonal},
			{"kind", "kind", FieldText, "workshop, interview, pilot, meeting, survey or other", NotPersonal},
			{"title", "title", FieldText, "title", NotPersonal},
			{"date", "date", FieldText, "date YYYY-MM-DD", NotPersonal},
			{"place", "place", FieldText, "place", NotPersonal},
			{"stage", "stage", FieldInt, "stage it belongs to (default: the initiative's current stage)", NotPersonal},
			{"attendees", "attendee", FieldTexts, "attendee name (repeatable; private, only counted)", PersonalName},
			{"notes", "notes", FieldText, "notes (scrubbed by the anonymisation gate before anything leaves)", NotPersonal},
			{"counts", "count", FieldCounts, "participants by group, GROUP=N (repeatable)", NotPersonal},
			{"ages", "ages", FieldInts, "participants' ages, comma-separated", NotPersonal},
		},
		Columns: []string{"id", "date", "kind", "stage", "title", "place"}},
	Meta:      func(v *Activity) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: (*Activity).normalise,
	Of:        func(v *Activity, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
	Stage:     func(v *Activity) int { return v.Stage },
	Less: func(a, b *Activity) bool {
		if a.Date != b.Date {
			return a.Date < b.Date
		}
		return a.Created.Before(b.Created)
	},
}

// Evaluations are indicators measured before and after, with feedback.
var Evaluations = &Entity[Evaluation]{
	Kind: Kind{Name: "evaluation", Plural: "evaluations", Route: "lab/evaluations", Prefix: labEvaluation,
		Short: "Indicators before and after, and feedback", ByInitiative: true,
		Fields: []Field{
			{"initiative_id", "initiative", FieldText, "initiative ID", NotPersonal},
			{"indicator", "indicator", FieldText, "what was measured", NotPersonal},
			{"unit", "unit", FieldText, "unit, e.g. days or %", NotPersonal},
			{"before", "before", FieldNumber, "value before", NotPersonal},
			{"after", "after", FieldNumber, "value after", NotPersonal},
			{"period", "period", FieldText, "period measured, e.g. 2016-2017", NotPersonal},
			{"quotes", "quote", FieldTexts, "feedback quote (repeatable)", NotPersonal},
			{"notes", "notes", FieldText, "notes", NotPersonal},
		},
		Columns: []string{"id", "indicator", "before", "after", "unit", "period"}},
	Meta:      func(v *Evaluation) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: (*Evaluation).normalise,
	Of:        func(v *Evaluation, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
}

// Lessons are lessons learnt, published one by one. Published is kept
// from the stored lesson; MarkLessonPublished sets it.
var Lessons = &Entity[DraftLesson]{
	Kind: Kind{Name: "lesson", Plural: "lessons", Route: "lab/lessons", Prefix: labLesson,
		Short: "Lessons learnt, published one by one", ByInitiative: true,
		Fields: []Field{
			{"initiative_id", "initiative", FieldText, "initiative ID (optional)", NotPersonal},
			{"insight", "insight", FieldText, "the insight, in a sentence or two", NotPersonal},
			{"context", "context", FieldText, "its context", NotPersonal},
			{"stage", "stage", FieldInt, "stage it concerns", NotPersonal},
			{"topic", "topic", FieldText, "topic slug (default: the initiative's first topic)", NotPersonal},
			{"language", "language", FieldText, "ISO 639-1 language (default: the initiative's)", NotPersonal},
			{"published", "", FieldText, "CID it was published as", NotPersonal},
		},
		Columns: []string{"id", "stage", "topic", "published", "insight"}},
	Meta:      func(v *DraftLesson) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: (*DraftLesson).normalise,
	Keep: func(v, old *DraftLesson) {
		v.Published = ""
		if old != nil {
			v.Published = old.Published
		}
	},
	Of:     func(v *DraftLesson, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
	Unlink: func(v *DraftLesson, _ string) { v.InitiativeID = "" },
	Stage:  func(v *DraftLesson) int { return v.Stage },
}

// Drafts are practices being prepared for publication. A draft keeps its
// initiative and publication; every write advances its revision and clears
// its approval. Newest first.
var Drafts = &Entity[Draft]{
	Kind: Kind{Name: "draft", Plural: "drafts", Route: "drafts", Prefix: labDraft,
		Short: "Practices being prepared for publication", ByInitiative: true,
		Fields: []Field{
			{"initiative_id", "", FieldText, "initiative it was assembled from", NotPersonal},
			{"title", "", FieldText, "title", NotPersonal},
			{"summary", "", FieldText, "summary", NotPersonal},
			{"problem", "", FieldText, "problem", NotPersonal},
			{"approach", "", FieldText, "approach", NotPersonal},
			{"stakeholder_roles", "", FieldTexts, "stakeholder roles", NotPersonal},
			{"results", "", FieldText, "results", NotPersonal},
			{"resources", "", FieldText, "resources", NotPersonal},
			{"difficulties", "", FieldText, "difficulties", NotPersonal},
			{"lessons", "", FieldTexts, "lessons", NotPersonal},
			{"transferability", "", FieldText, "transferability", NotPersonal},
			{"language", "", FieldText, "language", NotPersonal},
			{"stage", "", FieldInt, "stage", NotPersonal},
			{"period", "", FieldText, "period", NotPersonal},
			{"links", "", FieldTexts, "links", NotPersonal},
			{"topics", "", FieldTexts, "topics", NotPersonal},
			// The reviewer's decisions name uncertain names found in the text.
			{"confirmed", "", FieldTexts, "uncertain names confirmed as not personal", NotPersonal},
			{"redact", "", FieldTexts, "uncertain names confirmed as personal", PersonalOther},
			{"approval", "", FieldObject, "the approval of the previewed public content", NotPersonal},
			{"published", "", FieldText, "CID of the last published version", NotPersonal},
			{"rev", "", FieldInt, "content revision", NotPersonal},
		}},
	Meta:      func(v *Draft) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
	Normalise: (*Draft).normalise,
	KeepFirst: true,
	Keep: func(v, old *Draft) {
		v.Published, v.Rev, v.Approval = "", 1, nil
		if old != nil {
			v.Published, v.InitiativeID, v.Rev = old.Published, old.InitiativeID, old.Rev+1
		}
	},
	Of:     func(v *Draft, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
	Unlink: func(v *Draft, _ string) { v.InitiativeID = "" },
	Less:   func(a, b *Draft) bool { return a.Created.After(b.Created) },
}

func init() {
	RegisterLabKind(Initiatives)
	RegisterLabKind(Stakeholders)
	RegisterLabKind(Activities)
	RegisterLabKind(Evaluations)
	RegisterLabKind(Lessons)
	RegisterLabKind(Drafts)
}
