// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"slices"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// labKind declares one kind of private lab entity: its key prefix, its
// validation and what a replacement keeps from the stored version. Every
// kind is created, read, listed, replaced and deleted by the one
// implementation below, so a new kind is a declaration.
type labKind[T any] struct {
	kind string
	// meta points at the entity's ID and times.
	meta func(*T) (id *string, created, updated *time.Time)
	// normalise trims and checks an entity before it is stored (nStages:
	// the lab's number of innovation stages).
	normalise func(v *T, txn *badger.Txn, nStages int) error
	// keep, if set, carries fields over from the stored version (old is
	// nil for a new entity); with keepFirst it runs before normalise.
	keep      func(v, old *T)
	keepFirst bool
	// of tells whether an entity belongs to an initiative.
	of func(v *T, initiative string) bool
	// less orders a list (default: oldest first).
	less func(a, b *T) bool
}

// put creates an entity (empty ID) or replaces one.
func (k labKind[T]) put(s *Store, v T) (*T, error) {
	err := s.labUpdate(func(txn *badger.Txn) error {
		st, err := stagesIn(txn)
		if err != nil {
			return err
		}
		in := v
		id, created, updated := k.meta(&in)
		if !k.keepFirst {
			if err := k.normalise(&in, txn, len(st)); err != nil {
				return err
			}
		}
		var old *T
		if *id != "" {
			if old, err = labGet[T](txn, k.kind, *id); err != nil {
				return err
			}
		}
		if k.keep != nil {
			k.keep(&in, old)
		}
		if k.keepFirst {
			if err := k.normalise(&in, txn, len(st)); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		if old == nil {
			*id, *created = newID(txn, k.kind), now
		} else {
			_, oc, _ := k.meta(old)
			*created = *oc
		}
		*updated = now
		v = in
		return labSet(txn, k.kind, *id, in)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (k labKind[T]) get(s *Store, id string) (*T, error) {
	return labView(s, func(txn *badger.Txn) (*T, error) { return labGet[T](txn, k.kind, id) })
}

// list returns the entities of an initiative ("" for all).
func (k labKind[T]) list(s *Store, initiative string) ([]T, error) {
	out, err := labView(s, func(txn *badger.Txn) ([]T, error) {
		return labList(txn, k.kind, func(v *T) bool { return initiative == "" || k.of == nil || k.of(v, initiative) })
	})
	less := k.less
	if less == nil {
		less = func(a, b *T) bool {
			_, ca, _ := k.meta(a)
			_, cb, _ := k.meta(b)
			return ca.Before(*cb)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	return out, err
}

func (k labKind[T]) del(s *Store, id string) error {
	return s.labUpdate(func(txn *badger.Txn) error {
		if _, err := labGet[T](txn, k.kind, id); err != nil {
			return err
		}
		return txn.Delete(labKey(k.kind, id))
	})
}

func ofInitiative(id, initiative string) bool { return id == initiative }

// The kinds of lab entity.
var (
	initiatives = labKind[Initiative]{kind: labInitiative,
		meta:      func(v *Initiative) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: func(v *Initiative, _ *badger.Txn, n int) error { return v.normalise(n) }}

	stakeholders = labKind[Stakeholder]{kind: labStakeholder,
		meta:      func(v *Stakeholder) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: func(v *Stakeholder, txn *badger.Txn, _ int) error { return v.normalise(txn) },
		of:        func(v *Stakeholder, ini string) bool { return slices.Contains(v.InitiativeIDs, ini) }}

	activities = labKind[Activity]{kind: labActivity,
		meta:      func(v *Activity) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: (*Activity).normalise,
		of:        func(v *Activity, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
		less: func(a, b *Activity) bool {
			if a.Date != b.Date {
				return a.Date < b.Date
			}
			return a.Created.Before(b.Created)
		}}

	evaluations = labKind[Evaluation]{kind: labEvaluation,
		meta:      func(v *Evaluation) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: func(v *Evaluation, txn *badger.Txn, _ int) error { return v.normalise(txn) },
		of:        func(v *Evaluation, ini string) bool { return ofInitiative(v.InitiativeID, ini) }}

	// Published is kept from the stored lesson; MarkLessonPublished sets it.
	lessons = labKind[DraftLesson]{kind: labLesson,
		meta:      func(v *DraftLesson) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: (*DraftLesson).normalise,
		keep: func(v, old *DraftLesson) {
			v.Published = ""
			if old != nil {
				v.Published = old.Published
			}
		},
		of: func(v *DraftLesson, ini string) bool { return ofInitiative(v.InitiativeID, ini) }}

	// A draft keeps its initiative and publication; every write advances
	// its revision and clears its approval. Newest first.
	drafts = labKind[Draft]{kind: labDraft,
		meta:      func(v *Draft) (*string, *time.Time, *time.Time) { return &v.ID, &v.Created, &v.Updated },
		normalise: (*Draft).normalise,
		keepFirst: true,
		keep: func(v, old *Draft) {
			v.Published, v.Rev, v.Approval = "", 1, nil
			if old != nil {
				v.Published, v.InitiativeID, v.Rev = old.Published, old.InitiativeID, old.Rev+1
			}
		},
		of:   func(v *Draft, ini string) bool { return ofInitiative(v.InitiativeID, ini) },
		less: func(a, b *Draft) bool { return a.Created.After(b.Created) }}
)
