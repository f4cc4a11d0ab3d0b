// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestFrames(t *testing.T) {
	type msg struct {
		Op   string `cbor:"op"`
		Data []byte `cbor:"data"`
	}
	var buf bytes.Buffer
	for _, m := range []msg{{"a", []byte{1}}, {"b", bytes.Repeat([]byte{2}, 1000)}} {
		if err := WriteFrame(&buf, &m); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(bytes.NewReader(buf.Bytes()))
	var got msg
	if err := ReadFrame(br, &got, 4096); err != nil || got.Op != "a" {
		t.Fatalf("first frame: %+v, %v", got, err)
	}
	got = msg{}
	if err := ReadFrame(br, &got, 4096); err != nil || got.Op != "b" || len(got.Data) != 1000 {
		t.Fatalf("second frame: %v", err)
	}

	// A frame over the limit is refused before it is read.
	br = bufio.NewReader(bytes.NewReader(buf.Bytes()))
	if err := ReadFrame(br, &got, 4); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("over the limit: %v, want ErrFrameTooLarge", err)
	}
	// A length prefix announcing gigabytes does not allocate them.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	if err := ReadFrame(bufio.NewReader(bytes.NewReader(huge)), &got, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge prefix: %v, want ErrFrameTooLarge", err)
	}
	// Garbage and unknown fields are malformed.
	for name, payload := range map[string][]byte{
		"not CBOR":      []byte("garbage!"),
		"unknown field": mustMarshal(t, map[string]any{"op": "a", "zzz": 1}),
	} {
		var b bytes.Buffer
		b.WriteByte(byte(len(payload)))
		b.Write(payload)
		if err := ReadFrame(bufio.NewReader(&b), &got, 4096); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A truncated frame is an error, not a hang or a short value.
	if err := ReadFrame(bufio.NewReader(bytes.NewReader(buf.Bytes()[:3])), &got, 4096); err == nil {
		t.Fatalf("truncated frame accepted")
	}
}
