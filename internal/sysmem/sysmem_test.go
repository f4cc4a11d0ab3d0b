// SPDX-License-Identifier: EUPL-1.2

package sysmem

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestMemAvailable(t *testing.T) {
	v, err := memAvailable(strings.NewReader("MemTotal:       24567892 kB\nMemFree:         1234 kB\nMemAvailable:   20000000 kB\n"))
	if err != nil || v != 20000000<<10 {
		t.Fatalf("memAvailable = %d, %v; want %d", v, err, 20000000<<10)
	}
	if _, err := memAvailable(strings.NewReader("MemTotal: 1 kB\n")); err == nil {
		t.Fatal("meminfo without MemAvailable: no error")
	}
	if _, err := memAvailable(strings.NewReader("MemAvailable: lots kB\n")); err == nil {
		t.Fatal("meminfo with a bad MemAvailable: no error")
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCgroupLimit(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "system.slice/livinglab.service/memory.max"), "1073741824\n")
	write(t, filepath.Join(root, "user.slice/memory.max"), "max\n")
	write(t, filepath.Join(root, "memory/ll/memory.limit_in_bytes"), "402653184\n")
	write(t, filepath.Join(root, "broken/memory.max"), "a lot\n")
	for _, c := range []struct {
		name, self string
		want       uint64
		fails      bool
	}{
		{"v2 with a limit", "0::/system.slice/livinglab.service\n", 1 << 30, false},
		{"v2 without a limit", "0::/user.slice\n", math.MaxUint64, false},
		{"v1 memory controller", "12:pids:/ll\n7:cpu,cpuacct:/ll\n4:memory:/ll\n0::/ll\n", 384 << 20, false},
		{"v2 entry on a host without it", "0::/nowhere\n", math.MaxUint64, false},
		{"no cgroup", "", math.MaxUint64, false},
		{"unreadable limit", "0::/broken\n", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := cgroupLimit(strings.NewReader(c.self), root)
			if c.fails {
				if err == nil {
					t.Fatalf("cgroupLimit = %d, want an error", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("cgroupLimit = %d, %v; want %d", got, err, c.want)
			}
		})
	}
}

// On Linux the process has a figure, and it is no more than the system's.
func TestAvailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	v, ok := Available()
	if !ok || v == 0 || v == math.MaxUint64 {
		t.Fatalf("Available = %d, %v", v, ok)
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sys, err := memAvailable(f)
	if err != nil {
		t.Fatal(err)
	}
	if v > sys {
		t.Fatalf("Available = %d, more than the system's MemAvailable %d", v, sys)
	}
}
