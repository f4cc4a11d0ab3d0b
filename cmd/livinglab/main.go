// SPDX-License-Identifier: EUPL-1.2

// Command livinglab runs and controls a living-lab federation node.
//
// It is a thin program: `livinglab run` starts a node (package node) with
// its front ends (node/server), and every other command is a client of the
// node's HTTP API, /api/v1 (node.Client), or, for a stopped node, uses the
// node's exported methods. It never opens the store itself.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/livinglab/livinglab/node"
)

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		var api *node.APIErrorResponse
		if errors.As(err, &api) {
			fmt.Fprintf(os.Stderr, "Error: %s\n", sanitizeTerminal(api.APIError.Error))
		} else {
			fmt.Fprintf(os.Stderr, "Error: %s\n", sanitizeTerminal(err.Error()))
		}
		os.Exit(1)
	}
}
