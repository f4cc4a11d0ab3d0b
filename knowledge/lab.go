// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/protocol"
)

// The region's private lab data lives in the same database as the records,
// under its own key prefix, JSON-encoded. None of it is ever serialised into
// a public record: AssembleDraft copies only what a practice may carry, and
// the anonymisation gate scrubs the free text before anything leaves.
//
//	lab/ini/<id>  -> Initiative
//	lab/stk/<id>  -> Stakeholder
//	lab/act/<id>  -> Activity
//	lab/eva/<id>  -> Evaluation
//	lab/les/<id>  -> DraftLesson
//	lab/drf/<id>  -> Draft
//	lab/stages    -> []Stage
const (
	labInitiative  = "ini"
	labStakeholder = "stk"
	labActivity    = "act"
	labEvaluation  = "eva"
	labLesson      = "les"
	labDraft       = "drf"
)

var keyLabStages = []byte("lab/stages")

// ErrConflict is returned when an entity changed between reading it and
// writing a decision about it (an approval of a draft that was edited since).
var ErrConflict = errors.New("conflict")

// Lab data limits.
const (
	MaxLabName  = 300      // titles, names, roles, places, units
	MaxLabText  = 64 << 10 // descriptions, notes
	MaxLabList  = 1000     // attendees, quotes, ages, counts, stakeholder links
	MaxStages   = 9
	MaxLabCount = 10_000_000
	MaxAge      = 130
)

// Initiative statuses.
const (
	StatusPlanned   = "planned"
	StatusActive    = "active"
	StatusPaused    = "paused"
	StatusCompleted = "completed"
)

// Stakeholder kinds.
const (
	KindPerson       = "person"
	KindOrganisation = "organisation"
)

// ActivityKinds are the kinds of activity a lab records.
var ActivityKinds = []string{"workshop", "interview", "pilot", "meeting", "survey", "other"}

// Initiative is a service being co-produced in the lab.
type Initiative struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Service     string    `json:"service"`
	Description string    `json:"description"`
	Topics      []string  `json:"topics"`
	Stage       int       `json:"stage"`   // 1..number of stages; 0 on input means 1
	Started     string    `json:"started"` // YYYY-MM-DD or ""
	Ended       string    `json:"ended"`   // YYYY-MM-DD or ""
	Status      string    `json:"status"`  // planned, active, paused, completed; "" on input means planned
	Language    string    `json:"language"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// Stakeholder is a person or organisation taking part in the lab. It is
// personal data: it never leaves the node, and its names and contacts feed
// the anonymisation gate (see Registry).
type Stakeholder struct {
	ID            string    `json:"id"`
	InitiativeIDs []string  `json:"initiative_ids"`
	Kind          string    `json:"kind"` // person or organisation
	Name          string    `json:"name"`
	Role          string    `json:"role"` // the only field a public practice may carry, without the name
	Organisation  string    `json:"organisation"`
	Email         string    `json:"email"`
	Phone         string    `json:"phone"`
	Address       string    `json:"address"`
	Consent       string    `json:"consent"` // what was consented to, when and how
	ConsentGiven  bool      `json:"consent_given"`
	Notes         string    `json:"notes"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
}

// Activity is a workshop, interview, pilot session or other lab activity.
type Activity struct {
	ID           string         `json:"id"`
	InitiativeID string         `json:"initiative_id"`
	Kind         string         `json:"kind"`
	Title        string         `json:"title"`
	Date         string         `json:"date"` // YYYY-MM-DD or ""
	Place        string         `json:"place"`
	Stage        int            `json:"stage"` // 0 on input means the initiative's current stage
	Attendees    []string       `json:"attendees"`
	Notes        string         `json:"notes"`
	Counts       map[string]int `json:"counts"` // participants by group
	Ages         []int          `json:"ages"`
	Created      time.Time      `json:"created"`
	Updated      time.Time      `json:"updated"`
}

// Participants is the number of people who took part: the sum of the
// counts by group, else the number of attendees listed.
func (a *Activity) Participants() int {
	if len(a.Counts) > 0 {
		n := 0
		for _, v := range a.Counts {
			n += v
		}
		return n
	}
	return len(a.Attendees)
}

// Evaluation is an indicator measured before and after, with feedback.
type Evaluation struct {
	ID           string    `json:"id"`
	InitiativeID string    `json:"initiative_id"`
	Indicator    string    `json:"indicator"`
	Unit         string    `json:"unit"`
	Before       *float64  `json:"before"`
	After        *float64  `json:"after"`
	Period       string    `json:"period"`
	Quotes       []string  `json:"quotes"`
	Notes        string    `json:"notes"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// DraftLesson is a lesson learnt, kept privately until it is published as a
// protocol.Lesson.
type DraftLesson struct {
	ID           string    `json:"id"`
	InitiativeID string    `json:"initiative_id"` // optional
	Insight      string    `json:"insight"`
	Context      string    `json:"context"`
	Stage        int       `json:"stage"`
	Topic        string    `json:"topic"`
	Language     string    `json:"language"`  // "" on input means the initiative's language
	Published    string    `json:"published"` // CID once published; set by the node
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// Stage is one step of the methodology an initiative moves through.
type Stage struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	Goal   string `json:"goal"`
}

// DefaultStages are the five goals of the co-production methodology.
func DefaultStages() []Stage {
	return []Stage{
		{1, "Ecosystem", "Establish the living-lab ecosystem of all relevant stakeholders."},
		{2, "Change", "Carry out the adaptation and organisational change each stakeholder needs."},
		{3, "Champions", "Give service providers the tools and skills to act as local champions."},
		{4, "Engagement", "Engage and involve the community."},
		{5, "Co-production", "Co-produce user-centred, inclusive, responsive and transparent services."},
	}
}

// PracticeFields are the public fields of a practice a draft carries; the
// node adds region, country, licence and version when it publishes.
type PracticeFields struct {
	Title            string   `json:"title"`
	Summary          string   `json:"summary"`
	Problem          string   `json:"problem"`
	Approach         string   `json:"approach"`
	StakeholderRoles []string `json:"stakeholder_roles"`
	Results          string   `json:"results"`
	Resources        string   `json:"resources"`
	Difficulties     string   `json:"difficulties"`
	Lessons          []string `json:"lessons"`
	Transferability  string   `json:"transferability"`
	Language         string   `json:"language"`
	Stage            int      `json:"stage"`
	Period           string   `json:"period"`
	Links            []string `json:"links"`
}

// Public returns the fields as a first-version protocol.Practice.
func (f PracticeFields) Public() protocol.Practice {
	return protocol.Practice{
		Version:          1,
		Title:            f.Title,
		Summary:          f.Summary,
		Problem:          f.Problem,
		Approach:         f.Approach,
		Stage:            f.Stage,
		StakeholderRoles: slices.Clone(f.StakeholderRoles),
		Results:          f.Results,
		Resources:        f.Resources,
		Difficulties:     f.Difficulties,
		Lessons:          slices.Clone(f.Lessons),
		Transferability:  f.Transferability,
		Language:         f.Language,
		Period:           f.Period,
		Links:            slices.Clone(f.Links),
	}
}

// Approval records that a person reviewed exactly what would leave.
type Approval struct {
	Hash string    `json:"hash"` // hex SHA-256 of the public bytes approved
	At   time.Time `json:"at"`
	By   string    `json:"by"`
}

// Draft is a practice being prepared for publication, with the reviewer's
// decisions on uncertain names and their approval.
type Draft struct {
	ID           string `json:"id"`
	InitiativeID string `json:"initiative_id"`
	PracticeFields
	Topics    []string  `json:"topics"`
	Confirmed []string  `json:"confirmed"` // uncertain names confirmed as not personal
	Redact    []string  `json:"redact"`    // uncertain names confirmed as personal
	Approval  *Approval `json:"approval"`  // cleared by every edit
	Published string    `json:"published"` // CID of the last published version
	Rev       int       `json:"rev"`       // content revision, advanced by every edit
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// Registry is what the node knows of its stakeholders' identities: the
// names and contacts the anonymisation gate looks for in free text.
type Registry struct {
	Names    []string `json:"names"`    // stakeholder names and activity attendees
	Contacts []string `json:"contacts"` // e-mail addresses, phone numbers, street addresses
}

// ---- keys, IDs, transactions ----

var labIDRE = regexp.MustCompile(`^[a-z]{3}-[a-z2-7]{6}$`)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newLabID(kind string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return kind + "-" + idEncoding.EncodeToString(b[:])[:6]
}

func labPrefix(kind string) []byte { return []byte("lab/" + kind + "/") }

func labKey(kind, id string) []byte { return []byte("lab/" + kind + "/" + id) }

// validLabID tells whether id is a well-formed ID of the given kind.
func validLabID(kind, id string) bool {
	return labIDRE.MatchString(id) && strings.HasPrefix(id, kind+"-")
}

// labName is the name of the kind with the given prefix.
func labName(prefix string) string {
	if k := kindByPrefix(prefix); k != nil {
		return k.Decl().Name
	}
	return prefix
}

func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", labName(kind), id, ErrNotFound)
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

func labGet[T any](txn *badger.Txn, kind, id string) (*T, error) {
	if !validLabID(kind, id) {
		return nil, notFound(kind, id)
	}
	item, err := txn.Get(labKey(kind, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, notFound(kind, id)
	}
	if err != nil {
		return nil, err
	}
	var v T
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", labName(kind), id, err)
	}
	return &v, nil
}

func labSet(txn *badger.Txn, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(labKey(kind, id), b)
}

func labExists(txn *badger.Txn, kind, id string) bool {
	if !validLabID(kind, id) {
		return false
	}
	_, err := txn.Get(labKey(kind, id))
	return err == nil
}

// labList decodes every entity of a kind that keep accepts (nil: all).
func labList[T any](txn *badger.Txn, kind string, keep func(*T) bool) ([]T, error) {
	pfx := labPrefix(kind)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	out := []T{}
	for it.Rewind(); it.Valid(); it.Next() {
		var v T
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &v) }); err != nil {
			return nil, fmt.Errorf("decode %s: %w", it.Item().Key(), err)
		}
		if keep == nil || keep(&v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// newID picks an unused ID of the given kind.
func newID(txn *badger.Txn, kind string) string {
	for {
		id := newLabID(kind)
		if !labExists(txn, kind, id) {
			return id
		}
	}
}

// labUpdate runs fn in a read-write transaction, retrying on conflicts
// with concurrent writers.
func (s *Store) labUpdate(fn func(txn *badger.Txn) error) error {
	for i := 0; ; i++ {
		err := s.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) && i < 8 {
			continue
		}
		return err
	}
}

func labView[T any](s *Store, fn func(txn *badger.Txn) (T, error)) (T, error) {
	var out T
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = fn(txn)
		return err
	})
	return out, err
}

// ---- validation helpers ----

func checkText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return invalid("%s is required", field)
	}
	if len(v) > max {
		return invalid("%s is %d bytes, at most %d", field, len(v), max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", field)
	}
	return nil
}

func checkList(field string, l []string, maxItems, maxLen int) error {
	if len(l) > maxItems {
		return invalid("%s has %d items, at most %d", field, len(l), maxItems)
	}
	for i, v := range l {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), v, maxLen, false); err != nil {
			return err
		}
	}
	return nil
}

func checkDate(field, v string) error {
	if v == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return invalid("%s %q is not a date; want YYYY-MM-DD, e.g. 2024-03-15", field, v)
	}
	return nil
}

func checkLanguage(field, v string) error {
	if protocol.ValidLanguage(v) != nil {
		if v == "" {
			return invalid("%s is required: an ISO 639-1 code such as en, fi, sv", field)
		}
		return invalid("%s %q is not an ISO 639-1 code such as en, fi, sv", field, v)
	}
	return nil
}

func checkTopic(field, t string) error {
	if protocol.ValidTopic(t) != nil || t == protocol.ControlTopic {
		return invalid("%s %q is not a lowercase slug such as elderly-care", field, t)
	}
	return nil
}

func cleanTopics(field string, ts []string) ([]string, error) {
	out := []string{}
	for _, t := range ts {
		t = strings.TrimSpace(t)
		if err := checkTopic(field, t); err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > protocol.MaxTopics {
		return nil, invalid("%s: %d topics, at most %d", field, len(out), protocol.MaxTopics)
	}
	return out, nil
}

func checkStage(field string, v, n int, allowZero bool) error {
	if v == 0 && allowZero {
		return nil
	}
	if v < 1 || v > n {
		return invalid("%s %d is not a stage; stages are numbered 1 to %d", field, v, n)
	}
	return nil
}

// trimList trims every item and drops empty ones.
func trimList(l []string) []string {
	out := []string{}
	for _, v := range l {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func stagesIn(txn *badger.Txn) ([]Stage, error) {
	item, err := txn.Get(keyLabStages)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return DefaultStages(), nil
	}
	if err != nil {
		return nil, err
	}
	var st []Stage
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &st) }); err != nil {
		return nil, fmt.Errorf("decode stages: %w", err)
	}
	if len(st) == 0 {
		return DefaultStages(), nil
	}
	return st, nil
}

// ---- stages ----

// Stages returns the stages initiatives move through (the methodology's
// five goals unless the region set its own).
func (s *Store) Stages() ([]Stage, error) {
	return labView(s, stagesIn)
}

// SetStages replaces the stage list: 1 to 9 stages, numbered 1..N in order
// (a number left 0 is filled in), each with a name. It refuses a list that
// would leave an initiative, activity or lesson beyond the last stage.
func (s *Store) SetStages(stages []Stage) error {
	if len(stages) < 1 || len(stages) > MaxStages {
		return invalid("stages: %d given, want 1 to %d", len(stages), MaxStages)
	}
	st := make([]Stage, len(stages))
	for i, v := range stages {
		if v.Number == 0 {
			v.Number = i + 1
		}
		if v.Number != i+1 {
			return invalid("stages[%d]: number %d, want %d (stages are numbered 1..N in order)", i, v.Number, i+1)
		}
		v.Name, v.Goal = strings.TrimSpace(v.Name), strings.TrimSpace(v.Goal)
		if err := checkText(fmt.Sprintf("stages[%d].name", i), v.Name, 100, true); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("stages[%d].goal", i), v.Goal, protocol.MaxShortText, false); err != nil {
			return err
		}
		st[i] = v
	}
	return s.labUpdate(func(txn *badger.Txn) error {
		n := len(st)
		for _, k := range LabKinds() {
			beyond, err := k.list(txn, func(v any) bool { return k.stage(v) > n })
			if err != nil {
				return err
			}
			if len(beyond) > 0 {
				return invalid("stages: %s %s is at stage %d; with %d stages it would be beyond the last one",
					k.Decl().Name, k.id(beyond[0]), k.stage(beyond[0]), n)
			}
		}
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return txn.Set(keyLabStages, b)
	})
}

// ---- initiatives ----

func (v *Initiative) normalise(nStages int) error {
	v.Title, v.Service = strings.TrimSpace(v.Title), strings.TrimSpace(v.Service)
	v.Started, v.Ended = strings.TrimSpace(v.Started), strings.TrimSpace(v.Ended)
	v.Status = strings.ToLower(strings.TrimSpace(v.Status))
	v.Language = strings.TrimSpace(v.Language)
	if err := checkText("title", v.Title, MaxLabName, true); err != nil {
		return err
	}
	if err := checkText("service", v.Service, MaxLabName, false); err != nil {
		return err
	}
	if err := checkText("description", v.Description, MaxLabText, false); err != nil {
		return err
	}
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

// PutInitiative creates an initiative (empty ID) or replaces one.
func (s *Store) PutInitiative(v Initiative) (*Initiative, error) { return Initiatives.putOne(s, v) }

// GetInitiative returns an initiative.
func (s *Store) GetInitiative(id string) (*Initiative, error) { return Initiatives.get(s, id) }

// ListInitiatives returns every initiative, oldest first.
func (s *Store) ListInitiatives() ([]Initiative, error) { return Initiatives.listOf(s, "") }

// DeleteInitiative deletes an initiative. One that has activities or
// evaluations is refused unless cascade is set, which deletes them too.
// Stakeholders stay (their link to it is removed); lessons and drafts stay,
// unlinked, since they may already be public.
func (s *Store) DeleteInitiative(id string, cascade bool) error {
	return s.labUpdate(func(txn *badger.Txn) error {
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

// ---- stakeholders ----

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
	if err := checkText("name", v.Name, MaxLabName, true); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"role", v.Role, MaxLabName}, {"organisation", v.Organisation, MaxLabName}, {"email", v.Email, MaxLabName},
		{"phone", v.Phone, MaxLabName}, {"address", v.Address, 1000}, {"consent", v.Consent, protocol.MaxShortText},
		{"notes", v.Notes, MaxLabText}} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	if v.Email != "" {
		if a, err := mail.ParseAddress(v.Email); err != nil || a.Address != v.Email {
			return invalid("email %q is not an e-mail address", v.Email)
		}
	}
	if v.Phone != "" && !phoneRE.MatchString(v.Phone) {
		return invalid("phone %q is not a phone number (digits, spaces, + ( ) . / -)", v.Phone)
	}
	ids := trimList(v.InitiativeIDs)
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

// PutStakeholder creates a stakeholder (empty ID) or replaces one.
func (s *Store) PutStakeholder(v Stakeholder) (*Stakeholder, error) { return Stakeholders.putOne(s, v) }

// GetStakeholder returns a stakeholder.
func (s *Store) GetStakeholder(id string) (*Stakeholder, error) { return Stakeholders.get(s, id) }

// ListStakeholders returns the stakeholders of an initiative ("" for all).
func (s *Store) ListStakeholders(initiativeID string) ([]Stakeholder, error) {
	return Stakeholders.listOf(s, initiativeID)
}

// DeleteStakeholder deletes a stakeholder.
func (s *Store) DeleteStakeholder(id string) error { return Stakeholders.del(s, id) }

// ---- activities ----

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
	if err := checkText("title", v.Title, MaxLabName, false); err != nil {
		return err
	}
	if err := checkText("place", v.Place, MaxLabName, false); err != nil {
		return err
	}
	if err := checkText("notes", v.Notes, MaxLabText, false); err != nil {
		return err
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
	v.Attendees = trimList(v.Attendees)
	if err := checkList("attendees", v.Attendees, MaxLabList, MaxLabName); err != nil {
		return err
	}
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

// PutActivity creates an activity (empty ID) or replaces one. Its
// initiative must exist; a stage left 0 is the initiative's current stage.
func (s *Store) PutActivity(v Activity) (*Activity, error) { return Activities.putOne(s, v) }

// GetActivity returns an activity.
func (s *Store) GetActivity(id string) (*Activity, error) { return Activities.get(s, id) }

// ListActivities returns the activities of an initiative ("" for all), by
// date.
func (s *Store) ListActivities(initiativeID string) ([]Activity, error) {
	return Activities.listOf(s, initiativeID)
}

func sortActivities(out []Activity) {
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].Created.Before(out[j].Created)
	})
}

// DeleteActivity deletes an activity.
func (s *Store) DeleteActivity(id string) error { return Activities.del(s, id) }

// ---- evaluations ----

func (v *Evaluation) normalise(tx LabTx) error {
	txn := tx.txn
	v.Indicator, v.Unit, v.Period = strings.TrimSpace(v.Indicator), strings.TrimSpace(v.Unit), strings.TrimSpace(v.Period)
	if err := requireInitiative(txn, "initiative_id", v.InitiativeID); err != nil {
		return err
	}
	if err := checkText("indicator", v.Indicator, MaxLabName, true); err != nil {
		return err
	}
	if err := checkText("unit", v.Unit, MaxLabName, false); err != nil {
		return err
	}
	if err := checkText("period", v.Period, MaxLabName, false); err != nil {
		return err
	}
	if err := checkText("notes", v.Notes, MaxLabText, false); err != nil {
		return err
	}
	for name, p := range map[string]*float64{"before": v.Before, "after": v.After} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return invalid("%s is not a finite number", name)
		}
	}
	v.Quotes = trimList(v.Quotes)
	if err := checkList("quotes", v.Quotes, MaxLabList, protocol.MaxShortText); err != nil {
		return err
	}
	return nil
}

// PutEvaluation creates an evaluation (empty ID) or replaces one.
func (s *Store) PutEvaluation(v Evaluation) (*Evaluation, error) { return Evaluations.putOne(s, v) }

// GetEvaluation returns an evaluation.
func (s *Store) GetEvaluation(id string) (*Evaluation, error) { return Evaluations.get(s, id) }

// ListEvaluations returns the evaluations of an initiative ("" for all).
func (s *Store) ListEvaluations(initiativeID string) ([]Evaluation, error) {
	return Evaluations.listOf(s, initiativeID)
}

// DeleteEvaluation deletes an evaluation.
func (s *Store) DeleteEvaluation(id string) error { return Evaluations.del(s, id) }

// ---- lessons ----

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
	if err := checkText("insight", v.Insight, protocol.MaxShortText, true); err != nil {
		return err
	}
	if err := checkText("context", v.Context, protocol.MaxLongText, false); err != nil {
		return err
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

// PutLesson creates a draft lesson (empty ID) or replaces one. Published
// is kept from the stored lesson; MarkLessonPublished sets it.
func (s *Store) PutLesson(v DraftLesson) (*DraftLesson, error) { return Lessons.putOne(s, v) }

// GetLesson returns a draft lesson.
func (s *Store) GetLesson(id string) (*DraftLesson, error) { return Lessons.get(s, id) }

// ListLessons returns the draft lessons of an initiative ("" for all).
func (s *Store) ListLessons(initiativeID string) ([]DraftLesson, error) {
	return Lessons.listOf(s, initiativeID)
}

// DeleteLesson deletes a draft lesson (a published lesson stays public;
// retract it separately).
func (s *Store) DeleteLesson(id string) error { return Lessons.del(s, id) }

// MarkLessonPublished records the CID a lesson was published as.
func (s *Store) MarkLessonPublished(id, c string) (*DraftLesson, error) {
	var out *DraftLesson
	err := s.labUpdate(func(txn *badger.Txn) error {
		v, err := labGet[DraftLesson](txn, labLesson, id)
		if err != nil {
			return err
		}
		v.Published, v.Updated = c, time.Now().UTC()
		out = v
		return labSet(txn, labLesson, id, v)
	})
	return out, err
}

// ---- drafts ----

func (v *Draft) normalise(tx LabTx) error {
	txn, nStages := tx.txn, tx.stages
	f := &v.PracticeFields
	f.Title, f.Language, f.Period = strings.TrimSpace(f.Title), strings.TrimSpace(f.Language), strings.TrimSpace(f.Period)
	if err := checkText("title", f.Title, protocol.MaxTitle, false); err != nil {
		return err
	}
	if err := checkText("summary", f.Summary, protocol.MaxShortText, false); err != nil {
		return err
	}
	if err := checkText("period", f.Period, protocol.MaxShortText, false); err != nil {
		return err
	}
	for _, t := range []struct{ name, v string }{{"problem", f.Problem}, {"approach", f.Approach}, {"results", f.Results},
		{"resources", f.Resources}, {"difficulties", f.Difficulties}, {"transferability", f.Transferability}} {
		if err := checkText(t.name, t.v, protocol.MaxLongText, false); err != nil {
			return err
		}
	}
	f.StakeholderRoles, f.Lessons, f.Links = trimList(f.StakeholderRoles), trimList(f.Lessons), trimList(f.Links)
	for _, l := range []struct {
		name string
		v    []string
	}{{"stakeholder_roles", f.StakeholderRoles}, {"lessons", f.Lessons}, {"links", f.Links}} {
		if err := checkList(l.name, l.v, protocol.MaxListItems, protocol.MaxShortText); err != nil {
			return err
		}
	}
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
	v.Confirmed, v.Redact = trimList(v.Confirmed), trimList(v.Redact)
	if err := checkList("confirmed", v.Confirmed, MaxLabList, MaxLabName); err != nil {
		return err
	}
	if err := checkList("redact", v.Redact, MaxLabList, MaxLabName); err != nil {
		return err
	}
	if v.InitiativeID != "" && !labExists(txn, labInitiative, v.InitiativeID) {
		return invalid("initiative_id: there is no initiative %q", v.InitiativeID)
	}
	return nil
}

// PutDraft creates a draft (empty ID) or replaces its content. Every put
// advances the revision and clears the approval: an edited draft must be
// previewed and approved again. Published is kept from the stored draft, and
// the initiative a draft was assembled from cannot be changed.
func (s *Store) PutDraft(v Draft) (*Draft, error) { return Drafts.putOne(s, v) }

// GetDraft returns a draft.
func (s *Store) GetDraft(id string) (*Draft, error) { return Drafts.get(s, id) }

// ListDrafts returns the drafts of an initiative ("" for all), newest first.
func (s *Store) ListDrafts(initiativeID string) ([]Draft, error) {
	return Drafts.listOf(s, initiativeID)
}

// DeleteDraft deletes a draft (what it published stays public; retract it
// separately).
func (s *Store) DeleteDraft(id string) error { return Drafts.del(s, id) }

// ApproveDraft stores a reviewer's decisions on uncertain names (nil keeps
// the stored ones) and their approval, provided the draft is still at
// revision rev; otherwise it returns ErrConflict.
func (s *Store) ApproveDraft(id string, rev int, confirmed, redact []string, a Approval) (*Draft, error) {
	var out *Draft
	err := s.labUpdate(func(txn *badger.Txn) error {
		d, err := labGet[Draft](txn, labDraft, id)
		if err != nil {
			return err
		}
		if d.Rev != rev {
			return fmt.Errorf("%w: draft %s was edited since the preview (revision %d, previewed %d)", ErrConflict, id, d.Rev, rev)
		}
		if confirmed != nil {
			d.Confirmed = trimList(confirmed)
		}
		if redact != nil {
			d.Redact = trimList(redact)
		}
		if err := checkList("confirmed", d.Confirmed, MaxLabList, MaxLabName); err != nil {
			return err
		}
		if err := checkList("redact", d.Redact, MaxLabList, MaxLabName); err != nil {
			return err
		}
		if a.At.IsZero() {
			a.At = time.Now().UTC()
		}
		if err := checkText("approval by", a.By, MaxLabName, false); err != nil {
			return err
		}
		d.Approval = &a
		out = d
		return labSet(txn, labDraft, id, d)
	})
	return out, err
}

// MarkDraftPublished records the CID a draft was published as and consumes
// its approval.
func (s *Store) MarkDraftPublished(id, c string) (*Draft, error) {
	var out *Draft
	err := s.labUpdate(func(txn *badger.Txn) error {
		d, err := labGet[Draft](txn, labDraft, id)
		if err != nil {
			return err
		}
		d.Published, d.Approval, d.Updated = c, nil, time.Now().UTC()
		out = d
		return labSet(txn, labDraft, id, d)
	})
	return out, err
}

// ---- registry ----

// Registry returns the values of every personal name and contact field
// its kind declares: the names of every stakeholder (people and
// organisations) and activity attendee, and every stakeholder's e-mail
// address, phone number and street address. The anonymisation gate looks
// for them in free text.
func (s *Store) Registry() (Registry, error) {
	return labView(s, func(txn *badger.Txn) (Registry, error) {
		names, contacts, err := personalIn(txn)
		if err != nil {
			return Registry{}, err
		}
		return Registry{Names: dedupeFold(names), Contacts: dedupeFold(contacts)}, nil
	})
}

// personalIn returns the values of every personal name and contact field
// of every stored lab entity.
func personalIn(txn *badger.Txn) (names, contacts []string, err error) {
	for _, k := range LabKinds() {
		l, err := k.list(txn, nil)
		if err != nil {
			return nil, nil, err
		}
		for _, v := range l {
			n, c := k.personal(v)
			names, contacts = append(names, n...), append(contacts, c...)
		}
	}
	return names, contacts, nil
}

// dedupeFold trims, drops empty items and duplicates (ignoring case) and
// sorts.
func dedupeFold(l []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range l {
		v = strings.Join(strings.Fields(v), " ")
		k := strings.ToLower(v)
		if v == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// ---- assembling a draft ----

// AssembleDraft builds (without storing) a draft practice from an
// initiative and its activities, evaluations and lessons. It copies only
// what a public practice carries: stakeholders contribute their distinct
// roles, never their names or contacts, and attendees are only counted.
// Free text (descriptions, notes, quotes) may still mention people: the
// anonymisation gate scrubs it when the draft is previewed and published.
func (s *Store) AssembleDraft(initiativeID string) (*Draft, error) {
	type parts struct {
		ini      *Initiative
		stages   []Stage
		personal []string
		acts     []Activity
		evas     []Evaluation
		les      []DraftLesson
		stks     []Stakeholder
	}
	p, err := labView(s, func(txn *badger.Txn) (parts, error) {
		var p parts
		var err error
		if p.ini, err = labGet[Initiative](txn, labInitiative, initiativeID); err != nil {
			return p, err
		}
		if p.stages, err = stagesIn(txn); err != nil {
			return p, err
		}
		of := func(id string) bool { return id == initiativeID }
		if p.acts, err = labList[Activity](txn, labActivity, func(v *Activity) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.evas, err = labList[Evaluation](txn, labEvaluation, func(v *Evaluation) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.les, err = labList[DraftLesson](txn, labLesson, func(v *DraftLesson) bool { return of(v.InitiativeID) }); err != nil {
			return p, err
		}
		if p.stks, err = labList[Stakeholder](txn, labStakeholder, nil); err != nil {
			return p, err
		}
		names, contacts, err := personalIn(txn)
		p.personal = append(names, contacts...)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	ini := p.ini
	sortActivities(p.acts)
	sort.SliceStable(p.evas, func(i, j int) bool { return p.evas[i].Created.Before(p.evas[j].Created) })
	sort.SliceStable(p.les, func(i, j int) bool { return p.les[i].Created.Before(p.les[j].Created) })
	sort.SliceStable(p.stks, func(i, j int) bool { return p.stks[i].Created.Before(p.stks[j].Created) })

	stageName := func(n int) string {
		for _, st := range p.stages {
			if st.Number == n {
				return st.Name
			}
		}
		return ""
	}

	f := PracticeFields{Title: ini.Title, Problem: ini.Description, Language: ini.Language, Stage: ini.Stage,
		Period: period(ini.Started, ini.Ended), StakeholderRoles: []string{}, Lessons: []string{}, Links: []string{}}

	// Summary: the service and how far the initiative has come.
	var sum strings.Builder
	if ini.Service != "" {
		fmt.Fprintf(&sum, "A living-lab initiative co-producing the service %q with its community.", ini.Service)
	} else {
		sum.WriteString("A living-lab initiative co-producing a public service with its community.")
	}
	if name := stageName(ini.Stage); name != "" {
		fmt.Fprintf(&sum, " It has reached stage %d of %d (%s)", ini.Stage, len(p.stages), name)
	} else {
		fmt.Fprintf(&sum, " It has reached stage %d of %d", ini.Stage, len(p.stages))
	}
	fmt.Fprintf(&sum, " and is %s.", ini.Status)
	f.Summary = sum.String()

	// Approach: stage by stage, the activities and what was noted.
	byStage := map[int][]Activity{}
	var stageNums []int
	for _, a := range p.acts {
		if _, ok := byStage[a.Stage]; !ok {
			stageNums = append(stageNums, a.Stage)
		}
		byStage[a.Stage] = append(byStage[a.Stage], a)
	}
	sort.Ints(stageNums)
	var paras []string
	for _, n := range stageNums {
		var b strings.Builder
		if name := stageName(n); name != "" {
			fmt.Fprintf(&b, "Stage %d (%s):", n, name)
		} else {
			fmt.Fprintf(&b, "Stage %d:", n)
		}
		for _, a := range byStage[n] {
			b.WriteString(" ")
			b.WriteString(describeActivity(a))
		}
		paras = append(paras, b.String())
	}
	f.Approach = strings.Join(paras, "\n\n")

	// Stakeholder roles: distinct roles, never names. A role that contains
	// a personal name or contact of any lab entity is left out.
	var private []string
	for _, x := range p.personal {
		if x = strings.ToLower(strings.TrimSpace(x)); x != "" {
			private = append(private, x)
		}
	}
	seenRole := map[string]bool{}
	for _, v := range p.stks {
		if !slices.Contains(v.InitiativeIDs, initiativeID) {
			continue
		}
		role := strings.Join(strings.Fields(v.Role), " ")
		k := strings.ToLower(role)
		if role == "" || seenRole[k] || slices.ContainsFunc(private, func(x string) bool { return containsWords(k, x) }) {
			continue
		}
		seenRole[k] = true
		f.StakeholderRoles = append(f.StakeholderRoles, role)
	}
	sort.Slice(f.StakeholderRoles, func(i, j int) bool {
		return strings.ToLower(f.StakeholderRoles[i]) < strings.ToLower(f.StakeholderRoles[j])
	})
	if len(f.StakeholderRoles) > protocol.MaxListItems {
		f.StakeholderRoles = f.StakeholderRoles[:protocol.MaxListItems]
	}

	// Results: participation, then the indicators and feedback.
	var res []string
	if len(p.acts) > 0 {
		total := 0
		for _, a := range p.acts {
			total += a.Participants()
		}
		acts := plural(len(p.acts), "activity", "activities")
		if total > 0 {
			res = append(res, fmt.Sprintf("%d %s took part in %s.", total, plural1(total, "participant", "participants"), acts))
		} else {
			res = append(res, fmt.Sprintf("%s held.", capitalise(acts)))
		}
	}
	for _, e := range p.evas {
		line := e.Indicator + ": " + measure(e)
		if e.Period != "" {
			line += " (" + e.Period + ")"
		}
		res = append(res, line)
		for _, q := range e.Quotes {
			res = append(res, "Feedback: “"+q+"”")
		}
	}
	f.Results = strings.Join(res, "\n")

	for _, l := range p.les {
		if len(f.Lessons) < protocol.MaxListItems {
			f.Lessons = append(f.Lessons, strings.TrimSpace(l.Insight))
		}
	}

	f.Title = truncate(f.Title, protocol.MaxTitle)
	f.Summary = truncate(f.Summary, protocol.MaxShortText)
	f.Problem = truncate(f.Problem, protocol.MaxLongText)
	f.Approach = truncate(f.Approach, protocol.MaxLongText)
	f.Results = truncate(f.Results, protocol.MaxLongText)
	return &Draft{InitiativeID: ini.ID, PracticeFields: f, Topics: slices.Clone(ini.Topics),
		Confirmed: []string{}, Redact: []string{}}, nil
}

// containsWords tells whether needle occurs in s as whole words (not
// inside a longer word).
func containsWords(s, needle string) bool {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], needle)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(needle)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !isWord(before)) && (end == len(s) || !isWord(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		off = start + size
	}
	return false
}

func describeActivity(a Activity) string {
	var b strings.Builder
	b.WriteString(capitalise(a.Kind))
	if a.Title != "" {
		fmt.Fprintf(&b, " “%s”", a.Title)
	}
	if a.Place != "" {
		fmt.Fprintf(&b, " in %s", a.Place)
	}
	if notes := strings.Join(strings.Fields(a.Notes), " "); notes != "" {
		b.WriteString(": ")
		b.WriteString(notes)
		if !strings.HasSuffix(notes, ".") && !strings.HasSuffix(notes, "!") && !strings.HasSuffix(notes, "?") {
			b.WriteString(".")
		}
	} else {
		b.WriteString(".")
	}
	return b.String()
}

func measure(e Evaluation) string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	unit := ""
	if e.Unit != "" {
		unit = " " + e.Unit
	}
	switch {
	case e.Before != nil && e.After != nil:
		return num(*e.Before) + " → " + num(*e.After) + unit
	case e.After != nil:
		return num(*e.After) + unit
	case e.Before != nil:
		return num(*e.Before) + unit + " before; not measured after yet"
	default:
		return "not measured yet"
	}
}

func period(start, end string) string {
	switch {
	case start != "" && end != "":
		return start + " – " + end
	case start != "":
		return "since " + start
	case end != "":
		return "until " + end
	}
	return ""
}

func plural(n int, one, many string) string { return strconv.Itoa(n) + " " + plural1(n, one, many) }

func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[size:]
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// ---- export ----

// LabExport is the whole of the private lab data, as ExportPrivate writes
// it for the lab's kinds (a registered kind adds its plural name).
type LabExport struct {
	Exported     time.Time     `json:"exported"`
	Stages       []Stage       `json:"stages"`
	Initiatives  []Initiative  `json:"initiatives"`
	Stakeholders []Stakeholder `json:"stakeholders"`
	Activities   []Activity    `json:"activities"`
	Evaluations  []Evaluation  `json:"evaluations"`
	Lessons      []DraftLesson `json:"lessons"`
	Drafts       []Draft       `json:"drafts"`
}

// ExportPrivate writes all lab data, personal data included, as one JSON
// document (a consistent snapshot). It is for the region's administrator:
// the output must be kept as carefully as the node itself.
func (s *Store) ExportPrivate(w io.Writer) error { return s.ExportLab(w, true) }

// ExportLab writes every registered kind of lab entity and the stages as
// one JSON document (a consistent snapshot); without personal, the fields
// each kind declares personal are left out.
func (s *Store) ExportLab(w io.Writer, personal bool) error {
	doc, err := labView(s, func(txn *badger.Txn) ([]byte, error) {
		var b bytes.Buffer
		b.WriteString("{")
		add := func(key string, v any) error {
			j, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if b.Len() > 1 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%s", key, j)
			return nil
		}
		if err := add("exported", time.Now().UTC()); err != nil {
			return nil, err
		}
		st, err := stagesIn(txn)
		if err != nil {
			return nil, err
		}
		if err := add("stages", st); err != nil {
			return nil, err
		}
		for _, k := range LabKinds() {
			l, err := k.list(txn, nil)
			if err != nil {
				return nil, err
			}
			if !personal {
				for i, v := range l {
					if l[i], err = WithoutPersonal(k.Decl(), v); err != nil {
						return nil, err
					}
				}
			}
			if err := add(k.Decl().Plural, l); err != nil {
				return nil, err
			}
		}
		b.WriteString("}")
		return b.Bytes(), nil
	})
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return err
	}
	out.WriteString("\n")
	_, err = out.WriteTo(w)
	return err
}
