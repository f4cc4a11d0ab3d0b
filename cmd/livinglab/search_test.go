// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
)

// A daemon killed without stopping leaves its API address behind; reindex
// then rebuilds locally instead of failing to reach it.
func TestReindexAfterUncleanStop(t *testing.T) {
	h := newHome(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	if err := os.WriteFile(h.APIAddr(), []byte(addr), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"--home", h.Dir, "reindex"})
	if err := root.Execute(); err != nil {
		t.Fatalf("reindex: %v\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "Search index rebuilt.") {
		t.Fatalf("output: %s", &out)
	}
}
