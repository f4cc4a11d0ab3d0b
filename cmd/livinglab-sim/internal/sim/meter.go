// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"

	"github.com/livinglab/livinglab/internal/testkit"
)

// Stream categories the meter counts separately.
const (
	CatGossip = iota // gossipsub RPCs (/meshsub/..., /floodsub/...)
	CatSync          // /livinglab/sync/1
	CatJoin          // /livinglab/join/1
	CatSearch        // /livinglab/search/1
	CatOther         // identify, ping and the rest
	numCats
)

var catNames = [numCats]string{"gossip", "sync", "join", "search", "other"}

func category(p protocol.ID) int {
	s := string(p)
	switch {
	case strings.HasPrefix(s, "/meshsub/"), strings.HasPrefix(s, "/floodsub/"):
		return CatGossip
	case strings.HasPrefix(s, "/livinglab/sync/"):
		return CatSync
	case strings.HasPrefix(s, "/livinglab/join/"):
		return CatJoin
	case strings.HasPrefix(s, "/livinglab/search/"):
		return CatSearch
	}
	return CatOther
}

// Meter counts what one host's streams carry: payload bytes in and out by
// protocol category, streams opened, and every gossipsub message received,
// decoded from the inbound RPC streams. Mocknet has no wire, so this is the
// byte count of the libp2p stream payloads (no transport framing: mocknet
// has neither encryption nor multiplexing).
type Meter struct {
	in, out, opened [numCats]atomic.Int64

	mu      sync.Mutex
	msgs    map[[32]byte]*msgSeen // by sha256 of the message data
	rpcs    int64
	ihave   int64 // message IDs announced in IHAVE
	iwant   int64 // message IDs requested in IWANT
	dontwnt int64 // message IDs in IDONTWANT
	grafts  int64
	prunes  int64
}

type msgSeen struct {
	first time.Time
	count int
}

// NewMeter returns an empty meter.
func NewMeter() *Meter { return &Meter{msgs: map[[32]byte]*msgSeen{}} }

// MeterSnapshot is a meter's counters at one moment.
type MeterSnapshot struct {
	In, Out, Opened [numCats]int64
	MsgsReceived    int64 // gossip messages received, duplicates included
	MsgsUnique      int64 // distinct gossip messages received
	RPCs            int64
	IHaveIDs        int64
	IWantIDs        int64
	IDontWantIDs    int64
	Grafts, Prunes  int64
}

// Snapshot returns the current counters.
func (m *Meter) Snapshot() MeterSnapshot {
	var s MeterSnapshot
	for i := range numCats {
		s.In[i], s.Out[i], s.Opened[i] = m.in[i].Load(), m.out[i].Load(), m.opened[i].Load()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.msgs {
		s.MsgsReceived += int64(v.count)
		s.MsgsUnique++
	}
	s.RPCs, s.IHaveIDs, s.IWantIDs, s.IDontWantIDs = m.rpcs, m.ihave, m.iwant, m.dontwnt
	s.Grafts, s.Prunes = m.grafts, m.prunes
	return s
}

// Sub returns s - o, counter by counter.
func (s MeterSnapshot) Sub(o MeterSnapshot) MeterSnapshot {
	r := s
	for i := range numCats {
		r.In[i] -= o.In[i]
		r.Out[i] -= o.Out[i]
		r.Opened[i] -= o.Opened[i]
	}
	r.MsgsReceived -= o.MsgsReceived
	r.MsgsUnique -= o.MsgsUnique
	r.RPCs -= o.RPCs
	r.IHaveIDs -= o.IHaveIDs
	r.IWantIDs -= o.IWantIDs
	r.IDontWantIDs -= o.IDontWantIDs
	r.Grafts -= o.Grafts
	r.Prunes -= o.Prunes
	return r
}

// Add returns s + o.
func (s MeterSnapshot) Add(o MeterSnapshot) MeterSnapshot {
	r := s
	for i := range numCats {
		r.In[i] += o.In[i]
		r.Out[i] += o.Out[i]
		r.Opened[i] += o.Opened[i]
	}
	r.MsgsReceived += o.MsgsReceived
	r.MsgsUnique += o.MsgsUnique
	r.RPCs += o.RPCs
	r.IHaveIDs += o.IHaveIDs
	r.IWantIDs += o.IWantIDs
	r.IDontWantIDs += o.IDontWantIDs
	r.Grafts += o.Grafts
	r.Prunes += o.Prunes
	return r
}

// Received tells whether a gossip message with this data arrived, when
// first, and how many copies.
func (m *Meter) Received(data []byte) (time.Time, int, bool) {
	return m.ReceivedKey(sha256.Sum256(data))
}

// ReceivedKey is Received by the sha256 of the data.
func (m *Meter) ReceivedKey(k [32]byte) (time.Time, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.msgs[k]
	if !ok {
		return time.Time{}, 0, false
	}
	return v.first, v.count, true
}

func (m *Meter) onRPC(b []byte, at time.Time) {
	var rpc pb.RPC
	if err := proto.Unmarshal(b, &rpc); err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rpcs++
	for _, msg := range rpc.GetPublish() {
		k := sha256.Sum256(msg.GetData())
		v := m.msgs[k]
		if v == nil {
			v = &msgSeen{first: at}
			m.msgs[k] = v
		}
		v.count++
	}
	if c := rpc.GetControl(); c != nil {
		for _, ih := range c.GetIhave() {
			m.ihave += int64(len(ih.GetMessageIDs()))
		}
		for _, iw := range c.GetIwant() {
			m.iwant += int64(len(iw.GetMessageIDs()))
		}
		for _, d := range c.GetIdontwant() {
			m.dontwnt += int64(len(d.GetMessageIDs()))
		}
		m.grafts += int64(len(c.GetGraft()))
		m.prunes += int64(len(c.GetPrune()))
	}
}

// MeteredHost wraps a host so that every stream it opens or accepts is
// counted by its meter and, with Delay set, every write reaches the other
// end Delay later.
type MeteredHost struct {
	*testkit.StreamHost
	M *Meter
	// Delay is the one-way latency this host adds to what it writes
	// (pipelined: writes do not wait for earlier ones to arrive).
	Delay time.Duration
}

// NewMeteredHost wraps h.
func NewMeteredHost(h host.Host, m *Meter, delay time.Duration) *MeteredHost {
	mh := &MeteredHost{M: m, Delay: delay}
	mh.StreamHost = &testkit.StreamHost{Host: h, Wrap: mh.wrap}
	return mh
}

func (h *MeteredHost) wrap(s network.Stream) network.Stream {
	c := category(s.Protocol())
	h.M.opened[c].Add(1)
	ms := &meteredStream{Stream: s, m: h.M, cat: c, delay: h.Delay}
	return ms
}

type meteredStream struct {
	network.Stream
	m   *Meter
	cat int
	buf []byte // partial gossip RPC bytes read so far

	// Pipelined latency: writes queue here and a goroutine hands each to
	// the underlying stream when it is due.
	delay time.Duration
	once  sync.Once
	q     chan chunk
	stop  chan struct{}
	stopO sync.Once
	mu    sync.Mutex
	werr  error
}

type chunk struct {
	data  []byte
	at    time.Time
	flush chan struct{} // a flush marker: closed when everything before it is written
}

func (s *meteredStream) Read(b []byte) (int, error) {
	k, err := s.Stream.Read(b)
	if k > 0 {
		s.m.in[s.cat].Add(int64(k))
		if s.cat == CatGossip {
			s.parse(b[:k])
		}
	}
	return k, err
}

func (s *meteredStream) Write(b []byte) (int, error) {
	if s.delay <= 0 {
		k, err := s.Stream.Write(b)
		if k > 0 {
			s.m.out[s.cat].Add(int64(k))
		}
		return k, err
	}
	if err := s.err(); err != nil {
		return 0, err
	}
	s.start()
	c := chunk{data: append([]byte(nil), b...), at: time.Now().Add(s.delay)}
	select {
	case s.q <- c:
	case <-s.stop:
		return 0, network.ErrReset
	}
	s.m.out[s.cat].Add(int64(len(b)))
	return len(b), nil
}

func (s *meteredStream) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

func (s *meteredStream) start() {
	s.once.Do(func() {
		// Writes block when this many are in flight, like a full
		// transport window. Every stream gets its own queue, and sync and
		// search open many short streams: a larger buffer made this
		// harness the federation's largest allocator.
		s.q = make(chan chunk, 256)
		s.stop = make(chan struct{})
		go s.deliver()
	})
}

// deliver writes queued chunks when due, in order.
func (s *meteredStream) deliver() {
	for {
		var c chunk
		select {
		case <-s.stop:
			return
		case c = <-s.q:
		}
		if c.flush != nil {
			close(c.flush)
			continue
		}
		if d := time.Until(c.at); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.stop:
				t.Stop()
				return
			}
		}
		if s.err() != nil {
			continue
		}
		if _, err := s.Stream.Write(c.data); err != nil {
			s.mu.Lock()
			s.werr = err
			s.mu.Unlock()
		}
	}
}

// flush waits until everything written so far has been handed on.
func (s *meteredStream) flush() {
	if s.delay <= 0 {
		return
	}
	s.start()
	done := make(chan struct{})
	select {
	case s.q <- chunk{flush: done}:
	case <-s.stop:
		return
	}
	select {
	case <-done:
	case <-s.stop:
	case <-time.After(s.delay + 30*time.Second):
	}
}

func (s *meteredStream) halt() {
	if s.delay <= 0 {
		return
	}
	s.start()
	s.stopO.Do(func() { close(s.stop) })
}

func (s *meteredStream) Close() error {
	s.flush()
	s.halt()
	return s.Stream.Close()
}

func (s *meteredStream) CloseWrite() error {
	s.flush()
	return s.Stream.CloseWrite()
}

func (s *meteredStream) Reset() error {
	s.halt()
	return s.Stream.Reset()
}

func (s *meteredStream) ResetWithError(code network.StreamErrorCode) error {
	s.halt()
	return s.Stream.ResetWithError(code)
}

// parse splits the inbound gossip stream into length-prefixed RPCs.
func (s *meteredStream) parse(b []byte) {
	s.buf = append(s.buf, b...)
	now := time.Now()
	for {
		size, n := binary.Uvarint(s.buf)
		if n <= 0 || uint64(len(s.buf)-n) < size {
			return
		}
		s.m.onRPC(s.buf[n:n+int(size)], now)
		s.buf = s.buf[n+int(size):]
		if len(s.buf) == 0 {
			s.buf = nil
		}
	}
}
