// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/livinglab/livinglab/knowledge"
)

// Secrets asked of the person at the terminal: account passwords and
// backup passphrases, never echoed.

// readPassword reads a new password from a file, from the terminal (asked
// twice, not echoed) or from the first line of standard input.
func readPassword(cmd *cobra.Command, file, name string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return askSecret(int(f.Fd()), cmd.ErrOrStderr(), fmt.Sprintf("New password for %s (at least %d characters): ", name, knowledge.MinPassword),
			"Repeat it: ", errors.New("the two passwords differ; nothing was changed"))
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given: use --password-file FILE, type it at the terminal or pipe it on standard input")
	}
	return line, nil
}

// passphraseEnv lets scripts give the passphrase without a terminal.
const passphraseEnv = "LIVINGLAB_BACKUP_PASSPHRASE"

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
