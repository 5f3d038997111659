package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// errNotStored is what submit returns for a unit whose batch could not be
// stored before the batcher's context ended: it is left for redelivery.
var errNotStored = errors.New("unit not stored before shutdown")

// pending is one resolved unit waiting to be stored: all its rows and its
// unit-log record. A unit is never split across inserts.
type pending struct {
	rows []sweep.Row
	rec  sweep.UnitRecord
	// supersede, when not zero, is the unit's attempt ID: an earlier attempt
	// may have stored rows, so a superseded entry hides them.
	supersede uint64
	done      chan error // receives nil once stored, or why it was not
}

// batcher collects resolved units and stores them in batches of about
// BatchRows rows, or a flush interval after the first waiting unit. A flush
// inserts the rows first, then the superseded entries of redelivered units,
// then the unit records, so a "done" unit record implies its rows are
// stored and current. Transient insert errors are retried with backoff until
// they succeed or the batcher's context ends. A permanent error (see
// store.Permanent) is not retried: the batch is stored again unit by unit,
// and each unit that still fails is handed back to its process goroutine
// with the error, which dead-letters it. Units wait in submit while their
// batch is stored, which holds their worker slot: a store outage stops the
// worker from fetching more units (backpressure), it does not buffer them.
//
// The flush interval adapts to the server: when an insert is slow (longer
// than SlowInsert) or the server says it is overloaded (too many parts,
// memory limit), the interval doubles, up to MaxFlushInterval, so the fleet
// makes fewer, larger parts; after a fast insert it shrinks by a quarter
// back towards FlushInterval.
//
// The batcher is owned by Worker.Run: run is its one goroutine, close asks it
// to flush what waits and stop.
type batcher struct {
	w        *Worker
	ctx      context.Context
	in       chan pending
	closed   chan struct{}
	interval time.Duration // current flush interval, owned by run
}

func newBatcher(w *Worker, ctx context.Context) *batcher {
	b := &batcher{w: w, ctx: ctx, in: make(chan pending), closed: make(chan struct{}), interval: w.cfg.FlushInterval}
	w.stats.FlushInterval.Store(int64(b.interval))
	return b
}

// submit hands a unit to the batcher and waits until it is stored (nil), will
// not be (errNotStored: the batcher's context ended first), or cannot be (a
// permanent store error).
func (b *batcher) submit(p pending) error {
	p.done = make(chan error, 1)
	select {
	case b.in <- p:
	case <-b.closed:
		return errNotStored
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
		errs := b.store(batch, rows)
		for i, p := range batch {
			p.done <- errs[i]
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
				timer = time.NewTimer(b.interval)
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

// store stores a batch and returns, per unit, nil or why it was not stored.
func (b *batcher) store(batch []pending, n int) []error {
	errs := make([]error, len(batch))
	err := b.insert(batch, n)
	if err == nil || !store.Permanent(err) || len(batch) == 1 {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// A permanent error: find the units that cause it.
	b.w.log.Warn("batch refused by the store; storing its units one by one", "units", len(batch), "err", err)
	for i, p := range batch {
		errs[i] = b.insert(batch[i:i+1], len(p.rows))
	}
	return errs
}

// insert inserts the rows, superseded entries and unit records of units,
// retrying transient errors with backoff. It returns nil, a permanent error,
// or errNotStored when the batcher's context ended first. Each step that
// succeeded is not repeated by the retries.
func (b *batcher) insert(units []pending, n int) error {
	rows := make([]sweep.Row, 0, n)
	recs := make([]sweep.UnitRecord, 0, len(units))
	var sup []store.Supersede
	for _, p := range units {
		rows = append(rows, p.rows...)
		recs = append(recs, p.rec)
		if p.supersede != 0 {
			sup = append(sup, store.Supersede{Scan: p.rec.Scan, Unit: p.rec.Unit, Below: p.supersede})
		}
	}
	step := 0
	if len(rows) == 0 {
		step = 1
	}
	err := b.w.retry(b.ctx, "store batch", func(ctx context.Context) error {
		start := time.Now()
		err := b.steps(ctx, &step, rows, sup, recs)
		b.adapt(time.Since(start), err)
		if err != nil {
			b.w.stats.FlushErrors.Add(1)
		}
		return err
	})
	if err != nil {
		if store.Permanent(err) {
			return err
		}
		return errNotStored
	}
	b.w.stats.Flushes.Add(1)
	b.w.stats.Rows.Add(uint64(len(rows)))
	return nil
}

// steps runs the inserts of a batch from *step on, advancing *step past each
// one that succeeded.
func (b *batcher) steps(ctx context.Context, step *int, rows []sweep.Row, sup []store.Supersede, recs []sweep.UnitRecord) error {
	st := b.w.cfg.Store
	if *step == 0 {
		start := time.Now()
		err := st.InsertRows(ctx, rows)
		if b.w.cfg.ObserveInsert != nil {
			b.w.cfg.ObserveInsert(time.Since(start))
		}
		if err != nil {
			return fmt.Errorf("insert %d rows of %d units: %w", len(rows), len(recs), err)
		}
		*step = 1
	}
	if *step == 1 && len(sup) > 0 {
		if err := st.InsertSuperseded(ctx, sup); err != nil {
			return fmt.Errorf("mark earlier attempts of %d units superseded: %w", len(sup), err)
		}
	}
	*step = 2
	if err := st.InsertUnits(ctx, recs); err != nil {
		return fmt.Errorf("record %d units: %w", len(recs), err)
	}
	return nil
}

// adapt updates the flush interval after an insert that took d and ended
// with err (see batcher).
func (b *batcher) adapt(d time.Duration, err error) {
	cfg := b.w.cfg
	old := b.interval
	switch {
	case store.Overloaded(err) || d > cfg.SlowInsert:
		b.interval = min(2*b.interval, cfg.MaxFlushInterval)
	case err == nil:
		b.interval = max(b.interval-b.interval/4, cfg.FlushInterval)
	}
	if b.interval != old {
		b.w.stats.FlushInterval.Store(int64(b.interval))
		if b.interval > old {
			b.w.log.Info("store is slow or overloaded; flushing less often", "flush_interval", b.interval, "insert_seconds", d.Seconds(), "err", err)
		}
	}
}
