// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/protocol"
)

// Every kind of private lab entity (initiatives, stakeholders, activities,
// evaluations, lessons, drafts) is one declaration (labkinds.go): an Entity
// with its fields, which of them are personal, its validation and how it
// relates to initiatives. The store, the node, the API and the CLI serve every
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
	Personal Personal
	// Max is the most bytes a text (or each text of a list) may hold, 0
	// for no check here; Items the most texts a list may hold; Required,
	// that a text must not be blank.
	Max, Items int
	Required   bool
	Usage      string
}

// Fields parses a field table: one field a line, in columns separated by
// spaces: the JSON key; the flag ("-": none); the type (text, int, texts,
// bool, number, counts, ints, object); what is personal ("-", name,
// contact, other); the limit ("-": none; name, text, short, long, title or
// a number of bytes, with "!" if required, and for a list "public:" to
// hold at most as many items as a public record); then the usage. It
// panics on a malformed table: tables are declared in code.
func Fields(table string) []Field {
	types := map[string]FieldType{"text": FieldText, "int": FieldInt, "texts": FieldTexts, "bool": FieldBool,
		"number": FieldNumber, "counts": FieldCounts, "ints": FieldInts, "object": FieldObject}
	personal := map[string]Personal{"-": NotPersonal, "name": PersonalName, "contact": PersonalContact, "other": PersonalOther}
	limits := map[string]int{"-": 0, "name": MaxLabName, "text": MaxLabText, "short": protocol.MaxShortText,
		"long": protocol.MaxLongText, "title": protocol.MaxTitle}
	var out []Field
	for _, line := range strings.Split(table, "\n") {
		col := strings.Fields(line)
		if len(col) == 0 {
			continue
		}
		if len(col) < 6 {
			panic(fmt.Sprintf("lab field %q: want key, flag, type, personal, limit and usage", line))
		}
		f := Field{Key: col[0], Flag: col[1], Usage: strings.Join(col[5:], " "), Items: MaxLabList}
		if f.Flag == "-" {
			f.Flag = ""
		}
		var ok bool
		if f.Type, ok = types[col[2]]; !ok {
			panic(fmt.Sprintf("lab field %s: unknown type %q", f.Key, col[2]))
		}
		if f.Personal, ok = personal[col[3]]; !ok {
			panic(fmt.Sprintf("lab field %s: unknown personal data %q", f.Key, col[3]))
		}
		limit := col[4]
		if l, found := strings.CutPrefix(limit, "public:"); found {
			limit, f.Items = l, protocol.MaxListItems
		}
		limit, f.Required = strings.CutSuffix(limit, "!")
		if f.Max, ok = limits[limit]; !ok {
			if f.Max, ok = atoi(limit); !ok {
				panic(fmt.Sprintf("lab field %s: unknown limit %q", f.Key, col[4]))
			}
		}
		out = append(out, f)
	}
	return out
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
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
	// Normalise trims and checks an entity before it is stored, after the
	// limits its fields declare are checked. T's fields with the JSON
	// keys id, created and updated are its ID and times.
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

	once  sync.Once
	index map[string][]int // T's fields by JSON key
}

// LabKind is a kind of lab entity with its Go type hidden, for code that
// serves every kind alike. Values are pointers to entities (New, Get, Put)
// or slices of entities (List).
type LabKind interface {
	Decl() *Kind
	New() any
	Find(s *Store, id string) (any, error)
	Query(s *Store, initiative string) (any, error)
	// Store stores v (a pointer from New) as a new entity (id "") or as
	// the entity id.
	Store(s *Store, v any, id string) (any, error)
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
	e.fieldIndex()
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

func (e *Entity[T]) Find(s *Store, id string) (any, error) { return e.Get(s, id) }

func (e *Entity[T]) Query(s *Store, initiative string) (any, error) { return e.List(s, initiative) }

func (e *Entity[T]) Store(s *Store, v any, id string) (any, error) {
	p, ok := v.(*T)
	if !ok {
		return nil, fmt.Errorf("%s: a %T is not a %T", e.Name, v, p)
	}
	in := *p
	*e.idOf(&in) = id
	return e.Put(s, in)
}

func (e *Entity[T]) Remove(s *Store, id string, cascade bool) error {
	if e.Delete != nil {
		return e.Delete(s, id, cascade)
	}
	return e.del(s, id)
}

// fieldIndex maps T's JSON keys to its fields (embedded ones included).
// It panics if T lacks an id, created or updated field.
func (e *Entity[T]) fieldIndex() map[string][]int {
	e.once.Do(func() {
		e.index = map[string][]int{}
		for _, f := range reflect.VisibleFields(reflect.TypeFor[T]()) {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && !f.Anonymous && name != "" && name != "-" {
				e.index[name] = f.Index
			}
		}
	})
	for _, k := range []string{"id", "created", "updated"} {
		if _, ok := e.index[k]; !ok {
			panic(fmt.Sprintf("lab kind %s: %s has no field with the JSON key %q", e.Name, reflect.TypeFor[T](), k))
		}
	}
	return e.index
}

// field returns the field of v with the given JSON key.
func (e *Entity[T]) field(v *T, key string) reflect.Value {
	return reflect.ValueOf(v).Elem().FieldByIndex(e.fieldIndex()[key])
}

// meta points at an entity's ID and times.
func (e *Entity[T]) meta(v *T) (id *string, created, updated *time.Time) {
	return e.field(v, "id").Addr().Interface().(*string), e.field(v, "created").Addr().Interface().(*time.Time),
		e.field(v, "updated").Addr().Interface().(*time.Time)
}

func (e *Entity[T]) idOf(v *T) *string {
	id, _, _ := e.meta(v)
	return id
}

// check checks the limits an entity's fields declare.
func (e *Entity[T]) check(v *T) error {
	for _, f := range e.Fields {
		if f.Max == 0 && !f.Required {
			continue
		}
		switch x := e.field(v, f.Key).Interface().(type) {
		case string:
			if err := checkText(f.Key, x, f.Max, f.Required); err != nil {
				return err
			}
		case []string:
			if err := checkList(f.Key, x, f.Items, f.Max); err != nil {
				return err
			}
		}
	}
	return nil
}

// Put creates an entity (empty ID) or replaces one.
func (e *Entity[T]) Put(s *Store, v T) (*T, error) {
	err := s.retryUpdate(func(txn *badger.Txn) error {
		st, err := stagesIn(txn)
		if err != nil {
			return err
		}
		tx := LabTx{txn: txn, stages: len(st)}
		in := v
		id, created, updated := e.meta(&in)
		normalise := func() error {
			if err := e.check(&in); err != nil {
				return err
			}
			return e.Normalise(&in, tx)
		}
		if !e.KeepFirst {
			if err := normalise(); err != nil {
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
			if err := normalise(); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		if old == nil {
			*id, *created = newID(txn, e.Prefix), now
		} else {
			_, oc, _ := e.meta(old)
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

// change applies fn to the stored entity id and stores the result (with
// the limits its fields declare checked, not its validation).
func (e *Entity[T]) change(s *Store, id string, fn func(v *T) error) (*T, error) {
	var out *T
	err := s.retryUpdate(func(txn *badger.Txn) error {
		v, err := labGet[T](txn, e.Prefix, id)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
		if err := e.check(v); err != nil {
			return err
		}
		out = v
		return labSet(txn, e.Prefix, id, v)
	})
	return out, err
}

// Get returns an entity.
func (e *Entity[T]) Get(s *Store, id string) (*T, error) {
	return labView(s, func(txn *badger.Txn) (*T, error) { return labGet[T](txn, e.Prefix, id) })
}

// List returns the entities of an initiative ("" for all), in order.
func (e *Entity[T]) List(s *Store, initiative string) ([]T, error) {
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
			_, ca, _ := e.meta(a)
			_, cb, _ := e.meta(b)
			return ca.Before(*cb)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(&out[i], &out[j]) })
}

func (e *Entity[T]) del(s *Store, id string) error {
	return s.retryUpdate(func(txn *badger.Txn) error {
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
	p := v.(*T)
	for _, f := range e.Fields {
		dst := map[Personal]*[]string{PersonalName: &names, PersonalContact: &contacts}[f.Personal]
		if dst == nil {
			continue
		}
		switch x := e.field(p, f.Key).Interface().(type) {
		case string:
			*dst = append(*dst, x)
		case []string:
			*dst = append(*dst, x...)
		}
	}
	return names, contacts
}
