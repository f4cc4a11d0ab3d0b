package node

import (
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
)

// The node's service API: the exported methods of *Node that the front
// ends (the HTTP API in node/api, the web UI, the command-line programs and
// the simulator) use. Front ends never reach the store, the roster or the
// network themselves; every read and write goes through a method here or in
// publish.go, search.go, backup.go, status.go and lab.go.

// Has tells whether the node stores the record c.
func (n *Node) Has(c cid.Cid) bool { return n.store.Has(c) }

// IsMember tells whether the peer is a current federation member.
func (n *Node) IsMember(p peer.ID) bool { return n.roster.IsMember(p) }

// TopicRecords calls fn with every record the node stores under topic.
func (n *Node) TopicRecords(topic string, fn func(knowledge.TopicItem) error) error {
	return n.store.TopicItems(topic, fn)
}

// HasUser tells whether the web UI has an account of that name.
func (n *Node) HasUser(name string) bool { return n.store.HasUser(name) }

// AddUser adds a web UI account.
func (n *Node) AddUser(name, password string) error { return n.store.AddUser(name, password) }

// SetPassword replaces an account's password.
func (n *Node) SetPassword(name, password string) error { return n.store.SetPassword(name, password) }
