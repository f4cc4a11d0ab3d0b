package node

import "net/http"

// mountUI adds the web UI's routes.
func (n *Node) mountUI(mux *http.ServeMux) {}

// sessionAuthorised tells whether the request carries a signed-in session.
func (n *Node) sessionAuthorised(r *http.Request) bool { return false }
