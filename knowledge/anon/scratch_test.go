package anon

import (
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	g := New(Options{FailClosed: false})
	for _, f := range []string{"testdata/practice.txt", "testdata/practice_nordic.txt"} {
		b, _ := os.ReadFile(f)
		_, fs, cs := g.Scrub("x", string(b))
		for _, f := range fs {
			fmt.Printf("F %-12s %-22s %q\n", f.Type, f.Detector, string(b)[f.Start:f.End])
		}
		for _, c := range cs {
			fmt.Printf("C %q %s\n", c.Text, c.Reason)
		}
	}
}
