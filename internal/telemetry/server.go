package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// DefaultShutdownTimeout bounds the graceful part of Server.Close: requests
// still running after it are cut.
const DefaultShutdownTimeout = 5 * time.Second

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Addr is the listen address, host:port with an IP address or an empty
	// host: "127.0.0.1:9464" (the loopback default callers should use),
	// ":9464" in a pod, port 0 for any free port.
	Addr string
	// Metrics is served on /metrics. Required.
	Metrics *Metrics
	// CheckTimeout bounds each readiness check. Default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown. Default
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Logger receives serve errors and failed checks. Default slog.Default().
	Logger *slog.Logger
}

// Server serves /metrics, /healthz and /readyz over HTTP. Create it with
// NewServer, add readiness checks with AddCheck (any time), then Start it
// once; it owns two goroutines (the HTTP server and a watcher of Start's
// context) that Close stops and waits for. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     ServerConfig
	log     *slog.Logger
	checks  checks
	handler http.Handler

	mu       sync.Mutex
	started  bool
	closed   bool
	ln       net.Listener
	srv      *http.Server
	stop     chan struct{} // closed by Close: ends the context watcher
	stopOnce sync.Once
	shutOnce sync.Once
	wg       sync.WaitGroup
	serveErr error // set by the serving goroutine before wg.Done
}

// NewServer validates cfg and returns a Server that is not listening yet.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Metrics == nil {
		return nil, ErrNoMetrics
	}
	if err := checkAddr(cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	s.checks.timeout = cfg.CheckTimeout
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cfg.Metrics.Handler())
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.handler = mux
	return s, nil
}

// checkAddr accepts host:port where host is empty or an IP address and
// port is 0–65535.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w %q: %v (want host:port, such as 127.0.0.1:9464 or :9464)", ErrBadAddr, addr, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%w %q: host %q is not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or an empty host)", ErrBadAddr, addr, host)
		}
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p > 65535 {
		return fmt.Errorf("%w %q: port %q is not a number from 0 to 65535", ErrBadAddr, addr, port)
	}
	return nil
}

// AddCheck registers (or replaces) the readiness check called name, such as
// "nats" or "clickhouse". A name is 1–32 characters of a–z, 0–9, '-' and
// '_'; it is shown in /readyz, the check's error only in the log.
func (s *Server) AddCheck(name string, c Check) error { return s.checks.add(name, c) }

// Handler returns the server's HTTP handler (for tests and for mounting it
// elsewhere): GET /metrics, /healthz and /readyz.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on the configured address and serves in the background
// until ctx ends or Close is called. Requests see ctx as their base context.
// Start may be called once; a listen error is returned and nothing runs.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return ErrStarted
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("metrics listen on %s: %w", s.cfg.Addr, err)
	}
	s.started = true
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.log.Info("metrics server listening", "addr", ln.Addr().String())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = fmt.Errorf("metrics server on %s: %w", ln.Addr(), err)
		}
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			s.shutdown()
		case <-s.stop:
		}
	}()
	return nil
}

// Serve is Start followed by waiting for ctx to end and Close: it blocks,
// and returns the listen or serve error, or nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

// Addr returns the address the server listens on (with the port chosen
// for port 0), or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close shuts the server down gracefully (running requests get
// ShutdownTimeout to finish), waits for its goroutines and returns the
// serve error, if any. It is safe to call more than once, and before or
// without Start; a Server cannot be started after Close.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	started := s.started
	s.closed = true
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.shutdown()
	s.wg.Wait()
	return s.serveErr
}

// shutdown stops the HTTP server once: gracefully within ShutdownTimeout,
// then by closing every connection.
func (s *Server) shutdown() {
	s.shutOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.log.Warn("metrics server shutdown", "err", err)
			s.srv.Close()
		}
	})
}
