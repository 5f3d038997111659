package resolve

import (
	"context"
	"sync"
	"sync/atomic"
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

	inFlight, peak atomic.Int64 // slots taken now, and the most at once

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
	win := &window{tokens: make(chan struct{}, max), max: max, min: min(minWindow, max)}
	win.limit = min(initialWindow, max)
	for range win.limit {
		win.tokens <- struct{}{}
	}
	return win
}

// acquire takes a slot, waiting for one or for ctx to end.
func (win *window) acquire(ctx context.Context) error {
	select {
	case <-win.tokens:
		win.took()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes a slot if one is free at once.
func (win *window) tryAcquire() bool {
	select {
	case <-win.tokens:
		win.took()
		return true
	default:
		return false
	}
}

// took counts a slot taken and keeps the peak.
func (win *window) took() {
	n := win.inFlight.Add(1)
	for p := win.peak.Load(); n > p && !win.peak.CompareAndSwap(p, n); p = win.peak.Load() {
	}
}

// release returns a slot taken by acquire.
func (win *window) release() {
	win.inFlight.Add(-1)
	win.mu.Lock()
	if win.debt > 0 {
		win.debt--
		win.mu.Unlock()
		return
	}
	win.mu.Unlock()
	win.tokens <- struct{}{}
}

// answered records a try that got an answer.
func (win *window) answered() {
	win.mu.Lock()
	defer win.mu.Unlock()
	win.tries++
	if win.answers++; win.answers >= win.limit && win.limit < win.max {
		win.answers = 0
		win.limit++
		if win.debt > 0 {
			win.debt--
		} else {
			win.tokens <- struct{}{} // never blocks: fewer than max tokens exist
		}
	}
	win.check()
}

// timedOut records a try that timed out; congestion says whether it counts
// as loss (the zone answers other queries).
func (win *window) timedOut(congestion bool) {
	if !congestion {
		return
	}
	win.mu.Lock()
	defer win.mu.Unlock()
	win.tries++
	win.timeouts++
	// A lost answer in a zone that answers may be a drop or just a late
	// answer on a busy machine: shrink only when the share of such
	// timeouts over a sample is above target.
	win.check()
}

// decrease shrinks the window by a quarter. win.mu is held.
func (win *window) decrease(now time.Time) {
	win.lastDec = now
	win.tries, win.timeouts = 0, 0
	next := max(win.min, win.limit*3/4)
	win.debt += win.limit - next
	win.limit = next
	win.answers = 0
}

// check shrinks the window when the recent timeout share is above target.
// win.mu is held.
func (win *window) check() {
	if win.tries < decreaseSample {
		return
	}
	share := float64(win.timeouts) / float64(win.tries)
	if share <= timeoutTarget {
		win.tries, win.timeouts = 0, 0
		return
	}
	if now := time.Now(); now.Sub(win.lastDec) >= decreaseEvery {
		win.decrease(now)
	}
}

// size returns the current window.
func (win *window) size() int {
	win.mu.Lock()
	defer win.mu.Unlock()
	return win.limit
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

func (est *rttEstimator) observe(rtt time.Duration) {
	est.mu.Lock()
	defer est.mu.Unlock()
	if !est.seen {
		est.srtt, est.rttvar, est.seen = rtt, rtt/2, true
		return
	}
	d := est.srtt - rtt
	if d < 0 {
		d = -d
	}
	est.rttvar = (3*est.rttvar + d) / 4
	est.srtt = (7*est.srtt + rtt) / 8
}

// rto returns the retransmit timeout, at least minRTO and at most limit;
// limit before any measurement.
func (est *rttEstimator) rto(limit time.Duration) time.Duration {
	est.mu.Lock()
	defer est.mu.Unlock()
	if !est.seen {
		return limit
	}
	return min(max(est.srtt+4*est.rttvar, minRTO), limit)
}
