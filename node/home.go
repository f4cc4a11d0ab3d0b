// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/protocol"
)

// Home is a node's data directory.
type Home struct{ Dir string }

// File names inside a home.
const (
	fileConfig  = "config.json"
	fileKey     = "identity.key"
	fileToken   = "api.token"
	fileAPIAddr = "api.addr"
	fileLock    = "repo.lock"
	dirStore    = "store"
	dirIndex    = "index"
)

func (h Home) Config() string  { return filepath.Join(h.Dir, fileConfig) }
func (h Home) Key() string     { return filepath.Join(h.Dir, fileKey) }
func (h Home) Token() string   { return filepath.Join(h.Dir, fileToken) }
func (h Home) APIAddr() string { return filepath.Join(h.Dir, fileAPIAddr) }
func (h Home) Lock() string    { return filepath.Join(h.Dir, fileLock) }
func (h Home) Store() string   { return filepath.Join(h.Dir, dirStore) }
func (h Home) Index() string   { return filepath.Join(h.Dir, dirIndex) }

// DefaultHome is $LIVINGLAB_HOME, else ~/.livinglab.
func DefaultHome() string {
	if h := os.Getenv("LIVINGLAB_HOME"); h != "" {
		return h
	}
	d, err := os.UserHomeDir()
	if err != nil {
		return ".livinglab"
	}
	return filepath.Join(d, ".livinglab")
}

// ErrHomeExists is returned by Init when the home already holds a node.
var ErrHomeExists = errors.New("home already initialised")

// InitOptions are the answers init needs.
type InitOptions struct {
	Region     string
	Country    string
	Federation string
}

// Init creates a node's home: identity key, config, API token and store. If
// Federation is set this node founds that federation.
func Init(dir string, o InitOptions) (peer.ID, error) {
	h := Home{Dir: dir}
	if _, err := os.Stat(h.Config()); err == nil {
		return "", fmt.Errorf("%w: %s has a config; use another --home or remove it", ErrHomeExists, dir)
	}
	if _, err := os.Stat(h.Key()); err == nil {
		return "", fmt.Errorf("%w: %s has an identity key", ErrHomeExists, dir)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%w: %s is not empty", ErrHomeExists, dir)
	}
	cfg := DefaultConfig()
	cfg.Region = strings.TrimSpace(o.Region)
	cfg.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	if cfg.Country != "" && (len(cfg.Country) != 2 || cfg.Country[0] < 'A' || cfg.Country[0] > 'Z' || cfg.Country[1] < 'A' || cfg.Country[1] > 'Z') {
		return "", fmt.Errorf("country %q: want a two-letter ISO 3166 code such as FI", o.Country)
	}
	if o.Federation != "" {
		if err := protocol.ValidFederation(o.Federation); err != nil {
			return "", err
		}
	}
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("--region is required: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create home: %w", err)
	}
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return "", err
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return "", err
	}
	kb, err := crypto.MarshalPrivateKey(priv)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(h.Key(), kb, 0o600); err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return "", err
	}
	if err := writeFileAtomic(h.Token(), []byte(hex.EncodeToString(tok)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write token: %w", err)
	}
	if o.Federation != "" {
		cfg.Federation = FederationConfig{Name: o.Federation, Founder: id.String()}
	}
	st, err := knowledge.Open(h.Store(), knowledge.Options{})
	if err != nil {
		return "", err
	}
	if o.Federation != "" {
		if err := foundFederation(st, priv, cfg); err != nil {
			st.Close()
			return "", err
		}
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	// The config is written last: its presence marks a complete home.
	if err := SaveConfig(h.Config(), cfg); err != nil {
		return "", err
	}
	return id, nil
}

// LoadKey reads the node's private key.
func (h Home) LoadKey() (crypto.PrivKey, error) {
	b, err := os.ReadFile(h.Key())
	if err != nil {
		return nil, fmt.Errorf("read identity (is %s initialised? run livinglab init): %w", h.Dir, err)
	}
	return crypto.UnmarshalPrivateKey(b)
}

// LoadIdentity reads the node's private key and the peer ID it gives.
func (h Home) LoadIdentity() (crypto.PrivKey, peer.ID, error) {
	key, err := h.LoadKey()
	if err != nil {
		return nil, "", err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	return key, id, nil
}

// LoadToken reads the API token.
func (h Home) LoadToken() (string, error) {
	b, err := os.ReadFile(h.Token())
	if err != nil {
		return "", fmt.Errorf("read API token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Lock takes the home's lock file, refusing a second daemon.
func (h Home) TakeLock() (release func(), err error) {
	f, err := os.OpenFile(h.Lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another livinglab daemon is running on %s (lock %s held)", h.Dir, h.Lock())
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
