// Package serve runs `coordinator serve`: it opens the store (and, with a
// NATS URL, the queue for scan status), builds the API of internal/api with
// the coordinator's status reading and the telemetry handlers, and serves it
// on one listener until its context ends. It joins packages of one level
// (api, coordinator, telemetry) that may not import each other.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/telemetry"
)

// DefaultListen is serve's default address: loopback only.
const DefaultListen = "127.0.0.1:8080"

// shutdownTimeout bounds the graceful part of the shutdown.
const shutdownTimeout = 5 * time.Second

// Config configures Run.
type Config struct {
	// Conn holds the ClickHouse DSN (required) and the NATS URL (optional).
	Conn coordinator.Conn
	// Listen is the address to serve on, an IP address and port.
	Listen string
	// API configures the handlers; its Store, Status and Telemetry are set
	// by Run.
	API api.Config
	// Metrics, when set, is served on /metrics of the same listener.
	Metrics *telemetry.Metrics
	// Listening, when set, is called with the bound address once the
	// server accepts connections.
	Listening func(net.Addr)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Run serves the API until ctx ends, then shuts down: stop accepting,
// finish requests (at most 5 s), close NATS, close ClickHouse.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	st, err := store.Open(ctx, cfg.Conn.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := coordinator.ConnectStatusQueue(ctx, cfg.Conn)
	if err != nil {
		return err
	}
	if q != nil {
		defer q.Close()
	}
	ac := cfg.API
	ac.Store, ac.Status, ac.Logger = st, NewStatusReader(st, q), log
	if cfg.Metrics != nil {
		tel, err := telemetry.NewServer(telemetry.ServerConfig{Addr: cfg.Listen, Metrics: cfg.Metrics, Logger: log})
		if err != nil {
			return err
		}
		if err := tel.AddCheck("clickhouse", st.Ping); err != nil {
			return err
		}
		ac.Telemetry = tel.Handler()
	}
	srv, err := api.New(ac)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()))
	if cfg.Listening != nil {
		cfg.Listening(ln.Addr())
	}
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shut down: %w", err)
	}
	return nil
}

// NewStatusReader returns the api.StatusReader of `coordinator status`'s
// reading over st and, when not nil, q.
func NewStatusReader(st *store.Store, q *queue.Queue) api.StatusReader {
	return statusReader{st: st, q: q}
}

// statusReader reads scan statuses with the coordinator's status reading.
type statusReader struct {
	st *store.Store
	q  *queue.Queue // nil without NATS
}

// ScanStatus implements api.StatusReader.
func (r statusReader) ScanStatus(ctx context.Context, name string) (api.ScanStatus, error) {
	rep, err := coordinator.ReadStatus(ctx, r.st, r.q, name)
	if err != nil {
		return api.ScanStatus{}, err
	}
	return scanStatus(rep), nil
}

// scanStatus turns a status reading into the API's form.
func scanStatus(r coordinator.Report) api.ScanStatus {
	p := r.Progress
	s := api.ScanStatus{
		Name: r.Scan.Name, CIDRs: r.Scan.CIDRs, CreatedAt: r.Scan.CreatedAt,
		State: "running", Complete: r.Complete,
		Units: r.Scan.Units, UnitsDone: p.UnitsDone, UnitsPending: r.Pending, UnitsFailed: p.UnitsFailed,
		Addresses: r.Scan.Addresses, AddressesDone: p.Counts.Addresses(), Rows: p.Rows,
		Outcomes: p.Counts, Rate: r.Rate, FailedUnits: []api.FailedUnit{},
	}
	switch {
	case r.Complete && p.UnitsFailed > 0:
		s.State = "complete_with_failures"
	case r.Complete:
		s.State = "complete"
	}
	if s.CIDRs == nil {
		s.CIDRs = []string{}
	}
	if r.ETA >= 0 {
		eta := r.ETA.Seconds()
		s.ETASeconds = &eta
	}
	if f := r.Feed; f != nil {
		s.Published = &api.Published{Published: f.Published, Planned: f.Planned, Done: f.Done(), UpdatedAt: f.UpdatedAt}
	}
	if q := r.Queue; q != nil {
		s.Queue = &api.QueueState{Queued: q.Queued, InFlight: q.InFlight, Dead: q.Dead}
	}
	for _, u := range p.FailedUnits {
		s.FailedUnits = append(s.FailedUnits, api.FailedUnit{Unit: u.Unit, Attempt: u.Attempt, Error: u.Error})
	}
	return s
}
