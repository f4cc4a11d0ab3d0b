// SPDX-License-Identifier: EUPL-1.2

package knowledge

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/crypto/bcrypt"
)

// Local accounts of the web UI live in the store under their own prefix,
// JSON-encoded, with bcrypt password hashes. They never leave the node.
//
//	usr/<name> -> User
var pfxUser = []byte("usr/")

// ErrExists is returned when an entity to create already exists.
var ErrExists = errors.New("already exists")

// ErrBadPassword is returned by CheckPassword for an unknown user or a
// wrong password (the two are not told apart).
var ErrBadPassword = errors.New("wrong user name or password")

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPassword = 8
	MaxPassword = 72
)

// BcryptCost is the work factor of new password hashes.
var BcryptCost = bcrypt.DefaultCost

// userNameRE: lowercase letters, digits, dot, dash and underscore, starting
// with a letter or digit, up to 64 characters.
var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Role is what a web UI account may do.
type Role string

const (
	// RoleAdmin may do everything, including what can take over or change
	// the node: backups (they hold its identity), users, invites and the
	// removal of members.
	RoleAdmin Role = "admin"
	// RoleChampion works with the knowledge: lab data, drafts, publishing,
	// topics and search.
	RoleChampion Role = "champion"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleChampion:
		return r, nil
	case "administrator":
		return RoleAdmin, nil
	}
	return "", fmt.Errorf("%w: role %q: use admin or champion", ErrInvalid, s)
}

// User is a local account of the web UI.
type User struct {
	Name string `json:"name"`
	// Role is empty for accounts made before roles existed: they keep the
	// administrator's rights they had (see EffectiveRole).
	Role     Role      `json:"role,omitempty"`
	Hash     []byte    `json:"hash,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// EffectiveRole is the account's role; accounts made before roles existed
// are administrators, as they could do everything then.
func (u User) EffectiveRole() Role {
	if u.Role == "" {
		return RoleAdmin
	}
	return u.Role
}

// dummyHash is compared against when the user does not exist, so that a
// sign-in for an unknown name takes as long as one with a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("livinglab-no-such-user"), BcryptCost)
	return h
})

func userKey(name string) []byte { return append(append([]byte{}, pfxUser...), name...) }

// ValidUserName checks a user name: lowercase letters, digits, '.', '-' and
// '_', starting with a letter or digit, at most 64 characters.
func ValidUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("%w: user name %q: use lowercase letters, digits, '.', '-' or '_' (at most 64), e.g. aino.m", ErrInvalid, name)
	}
	return nil
}

func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPassword {
		return fmt.Errorf("%w: a password needs at least %d characters", ErrInvalid, MinPassword)
	}
	if len(pw) > MaxPassword {
		return fmt.Errorf("%w: a password may have at most %d bytes", ErrInvalid, MaxPassword)
	}
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: the password is not valid UTF-8", ErrInvalid)
	}
	return nil
}

func getUser(txn *badger.Txn, name string) (*User, error) {
	item, err := txn.Get(userKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var u User
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, &u) }); err != nil {
		return nil, fmt.Errorf("decode user %s: %w", name, err)
	}
	return &u, nil
}

func putUser(txn *badger.Txn, u *User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return txn.Set(userKey(u.Name), b)
}

// AddUser creates a local account: the node's first account is an
// administrator, every later one a champion (see AddUserRole).
func (s *Store) AddUser(name, password string) error {
	return s.AddUserRole(name, password, "")
}

// AddUserRole creates a local account with a role ("" for the default of
// AddUser).
func (s *Store) AddUserRole(name, password string, role Role) error {
	if role != "" {
		if _, err := ParseRole(string(role)); err != nil {
			return err
		}
	}
	name = strings.TrimSpace(name)
	if err := ValidUserName(name); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := time.Now().UTC()
	return s.retryUpdate(func(txn *badger.Txn) error {
		if _, err := txn.Get(userKey(name)); err == nil {
			return fmt.Errorf("user %q: %w", name, ErrExists)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if role == "" {
			role = RoleChampion
			if first, err := noUsers(txn); err != nil {
				return err
			} else if first {
				role = RoleAdmin
			}
		}
		return putUser(txn, &User{Name: name, Role: role, Hash: hash, Created: now, Updated: now})
	})
}

func noUsers(txn *badger.Txn) (bool, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxUser})
	defer it.Close()
	it.Rewind()
	return !it.Valid(), nil
}

// SetRole changes an account's role.
func (s *Store) SetRole(name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.updateUser(name, func(u *User) { u.Role, u.Updated = role, time.Now().UTC() })
}

// GetUser returns an account without its password hash.
func (s *Store) GetUser(name string) (User, error) {
	var u User
	err := s.db.View(func(txn *badger.Txn) error {
		got, err := getUser(txn, name)
		if err != nil {
			return err
		}
		u = *got
		return nil
	})
	u.Hash = nil
	return u, err
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.updateUser(name, func(u *User) { u.Hash, u.Updated = hash, time.Now().UTC() })
}

// CheckPassword verifies a user's password. It returns ErrBadPassword for an
// unknown user or a wrong password, taking the same time for both.
func (s *Store) CheckPassword(name, password string) error {
	var hash []byte
	err := s.db.View(func(txn *badger.Txn) error {
		u, err := getUser(txn, name)
		if err != nil {
			return err
		}
		hash = u.Hash
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if len(hash) == 0 || len(password) > MaxPassword {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return ErrBadPassword
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return ErrBadPassword
	}
	return nil
}

// updateUser changes the account name, under retry.
func (s *Store) updateUser(name string, change func(*User)) error {
	return s.retryUpdate(func(txn *badger.Txn) error {
		u, err := getUser(txn, name)
		if err != nil {
			return err
		}
		change(u)
		return putUser(txn, u)
	})
}

// TouchUser records a successful sign-in.
func (s *Store) TouchUser(name string) error {
	return s.updateUser(name, func(u *User) { u.LastSeen = time.Now().UTC() })
}

// ListUsers returns the accounts by name, without their password hashes.
func (s *Store) ListUsers() ([]User, error) {
	out := []User{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfxUser, PrefetchValues: true, PrefetchSize: 32})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var u User
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &u) }); err != nil {
				return fmt.Errorf("decode %s: %w", it.Item().Key(), err)
			}
			u.Hash = nil
			out = append(out, u)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// HasUser tells whether an account exists.
func (s *Store) HasUser(name string) bool {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(userKey(name))
		return err
	})
	return err == nil
}

// DeleteUser removes an account.
func (s *Store) DeleteUser(name string) error {
	return s.retryUpdate(func(txn *badger.Txn) error {
		if _, err := txn.Get(userKey(name)); errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		} else if err != nil {
			return err
		}
		return txn.Delete(userKey(name))
	})
}
