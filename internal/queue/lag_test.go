package queue

import (
	"context"
	"testing"
)

func mustLag(t *testing.T, q *Queue, want Lag) {
	t.Helper()
	got, err := q.Lag(context.Background())
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got != want {
		t.Errorf("Lag() = %+v, want %+v", got, want)
	}
}

func TestLag(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	mustLag(t, q, Lag{})
	publish(t, q, testUnits("alpha", 5))
	publish(t, q, testUnits("beta", 2))
	mustLag(t, q, Lag{Pending: 7})

	d := fetchOne(t, q)
	mustLag(t, q, Lag{Pending: 6, AckPending: 1})
	if err := d.Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	mustLag(t, q, Lag{Pending: 6})

	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := q.Lag(ctx); err == nil {
		t.Error("Lag(cancelled context) = nil error, want one")
	}
}
