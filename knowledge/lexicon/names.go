// SPDX-License-Identifier: EUPL-1.2

package lexicon

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"sync"
)

// NameKind says whether a word is a known given name, surname, or both.
type NameKind uint8

// Name kinds, combined as bits.
const (
	Given NameKind = 1 << iota
	Family
)

// Names is the list of known given names and surnames of the network's
// countries (from Faker's person data), without inflection.
type Names struct {
	kind map[string]NameKind
}

var (
	namesOnce sync.Once
	namesList *Names
	namesErr  error
)

// LoadNames returns the embedded name list, decoding it on first use.
func LoadNames() (*Names, error) {
	namesOnce.Do(func() { namesList, namesErr = OpenNames(embedded) })
	return namesList, namesErr
}

// OpenNames reads the name list from fsys ("data/names.txt.gz").
func OpenNames(fsys fs.FS) (*Names, error) {
	raw, err := readGzip(fsys, "data/names.txt.gz")
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(raw, []byte("\n"))
	if len(lines) < 2 || string(lines[0]) != "NAMES 1" {
		return nil, fmt.Errorf("%w: names.txt.gz: bad header", ErrData)
	}
	n := &Names{kind: make(map[string]NameKind, len(lines))}
	for i, l := range lines[1:] {
		if len(l) == 0 {
			continue
		}
		k, name, ok := strings.Cut(string(l), "\t")
		if !ok || name == "" || (k != "g" && k != "s") {
			return nil, fmt.Errorf("%w: names.txt.gz: line %d", ErrData, i+2)
		}
		if k == "g" {
			n.kind[name] |= Given
		} else {
			n.kind[name] |= Family
		}
	}
	if len(n.kind) < 1000 {
		return nil, fmt.Errorf("%w: names.txt.gz: only %d names", ErrData, len(n.kind))
	}
	return n, nil
}

// Kind returns what the word is known as (case-insensitive), 0 if neither.
func (n *Names) Kind(word string) NameKind {
	return n.kind[normalize(word)]
}
