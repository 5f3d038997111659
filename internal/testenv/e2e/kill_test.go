package e2e

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// mortal wraps a worker's queue so the worker can be killed: once dead is
// set, nothing it does reaches JetStream any more (no ack, no nak, no
// heartbeat), as if its process had died.
type mortal struct {
	worker.Queue
	dead *atomic.Bool
}

func (m mortal) Fetch(ctx context.Context, max int) ([]worker.Delivery, error) {
	if m.dead.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ds, err := m.Queue.Fetch(ctx, max)
	for i, d := range ds {
		ds[i] = mortalDelivery{d, m.dead}
	}
	return ds, err
}

type mortalDelivery struct {
	worker.Delivery
	dead *atomic.Bool
}

func (d mortalDelivery) Ack(ctx context.Context) error {
	if d.dead.Load() {
		return context.Canceled
	}
	return d.Delivery.Ack(ctx)
}

func (d mortalDelivery) Nak(ctx context.Context, delay time.Duration) error {
	if d.dead.Load() {
		return context.Canceled
	}
	return d.Delivery.Nak(ctx, delay)
}

func (d mortalDelivery) InProgress(ctx context.Context) error {
	if d.dead.Load() {
		return context.Canceled
	}
	return d.Delivery.InProgress(ctx)
}

// killingStore dies right after its first insert of rows succeeds: the rows
// are in ClickHouse, but their units are never recorded nor acked.
type killingStore struct {
	*store.Store
	dead   *atomic.Bool
	kill   context.CancelFunc
	mu     sync.Mutex
	killed map[string]bool // units whose rows were stored by the dead worker
}

func (k *killingStore) InsertRows(ctx context.Context, rows []sweep.Row) error {
	if k.dead.Load() {
		return context.Canceled
	}
	if err := k.Store.InsertRows(ctx, rows); err != nil {
		return err
	}
	k.mu.Lock()
	for _, r := range rows {
		k.killed[r.Unit] = true
	}
	k.mu.Unlock()
	k.dead.Store(true)
	k.kill()
	return context.Canceled
}

func (k *killingStore) InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error {
	if k.dead.Load() {
		return context.Canceled
	}
	return k.Store.InsertUnits(ctx, recs)
}

// TestWorkerKilledMidUnit kills a worker after the rows of its first batch
// reached ClickHouse but before it recorded or acked their units. The units
// are redelivered to another worker, stored again, and the final data is
// complete with no duplicates.
func TestWorkerKilledMidUnit(t *testing.T) {
	l, srv := startLab(t)
	dsn := testDSN(t)
	ctx := context.Background()
	space := netip.MustParsePrefix("198.18.0.0/20")
	p := newPlan(t, "killed", space, 24, false)

	emb, err := queue.StartEmbedded(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	qcfg := queue.Config{URL: emb.URL(), AckWait: 2 * time.Second, MaxDeliver: 5}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SaveScan(ctx, p.Record()); err != nil {
		t.Fatal(err)
	}
	pub, err := queue.Connect(ctx, qcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if _, _, err := pub.PublishAll(ctx, p.All(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := resolve.New(labResolver(srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}

	// The doomed worker.
	qa, err := queue.Connect(ctx, qcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer qa.Close()
	var dead atomic.Bool
	actx, kill := context.WithCancel(ctx)
	ks := &killingStore{Store: st, dead: &dead, kill: kill, killed: map[string]bool{}}
	wa, err := worker.New(worker.Config{Name: "doomed", Queue: mortal{worker.JetStream(qa), &dead}, Store: ks, Resolver: res,
		Units: 3, FlushInterval: 50 * time.Millisecond, Grace: -1, StoreGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wa.Run(actx)
	if len(ks.killed) == 0 {
		t.Fatal("the doomed worker stored no rows before dying")
	}

	// A healthy worker finishes the scan, including the dead worker's units.
	qb, err := queue.Connect(ctx, qcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer qb.Close()
	var mu sync.Mutex
	redelivered := map[string]uint32{}
	wb, err := worker.New(worker.Config{Name: "healthy", Queue: worker.JetStream(qb), Store: st, Resolver: res,
		FlushInterval: 50 * time.Millisecond, ExitWhenIdle: true,
		OnUnit: func(r sweep.UnitRecord) {
			mu.Lock()
			defer mu.Unlock()
			redelivered[r.Unit] = r.Attempt
		}})
	if err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	wb.Run(bctx)
	for u := range ks.killed {
		if redelivered[u] < 2 {
			t.Errorf("unit %s stored by the dead worker was not redelivered (attempt %d)", u, redelivered[u])
		}
	}
	pr, err := st.Progress(ctx, "killed")
	if err != nil {
		t.Fatal(err)
	}
	if pr.UnitsDone != p.Len() || pr.UnitsFailed != 0 {
		t.Errorf("units done %d, failed %d; want %d, 0", pr.UnitsDone, pr.UnitsFailed, p.Len())
	}
	want, _ := expectedLines(space, l.Expect, false)
	compare(t, storedLines(t, dsn, "killed"), want)
}
