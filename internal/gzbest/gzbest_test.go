// SPDX-License-Identifier: EUPL-1.2

package gzbest

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"
)

// The output decompresses to the input, carries no name or time, and is
// the same on every call.
func TestCompress(t *testing.T) {
	data := bytes.Repeat([]byte("Night-time telecare with village volunteers.\n"), 200)
	z := Compress(data)
	if !bytes.Equal(z, Compress(data)) {
		t.Fatal("two compressions of the same data differ")
	}
	if len(z) >= len(data)/10 {
		t.Errorf("%d bytes compressed to %d", len(data), len(z))
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("decompressed data differ from the input")
	}
	if r.Name != "" || !r.ModTime.Equal(time.Time{}) {
		t.Errorf("header names %q at %v, want neither", r.Name, r.ModTime)
	}
}
