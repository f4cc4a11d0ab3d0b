// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"golang.org/x/term"
)

// Backups used to move a node hold its identity key; --encrypt seals them
// with a passphrase (age, scrypt), and restore asks for it.

// passphraseEnv lets scripts give the passphrase without a terminal.
const passphraseEnv = "LIVINGLAB_BACKUP_PASSPHRASE"

// ageHeader starts every age file.
var ageHeader = []byte("age-encryption.org/v1\n")

// readPassphrase takes the passphrase from the environment or asks on the
// terminal (twice when confirm is set).
func readPassphrase(confirm bool) (string, error) {
	if p := os.Getenv(passphraseEnv); p != "" {
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("a passphrase is needed: run in a terminal or set %s", passphraseEnv)
	}
	repeat := ""
	if confirm {
		repeat = "Repeat the passphrase: "
	}
	p, err := askSecret(fd, os.Stderr, "Backup passphrase: ", repeat, errors.New("the passphrases differ"))
	if err != nil {
		return "", err
	}
	if len(p) < 8 {
		return "", errors.New("a backup passphrase needs at least 8 characters")
	}
	return p, nil
}

// askSecret asks for a secret on the terminal fd, not echoed, with the
// prompt written to out. With a repeat prompt it asks a second time and
// answers mismatch when the two differ.
func askSecret(fd int, out io.Writer, prompt, repeat string, mismatch error) (string, error) {
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(out, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		return b, err
	}
	a, err := ask(prompt)
	if err != nil {
		return "", err
	}
	if repeat == "" {
		return string(a), nil
	}
	b, err := ask(repeat)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(a, b) {
		return "", mismatch
	}
	return string(a), nil
}

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
