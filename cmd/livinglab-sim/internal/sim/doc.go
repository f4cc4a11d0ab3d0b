// SPDX-License-Identifier: EUPL-1.2

// Package sim is the simulator's engine: it starts real nodes (package
// node, through its exported API) over libp2p's mock network with metered
// links, runs the measured scenarios and writes their report.
//
// Unlike the other programs it builds libp2p hosts (mock networks and a
// bare gossipsub baseline) and prepares the stores of stopped nodes
// (prefilled records, pre-admitted members), as its measurements need; it
// reads a running node only through the node's methods.
package sim
