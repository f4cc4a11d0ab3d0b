// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livinglab/livinglab/internal/testkit"
)

// A backup for moving a node is sealed with a passphrase: the file shows
// neither the identity key nor the token, and restore needs the passphrase.
func TestEncryptedBackupRoundTrip(t *testing.T) {
	bin := livinglabBin(t)
	base := t.TempDir()
	home := filepath.Join(base, "a")
	mustCLI(t, "", "init", "--home", home, "--region", "Vestland", "--country", "NO", "--federation", testFederation)
	d := startDaemon(t, "a", home)
	run := func(pass string, args ...string) testkit.Result {
		t.Helper()
		var env []string
		if pass != "" {
			env = []string{"LIVINGLAB_BACKUP_PASSPHRASE=" + pass}
		}
		return testkit.RunEnv(t, env, bin, args...)
	}
	file := filepath.Join(base, "a.bak")
	if r := run("fjord and fell 2026", "backup", file, "--encrypt", "--home", home); r.Code != 0 || !strings.Contains(r.Stdout, "encrypted") {
		t.Fatalf("encrypted backup: %s", r)
	}
	d.stop(true)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(Home{Dir: home}.Key())
	token, _ := os.ReadFile(Home{Dir: home}.Token())
	if !bytes.HasPrefix(b, []byte("age-encryption.org/v1\n")) || bytes.Contains(b, key[4:20]) ||
		bytes.Contains(b, bytes.TrimSpace(token)) || bytes.Contains(b, []byte("manifest.json")) {
		t.Fatal("the encrypted backup is readable without the passphrase")
	}
	to := filepath.Join(base, "restored")
	if r := run("", "restore", file, "--home", to); r.Code == 0 || !strings.Contains(r.Stderr, "encrypted") {
		t.Fatalf("restore without a passphrase: %s", r)
	}
	if r := run("not the passphrase", "restore", file, "--home", to); r.Code == 0 || !strings.Contains(r.Stderr, "wrong passphrase") {
		t.Fatalf("restore with a wrong passphrase: %s", r)
	}
	if r := run("fjord and fell 2026", "restore", file, "--home", to); r.Code != 0 {
		t.Fatalf("restore with the passphrase: %s", r)
	}
	if got, _ := os.ReadFile(Home{Dir: to}.Key()); !bytes.Equal(got, key) {
		t.Fatal("the restored home has another identity")
	}
}
