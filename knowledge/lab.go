// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
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
	Kind         string         `json:"kind"` // one of ActivityKinds
	Title        string         `json:"title"`
	Date         string         `json:"date"` // YYYY-MM-DD or ""
	Place        string         `json:"place"`
	Stage        int            `json:"stage"`     // 0 on input means the initiative's current stage
	Attendees    []string       `json:"attendees"` // names: personal, only counted
	Notes        string         `json:"notes"`
	Counts       map[string]int `json:"counts"` // participants by group
	Ages         []int          `json:"ages"`
	Created      time.Time      `json:"created"`
	Updated      time.Time      `json:"updated"`
}

// Participants is the number of people who took part: the sum of the
// counts by group, else the number of attendees listed.
func (a Activity) Participants() int {
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
	Insight      string    `json:"insight"`       // the lesson, in a sentence or two
	Context      string    `json:"context"`
	Stage        int       `json:"stage"`     // 0: none in particular
	Topic        string    `json:"topic"`     // "" when published means the initiative's first topic
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

// retryUpdate runs fn in a read-write transaction, retrying on conflicts
// with concurrent writers (lab data and accounts).
func (s *Store) retryUpdate(fn func(txn *badger.Txn) error) error {
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

// TrimList trims every item and drops empty ones.
func TrimList(l []string) []string {
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
	return s.retryUpdate(func(txn *badger.Txn) error {
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
