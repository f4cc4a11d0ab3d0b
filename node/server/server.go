// SPDX-License-Identifier: EUPL-1.2

// Package server wires a node's front ends together: the HTTP API
// (node/api) and the web UI (node/web) on one handler, served on the node's API
// address. Programs pass Handler as node.Options.Handler.
//
// It may import node and its front-end packages; nothing imports it but
// the commands (and the node's tests).
package server

import (
	"net/http"

	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/node/api"
	"github.com/livinglab/livinglab/node/web"
)

// Handler serves n's API and web UI for a node listening on bound.
func Handler(n *node.Node, bound string) http.Handler {
	return api.Handler(n, bound, web.New(n))
}
