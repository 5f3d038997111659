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
