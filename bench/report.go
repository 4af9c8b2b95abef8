package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// targets in report order: the ratio is vdr/redis.
var reportTargets = []string{"vdr", "redis"}

// WriteReport writes RESULTS.md (and the plots, when gnuplot is installed)
// into res.Config.Out.
func WriteReport(res *Results) error {
	out := res.Config.Out
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	plots, plotNote := writePlots(res)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# vdr vs a real Redis replica\n\n")
	fmt.Fprintf(&b, "Measured by the harness in bench/ (`%s`), %s.\n\n", res.Config.Command, res.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n- Versions: %s\n", res.Machine, res.Versions)
	if res.Config.Mix == "" || res.Config.Mix == "mixed" {
		fmt.Fprintf(&b, "- Dataset: %d keys (70%% strings of 16–128 B, 10%% hashes of 10 fields, 10%% lists of 10, 5%% sets of 10, 5%% zsets of 10), seed %d\n", res.Config.N, res.Config.Seed)
	} else {
		fmt.Fprintf(&b, "- Dataset: %d keys, %s only (strings of 16–128 B; collections of 10), seed %d\n", res.Config.N, res.Config.Mix, res.Config.Seed)
	}
	if res.RDBBytes > 0 {
		fmt.Fprintf(&b, "- RDB file of the dataset (written by the primary's SAVE): %.1f MB\n", float64(res.RDBBytes)/1e6)
	}
	fmt.Fprintf(&b, "- Repetitions: %d; each cell is the median, with min–max below it when there is more than one repetition\n", res.Config.Reps)
	fmt.Fprintf(&b, "- Reads: redis-benchmark -c %d -n %d, random keys of the command's type\n", res.Config.Clients, res.Config.Requests)
	if len(res.Config.VDRArgs) > 0 {
		fmt.Fprintf(&b, "- vdr settings beyond the defaults: `%s`\n", strings.Join(res.Config.VDRArgs, " "))
	}
	if res.Busy != "" {
		fmt.Fprintf(&b, "- **%s**: treat the figures with care\n", res.Busy)
	} else {
		fmt.Fprintf(&b, "- The machine was idle at the start (load average under 0.5)\n")
	}
	base := res.Config.VDRBase != ""
	if base {
		fmt.Fprintf(&b, "- vdr-base: `%s`, synced and read in the same run\n", res.Config.VDRBase)
		fmt.Fprintf(&b, "\n| measure | vdr | Redis replica | vdr/Redis | vdr-base | vdr/vdr-base | better |\n|---|---|---|---|---|---|---|\n")
	} else {
		fmt.Fprintf(&b, "\n| measure | vdr | Redis replica | vdr/Redis | better |\n|---|---|---|---|---|\n")
	}
	for _, m := range res.Order {
		vals := res.Values[m]
		if _, ok := vals["primary"]; ok {
			continue
		}
		cells := []string{}
		for _, t := range reportTargets {
			cells = append(cells, cell(vals[t], res.Units[m]))
		}
		ratio := "–"
		if r := median(vals["redis"]); r != 0 {
			ratio = fmt.Sprintf("%.2f×", median(vals["vdr"])/r)
		}
		if !base {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m, cells[0], cells[1], ratio, res.Better[m])
			continue
		}
		bratio := "–"
		if r := median(vals["vdr-base"]); r != 0 {
			bratio = fmt.Sprintf("%.2f×", median(vals["vdr"])/r)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", m, cells[0], cells[1], ratio,
			cell(vals["vdr-base"], res.Units[m]), bratio, res.Better[m])
	}
	for _, m := range res.Order {
		if v, ok := res.Values[m]["primary"]; ok {
			fmt.Fprintf(&b, "\n%s: %s.\n", m, cell(v, res.Units[m]))
		}
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(&b, "\nNotes:\n")
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	// Figures from the Go benchmarks (go test -bench) that belong with these
	// are kept in go-benchmarks.md beside RESULTS.md and included as is.
	if extra, err := os.ReadFile(filepath.Join(out, "go-benchmarks.md")); err == nil {
		fmt.Fprintf(&b, "\n%s", extra)
	}
	fmt.Fprintf(&b, "\n## Plots\n\n")
	if plotNote != "" {
		fmt.Fprintf(&b, "%s\n", plotNote)
	}
	for _, p := range plots {
		rel, _ := filepath.Rel(out, p)
		fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(p), ".png"), rel)
	}
	return os.WriteFile(filepath.Join(out, "RESULTS.md"), b.Bytes(), 0o644)
}

func cell(vs []float64, unit string) string {
	if len(vs) == 0 {
		return "–"
	}
	s := fmt.Sprintf("%s %s", num(median(vs)), unit)
	if len(vs) > 1 {
		lo, hi := minMax(vs)
		s += fmt.Sprintf("<br>(%s–%s)", num(lo), num(hi))
	}
	return s
}

func num(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// writePlots renders the lag time series and the read throughput bars
// with gnuplot (Debian's gnuplot-nox). It returns the PNG paths, or a note
// saying why there are none.
func writePlots(res *Results) ([]string, string) {
	dir := plotDir(res.Config.Out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err.Error()
	}
	gp, err := exec.LookPath("gnuplot")
	if err != nil {
		return nil, "No plots: gnuplot is not installed (apt-get install gnuplot-nox; `make bench-compare` does it)."
	}
	var pngs []string
	// Throughput bars: one row per read case and pipeline depth.
	var dat bytes.Buffer
	fmt.Fprintln(&dat, "# case vdr redis")
	for _, m := range res.Order {
		if !strings.HasSuffix(m, ": requests/s") {
			continue
		}
		name := strings.TrimSuffix(m, ": requests/s")
		fmt.Fprintf(&dat, "\"%s\" %.0f %.0f\n", name, median(res.Values[m]["vdr"]), median(res.Values[m]["redis"]))
	}
	tp := filepath.Join(dir, "throughput.dat")
	if err := os.WriteFile(tp, dat.Bytes(), 0o644); err != nil {
		return nil, err.Error()
	}
	script := fmt.Sprintf(`set terminal pngcairo size 1100,500 noenhanced
set output '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'requests/s (median)'
set xtics rotate by -30
set bmargin 9
set rmargin 10
set key top right
set grid ytics
plot '%s' using 2:xtic(1) title 'vdr', '' using 3 title 'Redis replica'
`, filepath.Join(dir, "throughput.png"), tp)
	if err := runGnuplot(gp, script); err != nil {
		return nil, "No plots: gnuplot failed: " + err.Error()
	}
	pngs = append(pngs, filepath.Join(dir, "throughput.png"))
	if res.LagPlot != "" {
		script := fmt.Sprintf(`set terminal pngcairo size 1100,450 noenhanced
set output '%s'
set xlabel 'seconds under write load'
set ylabel 'offset lag (bytes)'
set grid
plot '%s' using 1:3 with lines lw 2 title 'vdr', '' using 1:2 with lines lw 2 title 'Redis replica'
`, filepath.Join(dir, "lag.png"), res.LagPlot)
		if err := runGnuplot(gp, script); err != nil {
			return pngs, "Lag plot failed: " + err.Error()
		}
		pngs = append(pngs, filepath.Join(dir, "lag.png"))
	}
	return pngs, "Plots made with gnuplot (Debian's gnuplot-nox) from the data files beside them."
}

func runGnuplot(bin, script string) error {
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
