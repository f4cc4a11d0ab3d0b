// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/protocol"
)

// Event tells subscribers (the index, the live feed, tests) what changed.
type Event struct {
	Type       string // "record"
	Record     *protocol.Signed
	From       peer.ID // "" for this node's own records
	Removed    []cid.Cid
	Superseded cid.Cid
	At         time.Time // when the node stored the record
}

// events is a small fan-out of node events to in-process listeners. A slow
// listener loses events rather than blocking the node.
type events struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func newEvents() *events { return &events{subs: map[chan Event]struct{}{}} }

// Subscribe returns a channel of events and a function that ends it.
func (e *events) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, buf)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		if _, ok := e.subs[ch]; ok {
			delete(e.subs, ch)
			close(ch)
		}
		e.mu.Unlock()
	}
}

func (e *events) publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Events subscribes to the node's events.
func (n *Node) Events(buf int) (<-chan Event, func()) { return n.events.Subscribe(buf) }
