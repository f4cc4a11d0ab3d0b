// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/livinglab/livinglab/node"
)

// publishPractice publishes for real (no dry run) with the fail-closed
// review an unattended publisher uses: every uncertain name candidate the
// anonymisation gate finds is redacted.
func publishPractice(ctx context.Context, n *node.Node, in node.PracticeInput) (*node.Published, error) {
	return n.PublishPractice(ctx, in, node.Review{FailClosed: true}, false)
}

// warmGate runs the anonymisation gate once per language of the generated
// practices, without publishing, so that the language tables (decoded on
// first use and kept while in use, process-wide) are in memory before a
// measured window, as they are in a node that has been publishing and
// receiving for a while: the window then measures the steady cost per
// record rather than a one-off decoding of every language on the first
// records.
func warmGate(ctx context.Context, n *node.Node) error {
	rng := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	for _, lang := range slices.Sorted(slices.Values(languages)) {
		if seen[lang] {
			continue
		}
		seen[lang] = true
		p := GenPractice(rng, -1)
		p.Language = lang
		in := node.PracticeInput{Practice: p, Topics: []string{DefaultTopics[0]}}
		if _, err := n.PublishPractice(ctx, in, node.Review{FailClosed: true}, true); err != nil {
			return fmt.Errorf("warm the gate (%s): %w", lang, err)
		}
	}
	return nil
}
