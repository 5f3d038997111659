// Package metricsflag is the --metrics-listen flag of the long-running
// commands (worker, coordinator sweep and publish) and the telemetry server
// it starts: one place for the flag, its environment variable
// (PTRSWEEP_METRICS_LISTEN) and the set-up, shared by the mains.
//
// A command registers a Flag, parses, builds its Telemetry with New (which
// checks the address without listening, so --check-config sees a bad one),
// starts it before connecting to anything (so /healthz answers at once and
// /readyz says "not ready" until the connections are made), hands it its
// sources and checks, and closes it on the way out.
package metricsflag

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"

	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/telemetry"
)

// Names of the readiness checks.
const (
	CheckNATS       = "nats"
	CheckClickHouse = "clickhouse"
)

// errNotConnected is the error of a readiness check whose service is not
// connected yet.
var errNotConnected = errors.New("not connected yet")

// Flag holds --metrics-listen. Register it on a flag set, parse, then call
// New. It is not safe for concurrent use.
type Flag struct{ addr string }

// Register adds --metrics-listen (env PTRSWEEP_METRICS_LISTEN) to fs.
func (f *Flag) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "metrics-listen", cli.Env(cli.EnvMetricsListen, ""),
		"serve Prometheus /metrics, /healthz and /readyz on this IP:port, such as 127.0.0.1:9464 (:9090 in a pod); empty: off (env "+cli.EnvMetricsListen+")")
}

// Telemetry is a process's metrics and, with --metrics-listen, the HTTP
// server of /metrics, /healthz and /readyz. Build it with Flag.New, Start
// it once, Close it on the way out; it owns the server's goroutines. Its
// methods are safe for concurrent use.
type Telemetry struct {
	// Metrics holds the process's metrics. It is set even when serving is
	// off, so callers add sources without checking.
	Metrics *telemetry.Metrics
	srv     *telemetry.Server // nil when --metrics-listen is empty
	addr    string
}

// New returns the Telemetry of the parsed flag: its Metrics and, when
// --metrics-listen is set, a server that is not listening yet. A bad
// address is a usage error naming the flag.
func (f *Flag) New(log *slog.Logger) (*Telemetry, error) {
	t := &Telemetry{Metrics: telemetry.NewMetrics(telemetry.MetricsConfig{Logger: log}), addr: f.addr}
	if f.addr == "" {
		return t, nil
	}
	srv, err := telemetry.NewServer(telemetry.ServerConfig{Addr: f.addr, Metrics: t.Metrics, Logger: log})
	if err != nil {
		return nil, cli.Usagef("--metrics-listen: %w", err)
	}
	t.srv = srv
	return t, nil
}

// Describe returns "metrics=ADDR" (or "metrics=off") for a config-ok line.
func (t *Telemetry) Describe() string {
	if t.srv == nil {
		return "metrics=off"
	}
	return "metrics=" + t.addr
}

// Start listens and serves until ctx ends or Close. Each name in pending
// becomes a readiness check that fails ("not connected yet") until Ready
// replaces it. Without --metrics-listen it does nothing.
func (t *Telemetry) Start(ctx context.Context, pending ...string) error {
	if t.srv == nil {
		return nil
	}
	for _, name := range pending {
		if err := t.srv.AddCheck(name, func(context.Context) error { return errNotConnected }); err != nil {
			return err
		}
	}
	return t.srv.Start(ctx)
}

// Ready sets (or replaces) the readiness check name.
func (t *Telemetry) Ready(name string, c telemetry.Check) error {
	if t.srv == nil {
		return nil
	}
	return t.srv.AddCheck(name, c)
}

// lagger reads the work queue's backlog; *queue.Queue is one.
type lagger interface {
	Lag(ctx context.Context) (queue.Lag, error)
}

// Queue serves q's backlog as the ptrsweep_queue_* gauges and makes the
// "nats" check pass while q answers.
func (t *Telemetry) Queue(q lagger) error {
	t.Metrics.SetQueue(func(ctx context.Context) (telemetry.QueueLag, error) {
		l, err := q.Lag(ctx)
		return telemetry.QueueLag{Pending: l.Pending, AckPending: l.AckPending}, err
	})
	return t.Ready(CheckNATS, func(ctx context.Context) error {
		_, err := q.Lag(ctx)
		return err
	})
}

// pinger answers a ping; *store.Store is one.
type pinger interface {
	Ping(ctx context.Context) error
}

// Store makes the "clickhouse" check pass while st answers.
func (t *Telemetry) Store(st pinger) error { return t.Ready(CheckClickHouse, st.Ping) }

// Addr returns the address the server listens on, or nil when serving is
// off or not started.
func (t *Telemetry) Addr() net.Addr {
	if t.srv == nil {
		return nil
	}
	return t.srv.Addr()
}

// Close stops the server and waits for it; safe without Start and more
// than once.
func (t *Telemetry) Close() error {
	if t.srv == nil {
		return nil
	}
	return t.srv.Close()
}
