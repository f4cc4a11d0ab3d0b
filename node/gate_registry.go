// SPDX-License-Identifier: EUPL-1.2

package node

import "github.com/livinglab/livinglab/knowledge/anon"

// labRegistry returns the names and contacts of the lab's registered
// stakeholders and attendees, which the gate must never let through.
func (n *Node) labRegistry() (anon.Registry, error) {
	r, err := n.store.Registry()
	if err != nil {
		return anon.Registry{}, err
	}
	return anon.Registry{Names: r.Names, Contacts: r.Contacts}, nil
}
