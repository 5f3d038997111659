// Package coordinator holds the coordinator's commands: sweep (plan, publish,
// run workers in-process and wait), publish, status, search and export. The
// command-line layer in cmd/coordinator turns flags into these configs.
package coordinator

import (
	"context"
	"errors"
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

// Conn says where the shared services are.
type Conn struct {
	// NATS is the NATS URL; empty means an embedded JetStream server (sweep only).
	NATS string
	// NATSAuth holds the NATS credentials and TLS settings (external servers only).
	NATSAuth queue.Auth
	// ClickHouse is the ClickHouse DSN.
	ClickHouse string
	// AckWait and MaxDeliver tune the work queue's consumer (0 = defaults).
	AckWait    time.Duration
	MaxDeliver int
	// Replicas is the streams' replica count (see queue.Config.Replicas).
	Replicas int
}

// SweepConfig configures Sweep.
type SweepConfig struct {
	Conn
	Plan *plan.Plan
	// Workers is the number of in-process workers (default 4).
	Workers int
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
	fmt.Fprintf(w, "outcomes: ok=%d nxdomain=%d nodata=%d servfail=%d refused=%d timeout=%d (pruned %d)\n",
		c.OK, c.NXDomain, c.NoData, c.ServFail, c.Refused, c.Timeout, c.Pruned)
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

// ErrUnitsFailed reports a finished scan with failed units.
var ErrUnitsFailed = errors.New("scan finished with failed units")

// Sweep runs a whole scan on one machine: it opens the store, starts an
// embedded JetStream server unless cfg.NATS is set, publishes the plan, runs
// cfg.Workers workers in-process and waits until every unit is stored or
// failed. It returns the summary; a scan with failed units also returns
// ErrUnitsFailed.
func Sweep(ctx context.Context, cfg SweepConfig) (Summary, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	start := time.Now()
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return Summary{}, err
	}
	defer st.Close()

	natsURL, auth := cfg.NATS, cfg.NATSAuth
	if natsURL == "" {
		auth = queue.Auth{} // the embedded server takes no credentials
		dir, err := os.MkdirTemp("", "ptrsweep-nats-")
		if err != nil {
			return Summary{}, fmt.Errorf("embedded nats: %w", err)
		}
		defer os.RemoveAll(dir)
		emb, err := queue.StartEmbedded(dir)
		if err != nil {
			return Summary{}, fmt.Errorf("start embedded nats: %w", err)
		}
		defer emb.Close()
		natsURL = emb.URL()
		log.Debug("embedded JetStream server started", "url", natsURL)
	}
	qcfg := queue.Config{URL: natsURL, Auth: auth, Name: "ptrsweep-coordinator", AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, Replicas: cfg.Replicas}
	q, err := queue.Connect(ctx, qcfg)
	if err != nil {
		return Summary{}, err
	}
	defer q.Close()

	p := cfg.Plan
	rec := p.Record()
	if err := st.SaveScan(ctx, rec); err != nil {
		return Summary{}, fmt.Errorf("save scan %s: %w", rec.Name, err)
	}
	res, err := resolve.New(cfg.Resolve)
	if err != nil {
		return Summary{}, err
	}

	// Connect and build every worker before starting any goroutine, so a
	// failure here leaves nothing running.
	var ws []*worker.Worker
	host, _ := os.Hostname()
	for i := range cfg.Workers {
		wq, err := queue.Connect(ctx, queue.Config{URL: natsURL, Auth: auth, Name: fmt.Sprintf("ptrsweep-worker-%d", i), AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver})
		if err != nil {
			return Summary{}, err
		}
		defer wq.Close()
		wc := cfg.Worker
		wc.Queue, wc.Store, wc.Resolver = worker.JetStream(wq), st, res
		wc.Name = fmt.Sprintf("%s-%d-w%d", host, os.Getpid(), i)
		wc.Logger = log
		w, err := worker.New(wc)
		if err != nil {
			return Summary{}, err
		}
		ws = append(ws, w)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Workers+2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := worker.WatchDead(runCtx, q, st, log); err != nil && runCtx.Err() == nil {
			errs <- err
		}
	}()

	// Publish while workers start: units flow as soon as they are queued.
	wg.Add(1)
	go func() {
		defer wg.Done()
		pub, dup, err := q.PublishAll(runCtx, p.All(), nil)
		if err != nil {
			if runCtx.Err() == nil {
				errs <- fmt.Errorf("publish scan %s: %w", rec.Name, err)
			}
			return
		}
		log.Info("scan published", "scan", rec.Name, "units", pub, "already_queued", dup)
	}()

	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(runCtx); err != nil {
				errs <- err
			}
		}()
	}

	prog, err := wait(ctx, st, rec.Name, p.Len(), p.Addresses(), waitOptions{out: cfg.Progress, terminal: cfg.Terminal, interval: cfg.Interval, errs: errs})
	stop()
	wg.Wait()
	sum := Summary{Scan: rec.Name, Units: p.Len(), Addresses: p.Addresses(), Elapsed: time.Since(start), Engine: res.Stats()}
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
