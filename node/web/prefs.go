// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// userPrefs is what the web UI remembers of an account between sessions.
type userPrefs struct {
	Lang      string    `json:"lang,omitempty"`       // interface language
	LastVisit time.Time `json:"last_visit,omitempty"` // start of the previous session
}

// prefStore keeps the accounts' preferences in a JSON file in the node's
// home directory (in memory only when the node has none).
type prefStore struct {
	mu     sync.Mutex
	file   string
	loaded bool
	m      map[string]userPrefs
}

func (p *prefStore) load() {
	if p.loaded {
		return
	}
	p.loaded, p.m = true, map[string]userPrefs{}
	if p.file == "" {
		return
	}
	buf, err := os.ReadFile(p.file)
	if err != nil {
		return
	}
	_ = json.Unmarshal(buf, &p.m) // an unreadable file starts afresh: it holds preferences only
	if p.m == nil {
		p.m = map[string]userPrefs{}
	}
}

func (p *prefStore) get(user string) userPrefs {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.load()
	return p.m[user]
}

// update changes an account's preferences and writes the file atomically.
func (p *prefStore) update(user string, f func(*userPrefs)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.load()
	v := p.m[user]
	f(&v)
	p.m[user] = v
	if p.file == "" {
		return nil
	}
	buf, err := json.MarshalIndent(p.m, "", "  ")
	if err != nil {
		return err
	}
	tmp := p.file + ".tmp"
	if err := os.WriteFile(tmp, buf, 0o600); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("preferences: %w", err)
		}
		return err
	}
	return os.Rename(tmp, p.file)
}

func prefFile(home string) string {
	if home == "" {
		return ""
	}
	return filepath.Join(home, "web-preferences.json")
}
