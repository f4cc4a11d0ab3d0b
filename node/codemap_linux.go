// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/livinglab/livinglab/internal/sysmem"
)

// The daemon's executable is about 75 MB, most of it code and tables of
// libraries that a running node touches here and there: package
// initialisation runs once through all of them, and a node then executes
// a small part. On a read fault the kernel maps not only the page touched
// but the page-cache pages around it (fault-around, 64 KiB and more with
// large folios) and, where the folio is 2 MiB, a whole huge page. So about
// 40 MiB of the executable stayed mapped in a node with 50 members, most
// of it never executed after start, and counted in its resident memory.
//
// MapCodeSparsely advises the kernel to map the executable's read-only
// segments one page per fault from now on (MADV_RANDOM turns fault-around
// and readahead off for them, MADV_NOHUGEPAGE keeps 2 MiB mappings away)
// and unmaps what is mapped, so that what stays resident is what the node
// executes and reads. The file stays in the page cache while the kernel
// has room for it, so faulting a page back costs a page-table update, not
// a read. Under memory pressure a page read back is read alone, without
// readahead, and the kernel ignores accesses through a MADV_RANDOM mapping
// when it picks pages to reclaim (such a mapping has no recency), so the
// code is reclaimed like cold pages: in a memory cgroup too small for the
// node it is killed sooner (bench/memory.md). It reports by how many bytes
// the process's file-backed resident memory fell.
func MapCodeSparsely() (int64, error) {
	exe, err := os.Stat("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("find the executable: %w", err)
	}
	st, ok := exe.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("find the executable: no device and inode")
	}
	segs, err := executableSegments(uint64(st.Dev), st.Ino)
	if err != nil {
		return 0, err
	}
	if len(segs) == 0 {
		return 0, fmt.Errorf("no read-only mapping of the executable in /proc/self/maps")
	}
	before, _ := rssFile()
	for _, s := range segs {
		for _, advice := range []int{unix.MADV_NOHUGEPAGE, unix.MADV_RANDOM, unix.MADV_DONTNEED} {
			if _, _, e := unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, uintptr(advice)); e != 0 {
				return 0, fmt.Errorf("madvise %#x-%#x (%d): %w", s.start, s.end, advice, e)
			}
		}
	}
	after, err := rssFile()
	if err != nil || after > before {
		return 0, nil
	}
	return int64(before - after), nil
}

type segment struct{ start, end uintptr }

// executableSegments lists the mappings of the file dev:ino that are not
// writable. Writable ones (initialised data) must keep their pages: to
// drop them would lose what the program wrote there.
func executableSegments(dev, ino uint64) ([]segment, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil, fmt.Errorf("read memory mappings: %w", err)
	}
	defer f.Close()
	var segs []segment
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset major:minor inode [path]
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 || strings.Contains(fs[1], "w") || fs[1][3] != 'p' {
			continue
		}
		if n, err := strconv.ParseUint(fs[4], 10, 64); err != nil || n != ino {
			continue
		}
		maj, min, ok := strings.Cut(fs[3], ":")
		if !ok {
			continue
		}
		ma, err1 := strconv.ParseUint(maj, 16, 32)
		mi, err2 := strconv.ParseUint(min, 16, 32)
		if err1 != nil || err2 != nil || unix.Mkdev(uint32(ma), uint32(mi)) != dev {
			continue
		}
		lo, hi, _ := strings.Cut(fs[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			continue
		}
		segs = append(segs, segment{uintptr(a), uintptr(b)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read memory mappings: %w", err)
	}
	return segs, nil
}

// rssFile reads the process's file-backed resident memory in bytes.
func rssFile() (uint64, error) {
	fs, err := sysmem.ReadKiBFields("/proc/self/status")
	if err != nil {
		return 0, err
	}
	v, ok := fs["RssFile"]
	if !ok {
		return 0, fmt.Errorf("no RssFile in /proc/self/status")
	}
	return v, nil
}
