// SPDX-License-Identifier: EUPL-1.2

// Long file: the canary's scanner must recognise a planted value in every encoding it could leave in
// (folded, squeezed, JSON-escaped, base64, digit runs); each encoding is a small function here.

package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	p2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/nyaruka/phonenumbers"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/protocol"
)

// ---------------------------------------------------------------------------
// Capturing what crosses the network
// ---------------------------------------------------------------------------

// wireCapture holds a copy of every byte that crossed the network in a
// federation (stream bytes by node and protocol, gossipsub message data as
// the tracer saw it) and every HTTP answer a test fetched.
type wireCapture struct {
	mu      sync.Mutex
	streams map[string]*bytes.Buffer // "<node> <protocol>" -> bytes read and written
	tracer  bytes.Buffer             // message data seen by the gossipsub tracers
	rpcs    []tracedRPC              // published messages as received, by node
	grafts  map[string]bool          // "<node> <peer> <topic>"
	http    map[string][]byte        // "http <node> <method> <path>" and other answers -> body
	order   []string                 // keys of http in the order they were added
}

type tracedRPC struct {
	node peer.ID
	from peer.ID
	data []byte
}

func newWireCapture() *wireCapture {
	return &wireCapture{streams: map[string]*bytes.Buffer{}, grafts: map[string]bool{}, http: map[string][]byte{}}
}

func (c *wireCapture) stream(node string, proto p2pproto.ID, p []byte) {
	if len(p) == 0 {
		return
	}
	key := node + " " + string(proto)
	if proto == "" {
		key = node + " (protocol not negotiated yet)"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.streams[key]
	if b == nil {
		b = &bytes.Buffer{}
		c.streams[key] = b
	}
	b.Write(p)
}

// addAnswer records an answer a test received outside the streams: an
// HTTP answer body, or a search result as a node returns it.
func (c *wireCapture) addAnswer(key string, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.http[key]; !ok {
		c.order = append(c.order, key)
	}
	c.http[key] = append(c.http[key], body...)
}

// canaryCorpus is one named run of captured bytes.
type canaryCorpus struct {
	name string
	data []byte
}

// corpora returns a copy of everything captured so far: one corpus per
// node and protocol, the tracer's messages, and one per HTTP answer.
func (c *wireCapture) corpora() []canaryCorpus {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []canaryCorpus
	keys := make([]string, 0, len(c.streams))
	for k := range c.streams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, canaryCorpus{"stream " + k, bytes.Clone(c.streams[k].Bytes())})
	}
	out = append(out, canaryCorpus{"gossipsub tracer", bytes.Clone(c.tracer.Bytes())})
	for _, k := range c.order {
		out = append(out, canaryCorpus{k, bytes.Clone(c.http[k])})
	}
	return out
}

// streamBytes returns what was captured on the streams of one node for
// protocols starting with prefix.
func (c *wireCapture) streamBytes(node, prefix string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []byte
	for k, b := range c.streams {
		if strings.HasPrefix(k, node+" "+prefix) {
			out = append(out, b.Bytes()...)
		}
	}
	return out
}

// tappedStream copies everything read from and written to a stream into
// the capture.
type tappedStream struct {
	network.Stream
	node string
	cap  *wireCapture
}

func (s *tappedStream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	if n > 0 {
		s.cap.stream(s.node, s.Stream.Protocol(), p[:n])
	}
	return n, err
}

func (s *tappedStream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	if n > 0 {
		s.cap.stream(s.node, s.Stream.Protocol(), p[:n])
	}
	return n, err
}

// capTracer is a gossipsub raw tracer that records the data of every
// message a node validates, delivers, rejects, sends or receives.
type capTracer struct {
	self peer.ID
	name string
	cap  *wireCapture
}

func (t *capTracer) msg(m *pubsub.Message) {
	if m == nil || m.Message == nil {
		return
	}
	t.cap.mu.Lock()
	defer t.cap.mu.Unlock()
	t.cap.tracer.WriteString(m.GetTopic())
	t.cap.tracer.Write(m.GetData())
}

func (t *capTracer) rpc(r *pubsub.RPC, recv bool) {
	if r == nil {
		return
	}
	t.cap.mu.Lock()
	defer t.cap.mu.Unlock()
	for _, m := range r.GetPublish() {
		t.cap.tracer.WriteString(m.GetTopic())
		t.cap.tracer.Write(m.GetData())
		if recv {
			t.cap.rpcs = append(t.cap.rpcs, tracedRPC{node: t.self, from: r.From(), data: bytes.Clone(m.GetData())})
		}
	}
}

func (t *capTracer) OnNewOutboundStream(peer.ID, p2pproto.ID) {}
func (t *capTracer) OnClosedOutboundStream(peer.ID)           {}
func (t *capTracer) Join(string)                              {}
func (t *capTracer) Leave(string)                             {}
func (t *capTracer) Graft(p peer.ID, topic string) {
	t.cap.mu.Lock()
	defer t.cap.mu.Unlock()
	t.cap.grafts[t.name+" "+p.String()+" "+topic] = true
}
func (t *capTracer) Prune(peer.ID, string)                                {}
func (t *capTracer) ValidateMessage(m *pubsub.Message)                    { t.msg(m) }
func (t *capTracer) DeliverMessage(m *pubsub.Message)                     { t.msg(m) }
func (t *capTracer) RejectMessage(m *pubsub.Message, _ string)            { t.msg(m) }
func (t *capTracer) DuplicateMessage(m *pubsub.Message)                   { t.msg(m) }
func (t *capTracer) ThrottlePeer(peer.ID)                                 {}
func (t *capTracer) RecvRPC(r *pubsub.RPC)                                { t.rpc(r, true) }
func (t *capTracer) SendRPC(r *pubsub.RPC, _ peer.ID)                     { t.rpc(r, false) }
func (t *capTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *capTracer) DropRPC(r *pubsub.RPC, _ peer.ID)                     { t.rpc(r, false) }
func (t *capTracer) UndeliverableMessage(m *pubsub.Message)               { t.msg(m) }

// grafted tells whether node's gossipsub put p into its mesh for topic.
func (c *wireCapture) grafted(node string, p peer.ID, topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grafts[node+" "+p.String()+" "+topic]
}

// received reports whether node got, in a gossipsub RPC sent by from, a
// message whose data contains want.
func (c *wireCapture) received(node, from peer.ID, want string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rpcs {
		if r.node == node && r.from == from && bytes.Contains(r.data, []byte(want)) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Nodes on tapped hosts
// ---------------------------------------------------------------------------

// addTappedNode initialises a home like federation.addNode and starts a
// node on a tapped mocknet host with a gossipsub tracer, linked to the
// given nodes only (so a node can be reachable through another alone).
func (f *federation) addTappedNode(name string, found bool, c *wireCapture, linkTo ...*testNode) *testNode {
	f.t.Helper()
	o := InitOptions{Region: "Region " + name, Country: "SE"}
	if found {
		o.Federation, o.Country = testFederation, "FI"
	}
	tn := f.initNode(name, o)
	inner := f.mockHost(tn, nil, linkTo)
	h := &testkit.StreamHost{Host: inner, Wrap: func(s network.Stream) network.Stream {
		return &tappedStream{Stream: s, node: name, cap: c}
	}}
	tr := &capTracer{self: inner.ID(), name: name, cap: c}
	f.run(tn, h, pubsub.WithRawTracer(tr))
	return tn
}

// ---------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------

// canaryAPI calls a node's HTTP API through its handler, with its token,
// and records every answer body in the capture.
type canaryAPI struct {
	t    *testing.T
	name string
	api  *labAPI
	cap  *wireCapture
}

func newCanaryAPI(t *testing.T, tn *testNode, c *wireCapture) *canaryAPI {
	t.Helper()
	tok, err := tn.home.LoadToken()
	if err != nil {
		t.Fatal(err)
	}
	api := &labAPI{t: t, n: tn.Node(), h: tn.Node().apiHandler("127.0.0.1:1"), token: tok}
	return &canaryAPI{t: t, name: tn.name, api: api, cap: c}
}

// call sends a request and requires status want; out, if not nil, gets
// the decoded JSON answer. Only GET answers are recorded: they are what a
// node serves; the lab routes used to seed data answer with private data
// by design and only to the lab's own users.
func (a *canaryAPI) call(want int, method, path string, body, out any) []byte {
	a.t.Helper()
	b := []byte(a.api.must(want, method, path, body, out))
	if method == http.MethodGet {
		a.cap.addAnswer("http "+a.name+" "+method+" "+path, b)
	}
	return b
}

// ---------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------

// canaryPhone draws numbers from a pattern until libphonenumber accepts
// one; it returns the number as drawn and in the other common form
// (national for an international number and the reverse).
func canaryPhone(r *rand.Rand, country string) (string, string) {
	n := r.Intn
	pats := map[string][]struct {
		pattern string
		args    func() []any
	}{
		"FI": {{"+358 40 %07d", func() []any { return []any{n(10000000)} }}, {"050-%07d", func() []any { return []any{n(10000000)} }},
			{"040 %03d %04d", func() []any { return []any{n(1000), n(10000)} }}},
		"SE": {{"070-%03d %02d %02d", func() []any { return []any{n(1000), n(100), n(100)} }},
			{"+46 70 %03d %02d %02d", func() []any { return []any{n(1000), n(100), n(100)} }}},
		"NO": {{"+47 9%02d %02d %03d", func() []any { return []any{n(100), n(100), n(1000)} }},
			{"4%02d %02d %03d", func() []any { return []any{n(100), n(100), n(1000)} }}},
		"DK": {{"+45 2%d %02d %02d %02d", func() []any { return []any{n(10), n(100), n(100), n(100)} }},
			{"2%d %02d %02d %02d", func() []any { return []any{n(10), n(100), n(100), n(100)} }}},
		"IS": {{"+354 6%02d %04d", func() []any { return []any{n(100), n(10000)} }},
			{"8%02d-%04d", func() []any { return []any{n(100), n(10000)} }}},
		"IE": {{"08%d %03d %04d", func() []any { return []any{3 + n(7), n(1000), n(10000)} }},
			{"+353 8%d %03d %04d", func() []any { return []any{3 + n(7), n(1000), n(10000)} }}},
		"GB": {{"+44 7%03d %06d", func() []any { return []any{400 + n(600), n(1000000)} }},
			{"028 7%03d %04d", func() []any { return []any{n(1000), n(10000)} }}},
	}[country]
	p := pats[r.Intn(len(pats))]
	for {
		s := fmt.Sprintf(p.pattern, p.args()...)
		num, err := phonenumbers.Parse(s, country)
		if err != nil || !phonenumbers.IsValidNumber(num) {
			continue
		}
		other := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		if strings.HasPrefix(s, "+") {
			other = phonenumbers.Format(num, phonenumbers.NATIONAL)
		}
		return s, other
	}
}

// ---------------------------------------------------------------------------
// Planted values
// ---------------------------------------------------------------------------

// plantedValue is a personal value put into the lab's private data on
// purpose, with every place it was put.
type plantedValue struct {
	kind   string
	value  string
	fields []string
}

// textSlot is one free-text field of the lab data that planted sentences
// are dealt into.
type textSlot struct {
	field string
	limit int
	lead  string // public text the slot starts with
	b     strings.Builder
}

func (s *textSlot) String() string { return s.b.String() }

// slotGroup deals sentences round-robin over its slots, skipping full ones.
type slotGroup struct {
	slots []*textSlot
	next  int
}

func (g *slotGroup) add(field string, limit int, lead string) *textSlot {
	s := &textSlot{field: field, limit: limit, lead: lead}
	s.b.WriteString(lead)
	g.slots = append(g.slots, s)
	return s
}

// canaryPlan is the lab data to seed, with the planted values it carries.
type canaryPlan struct {
	r      *rand.Rand
	values []*plantedValue
	index  map[string]*plantedValue
}

func (p *canaryPlan) value(kind, v string) *plantedValue {
	if pv, ok := p.index[v]; ok {
		return pv
	}
	pv := &plantedValue{kind: kind, value: v}
	p.index[v] = pv
	p.values = append(p.values, pv)
	return pv
}

// field records that v was planted in a private field.
func (p *canaryPlan) field(kind, v, field string) string {
	pv := p.value(kind, v)
	if !slices.Contains(pv.fields, field) {
		pv.fields = append(pv.fields, field)
	}
	return v
}

// put writes sentence, which carries v, into slot s; it reports whether
// there was room.
func (p *canaryPlan) put(s *textSlot, kind, v, sentence string) bool {
	if !strings.Contains(strings.ToLower(sentence), strings.ToLower(v)) {
		panic(fmt.Sprintf("sentence %q does not carry %q", sentence, v))
	}
	if s.b.Len()+len(sentence)+1 > s.limit {
		return false
	}
	if s.b.Len() > 0 {
		s.b.WriteString(" ")
	}
	s.b.WriteString(sentence)
	p.field(kind, v, s.field)
	return true
}

// deal writes sentence, which carries v, into the next slot of g with room.
func (p *canaryPlan) deal(g *slotGroup, kind, v, sentence string) {
	for range len(g.slots) {
		s := g.slots[g.next%len(g.slots)]
		g.next++
		if p.put(s, kind, v, sentence) {
			return
		}
	}
	panic("no slot has room for " + sentence)
}

// canaryPerson is a person of the lab with their contact details.
type canaryPerson struct {
	given, surname string
	inflected      string // the surname alone in an inflected form
	inflSentence   string // a sentence in the person's language with %s for it
	country        string
	name           string
	email, phone   string
	phoneOther     string // the phone written another way
	address        string // street, postcode and town
	street         string
	role           string
	organisation   string
}

// canaryFoldASCII folds a name to the letters of an e-mail address.
func canaryFoldASCII(s string) string {
	r := strings.NewReplacer("ä", "a", "ö", "o", "å", "a", "ø", "o", "æ", "ae", "ð", "d", "þ", "th", "á", "a",
		"é", "e", "í", "i", "ó", "o", "ú", "u", "ý", "y", "'", "", " ", "")
	return r.Replace(strings.ToLower(s))
}

var canaryDomains = map[string]string{"FI": "pielinen.example.fi", "SE": "kommun.example.se", "NO": "vestland.example.no",
	"DK": "aarhus.example.dk", "IS": "borgarbyggd.example.is", "IE": "donegal.example.ie", "GB": "derry.example.co.uk"}

var canaryStreets = map[string][]string{
	"FI": {"Koulukatu %d B %d", "Rantatie %d A %d", "Mäntykuja %d", "Aleksanterinkatu %d as. %d"},
	"SE": {"Storgatan %d lgh 1%03d", "Skolvägen %d", "Sjögatan %d"},
	"NO": {"Kirkeveien %d", "Strandvegen %d", "Kongens gate %d"},
	"DK": {"Vestergade %d, %d. tv.", "Nørregade %d"},
	"IS": {"Hafnarstræti %d", "Borgarbraut %d"},
	"IE": {"%d Main Street", "%d Upper Church Road"},
	"GB": {"Apt %d, %d Harbour View", "%d Strand Road"},
}

var canaryPostcodes = map[string]string{"FI": "81700 Lieksa", "SE": "852 31 Sundsvall", "NO": "6800 Førde",
	"DK": "8000 Aarhus C", "IS": "310 Borgarnes", "IE": "Letterkenny F92 X2Y3", "GB": "Derry BT48 7AB"}

func (p *canaryPlan) street(country string) string {
	for {
		f := canaryStreets[country][p.r.Intn(len(canaryStreets[country]))]
		var s string
		if strings.Count(f, "%d") == 1 {
			s = fmt.Sprintf(f, 1+p.r.Intn(150))
		} else {
			s = fmt.Sprintf(f, 1+p.r.Intn(150), 1+p.r.Intn(9))
		}
		if _, ok := p.index[s]; !ok {
			return s
		}
	}
}

// ---------------------------------------------------------------------------
// Looking for planted values in captured bytes
// ---------------------------------------------------------------------------

// canaryFold lower-cases the letters of b where that keeps their encoded
// length, leaving other bytes (binary data, invalid UTF-8) as they are, so
// offsets in the result are offsets in b.
func canaryFold(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			out = append(out, b[i])
			i++
			continue
		}
		if lr := unicode.ToLower(r); lr != r && utf8.RuneLen(lr) == size {
			out = utf8.AppendRune(out, lr)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// canarySqueeze removes spaces, dashes, dots and line breaks.
func canarySqueeze(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '-', '.', '\t', '\n', '\r':
			continue
		}
		out = append(out, c)
	}
	return out
}

// canaryJSONASCII writes s as a JSON string body with every non-ASCII character
// as a \u escape (lower-case hex), as ASCII-only encoders do.
func canaryJSONASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := canarySurrogates(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func canarySurrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// canaryBase64Forms returns the characters of the base64 encoding of v that do
// not depend on the bytes around it, for each of the three alignments v
// can have in a longer encoded text.
func canaryBase64Forms(enc *base64.Encoding, v string) []string {
	var out []string
	for k := 0; k < 3; k++ {
		e := enc.WithPadding(base64.NoPadding).EncodeToString(append(make([]byte, k), v...))
		from := (8*k + 5) / 6
		to := 8 * (k + len(v)) / 6
		if to-from >= 4 {
			out = append(out, e[from:to])
		}
	}
	return out
}

// canaryNeedle is one encoding of a planted value to look for.
type canaryNeedle struct {
	pv  *plantedValue
	enc string
	b   []byte
	// A needle that starts or ends with a short number (under six
	// digits) does not match inside a longer number: "3 residents" is not
	// in "13 residents".
	boundStart, boundEnd bool
}

// haystack kinds: folded bytes, folded bytes without separators, raw bytes.
const (
	canaryHayFolded = iota
	canaryHaySqueezed
	canaryHayRaw
	canaryHayKinds
)

type canaryScanner struct {
	needles [canaryHayKinds][]canaryNeedle
	index   [canaryHayKinds]map[[4]byte][]int
	count   int
}

// canaryDigitRun returns the length of the run of digits at the start of b, or at
// its end.
func canaryDigitRun(b []byte, atEnd bool) int {
	n := 0
	for i := range b {
		c := b[i]
		if atEnd {
			c = b[len(b)-1-i]
		}
		if !canaryIsDigit(c) {
			break
		}
		n++
	}
	return n
}

func canaryIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// newCanaryScanner prepares every encoding of every planted value: as
// written and in any case; with spaces, dashes and dots removed;
// JSON-escaped (Go's encoding and \u escapes); as a CBOR text string; and
// base64 (standard and URL alphabets, every alignment).
func newCanaryScanner(values []*plantedValue) *canaryScanner {
	s := &canaryScanner{}
	seen := [canaryHayKinds]map[string]bool{{}, {}, {}}
	add := func(kind int, pv *plantedValue, enc string, b []byte) {
		if len(b) < 4 || seen[kind][string(b)] {
			return
		}
		seen[kind][string(b)] = true
		ds, de := canaryDigitRun(b, false), canaryDigitRun(b, true)
		s.needles[kind] = append(s.needles[kind], canaryNeedle{pv: pv, enc: enc, b: b,
			boundStart: kind != canaryHayRaw && ds > 0 && ds < 6, boundEnd: kind != canaryHayRaw && de > 0 && de < 6})
	}
	for _, pv := range values {
		for k := range seen {
			clear(seen[k])
		}
		v := pv.value
		add(canaryHayFolded, pv, "text (any case)", canaryFold([]byte(v)))
		add(canaryHaySqueezed, pv, "text without spaces, dashes and dots", canarySqueeze(canaryFold([]byte(v))))
		if j, err := json.Marshal(v); err == nil {
			add(canaryHayFolded, pv, "JSON string", canaryFold(j[1:len(j)-1]))
		}
		add(canaryHayFolded, pv, "JSON \\u escapes", canaryFold([]byte(canaryJSONASCII(v))))
		if c, err := protocol.Marshal(v); err == nil {
			add(canaryHayFolded, pv, "CBOR text string", canaryFold(c))
		}
		for _, e := range []struct {
			name string
			enc  *base64.Encoding
		}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
			for _, f := range canaryBase64Forms(e.enc, v) {
				add(canaryHayRaw, pv, e.name, []byte(f))
			}
		}
	}
	for k := range s.needles {
		s.index[k] = map[[4]byte][]int{}
		for i, n := range s.needles[k] {
			key := [4]byte(n.b[:4])
			s.index[k][key] = append(s.index[k][key], i)
		}
		s.count += len(s.needles[k])
	}
	return s
}

// canaryLeak is a planted value found in captured bytes.
type canaryLeak struct {
	pv           *plantedValue
	enc          string
	canaryCorpus string
	context      string
}

// scan returns the planted values found in data, one per value and
// encoding.
func (s *canaryScanner) scan(name string, data []byte) []canaryLeak {
	var out []canaryLeak
	found := map[string]bool{}
	hay := [canaryHayKinds][]byte{canaryHayRaw: data}
	hay[canaryHayFolded] = canaryFold(data)
	hay[canaryHaySqueezed] = canarySqueeze(hay[canaryHayFolded])
	for k := range hay {
		h := hay[k]
		for i := 0; i+4 <= len(h); i++ {
			cands, ok := s.index[k][[4]byte(h[i:i+4])]
			if !ok {
				continue
			}
			for _, ci := range cands {
				n := s.needles[k][ci]
				if !bytes.HasPrefix(h[i:], n.b) {
					continue
				}
				if (n.boundStart && i > 0 && canaryIsDigit(h[i-1])) ||
					(n.boundEnd && i+len(n.b) < len(h) && canaryIsDigit(h[i+len(n.b)])) {
					continue
				}
				key := n.pv.value + "\x00" + n.enc
				if found[key] {
					continue
				}
				found[key] = true
				ctx := ""
				if k != canaryHaySqueezed { // offsets in folded bytes are offsets in data
					lo, hi := max(0, i-60), min(len(data), i+len(n.b)+60)
					ctx = strings.ToValidUTF8(string(data[lo:hi]), "·")
				} else {
					lo, hi := max(0, i-40), min(len(h), i+len(n.b)+40)
					ctx = strings.ToValidUTF8(string(h[lo:hi]), "·")
				}
				out = append(out, canaryLeak{pv: n.pv, enc: n.enc, canaryCorpus: name, context: ctx})
			}
		}
	}
	return out
}
