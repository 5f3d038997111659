package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// heartbeats keeps the AckWait clock of the units a worker works on from
// running out: one goroutine for all of them, so a small unit costs a map
// entry instead of a goroutine and a ticker. A unit registered at t gets
// InProgress calls from t+every on, every every (within every/4).
type heartbeats struct {
	every time.Duration
	mu    sync.Mutex
	next  uint64
	units map[uint64]*beating
}

// beating is one registered unit.
type beating struct {
	d   Delivery
	due time.Time
	log func() *slog.Logger
}

func newHeartbeats(every time.Duration) *heartbeats {
	return &heartbeats{every: every, units: make(map[uint64]*beating)}
}

// add registers d and returns the function that unregisters it; after it
// returns no new InProgress call for d starts.
func (h *heartbeats) add(d Delivery, log func() *slog.Logger) (remove func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	h.units[id] = &beating{d: d, due: time.Now().Add(h.every), log: log}
	return func() {
		h.mu.Lock()
		delete(h.units, id)
		h.mu.Unlock()
	}
}

// run calls InProgress for the units that are due until ctx ends.
func (h *heartbeats) run(ctx context.Context) {
	t := time.NewTicker(max(h.every/4, time.Millisecond))
	defer t.Stop()
	var due []*beating
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due = due[:0]
			h.mu.Lock()
			for _, b := range h.units {
				if !now.Before(b.due) {
					b.due = now.Add(h.every)
					due = append(due, b)
				}
			}
			h.mu.Unlock()
			for _, b := range due {
				if err := b.d.InProgress(ctx); err != nil && ctx.Err() == nil {
					b.log().Warn("heartbeat", "err", err)
				}
			}
		}
	}
}
