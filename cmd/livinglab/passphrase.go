// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

// Backups used to move a node hold its identity key; --encrypt seals them
// with a passphrase (age, scrypt), and restore asks for it.

// ageHeader starts every age file.
var ageHeader = []byte("age-encryption.org/v1\n")

// encryptFile seals src into dst (written atomically, mode 0600).
func encryptFile(src, dst, passphrase string) error {
	rcp, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dirOf(dst), ".backup-*.age.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w, err := age.Encrypt(tmp, rcp)
	if err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// openBackup returns a reader of a backup file, decrypting it when it is
// sealed with a passphrase.
func openBackup(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(ageHeader))
	if !bytes.Equal(head, ageHeader) {
		return br, nil
	}
	p, err := readPassphrase(false)
	if err != nil {
		return nil, fmt.Errorf("%s is encrypted: %w", name, err)
	}
	id, err := age.NewScryptIdentity(p)
	if err != nil {
		return nil, err
	}
	dr, err := age.Decrypt(br, id)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot decrypt (wrong passphrase?): %w", name, err)
	}
	return dr, nil
}
