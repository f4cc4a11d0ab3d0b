// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressReader shows a progress bar on a terminal while data flows.
type progressReader struct {
	r     io.Reader
	total int64
	label string
	bar   *progressbar.ProgressBar
}

func (p *progressReader) Read(b []byte) (int, error) {
	if p.bar == nil && term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.DefaultBytes(max(p.total, -1), p.label)
	}
	n, err := p.r.Read(b)
	if p.bar != nil {
		p.bar.Add(n)
		if err == io.EOF {
			p.bar.Finish()
		}
	}
	return n, err
}
