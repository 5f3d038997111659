package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// runCmdCtx is runCmd under ctx.
func runCmdCtx(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// publishScan starts an embedded JetStream server for the test and
// publishes a scan of the lab's 198.18.0.0/22 (four /24 units) to it.
func publishScan(t *testing.T, scan, dsn string) (*queue.Embedded, *plan.Plan) {
	t.Helper()
	emb, err := queue.StartEmbedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	p, err := plan.New(plan.Request{Scan: scan, CIDRs: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/22")},
		Options: sweep.Options{AllowReserved: true}, UnitPrefix: 24})
	if err != nil {
		t.Fatal(err)
	}
	if err := coordinator.Publish(context.Background(), coordinator.Conn{Queue: queue.Config{URL: emb.URL()}, ClickHouse: dsn}, p, coordinator.FeedConfig{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return emb, p
}

// TestCheckConfig checks that --check-config reads flags, environment and
// files as a run does, prints one config-ok line without secrets and exits
// 0 without connecting to anything; bad config is exit 2.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "ch-password")
	if err := os.WriteFile(pw, []byte("chs3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nats, ch := testenv.TripwireAddr(t), testenv.TripwireAddr(t)
	t.Setenv("PTRSWEEP_NATS_PASSWORD", "natss3cret")
	t.Setenv("PTRSWEEP_CLICKHOUSE", "clickhouse://writer@"+ch+"/sweeps?password_file="+pw)
	t.Setenv("PTRSWEEP_METRICS_LISTEN", ":9090")
	good := []string{"--check-config", "--nats", "nats://" + nats, "--nats-user", "worker", "--resolvers", "127.0.0.1:1,127.0.0.2:53"}

	code, out, stderr := runCmd("", good...)
	if code != 0 {
		t.Fatalf("worker --check-config: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"config ok: worker ", "nats=nats://" + nats, "nats_auth=user", "clickhouse=writer@" + ch + "/sweeps",
		"resolvers=127.0.0.1:1,127.0.0.2:53", "metrics=:9090"} {
		if !strings.Contains(out, want) {
			t.Errorf("config-ok line %q lacks %q", out, want)
		}
	}
	if strings.Count(out, "\n") != 1 || strings.Contains(out, "s3cret") {
		t.Errorf("config-ok line %q: want one line without a secret", out)
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-listen", "localhost:9090"}, "--metrics-listen"},
		{[]string{"--metrics-listen", "127.0.0.1"}, "--metrics-listen"},
		{[]string{"--clickhouse", "clickhouse://" + ch + "/db?password_file=/nonexistent"}, "password_file"},
		{[]string{"--nats-password-file", "/nonexistent"}, "--nats-password-file"},
		{[]string{"--resolvers", "nonsense"}, "--resolvers"},
		{[]string{"--qps", "-1"}, "--qps"},
	}
	for _, tt := range bad {
		args := append(append([]string(nil), good...), tt.args...)
		code, out, stderr := runCmd("", args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || out != "" {
			t.Errorf("worker %q: exit %d, stdout %q, stderr %q; want 2, no stdout and %q", tt.args, code, out, stderr, tt.want)
		}
	}

	// worker resolve: the input is not read (it is not even valid).
	code, out, stderr = runCmd("not an address\n", "resolve", "--check-config", "--resolvers", "127.0.0.1:53", "--format", "massdns")
	if code != 0 || out != "config ok: worker resolve resolvers=127.0.0.1:53 qps=20000 format=massdns\n" {
		t.Errorf("worker resolve --check-config: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	code, _, stderr = runCmd("", "resolve", "--check-config", "--resolvers", "127.0.0.1:53", "--format", "table")
	if code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("worker resolve --check-config --format table: exit %d, stderr %q; want 2 naming --format", code, stderr)
	}
}

// TestWorkerMetrics runs the worker command with --metrics-listen over a
// published scan and scrapes it: /healthz and /readyz (nats and
// clickhouse) answer 200, and the metrics count the scan's queries, units
// and rows.
func TestWorkerMetrics(t *testing.T) {
	_, addr := startLab(t)
	dsn := storetest.DSN(t)
	emb, p := publishScan(t, "metrics", dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listen, err := testenv.FreeAddr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var code int
	var stderr string
	wg.Go(func() {
		code, _, stderr = runCmdCtx(ctx, "", "--nats", emb.URL(), "--clickhouse", dsn, "--resolvers", addr, "--timeout", "300ms",
			"--flush-interval", "50ms", "--log-level", "warn", "--metrics-listen", listen)
	})

	base := "http://" + listen
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Wait (bounded) until every unit is done; the worker keeps serving.
	var metrics string
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st int
		st, metrics = get("/metrics")
		if n, _ := testenv.MetricSum(metrics, "ptrsweep_units_done_total"); st == 200 && n >= float64(p.Len()) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("units not done in time: last scrape %d bytes; worker exit %d: %s", len(metrics), code, stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks := []struct {
		name string
		ok   func(float64) bool
		want string
	}{
		{"ptrsweep_units_done_total", func(v float64) bool { return v == float64(p.Len()) }, "the unit count"},
		{"ptrsweep_dns_queries_total", func(v float64) bool { return v > 0 }, "> 0"},
		{"ptrsweep_rows_inserted_total", func(v float64) bool { return v > 0 }, "> 0"},
		{"ptrsweep_addresses_total", func(v float64) bool { return v == float64(p.Addresses()) }, "the address count"},
		{"ptrsweep_insert_duration_seconds_count", func(v float64) bool { return v > 0 }, "> 0"},
		{"ptrsweep_queue_pending_units", func(v float64) bool { return v == 0 }, "0"},
	}
	for _, c := range checks {
		v, found := testenv.MetricSum(metrics, c.name)
		if !found || !c.ok(v) {
			t.Errorf("%s = %v (present %v), want %s", c.name, v, found, c.want)
		}
	}
	if st, body := get("/healthz"); st != 200 {
		t.Errorf("/healthz: %d %q, want 200", st, body)
	}
	if st, body := get("/readyz"); st != 200 || body != "ok\n" {
		t.Errorf("/readyz: %d %q, want 200 ok", st, body)
	}
	cancel()
	wg.Wait()
	if code != 0 {
		t.Errorf("worker after SIGTERM-like cancel: exit %d: %s", code, stderr)
	}
}

// TestWorkerHealthWhileConnecting checks that the metrics server answers
// before the worker has connected: /healthz 200, /readyz 503 naming both
// services, while ClickHouse accepts the connection and never answers.
func TestWorkerHealthWhileConnecting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	held := make(chan net.Conn, 16)
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c // never answered
		}
	})
	defer func() {
		ln.Close()
		conns.Wait()
		close(held)
		for c := range held {
			c.Close()
		}
	}()
	listen, err := testenv.FreeAddr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		code, _, _ := runCmdCtx(ctx, "", "--nats", "nats://127.0.0.1:1", "--clickhouse", "clickhouse://"+ln.Addr().String()+"/x?dial_timeout=10s",
			"--resolvers", "127.0.0.1:1", "--log-level", "error", "--metrics-listen", listen)
		done <- code
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get("http://" + listen + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	var st int
	var body string
	for range 200 { // until the server listens (bounded)
		if st, body, err = get("/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st != 200 {
		t.Errorf("/healthz while connecting: %d %q (%v), want 200", st, body, err)
	}
	st, body, err = get("/readyz")
	if st != 503 || !strings.Contains(body, "[-]clickhouse failed") || !strings.Contains(body, "[-]nats failed") {
		t.Errorf("/readyz while connecting: %d %q (%v), want 503 naming clickhouse and nats", st, body, err)
	}
	// Connecting gives up after dial_timeout: ClickHouse's handshake does
	// not end with the context.
	cancel()
	select {
	case code := <-done:
		if code == 0 || code == 2 {
			t.Errorf("worker interrupted while connecting: exit %d, want a run failure", code)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("worker did not return after its context ended")
	}
}
