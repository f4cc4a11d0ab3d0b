// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/livinglab/livinglab/knowledge"
)

type tour struct {
	ID      string         `json:"id"`
	Guide   string         `json:"guide"`
	Stops   []string       `json:"stops"`
	Counts  map[string]int `json:"counts"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
}

// tours is a kind of lab entity declared by this test alone.
var tours = &knowledge.Entity[tour]{
	Kind: knowledge.Kind{Name: "tour", Plural: "tours", Route: "lab/tours", Prefix: "tou", Short: "Guided tours",
		Fields: knowledge.Fields(`
			guide   guide  text    name  name  the guide
			stops   stop   texts   -     name  a stop (repeatable)
			counts  count  counts  -     -     visitors by group, GROUP=N`)},
	Normalise: func(*tour, knowledge.LabTx) error { return nil },
}

func init() { knowledge.RegisterLabKind(tours) }

// Every declared kind gets its commands, and its flags, from its
// declaration alone.
func TestLabCommandsFromDeclarations(t *testing.T) {
	cmds := labCmds()
	lab, draft := cmds[0], cmds[1]
	for _, k := range knowledge.LabKinds() {
		d := k.Decl()
		parent, want := lab, []string{"add", "list", "show", "edit", "delete"}
		if d.Route == "drafts" {
			parent, want = draft, []string{"list", "show", "edit", "delete"}
		} else {
			i := slices.IndexFunc(lab.Commands(), func(c *cobra.Command) bool { return c.Name() == d.Name })
			if i < 0 {
				t.Errorf("lab has no command %s", d.Name)
				continue
			}
			parent = lab.Commands()[i]
		}
		for _, w := range want {
			i := slices.IndexFunc(parent.Commands(), func(c *cobra.Command) bool { return c.Name() == w })
			if i < 0 {
				t.Errorf("%s has no command %s", parent.CommandPath(), w)
				continue
			}
			sub := parent.Commands()[i]
			for _, f := range d.Fields {
				if f.Flag != "" && (w == "add" || w == "edit") && sub.Flags().Lookup(f.Flag) == nil {
					t.Errorf("%s lacks --%s", sub.CommandPath(), f.Flag)
				}
			}
		}
	}
}

func TestLabFieldFlags(t *testing.T) {
	fs := pflag.NewFlagSet("add", pflag.ContinueOnError)
	body := addFieldFlags(fs, tours.Fields)
	if err := fs.Parse([]string{"--guide", "Hanna", "--stop", "mill", "--stop", "church", "--count", "adults=4"}); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	body(m)
	if m["guide"] != "Hanna" || !slices.Equal(m["stops"].([]string), []string{"mill", "church"}) || m["counts"].(map[string]int)["adults"] != 4 {
		t.Fatalf("body: %v", m)
	}
	fs = pflag.NewFlagSet("edit", pflag.ContinueOnError)
	body = addFieldFlags(fs, tours.Fields)
	if err := fs.Parse([]string{"--stop", "mill"}); err != nil {
		t.Fatal(err)
	}
	m = map[string]any{}
	body(m)
	if len(m) != 1 {
		t.Fatalf("flags not given were sent: %v", m)
	}
}
