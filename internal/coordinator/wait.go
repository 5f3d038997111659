package coordinator

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ptrsweep/ptrsweep/internal/store"
)

type waitOptions struct {
	out      io.Writer
	terminal bool
	interval time.Duration
	poll     time.Duration
	errs     <-chan error // a fatal error from a component ends the wait
}

// wait polls the unit log until every unit of the scan is done or failed,
// drawing progress on a terminal (a bar with ETA) or as plain periodic lines.
func wait(ctx context.Context, st progressReader, scan string, units int, addresses uint64, o waitOptions) (*store.Progress, error) {
	if o.poll <= 0 {
		o.poll = 250 * time.Millisecond
	}
	if o.interval <= 0 {
		o.interval = 10 * time.Second
	}
	var bar *progressbar.ProgressBar
	if o.out != nil && o.terminal {
		bar = progressbar.NewOptions64(int64(units),
			progressbar.OptionSetWriter(o.out),
			progressbar.OptionSetDescription("units"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionFullWidth(),
		)
	}
	start := time.Now()
	lastLine := start
	tick := time.NewTicker(o.poll)
	defer tick.Stop()
	var last *store.Progress
	for {
		p, err := st.Progress(ctx, scan)
		if err == nil {
			last = &p
			finished := p.UnitsDone + p.UnitsFailed
			if bar != nil {
				_ = bar.Set64(int64(finished))
			} else if o.out != nil && (time.Since(lastLine) >= o.interval || finished >= units) {
				lastLine = time.Now()
				fmt.Fprintln(o.out, progressLine(scan, finished, units, p, time.Since(start)))
			}
			if finished >= units {
				if bar != nil {
					_ = bar.Finish()
					fmt.Fprintln(o.out)
				}
				return last, nil
			}
		} else if ctx.Err() == nil && o.out != nil {
			fmt.Fprintf(o.out, "progress: %v (retrying)\n", err)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case err := <-o.errs:
			return last, err
		case <-tick.C:
		}
	}
}

// progressLine is one plain progress line.
func progressLine(scan string, finished, units int, p store.Progress, elapsed time.Duration) string {
	addrs := p.Counts.Addresses()
	rate := float64(addrs) / max(elapsed.Seconds(), 1e-9)
	eta := "-"
	if finished > 0 && finished < units {
		eta = (time.Duration(float64(elapsed) * float64(units-finished) / float64(finished))).Round(time.Second).String()
	}
	return fmt.Sprintf("scan %s: %d/%d units (%.1f%%), %d failed, %d addresses, %d PTRs, %.0f addresses/s, ETA %s",
		scan, finished, units, 100*float64(finished)/float64(max(units, 1)), p.UnitsFailed, addrs, p.Counts.PTRs, rate, eta)
}
