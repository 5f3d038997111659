package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Feeder defaults.
const (
	// DefaultMaxPending is how many of a scan's units the feeder keeps in
	// the work stream: enough for a large fleet to work for a while (at
	// 4,000 /24 units a second, a million addresses a second, the refill
	// threshold of half of it lasts 12 s), small enough that the NATS
	// server holds a few tens of MB for it whatever the scan's size.
	DefaultMaxPending = 100_000
	// DefaultFeedBatch is how many units the feeder publishes before it
	// saves the plan cursor; a restarted feeder checks this many units
	// one by one.
	DefaultFeedBatch = 4096
	// DefaultFeedPoll is how often a waiting feeder reads the queue.
	DefaultFeedPoll = time.Second
	// feedAttempts bounds the tries of one step (queue count, cursor save,
	// presence check) on errors; a failing publish is retried inside
	// PublishAll.
	feedAttempts = 6
	feedRetryMax = 30 * time.Second
)

// FeedConfig configures the feeder of publish and sweep.
type FeedConfig struct {
	// MaxPending bounds the scan's units in the work stream: the feeder
	// publishes while fewer are queued, waits when it reaches the bound,
	// and refills once workers drained it to half. Zero or less publishes
	// the whole plan at once.
	MaxPending int
	// Batch is the number of units between cursor saves (default
	// DefaultFeedBatch). A scan's first feeder records it with the cursor.
	Batch int
	// Poll is how often a waiting feeder reads the queue (default
	// DefaultFeedPoll).
	Poll time.Duration
	// Recheck checks every unit below the cursor too, and publishes those
	// neither queued nor in the unit log: for a queue that lost its data
	// (a new NATS server, a purged stream, sweep's embedded server).
	Recheck bool
	// RetryWait is the first wait after a failed step; it doubles up to
	// 30 s (default 1 s).
	RetryWait time.Duration
	// Progress, if not nil, receives a line each time the feeder fills the
	// queue to MaxPending.
	Progress io.Writer
	// Logger receives retried errors; nil discards.
	Logger *slog.Logger
}

func (c FeedConfig) withDefaults() FeedConfig {
	if c.Batch <= 0 {
		c.Batch = DefaultFeedBatch
	}
	if c.Poll <= 0 {
		c.Poll = DefaultFeedPoll
	}
	if c.RetryWait <= 0 {
		c.RetryWait = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// feedStore is what the feeder keeps in the store: the scan, its cursor,
// and the unit log it checks.
type feedStore interface {
	scanReader
	scanSaver
	Cursor(ctx context.Context, scan string) (store.Cursor, bool, error)
	SaveCursor(ctx context.Context, c store.Cursor) error
	Logged(ctx context.Context, scan string, from, to int) (map[int]bool, error)
}

// feedQueue is what the feeder needs of the work queue.
type feedQueue interface {
	unitPublisher
	Queued(ctx context.Context, scan string) (int, error)
	Present(ctx context.Context, scan string, from, to int) (map[int]bool, error)
}

// FeedResult counts what one feeder run did.
type FeedResult struct {
	// Published units are new in the work stream; Duplicates were already
	// there (the stream's short dedup window caught them); Skipped were
	// found queued or finished by a presence check and not sent.
	Published, Duplicates, Skipped int
	// ResumedAt is the cursor a previous feeder left (-1 for a new scan).
	ResumedAt int
	// AlreadyPublished is true when a previous feeder had published the
	// whole plan, so this run sent nothing.
	AlreadyPublished bool
}

// feeder publishes a plan in order, bounded by MaxPending, and records its
// cursor. newFeeder checks the scan and loads the cursor; run publishes.
type feeder struct {
	st  feedStore
	q   feedQueue
	p   *plan.Plan
	cfg FeedConfig
	rec sweep.ScanRecord
	// cur is the highest saved cursor; next is the position to publish
	// from; checkBelow is where presence checks stop.
	cur        store.Cursor
	next       int
	checkBelow int
	res        FeedResult
}

// newFeeder records the scan if it is new, refuses a scan planned with
// different flags (ErrPlanMismatch), and loads or creates its cursor. A
// new cursor is saved before anything is published, so a feeder stopped
// at any point leaves a cursor that tells its successor what to check.
func newFeeder(ctx context.Context, st feedStore, q feedQueue, p *plan.Plan, cfg FeedConfig) (*feeder, error) {
	cfg = cfg.withDefaults()
	f := &feeder{st: st, q: q, p: p, cfg: cfg, rec: p.Record(), res: FeedResult{ResumedAt: -1}}
	name := f.rec.Name
	old, err := st.Scan(ctx, name)
	switch {
	case errors.Is(err, store.ErrScanNotFound):
		if err := st.SaveScan(ctx, f.rec); err != nil {
			return nil, fmt.Errorf("save scan %s: %w", name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read scan %s: %w", name, err)
	default:
		if diff := planDiff(old, f.rec); diff != "" {
			return nil, fmt.Errorf("%w: scan %s was planned with %s; publish it again with the same planning flags, or give a new --scan",
				ErrPlanMismatch, name, diff)
		}
	}
	cur, found, err := st.Cursor(ctx, name)
	if err != nil {
		return nil, err
	}
	if !found {
		cur = store.Cursor{Scan: name, Planned: p.Len(), Published: 0, InFlight: cfg.Batch}
		if err := st.SaveCursor(ctx, cur); err != nil {
			return nil, fmt.Errorf("save cursor of scan %s: %w", name, err)
		}
	} else {
		if cur.Planned != p.Len() {
			return nil, fmt.Errorf("%w: scan %s's cursor counts %d planned units, this plan has %d (planned by another release?); give a new --scan",
				ErrPlanMismatch, name, cur.Planned, p.Len())
		}
		f.res.ResumedAt = cur.Published
		f.res.AlreadyPublished = cur.Done() && !cfg.Recheck
	}
	f.cur = cur
	f.next = cur.Published
	if cfg.Recheck {
		f.next = 0
	}
	f.checkBelow = min(cur.Published+cur.InFlight, p.Len())
	return f, nil
}

// planDiff names the planning flags in which the stored scan old differs
// from rec, "" when it does not.
func planDiff(old, rec sweep.ScanRecord) string {
	var d []string
	add := func(flag string, was, now any) {
		d = append(d, fmt.Sprintf("%s %v (now %v)", flag, was, now))
	}
	if j, k := strings.Join(old.CIDRs, ","), strings.Join(rec.CIDRs, ","); j != k {
		add("--cidr", j, k)
	}
	if j, k := strings.Join(old.Excludes, ","), strings.Join(rec.Excludes, ","); j != k {
		add("--exclude/--exclude-file", orNone(j), orNone(k))
	}
	if old.UnitPrefix != rec.UnitPrefix {
		add("--unit-prefix", old.UnitPrefix, rec.UnitPrefix)
	}
	if old.Options.AllowReserved != rec.Options.AllowReserved {
		add("--allow-reserved", old.Options.AllowReserved, rec.Options.AllowReserved)
	}
	if old.Options.Confirm != rec.Options.Confirm {
		add("--confirm", old.Options.Confirm, rec.Options.Confirm)
	}
	if old.Options.NoPrune != rec.Options.NoPrune {
		add("--prune", !old.Options.NoPrune, !rec.Options.NoPrune)
	}
	if len(d) == 0 && (old.Units != rec.Units || old.Addresses != rec.Addresses) {
		d = append(d, fmt.Sprintf("the same flags but %d units of %d addresses (now %d of %d: another release's exclusions?)",
			old.Units, old.Addresses, rec.Units, rec.Addresses))
	}
	return strings.Join(d, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// run publishes the rest of the plan: batches of cfg.Batch units in plan
// order, each followed by a cursor save once the work stream acknowledged
// all of it, while the scan has fewer than MaxPending units queued. Units
// below checkBelow are checked first (queued, then logged) and only the
// absent ones are sent. run returns when the plan is exhausted, or with
// the first error that retries did not cure (or ctx's).
func (f *feeder) run(ctx context.Context) (FeedResult, error) {
	name, total, max := f.rec.Name, f.p.Len(), f.cfg.MaxPending
	// filling is false from the batch that filled the queue to max until
	// workers drained it to half.
	filling, full := true, false
	for f.next < total {
		k := min(f.cfg.Batch, total-f.next)
		// A plan that fits under the bound is published at once.
		if max > 0 && total > max {
			var queued int
			if err := f.retry(ctx, "count queued units", func() (err error) {
				queued, err = f.q.Queued(ctx, name)
				return err
			}); err != nil {
				return f.res, err
			}
			if queued >= max || (!filling && queued > max/2) {
				filling = false
				if err := sweep.Sleep(ctx, f.cfg.Poll); err != nil {
					return f.res, err
				}
				continue
			}
			filling = true
			k = min(k, max-queued)
			full = queued+k >= max
		}
		if err := f.publish(ctx, f.next, f.next+k); err != nil {
			return f.res, err
		}
		f.next += k
		if f.next > f.cur.Published {
			c := f.cur
			c.Published, c.InFlight, c.UpdatedAt = f.next, f.cfg.Batch, time.Time{}
			if err := f.retry(ctx, "save cursor", func() error { return f.st.SaveCursor(ctx, c) }); err != nil {
				return f.res, fmt.Errorf("scan %s: %d units published, but the cursor was not saved (a restart checks them): %w", name, f.next, err)
			}
			f.cur = c
		}
		if full {
			filling, full = false, false
			if f.cfg.Progress != nil {
				fmt.Fprintf(f.cfg.Progress, "scan %s: %d of %d units published, %d queued; refilling below %d\n",
					name, f.next, total, max, max/2+1)
			}
		}
	}
	return f.res, nil
}

// publish sends the units at [from, to): all of them, or, below
// checkBelow, those neither in the work stream nor in the unit log. The
// stream is asked first: a unit leaves it only after its unit-log record
// is written, so it cannot slip between the two checks.
func (f *feeder) publish(ctx context.Context, from, to int) error {
	name := f.rec.Name
	var present map[int]bool
	if from < f.checkBelow {
		end := min(to, f.checkBelow)
		var queued, logged map[int]bool
		if err := f.retry(ctx, "check queued units", func() (err error) {
			queued, err = f.q.Present(ctx, name, from, end)
			return err
		}); err != nil {
			return err
		}
		if err := f.retry(ctx, "check logged units", func() (err error) {
			logged, err = f.st.Logged(ctx, name, from, end)
			return err
		}); err != nil {
			return err
		}
		present = queued
		for s := range logged {
			present[s] = true
		}
		f.res.Skipped += len(present)
	}
	units := func(yield func(sweep.Unit) bool) {
		for i := from; i < to; i++ {
			if !present[i] && !yield(f.p.Unit(i)) {
				return
			}
		}
	}
	pub, dup, err := f.q.PublishAll(ctx, iter.Seq[sweep.Unit](units), nil)
	f.res.Published += pub
	f.res.Duplicates += dup
	if err != nil {
		return fmt.Errorf("publish scan %s, units %d to %d: %w", name, from, to-1, err)
	}
	return nil
}

// retry runs step until it succeeds, feedAttempts times at most, waiting
// RetryWait (doubling) between tries and logging each failure.
func (f *feeder) retry(ctx context.Context, what string, step func() error) error {
	wait := f.cfg.RetryWait
	for attempt := 1; ; attempt++ {
		err := step()
		if err == nil || ctx.Err() != nil || attempt >= feedAttempts {
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		f.cfg.Logger.Warn("feeder step failed, retrying", "step", what, "scan", f.rec.Name, "attempt", attempt, "err", err)
		if err := sweep.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, feedRetryMax)
	}
}
