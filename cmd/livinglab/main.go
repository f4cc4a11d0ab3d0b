// Command livinglab runs and controls a living-lab federation node.
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
