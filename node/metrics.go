// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livinglab/livinglab/protocol"
)

// stats holds the node's Prometheus metrics, in a registry of its own so that
// several nodes can live in one process.
type stats struct {
	reg       *prometheus.Registry
	published prometheus.Counter
	received  prometheus.Counter
	rejects   *prometheus.CounterVec
	apiLat    *prometheus.HistogramVec
	syncRuns  *prometheus.CounterVec
	syncRecs  *prometheus.CounterVec
	syncBytes *prometheus.CounterVec
	// damageFound counts stored records found damaged; repaired those
	// replaced by intact copies from members.
	damageFound prometheus.Counter
	repaired    prometheus.Counter
	// gossipReconnects counts connections to members made anew because
	// this node's gossipsub router held no stream to them.
	gossipReconnects prometheus.Counter
}

func newStats() *stats {
	s := &stats{
		reg: prometheus.NewRegistry(),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "livinglab_records_published_total",
			Help: "Records this node signed and published."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "livinglab_records_received_total",
			Help: "New records received from peers and stored."}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livinglab_records_rejected_total",
			Help: "Records refused, by reason."}, []string{"reason"}),
		apiLat: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "livinglab_api_request_seconds",
			Help: "HTTP API latency.", Buckets: prometheus.DefBuckets}, []string{"route", "code"}),
		syncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livinglab_sync_runs_total",
			Help: "Sync sessions, by result."}, []string{"result"}),
		syncRecs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livinglab_sync_records_total",
			Help: "Records moved by sync, by direction."}, []string{"direction"}),
		syncBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livinglab_sync_bytes_total",
			Help: "Bytes of the sync sessions this node started, by direction."}, []string{"direction"}),
		damageFound: prometheus.NewCounter(prometheus.CounterOpts{Name: "livinglab_store_damaged_records_found_total",
			Help: "Stored records found damaged (bytes that no longer match their CID or signature)."}),
		repaired: prometheus.NewCounter(prometheus.CounterOpts{Name: "livinglab_store_repaired_records_total",
			Help: "Damaged records replaced by intact copies from members."}),
		gossipReconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "livinglab_gossip_reconnects_total",
			Help: "Connections to members made anew because this node's gossipsub router held no stream to them."}),
	}
	s.reg.MustRegister(s.damageFound, s.repaired, s.gossipReconnects)
	s.reg.MustRegister(s.published, s.received, s.rejects, s.apiLat, s.syncRuns, s.syncRecs, s.syncBytes,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return s
}

func (s *stats) rejected(err error) { s.rejects.WithLabelValues(rejectReason(err)).Inc() }

func rejectReason(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{protocol.ErrBadSig, "bad_signature"}, {protocol.ErrCIDMismatch, "cid_mismatch"},
		{protocol.ErrTooLarge, "too_large"}, {protocol.ErrBadVersion, "bad_version"},
		{protocol.ErrBadKind, "bad_kind"}, {protocol.ErrFuture, "future"},
		{protocol.ErrMissing, "missing_field"}, {protocol.ErrInvalid, "invalid_field"},
		{protocol.ErrMalformed, "malformed"}, {protocol.ErrNotMember, "not_member"},
		{protocol.ErrWrongFed, "wrong_federation"}, {protocol.ErrWrongTopic, "wrong_topic"},
		{protocol.ErrRetracted, "retracted"}, {protocol.ErrNotAuthorised, "not_authorised"},
		{errRateLimited, "rate_limited"}, {protocol.ErrUnverified, "unverified"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return "other"
}
