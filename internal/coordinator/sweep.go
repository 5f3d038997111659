package coordinator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// DefaultWorkers is the number of in-process workers of a sweep when
// SweepConfig.Workers is not set.
const DefaultWorkers = 4

// SweepConfig configures Sweep.
type SweepConfig struct {
	Conn
	Plan *plan.Plan
	// Workers is the number of in-process workers (default DefaultWorkers).
	Workers int
	// MaxPending bounds the scan's units in the work stream (see
	// FeedConfig.MaxPending); zero publishes the whole plan at once.
	MaxPending int
	// Resolve configures the resolver shared by the workers; its QPS is the
	// sweep's total.
	Resolve resolve.Config
	// Worker sets the workers' tuning (batch size, flush interval…); its
	// Queue, Store, Resolver and Name are filled in.
	Worker worker.Config
	// Progress receives progress output; Terminal selects a bar over plain lines.
	Progress io.Writer
	Terminal bool
	// Interval is how often plain progress lines are written (default 10s).
	Interval time.Duration
	Logger   *slog.Logger
	// Metrics, if set, is given the resolver's and every in-process
	// worker's counters and the workers' per-unit outcomes and insert
	// latencies; *telemetry.Metrics satisfies it.
	Metrics Metrics
}

// Metrics receives a sweep's counters and events. Its methods must be safe
// for concurrent use; the Add methods are called before the workers start.
type Metrics interface {
	AddResolver(f func() resolve.Stats)
	AddWorker(f func() *worker.Stats)
	AddCounts(c sweep.Counts)
	ObserveInsert(d time.Duration)
}

// Summary is what a finished sweep reports.
type Summary struct {
	Scan        string
	Units       int
	UnitsFailed int
	Addresses   uint64
	Counts      sweep.Counts
	Rows        uint64
	Elapsed     time.Duration
	Failed      []sweep.UnitRecord
	// Engine holds the in-process resolver's statistics.
	Engine resolve.Stats
}

// QPS returns the queries per second of the sweep.
func (s Summary) QPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Counts.Queries) / s.Elapsed.Seconds()
}

// Print writes the summary in a few human-readable lines.
func (s Summary) Print(w io.Writer) {
	c := s.Counts
	fmt.Fprintf(w, "scan %s: %d addresses in %d units, %d PTRs on %d addresses, %d rows stored\n",
		s.Scan, s.Addresses, s.Units, c.PTRs, c.OK, s.Rows)
	fmt.Fprintf(w, "outcomes: %s\n", c)
	fmt.Fprintf(w, "%d queries in %s: %.0f qps, %.0f addresses/s\n",
		c.Queries, s.Elapsed.Round(time.Millisecond), s.QPS(), float64(s.Addresses)/max(s.Elapsed.Seconds(), 1e-9))
	if s.Engine.Queries > 0 {
		fmt.Fprintln(w, s.Engine)
	}
	if s.UnitsFailed > 0 {
		fmt.Fprintf(w, "%d units FAILED (kept in the dead-letter stream; retry with: coordinator retry --scan %s):\n", s.UnitsFailed, s.Scan)
		for _, f := range s.Failed {
			fmt.Fprintf(w, "  %s: %s\n", f.Unit, f.Error)
		}
	}
}

// Sweep runs a whole scan on one machine: it opens the store, starts an
// embedded JetStream server unless cfg.Queue.URL is set, feeds the plan to
// it (as publish does, at most cfg.MaxPending units queued), runs
// cfg.Workers workers in-process and waits until every unit is stored or
// failed. A sweep of a scan that ran before resumes it: on an embedded
// server, whose queue starts empty, every unit not in the unit log is
// published again. It returns the summary; a scan with failed units also returns
// ErrUnitsFailed.
func Sweep(ctx context.Context, cfg SweepConfig) (Summary, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	start := time.Now()
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return Summary{}, err
	}
	defer st.Close()
	embedded := cfg.Queue.URL == ""
	conn, stopEmbedded, err := queueServer(cfg.Conn, cfg.Logger)
	if err != nil {
		return Summary{}, err
	}
	defer stopEmbedded()
	q, err := queue.Connect(ctx, conn.queueConfig(clientCoordinator, false))
	if err != nil {
		return Summary{}, err
	}
	defer q.Close()

	p := cfg.Plan
	f, err := newFeeder(ctx, st, q, p, FeedConfig{MaxPending: cfg.MaxPending, Recheck: embedded, Logger: cfg.Logger})
	if err != nil {
		return Summary{}, err
	}
	res, err := resolve.New(cfg.Resolve)
	if err != nil {
		return Summary{}, err
	}
	if cfg.Metrics != nil {
		cfg.Metrics.AddResolver(res.Stats)
	}
	ws, closeWorkers, err := newWorkers(ctx, conn, cfg, st, res)
	defer closeWorkers()
	if err != nil {
		return Summary{}, err
	}

	runCtx, stop := context.WithCancel(ctx)
	errs := make(chan error, 2)
	wg := runAll(runCtx, q, st, f, ws, cfg.Logger, errs)
	prog, err := wait(ctx, st, p.Record().Name, p.Len(), p.Addresses(),
		waitOptions{out: cfg.Progress, terminal: cfg.Terminal, interval: cfg.Interval, errs: errs})
	stop()
	wg.Wait()
	return summarise(p, prog, time.Since(start), res.Stats(), err)
}

// queueServer returns conn unchanged when it names a NATS server; else it
// starts an embedded JetStream server and returns conn pointing at it
// (without credentials). The returned func stops the embedded server.
func queueServer(conn Conn, log *slog.Logger) (Conn, func(), error) {
	if conn.Queue.URL != "" {
		return conn, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "ptrsweep-nats-")
	if err != nil {
		return conn, func() {}, fmt.Errorf("embedded nats: %w", err)
	}
	emb, err := queue.StartEmbedded(dir)
	if err != nil {
		os.RemoveAll(dir)
		return conn, func() {}, fmt.Errorf("start embedded nats: %w", err)
	}
	conn.Queue.URL = emb.URL()
	conn.Queue.Auth = queue.Auth{} // the embedded server takes no credentials
	log.Debug("embedded JetStream server started", "url", conn.Queue.URL)
	return conn, func() { emb.Close(); os.RemoveAll(dir) }, nil
}

// newWorkers connects and builds every in-process worker before any
// goroutine starts, so a failure leaves nothing running. The returned func
// closes the workers' queue connections, also after an error.
func newWorkers(ctx context.Context, conn Conn, cfg SweepConfig, st worker.Store, res worker.Resolver) ([]*worker.Worker, func(), error) {
	var ws []*worker.Worker
	var qs []*queue.Queue
	closeAll := func() {
		for _, q := range qs {
			q.Close()
		}
	}
	// The store's IP-to-ASN table as it is at the start fills asn and
	// country of the sweep's rows (a long-running worker also refreshes it).
	var routes worker.Router
	if src, ok := st.(worker.ASNSource); ok {
		r := worker.NewRoutes(src, cfg.Logger)
		if err := r.Refresh(ctx); err != nil {
			cfg.Logger.Warn("load the IP-to-ASN table: rows get asn 0 and country ''", "err", err)
		}
		routes = r
	}
	host, _ := os.Hostname()
	for i := range cfg.Workers {
		wq, err := queue.Connect(ctx, conn.queueConfig(fmt.Sprintf("%s%d", clientWorker, i), false))
		if err != nil {
			return nil, closeAll, err
		}
		qs = append(qs, wq)
		wc := cfg.Worker
		wc.Queue, wc.Store, wc.Resolver = worker.JetStream(wq), st, res
		wc.Name = fmt.Sprintf("%s-%d-w%d", host, os.Getpid(), i)
		wc.Logger = cfg.Logger
		wc.Routes = routes
		if cfg.Metrics != nil {
			wc.OnUnitDone, wc.ObserveInsert = cfg.Metrics.AddCounts, cfg.Metrics.ObserveInsert
		}
		w, err := worker.New(wc)
		if err != nil {
			return nil, closeAll, err
		}
		if cfg.Metrics != nil {
			cfg.Metrics.AddWorker(w.Stats)
		}
		ws = append(ws, w)
	}
	return ws, closeAll, nil
}

// runAll starts the dead-letter watcher, the feeder and the workers under
// ctx; units flow as soon as they are queued. A fatal error of the watcher
// or the feeder goes to errs (room for two). The caller cancels ctx and
// waits on the returned WaitGroup.
func runAll(ctx context.Context, q *queue.Queue, st worker.Store, f *feeder, ws []*worker.Worker, log *slog.Logger, errs chan<- error) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := worker.WatchDead(ctx, q, st, log); err != nil && ctx.Err() == nil {
			errs <- err
		}
	})
	wg.Go(func() {
		res, err := f.run(ctx)
		if err != nil {
			if ctx.Err() == nil {
				errs <- err
			}
			return
		}
		log.Info("scan published", "scan", f.rec.Name, "units", res.Published, "already_queued", res.Duplicates+res.Skipped)
	})
	for _, w := range ws {
		wg.Go(func() { w.Run(ctx) })
	}
	return &wg
}

// summarise builds the summary of a finished (or stopped) sweep from its
// last progress reading (nil when none was read) and the wait's error.
func summarise(p *plan.Plan, prog *store.Progress, elapsed time.Duration, engine resolve.Stats, err error) (Summary, error) {
	sum := Summary{Scan: p.Record().Name, Units: p.Len(), Addresses: p.Addresses(), Elapsed: elapsed, Engine: engine}
	if prog != nil {
		sum.UnitsFailed = prog.UnitsFailed
		sum.Counts = prog.Counts
		sum.Rows = prog.Rows
		sum.Failed = prog.FailedUnits
	}
	if err != nil {
		return sum, err
	}
	if sum.UnitsFailed > 0 {
		return sum, fmt.Errorf("%w: %d of %d units", ErrUnitsFailed, sum.UnitsFailed, sum.Units)
	}
	return sum, nil
}
