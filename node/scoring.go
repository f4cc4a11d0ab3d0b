package node

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
)

// scoringOptions returns gossipsub's peer-scoring options for a federation.
func (n *Node) scoringOptions() []pubsub.Option { return nil }

// acceptAddr decides, before any handshake, whether an inbound connection
// from this address is accepted.
func (n *Node) acceptAddr(cm network.ConnMultiaddrs) bool { return true }
