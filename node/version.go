// SPDX-License-Identifier: EUPL-1.2

package node

// Version is the release of this build; set with -ldflags "-X ...node.Version=...".
var Version = "0.1.0-dev"
