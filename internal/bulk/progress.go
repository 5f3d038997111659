package bulk

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// progress draws one line on a terminal, redrawn in place: addresses done,
// the rate, and, when the input is a regular file, how much of it is read
// and an ETA estimated from that share. (schollz/progressbar, which the
// coordinator uses, wants a known total; a piped list has none.)
type progress struct {
	w     io.Writer
	name  string
	done  *atomic.Uint64
	in    *input
	start time.Time
}

// run redraws the line every interval until ctx ends, then clears it.
func (p *progress) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(p.w, "\r\x1b[K")
			return
		case now := <-t.C:
			fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(now))
		}
	}
}

// line is the progress text at now.
func (p *progress) line(now time.Time) string {
	n := p.done.Load()
	elapsed := now.Sub(p.start)
	s := fmt.Sprintf("%s: %d addresses, %.0f/s", p.name, n, float64(n)/max(elapsed.Seconds(), 1e-9))
	if p.in.size > 0 {
		frac := min(float64(p.in.read.Load())/float64(p.in.size), 1)
		s += fmt.Sprintf(", %.0f%% of %s read", 100*frac, p.in.name)
		if frac >= 0.01 && frac < 1 {
			eta := time.Duration(float64(elapsed) * (1 - frac) / frac)
			s += ", ETA " + eta.Round(time.Second).String()
		}
	}
	return s
}
