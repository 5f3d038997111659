package worker

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// BenchmarkBatcher measures handing resolved /24 units (256 rows each) to
// the batcher and waiting until they are "stored" by a store that only
// counts: the cost of batching itself, per unit.
func BenchmarkBatcher(b *testing.B) {
	var stored int
	st := fakeStore{
		insertRows:  func(_ context.Context, rows []sweep.Row) error { stored += len(rows); return nil },
		insertUnits: func(context.Context, []sweep.UnitRecord) error { return nil },
	}
	w, err := New(Config{Queue: &fakeQueue{}, Store: st, Resolver: fakeResolver{}, Units: 4, MaxHeld: 68, BatchRows: 50000,
		FlushInterval: time.Hour, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]sweep.Row, 256)
	for i := range rows {
		rows[i] = sweep.Row{Scan: "bench", Unit: "198.51.0.0/24", IP: netip.AddrFrom4([4]byte{198, 51, 0, byte(i)}),
			PTR: "host.example", Status: sweep.StatusOK, TTL: 60}
	}
	bt := newBatcher(w, context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bt.run() }()
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	const submitters = 64 // MaxHeld−Units: a batch flushes when they all wait
	next := make(chan struct{})
	for range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				bt.submit(pending{rows: rows, rec: sweep.UnitRecord{Scan: "bench", Unit: "198.51.0.0/24", Counts: sweep.Counts{OK: 256}}})
			}
		}()
	}
	for b.Loop() {
		next <- struct{}{}
	}
	close(next)
	bt.close() // flushes the last, partial batch
	wg.Wait()
	b.StopTimer()
	<-done
	b.ReportMetric(float64(stored)/float64(b.N), "rows/op")
}
