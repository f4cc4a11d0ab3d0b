// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
)

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
