// SPDX-License-Identifier: EUPL-1.2

package recon

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Option defaults and limits.
const (
	DefaultMaxMessageBytes = 256 << 10
	DefaultIDListThreshold = 16
	DefaultBranching       = 16

	// MinMessageBytes is the smallest MaxMessageBytes honoured; smaller
	// values are raised to it. It leaves room for at least one useful
	// range besides the ranges that close a split message, so every
	// message makes progress.
	MinMessageBytes = 512

	maxBranching       = 256
	maxIDListThreshold = 4096
)

// Options tune a Reconciler. Zero values select the defaults.
type Options struct {
	// MaxMessageBytes caps every outgoing message (default 256 KiB, at
	// least MinMessageBytes, at most MaxWireBytes). When the reply to a
	// message would be larger, the reconciler stops where the limit is
	// reached and closes the message with one Fingerprint range covering
	// everything above; that part is taken up again in the next round.
	MaxMessageBytes int
	// IDListThreshold: a differing range in which this side holds fewer
	// items than this is answered with the IDs of those items instead of
	// being split (default 16, between 2 and 4096).
	IDListThreshold int
	// Branching is the number of sub-ranges a differing range is split
	// into (default 16, between 2 and 256).
	Branching int
}

func (o Options) normalize() Options {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	o.MaxMessageBytes = min(max(o.MaxMessageBytes, MinMessageBytes), MaxWireBytes)
	if o.IDListThreshold <= 0 {
		o.IDListThreshold = DefaultIDListThreshold
	}
	// A range of one item must not be "split" into itself.
	o.IDListThreshold = min(max(o.IDListThreshold, 2), maxIDListThreshold)
	if o.Branching <= 0 {
		o.Branching = DefaultBranching
	}
	o.Branching = min(max(o.Branching, 2), maxBranching)
	return o
}

// Stats counts the messages and bytes a Reconciler has sent and received.
type Stats struct {
	MessagesSent     int
	MessagesReceived int
	BytesSent        int64
	BytesReceived    int64
}

type role uint8

const (
	roleNone role = iota
	roleInitiator
	roleResponder
)

// Reconciler runs one side of one reconciliation over a Set.
//
// The initiating side calls Initiate and sends the result, then passes each
// reply to Step and sends what Step returns until Step reports done; Have and
// Need then hold the differences. The responding side passes each message it
// receives to Respond and sends back the result; a nil result means it has
// nothing more to say and may be sent as an empty message, which Step
// accepts. Answering a message of m ranges over a set of n items takes
// O(n + m·log n) time. Neither side keeps state between messages besides
// the differences found, so each message is answered from the current
// contents of the set.
//
// A Reconciler is used for one reconciliation and is not safe for concurrent
// use. After an error it keeps returning that error. It does not limit the
// number of rounds: a caller talking to an untrusted peer bounds the exchange
// with a deadline or a round budget (see Stats).
type Reconciler struct {
	set  *Set
	opts Options
	role role
	done bool
	err  error

	have       []Item
	haveSorted bool
	need       [][IDSize]byte
	needSeen   map[[IDSize]byte]struct{}

	stats Stats
}

// NewReconciler returns a Reconciler over set (nil means an empty set).
// The set must not change while the Reconciler is processing a message.
func NewReconciler(set *Set, opts Options) *Reconciler {
	if set == nil {
		set = &Set{}
	}
	return &Reconciler{set: set, opts: opts.normalize(), needSeen: make(map[[IDSize]byte]struct{})}
}

// Initiate makes this side the initiator and returns the first message: the
// fingerprint of the whole set.
func (r *Reconciler) Initiate() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.role != roleNone {
		return nil, fmt.Errorf("%w: Initiate called twice or after Respond", ErrState)
	}
	r.role = roleInitiator
	e := encoder{buf: []byte{Version}}
	fp := r.set.fingerprint(0, len(r.set.items))
	e.fingerprint(&InfiniteBound, &fp)
	r.sent(e.buf)
	return e.buf, nil
}

// Respond makes this side the responder and answers msg. It returns nil when
// it has nothing more to say.
func (r *Reconciler) Respond(msg []byte) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.role == roleInitiator {
		return nil, fmt.Errorf("%w: Respond called on the initiating side", ErrState)
	}
	r.role = roleResponder
	r.received(msg)
	m, err := Decode(msg)
	if err != nil {
		return nil, r.fail(err)
	}
	out, err := r.process(m)
	if err != nil {
		return nil, r.fail(err)
	}
	if out != nil {
		r.sent(out)
	}
	return out, nil
}

// Step processes the responder's reply msg (an empty msg is a reply with
// nothing to say), records the differences it settles, and returns the next
// message to send, or done = true when nothing remains to be settled.
func (r *Reconciler) Step(msg []byte) (next []byte, done bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	if r.role != roleInitiator {
		return nil, false, fmt.Errorf("%w: Step called before Initiate", ErrState)
	}
	if r.done {
		return nil, true, fmt.Errorf("%w: Step called after the reconciliation finished", ErrState)
	}
	r.received(msg)
	m := &Message{}
	if len(msg) > 0 {
		if m, err = Decode(msg); err != nil {
			return nil, false, r.fail(err)
		}
	}
	out, err := r.process(m)
	if err != nil {
		return nil, false, r.fail(err)
	}
	if out == nil {
		r.done = true
		return nil, true, nil
	}
	r.sent(out)
	return out, false, nil
}

// Done reports whether the initiating side has finished.
func (r *Reconciler) Done() bool { return r.done }

// Have returns the items this (initiating) side has and the responder lacks,
// in (Time, ID) order: what to push. It is complete once Step reports done.
func (r *Reconciler) Have() []Item {
	if !r.haveSorted {
		slices.SortFunc(r.have, Item.Compare)
		r.have = slices.Compact(r.have)
		r.haveSorted = true
	}
	return slices.Clone(r.have)
}

// Need returns the IDs the responder has and this (initiating) side lacks,
// without duplicates: what to fetch. They come in the order the ranges
// holding them were settled, each range's IDs in the responder's (Time, ID)
// order. It is complete once Step reports done.
//
// An ID that this side holds at a different Time than the responder appears
// both here and in Have: both sides must derive an item's Time from the
// record itself.
func (r *Reconciler) Need() [][IDSize]byte { return slices.Clone(r.need) }

// Stats returns the messages and bytes exchanged so far.
func (r *Reconciler) Stats() Stats { return r.stats }

func (r *Reconciler) fail(err error) error {
	r.err = err
	return err
}

func (r *Reconciler) sent(msg []byte) {
	r.stats.MessagesSent++
	r.stats.BytesSent += int64(len(msg))
}

func (r *Reconciler) received(msg []byte) {
	r.stats.MessagesReceived++
	r.stats.BytesReceived += int64(len(msg))
}

// process answers the ranges of m in order. pos/idx is the lower bound of
// the current range and the index of the first local item at or above it.
func (r *Reconciler) process(m *Message) ([]byte, error) {
	w := &writer{set: r.set, enc: encoder{buf: []byte{Version}}, limit: r.opts.MaxMessageBytes}
	var pos Bound
	idx := 0
	for i := range m.Ranges {
		rg := &m.Ranges[i]
		end := r.set.lowerBound(idx, &rg.Upper)
		switch rg.Mode {
		case ModeSkip:
		case ModeFingerprint:
			if r.set.fingerprint(idx, end) != rg.Fingerprint && !r.split(w, pos, idx, end, &rg.Upper) {
				return w.bytes(), nil
			}
		case ModeIDList:
			if r.role == roleInitiator {
				if err := r.resolve(rg.IDs, idx, end); err != nil {
					return nil, fmt.Errorf("range %d: %w", i, err)
				}
			} else if !w.idList(&pos, idx, end, &rg.Upper) {
				return w.bytes(), nil
			}
		default:
			return nil, fmt.Errorf("%w: range %d: %v", ErrMode, i, rg.Mode)
		}
		pos, idx = rg.Upper, end
	}
	return w.bytes(), nil
}

// split answers a range [pos, upper) whose fingerprints differ and which
// holds the local items [lo, hi): with their IDs when they are few, otherwise
// with the fingerprints of Branching sub-ranges of about equal item counts.
// It reports false when the message was closed for size.
func (r *Reconciler) split(w *writer, pos Bound, lo, hi int, upper *Bound) bool {
	n := hi - lo
	if n < r.opts.IDListThreshold {
		return w.idList(&pos, lo, hi, upper)
	}
	buckets := min(r.opts.Branching, n)
	per, extra := n/buckets, n%buckets
	items := r.set.items
	cur := lo
	for i := range buckets {
		next := cur + per
		if i < extra {
			next++
		}
		b := *upper
		if next < hi {
			b = minimalBound(&items[next-1], &items[next])
		}
		if !w.fingerprint(&pos, cur, &b, r.set.fingerprint(cur, next)) {
			return false
		}
		pos, cur = b, next
	}
	return true
}

// resolve settles a range for which the responder sent its IDs: local items
// [lo, hi) it did not list go to Have, listed IDs not among them to Need.
func (r *Reconciler) resolve(ids [][IDSize]byte, lo, hi int) error {
	theirs := make(map[[IDSize]byte]bool, len(ids)) // ID -> matched
	for _, id := range ids {
		if _, dup := theirs[id]; dup {
			return fmt.Errorf("%w: ID %x listed twice", ErrMalformed, id)
		}
		theirs[id] = false
	}
	for _, it := range r.set.items[lo:hi] {
		if matched, ok := theirs[it.ID]; ok && !matched {
			theirs[it.ID] = true
			continue
		}
		r.have = append(r.have, it)
		r.haveSorted = false
	}
	for _, id := range ids {
		if theirs[id] {
			continue
		}
		if _, seen := r.needSeen[id]; !seen {
			r.needSeen[id] = struct{}{}
			r.need = append(r.need, id)
		}
	}
	return nil
}

// maxBoundSize is the largest encoded bound: header, 64-bit varint, prefix.
const maxBoundSize = 1 + binary.MaxVarintLen64 + IDSize

// closeReserve is kept free in every outgoing message so that it can always
// be closed: a Skip up to the current position and a Fingerprint of
// everything above it, bounded by +∞.
const closeReserve = (maxBoundSize + 1) + (1 + 1 + FingerprintSize)

// writer builds an outgoing message within a size limit. Skip ranges are
// written lazily, only when a later range needs them, so consecutive skips
// merge and trailing ones vanish.
type writer struct {
	set     *Set
	enc     encoder
	limit   int
	last    Bound // upper bound of the last range written
	entries int   // ranges written other than Skip
}

type mark struct {
	n        int
	prevTime uint64
	last     Bound
}

func (w *writer) mark() mark { return mark{len(w.enc.buf), w.enc.prevTime, w.last} }

func (w *writer) rollback(m mark) {
	w.enc.buf = w.enc.buf[:m.n]
	w.enc.prevTime = m.prevTime
	w.last = m.last
}

func (w *writer) fits() bool { return len(w.enc.buf)+closeReserve <= w.limit }

// catchUp writes a Skip range up to pos unless the last range ends there.
func (w *writer) catchUp(pos *Bound) {
	if w.last != *pos {
		w.enc.skip(pos)
		w.last = *pos
	}
}

// fingerprint writes the range [pos, upper) with fingerprint fp, lo being
// the index of the first local item at or above pos. If that does not fit,
// it closes the message at pos and reports false.
func (w *writer) fingerprint(pos *Bound, lo int, upper *Bound, fp Fingerprint) bool {
	m := w.mark()
	w.catchUp(pos)
	w.enc.fingerprint(upper, &fp)
	if !w.fits() {
		w.rollback(m)
		w.close(pos, lo)
		return false
	}
	w.last = *upper
	w.entries++
	return true
}

// idList writes the range [pos, upper) with the IDs of the local items
// [lo, hi). If they do not all fit, it writes as many as fit under a bound
// just above the last one written, closes the message there and reports
// false.
func (w *writer) idList(pos *Bound, lo, hi int, upper *Bound) bool {
	m := w.mark()
	w.catchUp(pos)
	items := w.set.items
	n := hi - lo
	avail := w.limit - closeReserve - len(w.enc.buf)
	cut, b := hi, *upper
	if w.enc.boundSize(upper)+1+uvarintLen(uint64(n))+n*IDSize > avail {
		k := min((avail-maxBoundSize-1-uvarintLen(uint64(n)))/IDSize, n-1)
		if k <= 0 {
			w.rollback(m)
			w.close(pos, lo)
			return false
		}
		cut = lo + k
		b = minimalBound(&items[cut-1], &items[cut])
	}
	w.enc.idListHeader(&b, cut-lo)
	for i := lo; i < cut; i++ {
		w.enc.buf = append(w.enc.buf, items[i].ID[:]...)
	}
	w.last = b
	w.entries++
	if cut < hi {
		w.close(&b, cut)
		return false
	}
	return true
}

// close ends the message with the fingerprint of everything at or above
// pos, idx being the index of the first local item there.
func (w *writer) close(pos *Bound, idx int) {
	if pos.Infinite {
		return
	}
	w.catchUp(pos)
	fp := w.set.fingerprint(idx, len(w.set.items))
	w.enc.fingerprint(&InfiniteBound, &fp)
	w.last = InfiniteBound
	w.entries++
}

// bytes returns the message, or nil when it would say nothing.
func (w *writer) bytes() []byte {
	if w.entries == 0 {
		return nil
	}
	return w.enc.buf
}
