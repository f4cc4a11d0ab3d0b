// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// A version 1 config that kept the old store defaults is moved to the new
// ones, a value someone chose stays, and the old file is kept beside it.
func TestConfigMigrationStoreDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name                      string
		store                     string
		memtable, block, indexMiB int64
	}{
		{"old defaults", `{"memtable_mb": 16, "num_memtables": 2, "block_cache_mb": 16, "index_cache_mb": 16}`, 8, 8, 8},
		{"chosen values", `{"memtable_mb": 64, "num_memtables": 3, "block_cache_mb": 16, "index_cache_mb": 128}`, 64, 8, 128},
		{"no store section", ``, 8, 8, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".json")
			body := `{"version": 1, "region": "Vestland"`
			if c.store != "" {
				body += `, "store": ` + c.store
			}
			body += "}"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Version != ConfigVersion || cfg.Store.MemTableMB != c.memtable || cfg.Store.BlockCacheMB != c.block || cfg.Store.IndexCacheMB != c.indexMiB {
				t.Fatalf("migrated config: version %d, store %+v", cfg.Version, cfg.Store)
			}
			kept, err := os.ReadFile(path + ".v1")
			if err != nil || string(kept) != body {
				t.Fatalf("old config not kept as it was: %q, %v", kept, err)
			}
			var onDisk Config
			b, _ := os.ReadFile(path)
			if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Version != ConfigVersion || onDisk.Store.MemTableMB != c.memtable {
				t.Fatalf("migrated config not written back: %s", b)
			}
		})
	}
}

// A version 2 config, written before the executable could be mapped
// sparsely, gets the default (on) and is written back as the current
// version; one that says otherwise keeps its choice.
func TestConfigMigrationSparseCodeMapping(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		limits string
		want   bool
	}{
		{"no key", `{"go_memory_limit_mb": 64}`, true},
		{"switched off", `{"map_code_sparsely": false}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".json")
			body := `{"version": 2, "region": "Vestland", "limits": ` + c.limits + `}`
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Version != ConfigVersion || cfg.Limits.MapCodeSparsely != c.want {
				t.Fatalf("migrated config: version %d, map_code_sparsely %v, want %v", cfg.Version, cfg.Limits.MapCodeSparsely, c.want)
			}
			if kept, err := os.ReadFile(path + ".v2"); err != nil || string(kept) != body {
				t.Fatalf("old config not kept as it was: %q, %v", kept, err)
			}
			var onDisk map[string]any
			b, _ := os.ReadFile(path)
			if err := json.Unmarshal(b, &onDisk); err != nil || onDisk["version"] != float64(ConfigVersion) {
				t.Fatalf("migrated config not written back: %s", b)
			}
			if got := onDisk["limits"].(map[string]any)["map_code_sparsely"]; got != c.want {
				t.Fatalf("written back with map_code_sparsely %v, want %v", got, c.want)
			}
		})
	}
}
