package resolve

import (
	"context"
	"sync"
	"time"
)

// window is the adaptive in-flight window: the number of addresses a
// Resolver resolves at once. It starts small, grows by one for every
// window's worth of answers (additive increase) and shrinks by a quarter
// on a timeout in a zone that does answer (a drop) or when the share of
// such timeouts rises above timeoutTarget (multiplicative decrease), at
// most once per decrease interval. Timeouts in zones that never answered (a silent
// server) do not shrink it: they are not congestion. It is safe for
// concurrent use.
type window struct {
	tokens chan struct{} // one token per free slot; capacity max

	mu       sync.Mutex
	limit    int // current window
	min, max int
	debt     int // slots to withhold from release after a decrease
	answers  int // answers since the last increase
	tries    int // tries and timeouts since the last decrease check
	timeouts int
	lastDec  time.Time
}

// Window tuning.
const (
	initialWindow  = 128
	minWindow      = 16
	timeoutTarget  = 0.02 // timeouts per try above which the window shrinks
	decreaseEvery  = 100 * time.Millisecond
	decreaseSample = 64 // tries looked at before deciding
)

func newWindow(max int) *window {
	w := &window{tokens: make(chan struct{}, max), max: max, min: min(minWindow, max)}
	w.limit = min(initialWindow, max)
	for range w.limit {
		w.tokens <- struct{}{}
	}
	return w
}

// acquire takes a slot, waiting for one or for ctx to end.
func (w *window) acquire(ctx context.Context) error {
	select {
	case <-w.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes a slot if one is free at once.
func (w *window) tryAcquire() bool {
	select {
	case <-w.tokens:
		return true
	default:
		return false
	}
}

// release returns a slot taken by acquire.
func (w *window) release() {
	w.mu.Lock()
	if w.debt > 0 {
		w.debt--
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.tokens <- struct{}{}
}

// answered records a try that got an answer.
func (w *window) answered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tries++
	if w.answers++; w.answers >= w.limit && w.limit < w.max {
		w.answers = 0
		w.limit++
		if w.debt > 0 {
			w.debt--
		} else {
			w.tokens <- struct{}{} // never blocks: fewer than max tokens exist
		}
	}
	w.check()
}

// timedOut records a try that timed out; congestion says whether it counts
// as loss (the zone answers other queries).
func (w *window) timedOut(congestion bool) {
	if !congestion {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tries++
	w.timeouts++
	// A lost answer in a zone that answers may be a drop or just a late
	// answer on a busy machine: shrink only when the share of such
	// timeouts over a sample is above target.
	w.check()
}

// decrease shrinks the window by a quarter. w.mu is held.
func (w *window) decrease(now time.Time) {
	w.lastDec = now
	w.tries, w.timeouts = 0, 0
	next := max(w.min, w.limit*3/4)
	w.debt += w.limit - next
	w.limit = next
	w.answers = 0
}

// check shrinks the window when the recent timeout share is above target.
// w.mu is held.
func (w *window) check() {
	if w.tries < decreaseSample {
		return
	}
	share := float64(w.timeouts) / float64(w.tries)
	if share <= timeoutTarget {
		w.tries, w.timeouts = 0, 0
		return
	}
	if now := time.Now(); now.Sub(w.lastDec) >= decreaseEvery {
		w.decrease(now)
	}
}

// size returns the current window.
func (w *window) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.limit
}

// rttEstimator keeps a server's smoothed RTT and variance (RFC 6298) and
// derives the retransmit timeout of a try. It is safe for concurrent use.
type rttEstimator struct {
	mu     sync.Mutex
	srtt   time.Duration
	rttvar time.Duration
	seen   bool
}

// minRTO is the shortest retransmit timeout: below it scheduling noise on
// a loaded machine would send needless repeats. Servers whose round-trip
// times vary (a recursive resolver's cache misses) get a longer one from
// their variance; the floor matters for a server that answers fast and
// steadily, where a long one turns each dropped query into a stall (a
// local Knot drops beyond its socket buffer). A late answer to a repeated
// query is dropped as Unmatched.
const minRTO = 50 * time.Millisecond

func (e *rttEstimator) observe(rtt time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.seen {
		e.srtt, e.rttvar, e.seen = rtt, rtt/2, true
		return
	}
	d := e.srtt - rtt
	if d < 0 {
		d = -d
	}
	e.rttvar = (3*e.rttvar + d) / 4
	e.srtt = (7*e.srtt + rtt) / 8
}

// rto returns the retransmit timeout, at least minRTO and at most limit;
// limit before any measurement.
func (e *rttEstimator) rto(limit time.Duration) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.seen {
		return limit
	}
	return min(max(e.srtt+4*e.rttvar, minRTO), limit)
}
