package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// pending is one resolved unit waiting to be stored: all its rows and its
// unit-log record. A unit is never split across inserts.
type pending struct {
	rows []sweep.Row
	rec  sweep.UnitRecord
	done chan bool // receives true once stored, false if it never will be
}

// batcher collects resolved units and stores them in batches of about
// BatchRows rows, or FlushInterval after the first waiting unit. A flush
// inserts the rows first and the unit records second, so a "done" unit record
// implies its rows are stored; failed inserts are retried with backoff until
// they succeed or the batcher's context ends. Units wait in submit while their
// batch is stored, which holds their worker slot: a store outage stops the
// worker from fetching more units (backpressure), it does not buffer them.
//
// The batcher is owned by Worker.Run: run is its one goroutine, close asks it
// to flush what waits and stop.
type batcher struct {
	w      *Worker
	ctx    context.Context
	in     chan pending
	closed chan struct{}
}

func newBatcher(w *Worker, ctx context.Context) *batcher {
	return &batcher{w: w, ctx: ctx, in: make(chan pending), closed: make(chan struct{})}
}

// submit hands a unit to the batcher and waits until it is stored (true) or
// will not be (false: the batcher's context ended first).
func (b *batcher) submit(p pending) bool {
	p.done = make(chan bool, 1)
	select {
	case b.in <- p:
	case <-b.closed:
		return false
	}
	return <-p.done
}

// close makes run flush what waits and return. Call it once, after every
// submit has returned.
func (b *batcher) close() { close(b.closed) }

func (b *batcher) run() {
	var (
		batch []pending
		rows  int
		slots int // of the units in batch (unitWeight)
		timer *time.Timer
		tick  <-chan time.Time
	)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ok := b.store(batch, rows)
		for _, p := range batch {
			p.done <- ok
		}
		batch, rows, slots = nil, 0, 0
		if timer != nil {
			timer.Stop()
			timer, tick = nil, nil
		}
	}
	for {
		select {
		case p := <-b.in:
			batch = append(batch, p)
			rows += len(p.rows)
			slots += unitWeight(p.rec.Counts.Addresses())
			if timer == nil {
				timer = time.NewTimer(b.w.cfg.FlushInterval)
				tick = timer.C
			}
			// Flush on size, or when the units waiting would otherwise
			// hold every slot the fetch loop has left.
			if rows >= b.w.cfg.BatchRows || slots >= b.w.flushAt() {
				flush()
			}
		case <-tick:
			timer, tick = nil, nil
			flush()
		case <-b.closed:
			flush()
			return
		}
	}
}

// store inserts a batch, retrying with backoff; it reports success.
func (b *batcher) store(batch []pending, n int) bool {
	rows := make([]sweep.Row, 0, n)
	recs := make([]sweep.UnitRecord, 0, len(batch))
	for _, p := range batch {
		rows = append(rows, p.rows...)
		recs = append(recs, p.rec)
	}
	insertedRows := len(rows) == 0
	ok := b.w.retry(b.ctx, "store batch", func(ctx context.Context) error {
		if !insertedRows {
			if err := b.w.cfg.Store.InsertRows(ctx, rows); err != nil {
				b.w.stats.FlushErrors.Add(1)
				return fmt.Errorf("insert %d rows of %d units: %w", len(rows), len(recs), err)
			}
			insertedRows = true
		}
		if err := b.w.cfg.Store.InsertUnits(ctx, recs); err != nil {
			b.w.stats.FlushErrors.Add(1)
			return fmt.Errorf("record %d units: %w", len(recs), err)
		}
		return nil
	})
	if ok {
		b.w.stats.Flushes.Add(1)
		b.w.stats.Rows.Add(uint64(len(rows)))
	}
	return ok
}
