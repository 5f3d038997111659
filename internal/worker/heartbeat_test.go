package worker

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestHeartbeatFor(t *testing.T) {
	tests := []struct{ ackWait, want time.Duration }{
		{60 * time.Second, 15 * time.Second},
		{2 * time.Second, time.Second},
		{0, time.Second},
	}
	for _, tt := range tests {
		if got := HeartbeatFor(tt.ackWait); got != tt.want {
			t.Errorf("HeartbeatFor(%s) = %s, want %s", tt.ackWait, got, tt.want)
		}
	}
}

// TestHeartbeatsBeatUntilRemoved checks that a registered unit gets
// InProgress calls and that none starts once it is removed.
func TestHeartbeatsBeatUntilRemoved(t *testing.T) {
	h := newHeartbeats(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.run(ctx) }()
	defer func() { cancel(); <-done }()

	beating, stopped := &fakeDelivery{}, &fakeDelivery{}
	noLog := func() *slog.Logger { return slog.Default() }
	remove := h.add(stopped, noLog)
	remove()
	defer h.add(beating, noLog)()
	count := func(d *fakeDelivery) int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.hb
	}
	for count(beating) < 3 {
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("heartbeat loop ended")
		}
	}
	if got := count(stopped); got != 0 {
		t.Errorf("a removed unit got %d heartbeats, want 0", got)
	}
}
