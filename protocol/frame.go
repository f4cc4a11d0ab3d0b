package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream protocol IDs.
const (
	JoinProtocol   = "/livinglab/join/1"
	SyncProtocol   = "/livinglab/sync/1"
	SearchProtocol = "/livinglab/search/1"
)

// Status codes carried by stream responses.
const (
	StatusOK         = 0
	StatusBadRequest = 1
	StatusNotMember  = 2
	StatusBusy       = 3
	StatusInternal   = 4
	StatusForbidden  = 5
)

// ErrFrameTooLarge is returned when a peer announces a frame over the limit.
var ErrFrameTooLarge = errors.New("frame too large")

// WriteFrame writes v as one length-prefixed CBOR frame.
func WriteFrame(w io.Writer, v any) error {
	b, err := Marshal(v)
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(b)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ReadFrame reads one length-prefixed CBOR frame of at most max bytes into v.
func ReadFrame(r *bufio.Reader, v any, max int) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if n > uint64(max) {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read frame: %w", err)
	}
	if err := Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: frame: %v", ErrMalformed, err)
	}
	return nil
}
