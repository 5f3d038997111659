package testenv

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFreePort(t *testing.T) {
	port, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreePort = %d, but listen on TCP: %v", port, err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("FreePort = %d, but listen on UDP: %v", port, err)
	}
	u.Close()
	got, err := FreeAddr("127.0.0.1")
	if err != nil || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("FreeAddr = %q, %v, want 127.0.0.1:port", got, err)
	}
}

func TestProc(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(ProcSpec{Name: "sh", Argv: []string{"/bin/sh", "-c", "echo one; echo two; exec sleep 60"}, Log: filepath.Join(dir, "sh.log")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, 10*time.Millisecond, func(context.Context) bool { return strings.Contains(p.Output(), "two") }); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Tail(1), "two"; got != want {
		t.Errorf("Tail(1) = %q, want %q", got, want)
	}
	if !p.Running() {
		t.Fatal("Running() = false before Stop")
	}
	if got, want := p.Stop(5*time.Second), -1; got != want {
		t.Errorf("Stop = %d, want %d (ended by SIGTERM)", got, want)
	}
	if p.Running() {
		t.Error("Running() = true after Stop")
	}
}

func TestWaitReadyExited(t *testing.T) {
	p, err := Start(ProcSpec{Name: "false", Argv: []string{"/bin/sh", "-c", "echo bad config; exit 3"}, Log: filepath.Join(t.TempDir(), "f.log")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.WaitReady(ctx, 10*time.Millisecond, func(context.Context) bool { return false })
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("WaitReady = %v, want ErrExited with the log's tail", err)
	}
	if code, err := p.Wait(time.Second); err != nil || code != 3 {
		t.Errorf("Wait = %d, %v, want 3, nil", code, err)
	}
}

func TestStartMissing(t *testing.T) {
	_, err := Start(ProcSpec{Name: "none", Argv: []string{"/nonexistent/binary"}, Log: filepath.Join(t.TempDir(), "n.log")})
	if err == nil {
		t.Error("Start of a missing binary: no error, want one")
	}
}

func TestTripwire(t *testing.T) {
	tw, err := NewTripwire("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := net.Dial("tcp", tw.Addr())
		if err != nil {
			t.Fatal(err)
		}
		// The tripwire closes the connection: reading ends.
		_, _ = c.Read(make([]byte, 1))
		c.Close()
	}
	if got := tw.Close(); got != 2 {
		t.Errorf("Close() = %d connections, want 2", got)
	}
}

func TestMetricSum(t *testing.T) {
	const text = `# HELP ptrsweep_addresses_total Addresses resolved, by outcome.
# TYPE ptrsweep_addresses_total counter
ptrsweep_addresses_total{status="ok"} 3
ptrsweep_addresses_total{status="nxdomain"} 4.5
ptrsweep_addresses_total_extra 100
ptrsweep_dns_queries_total 7
ptrsweep_units_done_total{a="}"} 2
`
	tests := []struct {
		name   string
		want   float64
		wantOK bool
	}{
		{"ptrsweep_addresses_total", 7.5, true},
		{"ptrsweep_dns_queries_total", 7, true},
		{"ptrsweep_units_done_total", 2, true},
		{"ptrsweep_dns_queries", 0, false},
		{"ptrsweep_missing_total", 0, false},
	}
	for _, tt := range tests {
		got, ok := MetricSum(text, tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MetricSum(%q) = %v, %v, want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestProcCPU checks that a busy process's CPU time is read and grows.
func TestProcCPU(t *testing.T) {
	dir := t.TempDir()
	// A shell loop that burns CPU until killed.
	p, err := Start(ProcSpec{Name: "busy", Argv: []string{"/bin/sh", "-c", "while :; do :; done"}, Log: filepath.Join(dir, "busy.log")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(5 * time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := p.CPU()
		if err != nil {
			t.Fatal(err)
		}
		if d >= 50*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU() = %s after 20 s of a busy loop, want at least 50ms", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
