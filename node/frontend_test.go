// SPDX-License-Identifier: EUPL-1.2

package node_test

import (
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/node/server"
)

func init() { node.SetDefaultHandler(server.Handler) }
