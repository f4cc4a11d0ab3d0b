// SPDX-License-Identifier: EUPL-1.2

package testkit

import (
	"context"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// StreamHost is a libp2p host whose every stream, opened or accepted,
// passes through Wrap: gossipsub, join, sync, search and the DHT all speak
// through it, so that a test or the simulator sees or shapes what they send.
type StreamHost struct {
	host.Host
	Wrap func(network.Stream) network.Stream
}

// NewStream opens a stream and wraps it.
func (h *StreamHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return h.Wrap(s), nil
}

// SetStreamHandler registers a handler that receives wrapped streams.
func (h *StreamHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, func(s network.Stream) { handler(h.Wrap(s)) })
}

// SetStreamHandlerMatch is SetStreamHandler with a protocol matcher.
func (h *StreamHost) SetStreamHandlerMatch(pid protocol.ID, match func(protocol.ID) bool, handler network.StreamHandler) {
	h.Host.SetStreamHandlerMatch(pid, match, func(s network.Stream) { handler(h.Wrap(s)) })
}
