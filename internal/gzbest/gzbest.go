// SPDX-License-Identifier: EUPL-1.2

// Package gzbest compresses the files the project generates (the Debian
// package's documentation, the lexicon's data files) so that they are
// reproducible: the same input always gives the same bytes.
package gzbest

import (
	"bytes"
	"compress/gzip"
)

// Compress returns data gzipped at the best compression, with an empty
// header (no file name, no time). It cannot fail: the level is a valid
// one and the output is a buffer in memory.
func Compress(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}
