// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

func newHome(t *testing.T) node.Home {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(dir, node.InitOptions{Region: "North Karelia", Country: "FI"}); err != nil {
		t.Fatal(err)
	}
	return node.Home{Dir: dir}
}

func TestCheckHomeCompatible(t *testing.T) {
	h := newHome(t)
	var out bytes.Buffer
	if err := checkHomeCompat(&out, h); err != nil {
		t.Fatalf("a fresh home: %v\n%s", err, &out)
	}
	for _, want := range []string{fmt.Sprintf("config: version %d: compatible", node.ConfigVersion), fmt.Sprintf("store: schema %d: compatible", knowledge.SchemaVersion), "compatible: livinglab"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	// The check reads only: the store still opens and nothing was added.
	s, err := knowledge.Open(h.Store(), knowledge.Options{})
	if err != nil {
		t.Fatalf("the store after the check: %v", err)
	}
	s.Close()
}

func TestCheckHomeRefusesNewerConfig(t *testing.T) {
	h := newHome(t)
	raw, _ := os.ReadFile(h.Config())
	newer := strings.Replace(string(raw), fmt.Sprintf(`"version": %d`, node.ConfigVersion), `"version": 7`, 1)
	if newer == string(raw) {
		t.Fatalf("config has no version %d:\n%s", node.ConfigVersion, raw)
	}
	os.WriteFile(h.Config(), []byte(newer), 0o600)
	var out bytes.Buffer
	err := checkHomeCompat(&out, h)
	if !errors.Is(err, errIncompatible) || !strings.Contains(out.String(), fmt.Sprintf("config: version 7, newer than this release reads (%d): not compatible", node.ConfigVersion)) {
		t.Fatalf("err %v, output:\n%s", err, &out)
	}
	if b, _ := os.ReadFile(h.Config()); string(b) != newer {
		t.Fatal("the check changed the config")
	}
}

func TestCheckHomeRefusesNewerStore(t *testing.T) {
	h := newHome(t)
	db, err := badger.Open(knowledge.Options{}.Badger(h.Store()))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte("m/schema"), binary.BigEndian.AppendUint32(nil, uint32(knowledge.SchemaVersion+1)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = checkHomeCompat(&out, h)
	if !errors.Is(err, errIncompatible) || !strings.Contains(out.String(), fmt.Sprintf("store: schema %d, newer than this release reads (%d): not compatible", knowledge.SchemaVersion+1, knowledge.SchemaVersion)) {
		t.Fatalf("err %v, output:\n%s", err, &out)
	}
}

func TestCheckHomeNeedsTheNodeStopped(t *testing.T) {
	h := newHome(t)
	release, err := h.TakeLock()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var out bytes.Buffer
	if err := checkHomeCompat(&out, h); err == nil || !strings.Contains(err.Error(), "a node is running") {
		t.Fatalf("err %v", err)
	}
	// A store held open by another process (without the home's lock).
	release()
	s, err := knowledge.Open(h.Store(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := knowledge.ReadSchema(h.Store()); !errors.Is(err, knowledge.ErrStoreInUse) {
		t.Fatalf("ReadSchema of an open store: %v", err)
	}
}

func TestCheckHomeWithoutConfigOrStore(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := checkHomeCompat(&out, node.Home{Dir: dir}); err != nil {
		t.Fatalf("empty home: %v", err)
	}
	if !strings.Contains(out.String(), "config: none") || !strings.Contains(out.String(), "store: empty") {
		t.Errorf("output:\n%s", &out)
	}
	if err := checkHomeCompat(&out, node.Home{Dir: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing home passed")
	}
}
