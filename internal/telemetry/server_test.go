package telemetry

import (
	"context"
	"errors"

	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newTestServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(MetricsConfig{Logger: quietLogger()})
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	return s
}

// get serves one GET through h and returns the status and body.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	s := newTestServer(t, ServerConfig{})
	// Liveness does not depend on readiness.
	if err := s.AddCheck("nats", func(context.Context) error { return errors.New("down") }); err != nil {
		t.Fatal(err)
	}
	if code, body := get(s.Handler(), "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
}

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	secret := errors.New("dial tcp 127.0.0.1:9000: clickhouse://admin:hunter2@127.0.0.1:9000 refused")
	fail := func(context.Context) error { return secret }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	ignoresCtx := func(context.Context) error { time.Sleep(80 * time.Millisecond); return nil }
	panics := func(context.Context) error { panic("boom") }
	tests := []struct {
		name     string
		checks   map[string]Check
		wantCode int
		wantBody string
	}{
		{"no checks", nil, 200, "ok\n"},
		{"all pass", map[string]Check{"nats": ok, "clickhouse": ok}, 200, "ok\n"},
		{"one fails", map[string]Check{"nats": ok, "clickhouse": fail}, 503,
			"[-]clickhouse failed\n[+]nats ok\nnot ready: clickhouse\n"},
		{"timeout", map[string]Check{"nats": hang, "clickhouse": ok}, 503,
			"[+]clickhouse ok\n[-]nats failed\nnot ready: nats\n"},
		{"check ignoring its deadline", map[string]Check{"slow": ignoresCtx}, 503,
			"[-]slow failed\nnot ready: slow\n"},
		{"panic", map[string]Check{"a": panics, "b": fail}, 503,
			"[-]a failed\n[-]b failed\nnot ready: a, b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged strings.Builder
			s := newTestServer(t, ServerConfig{CheckTimeout: 30 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			for name, c := range tt.checks {
				if err := s.AddCheck(name, c); err != nil {
					t.Fatalf("AddCheck(%q): %v", name, err)
				}
			}
			code, body := get(s.Handler(), "/readyz")
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("GET /readyz = %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
			if strings.Contains(body, "hunter2") || strings.Contains(body, "127.0.0.1") {
				t.Errorf("GET /readyz body %q holds an error's address or secret", body)
			}
			for name := range tt.checks {
				if tt.wantCode == 503 && strings.Contains(tt.wantBody, "[-]"+name) && !strings.Contains(logged.String(), "check="+name) {
					t.Errorf("log lacks the failed check %s: %q", name, logged.String())
				}
			}
		})
	}
}

func TestAddCheckRejects(t *testing.T) {
	s := newTestServer(t, ServerConfig{})
	ok := func(context.Context) error { return nil }
	tests := []struct {
		name string
		c    Check
	}{
		{"", ok},
		{"NATS", ok},
		{"clickhouse 127.0.0.1", ok},
		{strings.Repeat("a", 33), ok},
		{"nats", nil},
	}
	for _, tt := range tests {
		if err := s.AddCheck(tt.name, tt.c); !errors.Is(err, ErrInvalidCheck) {
			t.Errorf("AddCheck(%q) error = %v, want ErrInvalidCheck", tt.name, err)
		}
	}
	// A name registered again replaces the check.
	if err := s.AddCheck("nats", func(context.Context) error { return errors.New("down") }); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCheck("nats", ok); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(s.Handler(), "/readyz"); code != 200 {
		t.Errorf("GET /readyz after replacing the failing check = %d, want 200", code)
	}
}

func TestNewServerRejects(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	tests := []struct {
		cfg  ServerConfig
		want error
	}{
		{ServerConfig{Addr: "127.0.0.1:0"}, ErrNoMetrics},
		{ServerConfig{Addr: "localhost:9464", Metrics: m}, ErrBadAddr},
		{ServerConfig{Addr: "127.0.0.1", Metrics: m}, ErrBadAddr},
		{ServerConfig{Addr: "127.0.0.1:99999", Metrics: m}, ErrBadAddr},
		{ServerConfig{Addr: "127.0.0.1:http", Metrics: m}, ErrBadAddr},
		{ServerConfig{Addr: "", Metrics: m}, ErrBadAddr},
	}
	for _, tt := range tests {
		if _, err := NewServer(tt.cfg); !errors.Is(err, tt.want) {
			t.Errorf("NewServer(Addr %q) error = %v, want %v", tt.cfg.Addr, err, tt.want)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", ":9464", "[::1]:9464", "0.0.0.0:9464"} {
		if _, err := NewServer(ServerConfig{Addr: addr, Metrics: m}); err != nil {
			t.Errorf("NewServer(Addr %q) error = %v, want nil", addr, err)
		}
	}
}

func TestMethods(t *testing.T) {
	s := newTestServer(t, ServerConfig{})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", rec.Code)
	}
	if code, _ := get(s.Handler(), "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ = %d, want 404", code)
	}
}

// httpGet fetches url with a client that keeps no idle connection.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// settleGoroutines waits until the goroutine count falls to at most n and
// returns the last count.
func settleGoroutines(n int) int {
	var g int
	for range 200 {
		if g = runtime.NumGoroutine(); g <= n {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
	return g
}

func TestServerStartClose(t *testing.T) {
	before := runtime.NumGoroutine()
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	var queries atomic.Uint64
	m.AddCounts(sweepCountsOK(7))
	s := newTestServer(t, ServerConfig{Metrics: m})
	var natsUp atomic.Bool
	if err := s.AddCheck("nats", func(context.Context) error {
		queries.Add(1)
		if !natsUp.Load() {
			return errors.New("no connection")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != nil {
		t.Errorf("Addr() before Start = %v, want nil", s.Addr())
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start error = %v, want ErrStarted", err)
	}
	base := "http://" + s.Addr().String()
	if !strings.HasPrefix(s.Addr().String(), "127.0.0.1:") || strings.HasSuffix(s.Addr().String(), ":0") {
		t.Errorf("Addr() = %s, want 127.0.0.1 and the chosen port", s.Addr())
	}

	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", code, body)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 503 || !strings.Contains(body, "[-]nats failed") {
		t.Errorf("GET /readyz (nats down) = %d %q, want 503 naming nats", code, body)
	}
	natsUp.Store(true)
	if code, body := httpGet(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /readyz (nats up) = %d %q, want 200 ok", code, body)
	}
	code, body := httpGet(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `ptrsweep_addresses_total{status="ok"} 7`) || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
		t.Errorf("GET /metrics = %d, want 200 with ptrsweep, go and process metrics; body:\n%s", code, body)
	}
	if queries.Load() != 2 {
		t.Errorf("the nats check ran %d times, want 2 (once per /readyz)", queries.Load())
	}

	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", base[len("http://"):], time.Second); err == nil {
		t.Errorf("%s still accepts connections after Close", base)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close error = %v, want ErrClosed", err)
	}
	if g := settleGoroutines(before); g > before {
		t.Errorf("%d goroutines after Close, %d before Start: leaked", g, before)
	}
}

func TestServerStopsWithContext(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newTestServer(t, ServerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	var addr net.Addr
	for range 500 {
		if addr = s.Addr(); addr != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if addr == nil {
		t.Fatal("Serve did not start listening")
	}
	if code, _ := httpGet(t, "http://"+addr.String()+"/healthz"); code != 200 {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if g := settleGoroutines(before); g > before {
		t.Errorf("%d goroutines after Serve returned, %d before: leaked", g, before)
	}
}

func TestStartListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newTestServer(t, ServerConfig{Addr: ln.Addr().String()})
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Start on a busy port error = %v, want one naming %s", err, ln.Addr())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after a failed Start: %v", err)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	s := newTestServer(t, ServerConfig{})
	if err := s.Close(); err != nil {
		t.Errorf("Close without Start = %v, want nil", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close error = %v, want ErrClosed", err)
	}
}
