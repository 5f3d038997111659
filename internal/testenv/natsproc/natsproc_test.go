package natsproc_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/natsproc"
)

// TestClusterLeaderKill starts a three-node cluster, creates the queue with
// three replicas, checks that a process without --replicas keeps them, and
// kills the work stream's leader: another node leads it.
func TestClusterLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server; skipped with -short")
	}
	bin := filepath.Join(testenv.BuildCommands(t, true), "nats-server")
	dir := t.TempDir()
	var procs []*testenv.Proc
	start := func(name string, argv ...string) (*testenv.Proc, error) {
		p, err := testenv.Start(testenv.ProcSpec{Name: name, Argv: argv, Log: filepath.Join(dir, name+".log")})
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p.Running() {
				p.Stop(10 * time.Second)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := natsproc.Start(ctx, natsproc.Spec{Bin: bin, Dir: dir, Nodes: 3, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(c.URL(), "nats://127.0.0.1:"); got != 3 {
		t.Errorf("URL() = %q, want three loopback URLs", c.URL())
	}
	for i, replicas := range []int{3, 0} {
		q, err := queue.Connect(ctx, queue.Config{URL: c.URL(), Name: "natsproc-test", Replicas: replicas})
		if err != nil {
			t.Fatalf("Connect #%d (replicas %d): %v", i+1, replicas, err)
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var info natsproc.StreamInfo
	for info, err = c.Stream(ctx, queue.WorkStream); err != nil && ctx.Err() == nil; info, err = c.Stream(ctx, queue.WorkStream) {
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if info.Replicas != 3 {
		t.Errorf("stream %s has %d replicas after a Connect without Replicas, want 3 kept", queue.WorkStream, info.Replicas)
	}
	old := info.Leader
	c.Kill(old)
	for ctx.Err() == nil {
		if next, err := c.Stream(ctx, queue.WorkStream); err == nil && next.Leader != old {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no new leader of %s after killing %s", queue.WorkStream, old.Name)
}
