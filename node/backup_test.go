// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
)

// backupWith publishes practices on a lone node and returns its full backup
// and the records' CIDs and raw bytes.
func backupWith(t *testing.T, titles ...string) ([]byte, []cid.Cid, [][]byte) {
	t.Helper()
	_, nodes := newFederation(t, 1)
	a := nodes[0]
	var cids []cid.Cid
	var raws [][]byte
	for _, title := range titles {
		c := publish(t, a, title, "transport")
		rec, err := a.Node().store.Get(c)
		if err != nil {
			t.Fatal(err)
		}
		cids = append(cids, c)
		raws = append(raws, rec.Raw)
	}
	var buf bytes.Buffer
	if _, err := a.Node().WriteBackup(&buf, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cids, raws
}

// flipInside changes four bytes in the middle of the first copy of part
// inside archive.
func flipInside(t *testing.T, archive, part []byte) []byte {
	t.Helper()
	i := bytes.Index(archive, part)
	if i < 0 {
		t.Fatal("record bytes not found in the archive")
	}
	out := bytes.Clone(archive)
	for j := i + len(part)/2; j < i+len(part)/2+4; j++ {
		out[j] ^= 0x5a
	}
	return out
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("a refused restore left %d entries in the home", len(entries))
	}
}

func TestRestoreRefusesDamagedArchive(t *testing.T) {
	archive, cids, raws := backupWith(t, "Ferry timetable co-design", "Ride-sharing for care workers", "School bus for evening clubs")
	damaged := flipInside(t, archive, raws[1])

	home := filepath.Join(t.TempDir(), "restored")
	_, err := Restore(home, []io.Reader{bytes.NewReader(damaged)}, nil)
	if !errors.Is(err, ErrDamagedBackup) {
		t.Fatalf("restore of a damaged archive: %v, want ErrDamagedBackup", err)
	}
	if !strings.Contains(err.Error(), "store.badger does not match its checksum") {
		t.Fatalf("error does not say what is damaged: %v", err)
	}
	emptyDir(t, home)

	// Kept: the damaged record is left out for the members to supply, the
	// others are restored intact.
	if _, err := RestoreWith(home, []io.Reader{bytes.NewReader(damaged)}, RestoreOptions{KeepDamaged: true}); err != nil {
		t.Fatalf("restore keeping the rest: %v", err)
	}
	st, err := knowledge.Open(Home{Dir: home}.Store(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Has(cids[1]) {
		t.Fatal("the damaged record was restored")
	}
	for _, i := range []int{0, 2} {
		if _, err := st.Get(cids[i]); err != nil {
			t.Fatalf("intact record %d: %v", i, err)
		}
	}
	rep, err := st.Check(t.Context(), knowledge.CheckOptions{Signatures: true})
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("restored store: %+v %v", rep.Problems, err)
	}
}

// Damage outside the records (here the config file) is refused even when
// damaged records may be kept: no member can supply it.
func TestRestoreRefusesDamageOutsideRecords(t *testing.T) {
	archive, _, _ := backupWith(t, "Youth council budget")
	damaged := flipInside(t, archive, []byte(`"region"`))
	home := filepath.Join(t.TempDir(), "restored")
	_, err := RestoreWith(home, []io.Reader{bytes.NewReader(damaged)}, RestoreOptions{KeepDamaged: true})
	if !errors.Is(err, ErrDamagedBackup) || !strings.Contains(err.Error(), fmt.Sprintf("%s does not match", fileConfig)) {
		t.Fatalf("restore: %v, want the config named as damaged", err)
	}
	emptyDir(t, home)
}

func TestRestoreOfIntactArchive(t *testing.T) {
	archive, cids, _ := backupWith(t, "Telecare at night")
	home := filepath.Join(t.TempDir(), "restored")
	m, err := Restore(home, []io.Reader{bytes.NewReader(archive)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != backupFormat || len(m.SHA256) != 4 {
		t.Fatalf("manifest %+v", m)
	}
	st, err := knowledge.Open(Home{Dir: home}.Store(), knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Get(cids[0]); err != nil {
		t.Fatal(err)
	}
}
