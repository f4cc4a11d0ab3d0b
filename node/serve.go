// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"golang.org/x/sync/errgroup"

	"github.com/livinglab/livinglab/protocol"
)

// Serve runs the node until ctx is cancelled: libp2p host, gossipsub,
// discovery, sync, the HTTP API. On return everything is shut down and the
// store is closed.
func (n *Node) Serve(ctx context.Context) (err error) {
	defer func() {
		if cerr := n.store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if n.index == nil {
		if err := n.openIndex(nil); err != nil {
			return err
		}
	}
	defer n.closeIndex()
	nw, err := n.startNetwork(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// Stop taking new work, let running work end, then close the
		// libp2p side; the index and the store close after this.
		n.stopWork()
		nw.close()
		n.bg.Wait()
		n.net = nil
	}()
	nw.host.SetStreamHandler(protocol.JoinProtocol, n.tracked(n.handleJoin))
	nw.host.SetStreamHandler(protocol.JoinProtocolV2, n.tracked(n.handleJoinV2))
	nw.host.SetStreamHandler(protocol.SyncProtocol, n.tracked(n.handleSync))
	nw.host.SetStreamHandler(protocol.SearchProtocol, n.tracked(n.handleSearch))
	defer nw.host.RemoveStreamHandler(protocol.SearchProtocol)
	defer nw.host.RemoveStreamHandler(protocol.JoinProtocol)
	defer nw.host.RemoveStreamHandler(protocol.JoinProtocolV2)
	defer nw.host.RemoveStreamHandler(protocol.SyncProtocol)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return nw.connector(gctx) })
	g.Go(func() error { return n.syncLoop(gctx) })
	g.Go(func() error { return n.gcLoop(gctx) })
	g.Go(func() error { return n.scrubLoop(gctx) })
	g.Go(func() error { return n.indexer(gctx) })

	apiAddr := ""
	if !n.opts.NoAPI {
		handler := n.opts.Handler
		if handler == nil {
			handler = defaultHandler
		}
		if handler == nil {
			return errors.New("the node has no HTTP handler: set Options.Handler or Options.NoAPI")
		}
		addr := n.Config().API
		if n.opts.API != "" {
			addr = n.opts.API
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("HTTP API cannot listen on %s: %w", addr, err)
		}
		apiAddr = ln.Addr().String()
		srv := &http.Server{Handler: handler(n, apiAddr), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 60 * time.Second, WriteTimeout: 0, IdleTimeout: 120 * time.Second,
			MaxHeaderBytes: 64 << 10,
			// Requests (live feeds above all) end when the node stops.
			BaseContext: func(net.Listener) context.Context { return gctx }}
		if err := writeFileAtomic(n.home.APIAddr(), []byte(apiAddr+"\n"), 0o600); err != nil {
			ln.Close()
			return fmt.Errorf("write API address file: %w", err)
		}
		defer os.Remove(n.home.APIAddr())
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("HTTP API: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := srv.Shutdown(sctx); err != nil {
				n.log.Warn("HTTP API did not drain in time, closing connections", "err", err)
				srv.Close()
			}
			return nil
		})
	}
	n.log.Info("node started", "peer_id", n.id, "region", n.Config().Region, "federation", n.Federation())
	for _, a := range nw.host.Addrs() {
		n.log.Info("listening", "addr", a.String()+"/p2p/"+n.id.String())
	}
	if n.opts.Ready != nil {
		n.opts.Ready(apiAddr)
	}
	err = g.Wait()
	n.log.Info("node stopping")
	return err
}

// defaultHandler is the handler of nodes whose Options name none; only the
// package's tests set it (to node/server's, which this package cannot import).
var defaultHandler func(n *Node, bound string) http.Handler

// gcLoop runs Badger's value-log GC on the configured schedule.
func (n *Node) gcLoop(ctx context.Context) error {
	iv := time.Duration(n.Config().Store.GCInterval)
	if iv <= 0 {
		return nil
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if k := n.store.RunGC(); k > 0 {
				n.log.Info("value log garbage collected", "files", k)
			}
		}
	}
}

// Addrs returns the node's full listen multiaddrs (with /p2p/ID).
func (n *Node) Addrs() []string {
	nw := n.net
	if nw == nil {
		return nil
	}
	var out []string
	for _, a := range nw.host.Addrs() {
		out = append(out, a.String()+"/p2p/"+n.id.String())
	}
	return out
}

// spawn runs f in the background unless the node is stopping; Serve waits
// for everything spawned before it closes the store.
func (n *Node) spawn(f func()) {
	n.bgMu.Lock()
	if n.stopping {
		n.bgMu.Unlock()
		return
	}
	n.bg.Add(1)
	n.bgMu.Unlock()
	go func() {
		defer n.bg.Done()
		f()
	}()
}

// tracked wraps a stream handler so that Serve waits for it.
func (n *Node) tracked(h func(network.Stream)) func(network.Stream) {
	return func(s network.Stream) {
		n.bgMu.Lock()
		if n.stopping {
			n.bgMu.Unlock()
			s.Reset()
			return
		}
		n.bg.Add(1)
		n.bgMu.Unlock()
		defer n.bg.Done()
		h(s)
	}
}

func (n *Node) stopWork() {
	n.bgMu.Lock()
	n.stopping = true
	n.bgMu.Unlock()
}
