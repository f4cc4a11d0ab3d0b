// SPDX-License-Identifier: EUPL-1.2

// Package sysmem tells how much memory this process may use: what the
// system has available, or less if a memory cgroup limits the process
// (a systemd unit's MemoryMax, a container's memory limit).
package sysmem

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Available returns the memory available to the process in bytes: the
// smaller of the system's MemAvailable and the limit of the memory cgroup
// the process is in. ok is false where neither can be read (not Linux,
// /proc not mounted).
func Available() (bytes uint64, ok bool) {
	avail := uint64(math.MaxUint64)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		if v, err := memAvailable(f); err == nil {
			avail, ok = v, true
		}
		f.Close()
	}
	if f, err := os.Open("/proc/self/cgroup"); err == nil {
		if lim, err := cgroupLimit(f, "/sys/fs/cgroup"); err == nil && lim < avail {
			avail, ok = lim, true
		}
		f.Close()
	}
	return avail, ok
}

// memAvailable reads MemAvailable from /proc/meminfo.
func memAvailable(r io.Reader) (uint64, error) {
	fs, err := KiBFields(r)
	if err != nil {
		return 0, fmt.Errorf("meminfo: %w", err)
	}
	v, ok := fs["MemAvailable"]
	if !ok {
		return 0, fmt.Errorf("meminfo: no MemAvailable")
	}
	return v, nil
}

// ReadKiBFields reads the "Name: N kB" lines of a /proc file such as
// /proc/meminfo or /proc/PID/status (see KiBFields).
func ReadKiBFields(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return KiBFields(f)
}

// KiBFields returns the values of the "Name: N kB" lines of r in bytes,
// by name. Lines of another form are left out.
func KiBFields(r io.Reader) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 2 && fs[1] == "kB" {
			if n, err := strconv.ParseUint(fs[0], 10, 64); err == nil {
				out[k] = n << 10
			}
		}
	}
	return out, sc.Err()
}

// cgroupLimit finds the memory limit of the cgroup that /proc/self/cgroup
// (read from r) names, under root: cgroup v2's memory.max or v1's
// memory.limit_in_bytes. No limit is math.MaxUint64.
func cgroupLimit(r io.Reader, root string) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		id, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		var file string
		switch {
		case id == "0" && ctrls == "":
			file = filepath.Join(root, path, "memory.max")
		case hasController(ctrls, "memory"):
			file = filepath.Join(root, "memory", path, "memory.limit_in_bytes")
		default:
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			if os.IsNotExist(err) {
				continue // v2 entry on a v1 host, or the controller is not enabled
			}
			return 0, fmt.Errorf("cgroup memory limit: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return math.MaxUint64, nil
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cgroup memory limit %s: %q: %w", file, s, err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	return math.MaxUint64, nil
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
