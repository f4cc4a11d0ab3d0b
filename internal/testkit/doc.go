// SPDX-License-Identifier: EUPL-1.2

// Package testkit holds what the tests of several packages, and the
// simulator, need alike: a buffer a running process may write while a test
// reads it, the tail of a log, building the livinglab command once, running
// it as a daemon or a command line, a libp2p host whose streams pass
// through a wrapper, and Map for the lists of IDs tests compare. It is
// imported by tests and by cmd/livinglab-sim only.
//
// Helpers that fail a test take a T, the part of testing.TB they use.
package testkit

import "time"

// T is the part of testing.TB the helpers use.
type T interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// ReadyWait is how long a started daemon may take to say "ready": a node
// rebuilding a large search index at start on a busy machine may take a
// while. It is generous, not a timing check.
const ReadyWait = 90 * time.Second
