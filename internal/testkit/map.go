// SPDX-License-Identifier: EUPL-1.2

package testkit

// Map returns f of every element of xs, in order (nil for none).
func Map[X, Y any](xs []X, f func(X) Y) []Y {
	var out []Y
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
