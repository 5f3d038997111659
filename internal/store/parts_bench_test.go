package store

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkPartsUnderFleet measures how many active parts one scan's
// partition of ptr holds while a fleet of workers inserts into it: N
// inserters (PTRSWEEP_PARTS_WRITERS, default 16), each with its own
// connection, each inserting PTRSWEEP_PARTS_ROWS rows (default 2000) every
// PTRSWEEP_PARTS_FLUSH_MS milliseconds (default 500, the worker's default
// flush interval) plus one unit record, for PTRSWEEP_PARTS_SECONDS seconds
// (default 30). It reports the peak and final active parts of the partition
// (ClickHouse delays inserts from parts_to_delay_insert = 150 and refuses
// them from parts_to_throw_insert = 300), the units table's parts, the rows
// per second stored, and the slowest insert. Run it alone:
//
//	go test ./internal/store -run '^$' -bench PartsUnderFleet -benchtime 1x
func BenchmarkPartsUnderFleet(b *testing.B) {
	writers := envInt("PTRSWEEP_PARTS_WRITERS", 16)
	rowsPer := envInt("PTRSWEEP_PARTS_ROWS", 2000)
	flush := time.Duration(envInt("PTRSWEEP_PARTS_FLUSH_MS", 500)) * time.Millisecond
	dur := time.Duration(envInt("PTRSWEEP_PARTS_SECONDS", 30)) * time.Second
	admin := openTest(b)
	ctx := context.Background()
	// Runs before openTest's cleanup: dropping thousands of fresh parts on
	// a busy server takes longer than its 30 s.
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := admin.DropDatabase(ctx); err != nil {
			b.Errorf("DropDatabase: %v", err)
		}
	})
	for b.Loop() {
		var (
			stored, slowest atomic.Int64
			wg              sync.WaitGroup
			stop            = make(chan struct{})
			peak, peakUnits uint64
		)
		for w := range writers {
			o := admin.opts
			o.MaxOpenConns = 1
			st, err := OpenOptions(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(flush)
				defer t.Stop()
				for batch := 0; ; batch++ {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					rows := make([]sweep.Row, rowsPer)
					unit := strconv.Itoa(w) + "/" + strconv.Itoa(batch)
					for i := range rows {
						n := uint32(w)<<24 | uint32(batch)<<12 | uint32(i)
						rows[i] = sweep.Row{Scan: "fleet", Unit: unit, IP: netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}),
							PTR: "h" + strconv.Itoa(int(n)) + ".fleet.example", Status: sweep.StatusOK, TTL: 60, ResolvedAt: time.Now(), Attempt: 1 << 16}
					}
					start := time.Now()
					if err := st.InsertRows(ctx, rows); err != nil {
						b.Errorf("writer %d: %v", w, err)
						return
					}
					if err := st.InsertUnits(ctx, []sweep.UnitRecord{{Scan: "fleet", Unit: unit, State: sweep.UnitDone, Rows: uint32(rowsPer)}}); err != nil {
						b.Errorf("writer %d: %v", w, err)
						return
					}
					d := time.Since(start).Nanoseconds()
					for old := slowest.Load(); d > old && !slowest.CompareAndSwap(old, d); old = slowest.Load() {
					}
					stored.Add(int64(rowsPer))
				}
			}()
		}
		parts := func(table string) uint64 {
			var n uint64
			err := admin.conn.QueryRow(ctx, "SELECT toUInt64(max(c)) FROM (SELECT partition, count() AS c FROM system.parts WHERE database = currentDatabase() AND table = ? AND active GROUP BY partition)", table).Scan(&n)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
		start := time.Now()
		tick := time.NewTicker(time.Second)
		for time.Since(start) < dur {
			<-tick.C
			peak, peakUnits = max(peak, parts("ptr")), max(peakUnits, parts("units"))
		}
		tick.Stop()
		close(stop)
		wg.Wait()
		elapsed := time.Since(start)
		b.Logf("%d writers × %d rows every %v for %v: peak %d active parts in the partition (final %d), units table peak %d, %.0f rows/s, slowest insert %v",
			writers, rowsPer, flush, elapsed.Round(time.Second), peak, parts("ptr"), peakUnits, float64(stored.Load())/elapsed.Seconds(), time.Duration(slowest.Load()).Round(time.Millisecond))
		b.ReportMetric(float64(peak), "peak_parts")
		b.ReportMetric(float64(parts("ptr")), "final_parts")
		b.ReportMetric(float64(peakUnits), "peak_unit_parts")
		b.ReportMetric(float64(stored.Load())/elapsed.Seconds(), "rows/s")
		b.ReportMetric(time.Duration(slowest.Load()).Seconds(), "slowest_insert_s")
	}
}
