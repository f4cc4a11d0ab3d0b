// SPDX-License-Identifier: EUPL-1.2

package node

import "net/http"

// SetDefaultHandler sets the handler of nodes whose Options name none. The
// package's external tests set node/server's, which this package cannot
// import, so that its own tests serve the real API and web UI.
func SetDefaultHandler(h func(n *Node, bound string) http.Handler) { defaultHandler = h }

// apiHandler is the node's full HTTP handler for a node listening on bound.
func (n *Node) apiHandler(bound string) http.Handler { return defaultHandler(n, bound) }
