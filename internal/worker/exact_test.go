package worker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// answerResolver answers every address of a unit with the PTRs of its
// current round.
type answerResolver struct {
	mu    sync.Mutex
	round int
	names [][]string
}

func (r *answerResolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	r.mu.Lock()
	names := r.names[r.round]
	r.round++
	r.mu.Unlock()
	for a := u.Prefix.Addr(); u.Prefix.Contains(a); a = a.Next() {
		var ptrs []sweep.PTR
		for _, n := range names {
			ptrs = append(ptrs, sweep.PTR{Name: n, TTL: 60})
		}
		emit(sweep.Result{IP: a, Status: sweep.StatusOK, PTRs: ptrs})
	}
	return nil
}

// memStore keeps what a worker stores and reads it back with the store's
// rule: rows of a unit below its highest superseded entry are stale.
type memStore struct {
	mu    sync.Mutex
	rows  []sweep.Row
	below map[string]uint64
	order []string // "rows", "superseded", "units" per insert
	recs  []sweep.UnitRecord
}

func (m *memStore) store() fakeStore {
	return fakeStore{
		insertRows: func(_ context.Context, rows []sweep.Row) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.rows = append(m.rows, rows...)
			m.order = append(m.order, "rows")
			return nil
		},
		insertSuperseded: func(_ context.Context, es []store.Supersede) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, e := range es {
				m.below[e.Scan+" "+e.Unit] = max(m.below[e.Scan+" "+e.Unit], e.Below)
			}
			m.order = append(m.order, "superseded")
			return nil
		},
		insertUnits: func(_ context.Context, recs []sweep.UnitRecord) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.recs = append(m.recs, recs...)
			m.order = append(m.order, "units")
			return nil
		},
	}
}

func (m *memStore) current() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, r := range m.rows {
		if r.Attempt < m.below[r.Scan+" "+r.Unit] {
			continue
		}
		k := r.IP.String() + " " + r.PTR
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestRedeliveredUnitSupersedes delivers one unit twice with different
// answers: the second delivery (a redelivery with a higher attempt ID)
// stores its rows, then a superseded entry, then its unit record, so the
// stored data is exactly the second answer.
func TestRedeliveredUnitSupersedes(t *testing.T) {
	u := sweep.Unit{Scan: "t", Prefix: netip.MustParsePrefix("198.51.7.0/31"), Total: 1}
	mem := &memStore{below: map[string]uint64{}}
	res := &answerResolver{names: [][]string{{"a.example", "b.example"}, {"a.example", "c.example"}}}
	for i, d := range []*fakeDelivery{
		{u: u, attempt: 1, attemptID: 5<<16 | 1},
		{u: u, attempt: 2, attemptID: 5<<16 | 2, redelivery: true},
	} {
		q := &fakeQueue{todo: []*fakeDelivery{d}}
		w, err := New(Config{Queue: q, Store: mem.store(), Resolver: res, ExitWhenIdle: true, Logger: quiet, FlushInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w.Run(context.Background())
		if !d.acked {
			t.Fatalf("delivery %d not acked", i+1)
		}
	}
	want := []string{"198.51.7.0 a.example", "198.51.7.0 c.example", "198.51.7.1 a.example", "198.51.7.1 c.example"}
	if got := mem.current(); !slices.Equal(got, want) {
		t.Errorf("current rows = %q, want %q", got, want)
	}
	if got, want := strings.Join(mem.order, ","), "rows,units,rows,superseded,units"; got != want {
		t.Errorf("insert order = %s, want %s (no superseded entry for a first delivery)", got, want)
	}
	for _, r := range mem.rows[4:] {
		if r.Attempt != 5<<16|2 {
			t.Errorf("row %v %s of the redelivery: attempt %d, want %d", r.IP, r.PTR, r.Attempt, 5<<16|2)
		}
	}
}

// TestPermanentStoreErrorDeadLetters checks that a unit whose rows the store
// refuses for good is dead-lettered with the error recorded, while the
// other units of its batch are stored and acked.
func TestPermanentStoreErrorDeadLetters(t *testing.T) {
	ds := units(3)
	bad := ds[1].u.Prefix.String()
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var mu sync.Mutex
	var failed []sweep.UnitRecord
	stored := map[string]bool{}
	st := fakeStore{
		insertRows: func(_ context.Context, rows []sweep.Row) error {
			for _, r := range rows {
				if r.Unit == bad {
					return fmt.Errorf("insert: %w", store.ErrPermanent)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range rows {
				stored[r.Unit] = true
			}
			return nil
		},
		insertUnits: func(_ context.Context, recs []sweep.UnitRecord) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				if r.State == sweep.UnitFailed {
					failed = append(failed, r)
				}
			}
			return nil
		},
	}
	// One batch for all three units: they flush together.
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, Units: 3, MaxHeld: 6, ExitWhenIdle: true, Logger: quiet,
		FlushInterval: time.Hour, BatchRows: 48})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	for _, d := range ds {
		isBad := d.u.Prefix.String() == bad
		if d.acked == isBad || stored[d.u.Prefix.String()] == isBad {
			t.Errorf("unit %s: acked=%v stored=%v, want %v", d.u.ID(), d.acked, stored[d.u.Prefix.String()], !isBad)
		}
	}
	if len(q.dead) != 1 || !strings.HasPrefix(q.dead[0], ds[1].u.ID()) {
		t.Errorf("dead letters = %q, want only %s", q.dead, ds[1].u.ID())
	}
	if len(failed) != 1 || failed[0].Unit != bad || !strings.Contains(failed[0].Error, store.ErrPermanent.Error()) {
		t.Errorf("failed records = %+v, want %s with the store's error", failed, bad)
	}
}

// TestOverloadSlowsFlushes checks that an overloaded store doubles the
// flush interval, and the batch is stored once the store recovers.
func TestOverloadSlowsFlushes(t *testing.T) {
	ds := units(1)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	var calls int
	st := fakeStore{
		insertRows: func(context.Context, []sweep.Row) error {
			calls++
			if calls == 1 {
				return fmt.Errorf("insert: %w", store.ErrOverloaded)
			}
			return nil
		},
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, ExitWhenIdle: true, Logger: quiet,
		FlushInterval: time.Millisecond, MaxFlushInterval: time.Second, SlowInsert: time.Hour, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(context.Background())
	if !ds[0].acked {
		t.Error("unit not acked after the store recovered")
	}
	// Doubled on the overload, then shrunk by a quarter after the success.
	if got, want := time.Duration(w.Stats().FlushInterval.Load()), 1500*time.Microsecond; got != want {
		t.Errorf("flush interval = %v, want %v", got, want)
	}
}

// openWithPtr opens the database of dsn with its ptr table replaced: ttl is
// "ttl UInt32, " or "" (a missing column), settings is appended to the
// table's definition. The store is closed when the test ends.
func openWithPtr(ctx context.Context, t *testing.T, dsn, ttl, settings string) *store.Store {
	t.Helper()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, q := range []string{"DROP TABLE ptr_current", "DROP TABLE ptr",
		"CREATE TABLE ptr (scan String, rname String, ip UInt32, ptr String, status Enum8('ok' = 1, 'nxdomain' = 2, 'nodata' = 3, 'servfail' = 4, 'refused' = 5, 'timeout' = 6), " +
			ttl + "fcrdns Enum8('' = 0, 'confirmed' = 1, 'mismatch' = 2, 'no_address' = 3, 'error' = 4, 'numeric' = 5), unit String, resolved_at DateTime, attempt UInt64, asn UInt32 DEFAULT 0, country String DEFAULT '') " +
			"ENGINE = ReplacingMergeTree(attempt) PARTITION BY scan ORDER BY (rname, ip, scan)" + settings} {
		if err := st.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return st
}

// TestPermanentErrorRealClickHouse runs a worker against a database whose
// ptr table lacks a column: every unit is dead-lettered and the unit log
// shows the server's error, which status prints.
func TestPermanentErrorRealClickHouse(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	st := openWithPtr(ctx, t, dsn, "", "")
	ds := units(2)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, ExitWhenIdle: true, Logger: quiet, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(ctx)
	if len(q.dead) != 2 {
		t.Errorf("dead letters = %q, want both units", q.dead)
	}
	p, err := st.Progress(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if p.UnitsFailed != 2 || len(p.FailedUnits) != 2 {
		t.Fatalf("progress: %d failed units, want 2", p.UnitsFailed)
	}
	for _, u := range p.FailedUnits {
		if !strings.Contains(u.Error, "ttl") || !strings.Contains(u.Error, "permanent") {
			t.Errorf("unit %s failed with %q, want the server's error naming column ttl", u.Unit, u.Error)
		}
	}
}

// TestTransientErrorRealClickHouse runs a worker against a ptr table whose
// partition is at its parts limit (merges stopped): the insert fails with
// TOO_MANY_PARTS, is retried, not dead-lettered, and succeeds once merges
// run again; the flush interval grew meanwhile.
func TestTransientErrorRealClickHouse(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a safety net, not an assertion
	defer cancel()
	st := openWithPtr(ctx, t, dsn, "ttl UInt32, ", " SETTINGS parts_to_delay_insert = 1, parts_to_throw_insert = 2")
	if err := st.Exec(ctx, "SYSTEM STOP MERGES ptr"); err != nil {
		t.Fatal(err)
	}
	// Fill the scan's partition up to the limit.
	for i := 0; ; i++ {
		r := sweep.Row{Scan: "t", Unit: "x", IP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), PTR: "fill.example", Status: sweep.StatusOK}
		err := st.InsertRows(ctx, []sweep.Row{r})
		if store.Overloaded(err) {
			break
		}
		if err != nil || i > 10 {
			t.Fatalf("filling the partition: insert %d: %v", i, err)
		}
	}
	ds := units(1)
	q := &fakeQueue{todo: append([]*fakeDelivery(nil), ds...)}
	w, err := New(Config{Queue: q, Store: st, Resolver: fakeResolver{}, ExitWhenIdle: true, Logger: quiet,
		FlushInterval: 10 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for w.Stats().FlushErrors.Load() < 2 {
		select {
		case <-done:
			t.Fatal("Run returned before any insert failed")
		case <-time.After(10 * time.Millisecond):
		}
	}
	q.mu.Lock()
	dead := len(q.dead)
	q.mu.Unlock()
	ds[0].mu.Lock()
	acked := ds[0].acked
	ds[0].mu.Unlock()
	if dead != 0 || acked {
		t.Fatalf("while TOO_MANY_PARTS: %d dead letters, acked %v; want neither", dead, acked)
	}
	if got := time.Duration(w.Stats().FlushInterval.Load()); got <= 10*time.Millisecond {
		t.Errorf("flush interval while overloaded = %v, want above 10ms", got)
	}
	if err := st.Exec(ctx, "SYSTEM START MERGES ptr"); err != nil {
		t.Fatal(err)
	}
	if err := st.Exec(ctx, "OPTIMIZE TABLE ptr FINAL"); err != nil {
		t.Fatal(err)
	}
	<-done
	if !ds[0].acked || len(q.dead) != 0 {
		t.Errorf("after merges: acked %v, dead letters %q; want acked only", ds[0].acked, q.dead)
	}
	var n int
	if err := st.Export(ctx, "t", func(r sweep.Row) error {
		if r.Unit == ds[0].u.Prefix.String() {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 16 {
		t.Errorf("stored rows of the unit = %d, want 16", n)
	}
}
