// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livinglab/livinglab/protocol"
)

// ConfigVersion is the version of the config file this release writes.
const ConfigVersion = 3

// ErrConfigTooNew is returned for a config written by a newer release.
var ErrConfigTooNew = errors.New("config file is newer than this release")

// Config is the node's config file (config.json in the home). Fields left
// empty take the defaults in code.
type Config struct {
	Version    int              `json:"version"`
	Region     string           `json:"region"`
	Country    string           `json:"country,omitempty"`
	Federation FederationConfig `json:"federation"`
	// Listen holds libp2p multiaddrs; port 0 picks a free port.
	Listen []string `json:"listen"`
	// API is the HTTP API and web UI address (host:port).
	API string `json:"api"`
	// Bootstrap peers (multiaddrs with /p2p/ID) dialled at start.
	Bootstrap []string `json:"bootstrap"`
	// Topics the node subscribes to; kept up to date by the daemon.
	Topics    []string        `json:"topics"`
	Discovery DiscoveryConfig `json:"discovery"`
	NAT       NATConfig       `json:"nat"`
	Store     StoreConfig     `json:"store"`
	Limits    LimitsConfig    `json:"limits"`
	Sync      SyncConfig      `json:"sync"`
	Anonymise AnonymiseConfig `json:"anonymise"`
	Log       LogConfig       `json:"log"`
}

// FederationConfig names the federation this node belongs to.
type FederationConfig struct {
	Name    string `json:"name,omitempty"`
	Founder string `json:"founder,omitempty"`
}

// DiscoveryConfig switches the ways of finding peers.
type DiscoveryConfig struct {
	MDNS bool `json:"mdns"`
	DHT  bool `json:"dht"`
}

// NATConfig switches NAT traversal.
type NATConfig struct {
	PortMapping  bool `json:"port_mapping"`
	HolePunching bool `json:"hole_punching"`
}

// StoreConfig tunes Badger ("small" profile by default).
type StoreConfig struct {
	Profile        string   `json:"profile"`
	MemTableMB     int64    `json:"memtable_mb"`
	NumMemtables   int      `json:"num_memtables"`
	BlockCacheMB   int64    `json:"block_cache_mb"`
	IndexCacheMB   int64    `json:"index_cache_mb"`
	ValueLogFileMB int64    `json:"value_log_file_mb"`
	NumCompactors  int      `json:"num_compactors"`
	SyncWrites     bool     `json:"sync_writes"`
	GCInterval     Duration `json:"gc_interval"`
	// ScrubInterval is how often the daemon checks every stored record
	// against its CID and signature and repairs what is damaged from the
	// members (0: the default, daily).
	ScrubInterval Duration `json:"scrub_interval,omitempty"`
}

// LimitsConfig bounds connections and resources.
type LimitsConfig struct {
	ConnsLow    int `json:"conns_low"`
	ConnsHigh   int `json:"conns_high"`
	MaxMemoryMB int `json:"max_memory_mb"`
	// GoMemoryLimitMB is the Go runtime's soft memory limit for the
	// daemon process (0: none); GOMEMLIMIT in the environment wins.
	GoMemoryLimitMB int `json:"go_memory_limit_mb"`
	// MapCodeSparsely has `livinglab run` keep only the pages of its
	// executable that it uses mapped (Linux; see MapCodeSparsely).
	MapCodeSparsely bool `json:"map_code_sparsely"`
	MaxConnsPerIP   int  `json:"max_conns_per_ip"`
	PublishPerMin   int  `json:"publish_per_min"`
	PublishBurst    int  `json:"publish_burst"`
	MaxRequestKB    int  `json:"max_request_kb"`
}

// SyncConfig tunes catch-up.
type SyncConfig struct {
	Interval Duration `json:"interval"`
}

// AnonymiseConfig tunes the anonymisation gate.
type AnonymiseConfig struct {
	K int `json:"k"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `json:"level"`
	Format string `json:"format"`
}

// Duration is a time.Duration written as "10m" in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig returns a config with every default set.
func DefaultConfig() Config {
	return Config{
		Version: ConfigVersion,
		Listen: []string{
			"/ip4/0.0.0.0/tcp/4801",
			"/ip4/0.0.0.0/udp/4801/quic-v1",
			"/ip6/::/tcp/4801",
			"/ip6/::/udp/4801/quic-v1",
		},
		API:       "127.0.0.1:4800",
		Bootstrap: []string{},
		Topics:    []string{},
		Discovery: DiscoveryConfig{MDNS: true, DHT: true},
		NAT:       NATConfig{PortMapping: true, HolePunching: true},
		Store: StoreConfig{Profile: "small", MemTableMB: 8, NumMemtables: 2, BlockCacheMB: 8, IndexCacheMB: 8,
			ValueLogFileMB: 64, NumCompactors: 2, GCInterval: Duration(10 * time.Minute)},
		Limits: LimitsConfig{ConnsLow: 64, ConnsHigh: 128, MaxMemoryMB: 256, GoMemoryLimitMB: 64, MapCodeSparsely: true, MaxConnsPerIP: 8,
			PublishPerMin: 60, PublishBurst: 30, MaxRequestKB: 1024},
		Sync:      SyncConfig{Interval: Duration(30 * time.Second)},
		Anonymise: AnonymiseConfig{K: 5},
		Log:       LogConfig{Level: "info", Format: "text"},
	}
}

// Validate checks the config for values the node cannot run with.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Region) == "" {
		return fmt.Errorf("config: region is empty")
	}
	if c.Federation.Name != "" {
		if err := protocol.ValidFederation(c.Federation.Name); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	for _, t := range c.Topics {
		if err := protocol.ValidTopic(t); err != nil || t == protocol.ControlTopic {
			return fmt.Errorf("config: topic %q is not a valid topic name", t)
		}
	}
	if c.Limits.GoMemoryLimitMB < 0 {
		return fmt.Errorf("config: limits.go_memory_limit_mb must be 0 (no limit) or more, is %d", c.Limits.GoMemoryLimitMB)
	}
	if c.Anonymise.K < 2 {
		return fmt.Errorf("config: anonymise.k must be at least 2, is %d", c.Anonymise.K)
	}
	return nil
}

// configMigration moves a raw config from version From to From+1.
type configMigration struct {
	From int
	Run  func(raw map[string]any) error
}

// configMigrations is the ordered list of config migrations.
var configMigrations = []configMigration{
	// Version 2 halved the store's memtable and caches (16 MiB each to 8):
	// with 100,000 practices the node's live heap came so close to the
	// default Go memory limit (64 MiB) that an idle node spent a third of
	// a core collecting garbage. A file still holding the version 1
	// defaults gets the new ones; values someone chose stay.
	{From: 1, Run: func(raw map[string]any) error {
		st, ok := raw["store"].(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range []string{"memtable_mb", "block_cache_mb", "index_cache_mb"} {
			if v, ok := st[k].(float64); ok && v == 16 {
				st[k] = 8
			}
		}
		return nil
	}},
	// Version 3 added limits.map_code_sparsely, on by default. A version 2
	// file gets the default like any missing key; the version says that a
	// release which does not know the key must not read the file.
	{From: 2, Run: func(map[string]any) error { return nil }},
}

// LoadConfig reads path, migrating an older file (the old one is kept as
// path.vN) and refusing a newer one.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return Config{}, fmt.Errorf("config %s is not valid JSON: %w", path, err)
	}
	v, _ := raw["version"].(float64)
	ver := int(v)
	if ver > ConfigVersion {
		return Config{}, fmt.Errorf("%w: %s is version %d and this release knows up to %d; run a newer livinglab", ErrConfigTooNew, path, ver, ConfigVersion)
	}
	if ver < 1 {
		return Config{}, fmt.Errorf("config %s has no valid version", path)
	}
	if ver < ConfigVersion {
		if err := os.WriteFile(fmt.Sprintf("%s.v%d", path, ver), b, 0o600); err != nil {
			return Config{}, fmt.Errorf("keep old config: %w", err)
		}
		for _, m := range configMigrations {
			if m.From >= ver {
				if err := m.Run(raw); err != nil {
					return Config{}, fmt.Errorf("migrate config from version %d: %w", m.From, err)
				}
			}
		}
		raw["version"] = ConfigVersion
		b, _ = json.Marshal(raw)
	}
	cfg := DefaultConfig()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	if ver < ConfigVersion {
		if err := SaveConfig(path, cfg); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// SaveConfig writes the config atomically.
func SaveConfig(path string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
