// SPDX-License-Identifier: EUPL-1.2

//go:build !linux

package node

// MapCodeSparsely is Linux-only (see codemap_linux.go); elsewhere the
// executable stays mapped as the system maps it.
func MapCodeSparsely() (int64, error) { return 0, nil }
