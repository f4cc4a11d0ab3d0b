// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"

	"github.com/livinglab/livinglab/node"
)

// publishPractice publishes for real (no dry run) with the fail-closed
// review an unattended publisher uses: every uncertain name candidate the
// anonymisation gate finds is redacted.
func publishPractice(ctx context.Context, n *node.Node, in node.PracticeInput) (*node.Published, error) {
	return n.PublishPractice(ctx, in, node.Review{FailClosed: true}, false)
}
