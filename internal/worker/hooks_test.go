package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// TestMetricHooks checks the two metric hooks: OnUnitDone sees every acked
// unit's counts once, and ObserveInsert sees every try of a row insert,
// the failed one included.
func TestMetricHooks(t *testing.T) {
	ds := units(6)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var mu sync.Mutex
	var tries, observed int
	var done sweep.Counts
	var doneCalls int
	st := fakeStore{
		insertRows: func(context.Context, []sweep.Row) error {
			mu.Lock()
			defer mu.Unlock()
			tries++
			if tries == 1 {
				return errors.New("connection refused")
			}
			return nil
		},
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, Units: 2, Logger: quiet,
		BatchRows: 1000, FlushInterval: 10 * time.Millisecond, RetryBackoff: time.Millisecond, ExitWhenIdle: true,
		OnUnitDone: func(c sweep.Counts) {
			mu.Lock()
			defer mu.Unlock()
			doneCalls++
			done.OK += c.OK
			done.PTRs += c.PTRs
		},
		ObserveInsert: func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if d < 0 {
				t.Errorf("ObserveInsert(%v): negative duration", d)
			}
			observed++
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if doneCalls != len(ds) {
		t.Errorf("OnUnitDone called %d times, want %d", doneCalls, len(ds))
	}
	// Each /28 unit has 16 addresses, each with one PTR (fakeResolver).
	if want := uint32(16 * len(ds)); done.OK != want || done.PTRs != want {
		t.Errorf("OnUnitDone counts: ok=%d ptrs=%d, want %d each", done.OK, done.PTRs, want)
	}
	if observed != tries || tries < 2 {
		t.Errorf("ObserveInsert called %d times for %d insert tries, want one per try (and at least 2: one failed)", observed, tries)
	}
	if got := w.Stats().UnitsAcked.Load(); got != uint64(len(ds)) {
		t.Errorf("UnitsAcked = %d, want %d", got, len(ds))
	}
}
