// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"errors"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// cdf returns the empirical distribution function of samples, at most
// about 400 points.
func cdf(samples []float64) plotter.XYs {
	s := slices.Clone(samples)
	slices.Sort(s)
	step := max(1, len(s)/400)
	var xy plotter.XYs
	for i := 0; i < len(s); i += step {
		xy = append(xy, plotter.XY{X: s[i], Y: float64(i+1) / float64(len(s))})
	}
	if len(s) > 0 {
		xy = append(xy, plotter.XY{X: s[len(s)-1], Y: 1})
	}
	return xy
}

// The size of every plot.
const plotWidth, plotHeight = 7 * vg.Inch, 4.2 * vg.Inch

// save writes p with its legend at the top right.
func save(p *plot.Plot, path string) error {
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.YOffs = -vg.Points(14)
	return p.Save(plotWidth, plotHeight, path)
}

// saveTopLeft writes p with a grid and its legend at the top left, clear
// of the Y axis.
func saveTopLeft(p *plot.Plot, path string) error {
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(40)
	p.Legend.YOffs = -vg.Points(14)
	return p.Save(plotWidth, plotHeight, path)
}

// addLine draws xy as a line, under legend in the legend unless that is
// empty.
func addLine(p *plot.Plot, xy plotter.XYer, legend string) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Width = vg.Points(2)
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}

// addSearchCDF draws the distribution of the node index's query latency.
func addSearchCDF(p *plot.Plot, sr *SearchResult, legend string) error {
	p.X.Label.Text = "latency (ms)"
	p.Y.Label.Text = "fraction of queries"
	return addLine(p, cdf(sr.Samples), legend)
}

// PlotLatency draws the publish-to-stored distributions of livinglab and
// bare gossipsub.
func PlotLatency(st *SteadyResult, path string) error {
	runs := append([]LatencyRun{st.Livinglab}, st.Bare...)
	if st.Overload != nil {
		runs = append(runs, *st.Overload)
	}
	return plotCDFs(fmt.Sprintf("Publish to stored, %d nodes, %.0f ms links, %d records at %.1f/s", st.Nodes, st.LinkMs, st.Records, st.Rate), runs, path)
}

// PlotAttack compares honest publish-to-stored latency without and with
// the attack.
func PlotAttack(a *AttackResult, path string) error {
	if len(a.Baseline.Samples) == 0 && len(a.Attack.Samples) == 0 {
		return errors.New("no latency samples")
	}
	return plotCDFs(fmt.Sprintf("Honest records, %d regions, %.0f ms links: without and with a flood at 100x the limit", a.Nodes, a.LinkMs),
		[]LatencyRun{a.Baseline, a.Attack}, path)
}

// plotCDFs draws the latency distribution of each run that has samples,
// on a log scale.
func plotCDFs(title string, runs []LatencyRun, path string) error {
	p := plot.New()
	p.Title.Text = title
	for i, r := range runs {
		if len(r.Samples) == 0 {
			continue
		}
		l, err := plotter.NewLine(cdf(r.Samples))
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(2)
		l.Dashes = plotutil.Dashes(i)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (p99 %.1f ms)", r.System, r.Latency.P99), l)
	}
	p.Add(plotter.NewGrid())
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "fraction of deliveries"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	p.Legend.Left = false
	return p.Save(plotWidth, plotHeight, path)
}

func groupedBars(p *plot.Plot, labels []string, series []string, values [][]float64) error {
	w := vg.Points(18)
	n := len(series)
	for i, name := range series {
		b, err := plotter.NewBarChart(plotter.Values(values[i]), w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(b)
		p.Legend.Add(name, b)
	}
	p.NominalX(labels...)
	return nil
}

// PlotCatchUp compares bytes moved with the bytes of the records moved.
func PlotCatchUp(cu *CatchUpResult, lj *LateJoinResult, path string) error {
	p := plot.New()
	p.Title.Text = "Catch-up traffic vs the records it carries"
	p.Y.Label.Text = "KiB"
	var labels []string
	var recs, moved []float64
	if cu != nil {
		labels = append(labels, fmt.Sprintf("catch-up: %d of %d", cu.Missing, cu.Total))
		recs = append(recs, float64(cu.MissingBytes)/1024)
		moved = append(moved, float64(cu.BytesIn+cu.BytesOut)/1024)
	}
	if lj != nil {
		labels = append(labels, fmt.Sprintf("late join: %d records", lj.Records))
		recs = append(recs, float64(lj.RecordBytes)/1024)
		moved = append(moved, float64(lj.BytesIn+lj.BytesOut)/1024)
	}
	if len(labels) == 0 {
		return nil
	}
	if err := groupedBars(p, labels, []string{"records' encoded size", "sync + join bytes, both ways"},
		[][]float64{recs, moved}); err != nil {
		return err
	}
	return saveTopLeft(p, path)
}

// PlotSearch draws search latency: the node's index in this run and, when
// present, knowledge/search's bleve vs SQLite FTS5 comparison.
func PlotSearch(sr *SearchResult, path string) error {
	p := plot.New()
	p.Y.Label.Text = "p99 latency (ms)"
	if len(sr.FTS5Rows) > 0 {
		p.Title.Text = "Search p99: node index vs SQLite FTS5"
		var labels []string
		var bl, ft []float64
		for _, r := range sr.FTS5Rows {
			l := r.Class
			if r.Facets {
				l += " +facets"
			}
			labels = append(labels, l)
			bl = append(bl, r.BleveP99)
			ft = append(ft, r.FTSP99)
		}
		series := []string{"bleve (knowledge/search bench)", "SQLite FTS5"}
		vals := [][]float64{bl, ft}
		if err := groupedBars(p, labels, series, vals); err != nil {
			return err
		}
	} else {
		p.Title.Text = fmt.Sprintf("Search latency on the node's index (%d documents)", sr.Docs)
		if err := addSearchCDF(p, sr, fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", sr.All.P50, sr.All.P99)); err != nil {
			return err
		}
	}
	return saveTopLeft(p, path)
}

// PlotSearchCDF draws the node index's query latency distribution.
func PlotSearchCDF(sr *SearchResult, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Query latency on a node's index (%d practices)", sr.Docs)
	if err := addSearchCDF(p, sr, fmt.Sprintf("all classes, facets on and off: p50 %.1f ms, p99 %.1f ms", sr.All.P50, sr.All.P99)); err != nil {
		return err
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	return p.Save(plotWidth, plotHeight, path)
}

// PlotMemory draws the daemon's resident memory with its peers connected.
func PlotMemory(m *MemoryResult, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("livinglab daemon resident memory (VmRSS), %d practices, %d peers", m.Records, m.PeersConnected)
	p.X.Label.Text = "seconds after the peers connected"
	p.Y.Label.Text = "MiB"
	var xy plotter.XYs
	for i, v := range m.Series {
		xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
	}
	if len(xy) == 0 {
		return nil
	}
	if err := addLine(p, xy, "VmRSS"); err != nil {
		return err
	}
	target := plotter.NewFunction(func(float64) float64 { return 100 * 1e6 / (1 << 20) })
	target.Color = color.RGBA{R: 200, A: 255}
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(target)
	p.Legend.Add("target 100 MB", target)
	idle := plotter.NewFunction(func(float64) float64 { return m.RSSIdleMiB })
	idle.Color = color.Gray{Y: 120}
	idle.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(idle)
	p.Legend.Add("before the peers connected", idle)
	p.Y.Min = 0
	p.Y.Max = max(130, m.RSSMaxMiB*1.3)
	p.Add(plotter.NewGrid())
	return save(p, path)
}

// PlotPartition draws how the missing records filled in after healing.
func PlotPartition(pr *PartitionResult, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Partition healing, %d nodes", pr.Nodes)
	p.X.Label.Text = "seconds after healing"
	p.Y.Label.Text = "fraction of missing (record, node) pairs filled"
	var xy plotter.XYs
	for _, v := range pr.Progress {
		xy = append(xy, plotter.XY{X: v[0], Y: v[1]})
	}
	if len(xy) == 0 {
		return nil
	}
	if err := addLine(p, xy, ""); err != nil {
		return err
	}
	p.Y.Min, p.Y.Max = 0, 1.02
	p.Add(plotter.NewGrid())
	return save(p, path)
}
