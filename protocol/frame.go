// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Stream protocol IDs.
const (
	JoinProtocol = "/livinglab/join/1"
	// JoinProtocolV2 admits a joiner only after it has checked the
	// inviter's offer: request, offer, confirm, admission.
	JoinProtocolV2 = "/livinglab/join/2"
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

// errVarintOverflow is what encoding/binary returns for a length prefix
// longer than any uint64.
var errVarintOverflow = func() error {
	_, err := binary.ReadUvarint(bytes.NewReader(bytes.Repeat([]byte{0x80}, 11)))
	return err
}()

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
		if errors.Is(err, errVarintOverflow) {
			return fmt.Errorf("%w: frame length: %v", ErrMalformed, err)
		}
		return err
	}
	if n > uint64(max) {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	// Read as the bytes arrive: a peer announcing a large frame and
	// sending nothing costs the node nothing.
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return fmt.Errorf("read frame: %w", err)
	}
	if uint64(len(b)) != n {
		return fmt.Errorf("read frame: %w", io.ErrUnexpectedEOF)
	}
	if err := Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: frame: %v", ErrMalformed, err)
	}
	return nil
}
