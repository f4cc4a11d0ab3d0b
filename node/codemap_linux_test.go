// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// exeMappings reads, from /proc/self/smaps, the read-only mappings of the
// running executable: their resident kilobytes and their VmFlags.
func exeMappings(t *testing.T) (rssKB int64, flags []string) {
	t.Helper()
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	ino := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":") {
			in = fs[4] == ino && !strings.Contains(fs[1], "w")
			continue
		}
		if !in || len(fs) < 2 {
			continue
		}
		switch fs[0] {
		case "Rss:":
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			rssKB += kb
		case "VmFlags:":
			flags = append(flags, strings.Join(fs[1:], " "))
		}
	}
	if len(flags) == 0 {
		t.Fatal("no read-only mapping of the test executable in /proc/self/smaps")
	}
	return rssKB, flags
}

func TestMapCodeSparsely(t *testing.T) {
	before, _ := exeMappings(t)
	freed, err := MapCodeSparsely()
	if err != nil {
		t.Fatal(err)
	}
	after, flags := exeMappings(t)
	t.Logf("executable resident %d KiB before, %d KiB after; %d KiB less file-backed memory", before, after, freed>>10)
	for _, f := range flags {
		// rr: random read advised (no fault-around, no readahead);
		// nh: no huge pages.
		if !strings.Contains(" "+f+" ", " rr ") || !strings.Contains(" "+f+" ", " nh ") {
			t.Errorf("a read-only mapping of the executable has VmFlags %q, want rr and nh", f)
		}
	}
	// The test has executed a little code since: far less than the
	// packages' initialisation mapped.
	if before < 1024 || after*2 > before {
		t.Errorf("the executable's read-only mappings are %d KiB resident after, %d KiB before; want less than half", after, before)
	}
	if freed <= 0 {
		t.Errorf("file-backed resident memory fell by %d bytes, want more than 0", freed)
	}
}
