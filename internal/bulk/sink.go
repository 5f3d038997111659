package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// sink receives the engine's results from any goroutine, writes their rows
// and counts them. It is safe for concurrent use.
type sink struct {
	scan string
	stop func() // stops the reading after a failure
	done atomic.Uint64

	mu     sync.Mutex // guards the fields below
	w      output.RowWriter
	rows   []sweep.Row
	counts sweep.Counts
	werr   error // the first write error: no row is written after it
	rerr   error // the first engine error
}

// emit writes the rows of r. Each address is its own unit in the rows.
func (s *sink) emit(r sweep.Result) {
	s.done.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Add(r)
	if s.werr != nil {
		return
	}
	s.rows = sweep.Rows(s.rows[:0], sweep.Unit{Scan: s.scan, Prefix: netip.PrefixFrom(r.IP, 32)}, r)
	for _, row := range s.rows {
		if err := s.w.Write(row); err != nil {
			s.werr = err
			s.stop()
			return
		}
	}
}

// fail records an engine error and stops the reading.
func (s *sink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rerr == nil || errors.Is(s.rerr, context.Canceled) {
		s.rerr = err
	}
	s.stop()
}

func (s *sink) writeErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

func (s *sink) resolveErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rerr
}

// summary writes the two summary lines:
//
//	NAME: N addresses, N PTRs in D (X addresses/s, Q queries, Y qps); ok=… nxdomain=…
//	NAME: engine: …
func (s *sink) summary(w io.Writer, name string, elapsed time.Duration, st resolve.Stats) {
	s.mu.Lock()
	c := s.counts
	s.mu.Unlock()
	secs := max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "%s: %d addresses, %d PTRs in %s (%.0f addresses/s, %d queries, %.0f qps); %s\n",
		name, c.Addresses(), c.PTRs, elapsed.Round(time.Millisecond), float64(c.Addresses())/secs, c.Queries, float64(c.Queries)/secs, c)
	fmt.Fprintf(w, "%s: %s\n", name, st)
}
