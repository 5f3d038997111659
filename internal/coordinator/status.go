package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultStatusInterval is how often status --watch and --wait read the
// unit log when StatusConfig.Interval is not set.
const DefaultStatusInterval = 2 * time.Second

// StatusConfig configures Status.
type StatusConfig struct {
	Conn
	Scan string
	// Watch reprints the status every Interval until the scan completes
	// (its feeder published every unit and each is done or failed); Wait
	// blocks silently until then. With Wait, failed units make Status
	// return ErrUnitsFailed.
	Watch, Wait bool
	Interval    time.Duration
}

// Report is one status reading of a scan.
type Report struct {
	Scan     sweep.ScanRecord
	Progress store.Progress
	Pending  int
	Queue    *queue.Pending // nil when NATS was not asked for or is unreachable
	// Feed is the scan's plan cursor: units published of those planned;
	// nil for a scan published by a release without one.
	Feed     *store.Cursor
	Rate     float64       // addresses per second
	ETA      time.Duration // -1 when unknown
	Complete bool
}

// statusStore is what Status reads from the store.
type statusStore interface {
	scanReader
	progressReader
	Cursor(ctx context.Context, scan string) (store.Cursor, bool, error)
}

// pendingReader counts a scan's units in the queue.
type pendingReader interface {
	Pending(ctx context.Context, scan string) (queue.Pending, error)
}

// Status prints the state of a scan from the unit log (and the queue, when a
// NATS URL is given).
func Status(ctx context.Context, cfg StatusConfig, out io.Writer) error {
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	var q pendingReader // stays a nil interface without NATS
	jq, err := ConnectStatusQueue(ctx, cfg.Conn)
	if err != nil {
		return err
	}
	if jq != nil {
		defer jq.Close()
		q = jq
	}
	return status(ctx, st, q, cfg, out)
}

// status reads and prints reports until the scan completes (Watch, Wait)
// or once.
func status(ctx context.Context, st statusStore, q pendingReader, cfg StatusConfig, out io.Writer) error {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultStatusInterval
	}
	for {
		r, err := report(ctx, st, q, cfg.Scan)
		if err != nil {
			return err
		}
		if !cfg.Wait || r.Complete {
			printReport(out, r)
		}
		if r.Complete {
			if r.Progress.UnitsFailed > 0 && cfg.Wait {
				return fmt.Errorf("%w: %d of %d units", ErrUnitsFailed, r.Progress.UnitsFailed, r.Scan.Units)
			}
			return nil
		}
		if !cfg.Watch && !cfg.Wait {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.Interval):
		}
	}
}

// ConnectStatusQueue connects to the NATS of conn as `coordinator status`
// does, to read scans' queue state; it returns nil and no error when conn
// has no NATS URL. The caller closes the queue.
func ConnectStatusQueue(ctx context.Context, conn Conn) (*queue.Queue, error) {
	if conn.Queue.URL == "" {
		return nil, nil
	}
	return queue.Connect(ctx, conn.queueConfig(clientStatus, true))
}

// notFoundError is report's error for a scan that does not exist; it
// matches store.ErrScanNotFound.
type notFoundError struct{ msg string }

func (e notFoundError) Error() string { return e.msg }
func (e notFoundError) Unwrap() error { return store.ErrScanNotFound }

// ReadStatus takes one status reading of the scan, the one `coordinator
// status` prints: the unit log, the plan cursor and, when q is not nil, the
// queue (a queue error leaves Report.Queue nil). A scan that does not exist
// is an error matching store.ErrScanNotFound. It is safe for concurrent
// use when st and q are.
func ReadStatus(ctx context.Context, st *store.Store, q *queue.Queue, scan string) (Report, error) {
	var pr pendingReader // stays a nil interface without a queue
	if q != nil {
		pr = q
	}
	return report(ctx, st, pr, scan)
}

// report takes one reading of the scan; q may be nil.
func report(ctx context.Context, st statusStore, q pendingReader, scan string) (Report, error) {
	rec, err := st.Scan(ctx, scan)
	if err != nil {
		if errors.Is(err, store.ErrScanNotFound) {
			return Report{}, notFoundError{msg: fmt.Sprintf("scan %q not found in database %s (check --scan and --clickhouse)", scan, st.Database())}
		}
		return Report{}, err
	}
	p, err := st.Progress(ctx, scan)
	if err != nil {
		return Report{}, err
	}
	r := Report{Scan: rec, Progress: p, ETA: -1}
	cur, found, err := st.Cursor(ctx, scan)
	if err != nil {
		return Report{}, err
	}
	if found {
		r.Feed = &cur
	}
	finished := p.UnitsDone + p.UnitsFailed
	r.Pending = max(rec.Units-finished, 0)
	r.Complete = finished >= rec.Units && (r.Feed == nil || r.Feed.Done())
	if q != nil {
		if qp, err := q.Pending(ctx, scan); err == nil {
			r.Queue = &qp
		}
	}
	if !p.FirstStarted.IsZero() && p.LastFinished.After(p.FirstStarted) {
		secs := p.LastFinished.Sub(p.FirstStarted).Seconds()
		r.Rate = float64(p.Counts.Addresses()) / secs
		if r.Rate > 0 && !r.Complete {
			left := float64(rec.Addresses) - float64(p.Counts.Addresses())
			r.ETA = time.Duration(left / r.Rate * float64(time.Second)).Round(time.Second)
		}
	}
	return r, nil
}

func printReport(w io.Writer, r Report) {
	p := r.Progress
	state := "running"
	switch {
	case r.Complete && p.UnitsFailed > 0:
		state = "complete with failed units"
	case r.Complete:
		state = "complete"
	}
	fmt.Fprintf(w, "scan %s: %s\n", r.Scan.Name, state)
	fmt.Fprintf(w, "  units: %d total, %d done, %d pending, %d failed\n", r.Scan.Units, p.UnitsDone, r.Pending, p.UnitsFailed)
	if f := r.Feed; f != nil {
		feeding := "all published"
		if !f.Done() {
			feeding = fmt.Sprintf("feeding, cursor saved %s", f.UpdatedAt.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "  published: %d of %d units (%s)\n", f.Published, f.Planned, feeding)
	}
	fmt.Fprintf(w, "  addresses: %d of %d, %d PTRs, %d rows\n", p.Counts.Addresses(), r.Scan.Addresses, p.Counts.PTRs, p.Rows)
	fmt.Fprintf(w, "  outcomes: %s\n", p.Counts)
	eta := "-"
	if r.ETA >= 0 {
		eta = r.ETA.String()
	}
	fmt.Fprintf(w, "  rate: %.0f addresses/s, ETA %s\n", r.Rate, eta)
	if r.Queue != nil {
		fmt.Fprintf(w, "  queue: %d queued, %d in flight, %d dead-lettered\n", r.Queue.Queued, r.Queue.InFlight, r.Queue.Dead)
	}
	for _, f := range p.FailedUnits {
		fmt.Fprintf(w, "  failed unit %s (attempt %d): %s\n", f.Unit, f.Attempt, f.Error)
	}
	if p.UnitsFailed > 0 {
		fmt.Fprintf(w, "  retry failed units with: coordinator retry --scan %s --nats URL\n", r.Scan.Name)
	}
}
