// SPDX-License-Identifier: EUPL-1.2

//go:build linux

package search

import (
	"os"
	"strings"
	"syscall"
	"time"
)

// processCPU returns the CPU time used by the process, all its threads:
// a search runs on every CPU, and the garbage it leaves is collected on
// other threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the 1-minute load average, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
