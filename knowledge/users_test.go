// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	return openTestStoreWith(t, Options{})
}

// openTestStoreWith opens a store in a new temporary directory, closed
// when the test ends.
func openTestStoreWith(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openStoreIn opens the store in dir, which the test closes and may open
// again.
func openStoreIn(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUsers(t *testing.T) {
	BcryptCost = bcrypt.MinCost
	s := openTestStore(t)
	if err := s.AddUser("aino", "kantele-2024"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("aino", "another-password"); !errors.Is(err, ErrExists) {
		t.Fatalf("second AddUser: %v, want ErrExists", err)
	}
	if err := s.AddUser("sven", "fjällräv-99"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckPassword("aino", "kantele-2024"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, c := range []struct{ name, pw string }{
		{"aino", "kantele-2025"}, {"aino", ""}, {"nobody", "kantele-2024"}, {"", ""},
	} {
		if err := s.CheckPassword(c.name, c.pw); !errors.Is(err, ErrBadPassword) {
			t.Errorf("CheckPassword(%q, %q) = %v, want ErrBadPassword", c.name, c.pw, err)
		}
	}
	if err := s.SetPassword("aino", "uusi-salasana"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckPassword("aino", "kantele-2024"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("old password after SetPassword: %v", err)
	}
	if err := s.CheckPassword("aino", "uusi-salasana"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	us, err := s.ListUsers()
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Name != "aino" || us[1].Name != "sven" || us[0].Hash != nil {
		t.Fatalf("ListUsers = %+v", us)
	}
	if err := s.DeleteUser("sven"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser("sven"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteUser: %v", err)
	}
	if s.HasUser("sven") || !s.HasUser("aino") {
		t.Fatal("HasUser wrong after delete")
	}
	if err := s.SetPassword("sven", "whatever-long"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetPassword of removed user: %v", err)
	}
}

func TestUserValidation(t *testing.T) {
	BcryptCost = bcrypt.MinCost
	s := openTestStore(t)
	for _, c := range []struct {
		name, pw string
	}{
		{"Aino", "long-enough"},            // upper case
		{"", "long-enough"},                // empty
		{"a b", "long-enough"},             // space
		{"../etc", "long-enough"},          // path
		{"aino", "short"},                  // short password
		{"aino", string(make([]byte, 80))}, // too long for bcrypt
	} {
		if err := s.AddUser(c.name, c.pw); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddUser(%q, %d bytes) = %v, want ErrInvalid", c.name, len(c.pw), err)
		}
	}
}

// The first account administers the node; later ones are champions unless
// made administrators; accounts from before roles keep their rights.
func TestUserRoles(t *testing.T) {
	s := openTestStore(t)
	if err := s.AddUser("aino", "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("sean", "battery staple"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUserRole("ingrid", "another secret", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Role{"aino": RoleAdmin, "sean": RoleChampion, "ingrid": RoleAdmin} {
		u, err := s.GetUser(name)
		if err != nil || u.EffectiveRole() != want || u.Hash != nil {
			t.Fatalf("%s: role %q (%v), want %q", name, u.EffectiveRole(), err, want)
		}
	}
	if err := s.SetRole("sean", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser("sean"); u.EffectiveRole() != RoleAdmin {
		t.Fatalf("after SetRole: %q", u.Role)
	}
	if err := s.SetRole("sean", "superuser"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	if _, err := ParseRole("Administrator"); err != nil {
		t.Fatal(err)
	}
	if (User{Name: "old"}).EffectiveRole() != RoleAdmin {
		t.Fatal("an account from before roles lost its rights")
	}
}
