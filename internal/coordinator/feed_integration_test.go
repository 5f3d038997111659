package coordinator

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// crashingStore fails every cursor save at or beyond failAt, as a feeder
// killed between a batch's acknowledgement and its cursor save would.
type crashingStore struct {
	*store.Store
	failAt int
}

func (c crashingStore) SaveCursor(ctx context.Context, cur store.Cursor) error {
	if c.failAt > 0 && cur.Published >= c.failAt {
		return errBoom
	}
	return c.Store.SaveCursor(ctx, cur)
}

// TestFeedEmbeddedJetStream feeds a plan ten times larger than its bound to
// a real JetStream server while a consumer drains it and logs each unit in
// ClickHouse before acknowledging it, as workers do. The feeder dies twice
// (a cursor save that fails after a batch was acknowledged, then a cancel at
// an arbitrary point); every unit must arrive exactly once. The stream's
// dedup window is made too short to span a restart: exactness comes from
// the cursor and the presence checks alone.
func TestFeedEmbeddedJetStream(t *testing.T) {
	dsn := storetest.DSN(t)
	emb, err := queue.StartEmbedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The server's shortest dedup window; the test waits it out before
	// each restart.
	const dedup = 100 * time.Millisecond
	qc := queue.Config{URL: emb.URL(), Name: "feed-test", Duplicates: dedup, FetchWait: 100 * time.Millisecond}
	q, err := queue.Connect(ctx, qc)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	cq, err := queue.Connect(ctx, qc)
	if err != nil {
		t.Fatal(err)
	}
	defer cq.Close()

	p, err := plan.New(plan.Request{Scan: "feedit", CIDRs: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/16")},
		UnitPrefix: 26, Options: sweep.Options{AllowReserved: true}})
	if err != nil {
		t.Fatal(err)
	}
	const maxPending = 100
	total := p.Len() // 1024

	// The consumer: fetch, log the unit as done, then ack.
	var (
		mu        sync.Mutex
		delivered = map[int]int{}
		maxSeen   int
	)
	consCtx, stopConsumer := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for consCtx.Err() == nil {
			ds, err := cq.Fetch(consCtx, 32)
			if err != nil {
				continue
			}
			if len(ds) == 0 {
				continue
			}
			var recs []sweep.UnitRecord
			now := time.Now().UTC()
			for _, d := range ds {
				u := d.Unit()
				recs = append(recs, sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitDone,
					Worker: "test", StartedAt: now, FinishedAt: now})
			}
			if err := st.InsertUnits(consCtx, recs); err != nil {
				for _, d := range ds {
					_ = d.Nak(consCtx, 0)
				}
				continue
			}
			for _, d := range ds {
				if err := d.Ack(consCtx); err != nil {
					t.Errorf("ack %s: %v", d.Unit().ID(), err)
				}
				mu.Lock()
				delivered[d.Unit().Seq]++
				mu.Unlock()
			}
			// Drain more slowly than the feeder publishes.
			time.Sleep(5 * time.Millisecond)
		}
	})
	defer func() { stopConsumer(); wg.Wait() }()
	// Sample the queue to check the bound.
	wg.Go(func() {
		for consCtx.Err() == nil {
			if n, err := q.Queued(consCtx, "feedit"); err == nil {
				mu.Lock()
				maxSeen = max(maxSeen, n)
				mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
	})

	cfg := FeedConfig{MaxPending: maxPending, Batch: 32, Poll: 10 * time.Millisecond, RetryWait: time.Millisecond}
	t0 := time.Now()
	// Run 1: the first cursor save at or past unit 300 fails: the batch
	// before it is in the stream (some of it maybe done), the cursor is
	// below 300.
	f, err := newFeeder(ctx, crashingStore{st, 300}, q, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(ctx); !errors.Is(err, errBoom) {
		t.Fatalf("run 1 = %v, want the injected cursor failure", err)
	}
	if cur, _, _ := st.Cursor(ctx, "feedit"); cur.Published >= 300 || cur.Published < 300-cfg.Batch {
		t.Fatalf("cursor after run 1 = %+v, want one batch below 300", cur)
	}
	t.Logf("run 1 ended (%s)", time.Since(t0))
	time.Sleep(2 * dedup)
	// Run 2: cancelled at an arbitrary point past unit 600.
	runCtx, stop := context.WithCancel(ctx)
	f, err = newFeeder(runCtx, st, q, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := f.run(runCtx); done <- err }()
	for {
		cur, _, err := st.Cursor(ctx, "feedit")
		if err != nil {
			t.Fatal(err)
		}
		if cur.Published >= 600 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run 2 = %v, want context.Canceled", err)
	}
	time.Sleep(2 * dedup)
	// Run 3: to the end.
	f, err = newFeeder(ctx, st, q, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run 3: %+v (%s)", res, time.Since(t0))
	if cur, _, _ := st.Cursor(ctx, "feedit"); !cur.Done() {
		t.Errorf("cursor after run 3 = %+v, want all %d published", cur, total)
	}
	// Wait for the consumer to finish everything.
	for {
		prog, err := st.Progress(ctx, "feedit")
		if err != nil {
			t.Fatal(err)
		}
		idle, err := q.Idle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if prog.UnitsDone >= total && idle {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("units done %d of %d when the test timed out", prog.UnitsDone, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopConsumer()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for seq := range total {
		if delivered[seq] != 1 {
			t.Errorf("unit %d delivered %d times, want once", seq, delivered[seq])
		}
	}
	if len(delivered) != total {
		t.Errorf("%d distinct units delivered, want %d", len(delivered), total)
	}
	// The feeder never sends more than the bound minus what it last counted.
	if maxSeen > maxPending {
		t.Errorf("the stream held up to %d units of the scan, want at most %d", maxSeen, maxPending)
	}
	// A fourth publish adds nothing and says the scan is complete.
	var out bytes.Buffer
	if err := publish(ctx, st, q, p, cfg, &out); err != nil {
		t.Fatal(err)
	}
	if want := "scan feedit is complete: all 1024 units published and finished (1024 done, 0 failed); nothing to publish\n"; out.String() != want {
		t.Errorf("publish after the end printed %q, want %q", out.String(), want)
	}
}
