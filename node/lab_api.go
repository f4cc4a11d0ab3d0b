package node

import "net/http"

// mountLabAPI adds the private lab data routes.
func (n *Node) mountLabAPI(handle func(string, http.HandlerFunc)) {}
