package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/bench"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labproc"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--rounds", "0"},
		{"--addresses", "1000"},
		{"--space", "10.0.0.0/33"},
		{"--space", "10.0.0.0/24", "--addresses", "512"},
		{"--clickhouse", "mysql://x"},
		{"--nope"},
		{"stray"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", args, code, stderr.String())
		}
		if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); n != 0 {
			t.Errorf("run(%q) stderr = %q, want one line", args, stderr.String())
		}
	}
}

// require skips the test when what is missing, unless CI=true, where it is
// a failure.

// TestBench runs the whole harness on 4096 addresses, one round: Knot,
// dnsperf, the engine, the pipeline with ClickHouse, and Unbound when it is
// installed. Every row's answers must check out.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Knot, dnsperf, the pipeline and ClickHouse")
	}
	_, err := os.Stat(labproc.KnotdPath)
	testenv.Require(t, "knotd (apt-get install knot)", err)
	_, err = os.Stat(bench.DNSPerfPath)
	testenv.Require(t, "dnsperf (apt-get install dnsperf)", err)
	c, err := net.DialTimeout("tcp", "127.0.0.1:9000", 2*time.Second)
	testenv.Require(t, "ClickHouse on 127.0.0.1:9000", err)
	c.Close()
	_, uerr := os.Stat(labproc.UnboundPath)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", "./cmd/coordinator", "./cmd/worker")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out := filepath.Join(t.TempDir(), "bench.md")
	args := []string{"--bin", bin, "--addresses", "4096", "--rounds", "1", "--out", out}
	if uerr == nil {
		args = append(args, "--unbound")
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d, want 0\nstdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
	}
	want := []string{
		"| dnsperf -c 2 -T 2 -q 100 | knot |",
		"| dnsperf -c 8 -T 2 -q 100 | knot |",
		"| worker resolve (CIDR list) | knot |",
		"| worker resolve --prune=false (CIDR list) | knot |",
		"| worker resolve --prune=false (address list) | knot |",
		"| worker resolve --prune=false (shuffled mix) | knot |",
		"| coordinator sweep (NATS + workers + ClickHouse) | knot |",
		"| coordinator sweep --unit-prefix 28 | knot |",
	}
	if uerr == nil {
		want = append(want, "| dnsperf -c 2 -T 2 -q 100 | unbound → knot |", "| worker resolve --prune=false (CIDR list) | unbound → knot |")
	}
	// massdns is measured only when the user points the bench at it.
	massdns := "| massdns -s 100 -o Snr | knot | — |"
	if os.Getenv("MASSDNS") != "" {
		massdns = "| massdns -s 100 -o Snr | knot |"
		want = append(want, massdns)
	} else if !strings.Contains(stdout.String(), massdns) || !strings.Contains(stdout.String(), "| not run |") {
		t.Errorf("stdout has no massdns row saying \"not run\":\n%s", stdout.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				found = true
				// dnsperf's rcodes are the server's business (Unbound
				// under load may answer a SERVFAIL); ours must be right.
				if !strings.HasPrefix(w, "| dnsperf") && !strings.HasSuffix(l, "| yes |") {
					t.Errorf("row %q: answers not verified", l)
				}
			}
		}
		if !found {
			t.Errorf("stdout has no row %q:\n%s", w, stdout.String())
		}
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != stdout.String() {
		t.Errorf("--out file = %q, %v; want the table printed on stdout", b, err)
	}
}
