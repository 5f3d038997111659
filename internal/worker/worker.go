// Package worker is the worker loop: it pulls units from the queue, resolves
// every address, hands the rows to a batcher that inserts them into the store,
// and acknowledges a unit only after all its rows and its unit-log record are
// stored.
//
// Shutdown order (when Run's context is cancelled): stop fetching; let
// in-flight units finish resolving for up to Config.Grace; cancel the ones
// still resolving and nak them so another worker takes them at once; flush the
// batcher (insert rows, insert unit records) and ack what was stored; return.
// The caller then drains NATS and closes ClickHouse.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Delivery is one delivered unit. Implementations wrap a JetStream message.
type Delivery interface {
	Unit() sweep.Unit
	// Attempt is the delivery count of the unit's message (1 for the first).
	Attempt() uint32
	// AttemptID identifies this attempt and grows with every attempt of
	// the unit, also across re-publishing (see queue.Delivery.AttemptID);
	// it is stored with every row.
	AttemptID() uint64
	// Redelivery reports whether an earlier attempt may have stored rows of
	// the unit; then the worker supersedes them once its own are stored.
	Redelivery() bool
	LastAttempt() bool
	Ack(ctx context.Context) error
	Nak(ctx context.Context, delay time.Duration) error
	InProgress(ctx context.Context) error
}

// Queue is what the worker needs of the work queue.
type Queue interface {
	// Fetch returns up to max deliveries, or none after a short wait when idle.
	Fetch(ctx context.Context, max int) ([]Delivery, error)
	// DeadLetter moves a delivery that will not succeed aside, with a reason.
	DeadLetter(ctx context.Context, d Delivery, reason string) error
	// Idle reports that no unit is queued or in flight anywhere.
	Idle(ctx context.Context) (bool, error)
}

// Store is what the worker needs of the result store.
// Errors for which store.Permanent reports true are not retried: the units
// they concern are dead-lettered with the error.
type Store interface {
	InsertRows(ctx context.Context, rows []sweep.Row) error
	InsertSuperseded(ctx context.Context, es []store.Supersede) error
	InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error
}

// Resolver resolves every address of a unit, calling emit once per address.
type Resolver interface {
	Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error
}

// Defaults of Config, also the defaults of the commands' flags.
const (
	// DefaultBatchRows is the number of waiting rows that flushes a batch.
	DefaultBatchRows = 50000
	// DefaultFlushInterval is the longest a partial batch waits.
	DefaultFlushInterval = 500 * time.Millisecond
	// DefaultGrace is how long in-flight units may finish after shutdown starts.
	DefaultGrace = 10 * time.Second
)

// HeartbeatFor returns the heartbeat interval that suits a consumer's
// AckWait: a quarter of it, at least a second.
func HeartbeatFor(ackWait time.Duration) time.Duration { return max(ackWait/4, time.Second) }

// Config configures a Worker. Queue, Store and Resolver are required.
type Config struct {
	Queue    Queue
	Store    Store
	Resolver Resolver
	// Name identifies the worker in the unit log; default host-pid.
	Name string
	// Units is the number of /24-sized units resolved at once (default 2).
	// Smaller units count for their share of a /24 (a /28 for a sixteenth,
	// see unitWeight), so a worker keeps as many addresses resolving with
	// /28 units as with /24s: 16×Units /28 units at once.
	Units int
	// MaxHeld is the number of /24-sized units a worker holds at most:
	// being resolved or waiting for the store (default 32×Units, at least
	// 64); smaller units count for their share as in Units. It bounds
	// memory when the store is slow or down. A batch is flushed at the
	// latest when it holds MaxHeld−Units of them, so the worker never idles
	// waiting for the flush timer with its slots full.
	MaxHeld int
	// BatchRows flushes the batcher when this many rows wait (default DefaultBatchRows).
	BatchRows int
	// FlushInterval flushes the batcher this long after its first pending
	// unit at the latest (default DefaultFlushInterval). It grows, up to MaxFlushInterval,
	// while inserts are slow (longer than SlowInsert) or the store reports
	// overload (too many parts), and shrinks back after fast inserts.
	FlushInterval time.Duration
	// MaxFlushInterval bounds the adapted flush interval (default 8s, at
	// least FlushInterval). Units heartbeat while they wait for a flush, so
	// it may exceed the consumer's AckWait.
	MaxFlushInterval time.Duration
	// SlowInsert is the insert duration above which the flush interval
	// grows (default 1s: ClickHouse delays an insert by up to 1s when a
	// partition nears its parts_to_throw_insert).
	SlowInsert time.Duration
	// Heartbeat is the interval of InProgress calls for a unit being worked
	// on (default 15s; keep it well under the consumer's AckWait).
	Heartbeat time.Duration
	// Grace is how long in-flight units may keep resolving after shutdown
	// starts before they are cancelled and nakked (default DefaultGrace; negative
	// means none).
	Grace time.Duration
	// StoreGrace is how long, after the grace period, the last batch may keep
	// retrying a failing store before the worker gives up and leaves its
	// units unacked for redelivery (default 30s).
	StoreGrace time.Duration
	// ExitWhenIdle makes Run return when the queue has nothing left for
	// anybody and this worker holds nothing.
	ExitWhenIdle bool
	// RetryBackoff is the first delay between failed store inserts; it
	// doubles up to MaxBackoff (defaults 200ms and 30s).
	RetryBackoff, MaxBackoff time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnUnit, if set, is called after a unit is acked (for progress output).
	OnUnit func(sweep.UnitRecord)
	// OnUnitDone, if set, is called with a unit's outcome counts after it
	// is acked (for metrics). It must be safe for concurrent use.
	OnUnitDone func(sweep.Counts)
	// ObserveInsert, if set, is called with the duration of every try of
	// a row insert, failed tries included (for metrics). It must be safe
	// for concurrent use.
	ObserveInsert func(time.Duration)
	// Routes, if set, fills the asn and country of every row stored (the
	// routing at resolve time, see Routes); without it they are 0 and "".
	Routes Router
	// Exclude is the worker's own blocklist: a unit that overlaps it is
	// refused (dead-lettered at once, never resolved). Units overlapping the
	// IANA special-purpose ranges are refused too unless their scan was
	// planned with --allow-reserved.
	Exclude cidr.Set
}

// Worker runs the worker loop. Create it with New and run it once with Run.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	stats Stats
	beats *heartbeats
}

// slotsPerUnit is the number of slots (of Units and MaxHeld) a /24 or
// larger unit takes; a smaller unit takes one per slotAddrs addresses, at
// least one.
const (
	slotsPerUnit = 16
	slotAddrs    = 256 / slotsPerUnit
)

// unitWeight returns the slots a unit of n addresses takes: a /24 or more
// slotsPerUnit, a /28 one.
func unitWeight(n uint64) int {
	return int(min(max((n+slotAddrs-1)/slotAddrs, 1), slotsPerUnit))
}

// flushAt returns the slot count of waiting units that flushes a batch:
// everything held except what the resolving slots take.
func (w *Worker) flushAt() int { return (w.cfg.MaxHeld - w.cfg.Units) * slotsPerUnit }

// Stats are a worker's running totals; read them with Worker.Stats.
type Stats struct {
	UnitsAcked, UnitsNakked, UnitsDead, Flushes, FlushErrors, Rows atomic.Uint64
	// FlushInterval is the batcher's current, adapted flush interval in
	// nanoseconds.
	FlushInterval atomic.Int64
}

// New validates cfg and returns a Worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Queue == nil || cfg.Store == nil || cfg.Resolver == nil {
		return nil, errors.New("worker: Queue, Store and Resolver are required")
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Units, 2)
	def(&cfg.MaxHeld, max(64, 32*cfg.Units))
	cfg.MaxHeld = max(cfg.MaxHeld, cfg.Units+1)
	def(&cfg.BatchRows, DefaultBatchRows)
	defd(&cfg.FlushInterval, DefaultFlushInterval)
	defd(&cfg.MaxFlushInterval, 8*time.Second)
	cfg.MaxFlushInterval = max(cfg.MaxFlushInterval, cfg.FlushInterval)
	defd(&cfg.SlowInsert, time.Second)
	defd(&cfg.Heartbeat, 15*time.Second)
	defd(&cfg.RetryBackoff, 200*time.Millisecond)
	defd(&cfg.MaxBackoff, 30*time.Second)
	defd(&cfg.StoreGrace, 30*time.Second)
	if cfg.Grace < 0 {
		cfg.Grace = 0
	} else if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{cfg: cfg, log: cfg.Logger.With("worker", cfg.Name), beats: newHeartbeats(cfg.Heartbeat)}, nil
}

// Stats returns the worker's running totals. Safe to call at any time.
func (w *Worker) Stats() *Stats { return &w.stats }

// Run pulls and processes units until ctx is cancelled (or, with
// ExitWhenIdle, until the queue is empty), then shuts down in the documented
// order. Failures of single units (fetch, resolve, store) are retried,
// handed back or dead-lettered and logged, never returned, so Run has no
// error to report: it returns once everything fetched is acked or handed
// back.
func (w *Worker) Run(ctx context.Context) {
	// resolveCtx outlives ctx by the grace period; batchCtx outlives both so
	// that everything resolved is stored and acked.
	resolveCtx, cancelResolve := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelResolve()
	batchCtx, cancelBatch := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBatch()

	b := newBatcher(w, batchCtx)
	var batchWG sync.WaitGroup
	batchWG.Add(1)
	go func() { defer batchWG.Done(); b.run() }()

	// One heartbeat loop for every unit held; it stops once they are done.
	beatCtx, stopBeats := context.WithCancel(resolveCtx)
	var beatWG sync.WaitGroup
	beatWG.Add(1)
	go func() { defer beatWG.Done(); w.beats.run(beatCtx) }()
	defer func() { stopBeats(); beatWG.Wait() }()

	// Two kinds of token bound what a worker holds. resolving: one per unit
	// being resolved (Units). held: one per unit fetched and not yet acked
	// or handed back (MaxHeld), which includes units waiting for the store;
	// when the store is down, held fills up and fetching stops. Only this
	// loop acquires tokens, so once it holds one of each, the free counts
	// are exact.
	//
	// Tokens are slots: a /24 (or larger) unit takes slotsPerUnit of each,
	// a /28 one (unitWeight). The loop fetches as many units as the free
	// slots hold at the size of the last unit fetched, so many small units
	// resolve at once and the engine's window stays as full as with /24s.
	resolving := make(chan struct{}, w.cfg.Units*slotsPerUnit)
	held := make(chan struct{}, w.cfg.MaxHeld*slotsPerUnit)
	weight := slotsPerUnit // of the last unit fetched
	var units sync.WaitGroup
	backoff := w.cfg.RetryBackoff
	// take acquires n slots of each kind, or none when ctx ends; give
	// hands n of each back.
	take := func(n int) bool {
		if !acquireN(ctx, held, n) {
			return false
		}
		if !acquireN(ctx, resolving, n) {
			release(held, n)
			return false
		}
		return true
	}
	give := func(n int) {
		release(resolving, n)
		release(held, n)
	}
fetch:
	for {
		// Wait for a batch of free slots before pulling: with small units
		// each completion frees one slot, and a pull request per unit
		// costs the queue more than resolving a /28 does.
		want := fetchSlots(cap(resolving), cap(held), weight)
		if !take(want) {
			break
		}
		have := want // slots of each kind this loop holds for the units it fetches
		free := (have + min(cap(resolving)-len(resolving), cap(held)-len(held))) / weight
		ds, err := w.cfg.Queue.Fetch(ctx, max(free, 1))
		if err != nil || len(ds) == 0 {
			give(have)
			if ctx.Err() != nil {
				break
			}
			if err != nil {
				w.log.Warn("fetch units", "err", err, "retry_in", backoff)
				if !sleep(ctx, backoff) {
					break
				}
				backoff = min(backoff*2, w.cfg.MaxBackoff)
				continue
			}
			if w.cfg.ExitWhenIdle && len(held) == 0 {
				idle, err := w.cfg.Queue.Idle(ctx)
				if err != nil && ctx.Err() == nil {
					w.log.Warn("check whether the queue is idle", "err", err)
				}
				if idle && len(held) == 0 {
					w.log.Info("queue is empty; exiting")
					break fetch
				}
			}
			continue
		}
		backoff = w.cfg.RetryBackoff
		for i, d := range ds {
			wt := unitWeight(uint64(d.Unit().Addresses()))
			weight = wt
			// Slots held from the batch go first; a unit larger than what
			// is left may wait here for slots to free up.
			if need := wt - have; need > 0 {
				if !take(need) {
					give(have)
					w.handBack(ctx, ds[i:])
					break fetch
				}
				have = wt
			}
			have -= wt
			units.Add(1)
			go func() {
				defer units.Done()
				defer release(held, wt)
				w.process(ctx, resolveCtx, b, d, func() { release(resolving, wt) })
			}()
		}
		give(have)
	}

	// Shutdown: give in-flight units the grace period, then cancel them; the
	// store gets StoreGrace more for the last batch.
	finished := make(chan struct{})
	defer close(finished)
	if ctx.Err() != nil {
		go func() {
			select {
			case <-time.After(w.cfg.Grace + w.cfg.StoreGrace):
				cancelBatch()
			case <-finished:
			}
		}()
	}
	done := make(chan struct{})
	go func() { units.Wait(); close(done) }()
	if ctx.Err() != nil {
		select {
		case <-done:
		case <-time.After(w.cfg.Grace):
			w.log.Info("grace period over; cancelling in-flight units", "grace", w.cfg.Grace)
			cancelResolve()
			<-done
		}
	} else {
		<-done
	}
	b.close()
	batchWG.Wait()
}

// process resolves one unit and hands its rows to the batcher; it returns
// once the unit is acked, nakked or dead-lettered.
//
// resolved is called exactly once, when the unit no longer resolves.
func (w *Worker) process(runCtx, resolveCtx context.Context, b *batcher, d Delivery, resolved func()) {
	var once sync.Once
	defer once.Do(resolved)
	u := d.Unit()
	log := sync.OnceValue(func() *slog.Logger {
		return w.log.With("unit", u.ID(), "attempt", d.Attempt(), "attempt_id", d.AttemptID())
	})
	defer w.beats.add(d, log)()

	if err := w.refuse(u); err != nil {
		once.Do(resolved)
		w.deadLetter(runCtx, d, log, err)
		return
	}
	rec := sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitDone,
		Worker: w.cfg.Name, Attempt: d.Attempt(), StartedAt: time.Now().UTC()}
	var rows []sweep.Row
	var mu sync.Mutex
	attemptID := d.AttemptID()
	err := w.cfg.Resolver.Resolve(resolveCtx, u, func(r sweep.Result) {
		mu.Lock()
		rec.Counts.Add(r)
		n := len(rows)
		rows = sweep.Rows(rows, u, r)
		for i := n; i < len(rows); i++ {
			rows[i].Attempt = attemptID
		}
		FillRoutes(rows[n:], w.cfg.Routes)
		mu.Unlock()
	})
	once.Do(resolved)
	if err == nil && rec.Counts.Addresses() != uint64(u.Addresses()) {
		err = fmt.Errorf("resolver gave %d outcomes for %d addresses", rec.Counts.Addresses(), u.Addresses())
	}
	if err != nil {
		w.fail(runCtx, resolveCtx, d, log, err)
		return
	}
	rec.Rows = uint32(len(rows))
	rec.FinishedAt = time.Now().UTC()
	p := pending{rows: rows, rec: rec}
	if d.Redelivery() {
		p.supersede = attemptID
	}
	if err := b.submit(p); err != nil {
		if errors.Is(err, errNotStored) {
			// Shutdown while the store was down: leave the unit unacked;
			// it is redelivered after AckWait.
			log().Warn("unit not stored before shutdown; it will be redelivered")
			return
		}
		log().Error("the store refuses the unit's rows; moving it to the dead-letter stream", "err", err)
		w.deadLetter(runCtx, d, log, fmt.Errorf("store unit: %w", err))
		return
	}
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
	defer cancel()
	if err := d.Ack(ackCtx); err != nil {
		// The rows are stored; a redelivery re-inserts rows that collapse.
		log().Warn("ack unit", "err", err)
		return
	}
	w.stats.UnitsAcked.Add(1)
	if w.cfg.OnUnitDone != nil {
		w.cfg.OnUnitDone(rec.Counts)
	}
	if w.cfg.OnUnit != nil {
		w.cfg.OnUnit(rec)
	}
}

// fail naks a unit that could not be resolved, or dead-letters it on its
// last delivery.
func (w *Worker) fail(runCtx, resolveCtx context.Context, d Delivery, log func() *slog.Logger, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
	defer cancel()
	if resolveCtx.Err() != nil {
		// Shutdown: hand the unit back at once.
		if nerr := d.Nak(ctx, 0); nerr != nil {
			log().Warn("nak unit on shutdown", "err", nerr)
		}
		w.stats.UnitsNakked.Add(1)
		return
	}
	if d.LastAttempt() {
		log().Error("unit failed on its last delivery; moving it to the dead-letter stream", "err", err)
		w.deadLetter(runCtx, d, log, err)
		return
	}
	delay := time.Duration(d.Attempt()) * time.Second
	log().Warn("unit failed; it will be retried", "err", err, "retry_in", delay)
	if nerr := d.Nak(ctx, delay); nerr != nil {
		log().Warn("nak unit", "err", nerr)
	}
	w.stats.UnitsNakked.Add(1)
}

// refuse returns why a unit must not be resolved here, or nil.
func (w *Worker) refuse(u sweep.Unit) error {
	unit := cidr.NewSet(u.Prefix)
	if !u.Options.AllowReserved {
		if in := unit.Intersect(cidr.ReservedSet()); !in.Empty() {
			return fmt.Errorf("unit %s overlaps reserved ranges (%s) and its scan was not planned with --allow-reserved; refused", u.Prefix, in)
		}
	}
	if in := unit.Intersect(w.cfg.Exclude); !in.Empty() {
		return fmt.Errorf("unit %s overlaps this worker's --exclude ranges (%s); refused", u.Prefix, in)
	}
	return nil
}

// deadLetter records a unit as failed in the unit log, then moves it to the
// dead-letter stream. Recording comes first and is retried with backoff, so
// a unit is never dead-lettered without status knowing it; if the store
// stays unreachable until shutdown, the unit is handed back instead. Only
// when the unit log refuses the record for good (a permanent error) is the
// unit dead-lettered unrecorded, with an error logged.
func (w *Worker) deadLetter(runCtx context.Context, d Delivery, log func() *slog.Logger, reason error) {
	u := d.Unit()
	now := time.Now().UTC()
	rec := sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitFailed,
		Worker: w.cfg.Name, Attempt: d.Attempt(), Error: reason.Error(), StartedAt: now, FinishedAt: now}
	err := w.retry(runCtx, "record failed unit", func(ctx context.Context) error {
		return w.cfg.Store.InsertUnits(ctx, []sweep.UnitRecord{rec})
	})
	if err != nil && store.Permanent(err) {
		// The unit log refuses the record too: the dead-letter stream
		// still keeps the unit and its reason for coordinator retry.
		log().Error("record failed unit; dead-lettering it anyway", "err", err)
		err = nil
	}
	if err != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
		defer cancel()
		if err := d.Nak(ctx, 0); err != nil {
			log().Warn("nak unit on shutdown", "err", err)
		}
		w.stats.UnitsNakked.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
	defer cancel()
	if err := w.cfg.Queue.DeadLetter(ctx, d, reason.Error()); err != nil {
		// Recorded failed but still queued: it is delivered again, and a
		// later "done" record supersedes the failed one.
		log().Error("dead-letter unit", "err", err)
		return
	}
	w.stats.UnitsDead.Add(1)
}

// retry calls f until it succeeds, waiting RetryBackoff, doubling up to
// MaxBackoff, between tries. It returns nil on success, f's error at once
// when store.Permanent says retrying cannot help, and ctx's error when ctx
// ends first.
func (w *Worker) retry(ctx context.Context, what string, f func(context.Context) error) error {
	backoff := w.cfg.RetryBackoff
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if store.Permanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		w.log.Warn(what+"; retrying", "err", err, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		backoff = min(backoff*2, w.cfg.MaxBackoff)
	}
}

// acquireN puts n tokens into c, or none when ctx ends first.
func acquireN(ctx context.Context, c chan struct{}, n int) bool {
	for i := range n {
		select {
		case c <- struct{}{}:
		case <-ctx.Done():
			release(c, i)
			return false
		}
	}
	return true
}

// release takes n tokens out of c.
func release(c chan struct{}, n int) {
	for range n {
		<-c
	}
}

// handBack naks fetched units that will not be worked on (shutdown while
// they waited for slots), so that another worker takes them at once.
func (w *Worker) handBack(runCtx context.Context, ds []Delivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
	defer cancel()
	for _, d := range ds {
		if err := d.Nak(ctx, 0); err != nil {
			w.log.Warn("nak unit on shutdown", "unit", d.Unit().ID(), "err", err)
		}
		w.stats.UnitsNakked.Add(1)
	}
}

// sleep waits for d or ctx; it reports whether the full wait happened.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fetchShare is the share of the slots (1/fetchShare) the fetch loop
// waits for before it pulls more small units.
const fetchShare = 4

// fetchSlots returns the free slots the fetch loop waits for before it
// pulls units: one unit of the size last fetched, or a share of the slots
// when that is more, so small units come several to a pull request.
func fetchSlots(resolving, held, weight int) int {
	capacity := min(resolving, held)
	return min(max(weight, capacity/fetchShare), capacity)
}
