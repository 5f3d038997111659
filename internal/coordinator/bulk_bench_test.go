package coordinator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/ingest"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// The bulk benchmarks run export and import against the ClickHouse server
// of the integration tests, PTRSWEEP_BENCH_ROWS rows (default 500,000) at
// a time:
//
//	go test ./internal/coordinator -run '^$' -bench 'Export|Import' -benchtime 3x -cpuprofile cpu.out
//
// They report rows/s (wall) and rows per CPU second of this process
// (user+system): the machine's cores are shared with the server and with
// other work, so rows/cpu-s is the number to compare between versions;
// the server's CPU is not in it.

func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("PTRSWEEP_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 500_000
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRows reports rows/s and rows per CPU second since cpu0.
func reportRows(b *testing.B, rows int, cpu0 time.Duration) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)*float64(b.N)/(processCPU()-cpu0).Seconds(), "rows/cpu-s")
}

// benchExportFile returns n lines of coordinator export --format jsonl in
// address order: ISP-like names, one address in 14 without a PTR.
func benchExportFile(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	w, err := output.NewWriter(&buf, "jsonl")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ip := netip.AddrFrom4([4]byte{byte(1 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
		r := sweep.Row{Scan: "bench", IP: ip, Status: sweep.StatusOK, TTL: 3600, FCrDNS: sweep.FCrDNSConfirmed,
			PTR:        fmt.Sprintf("%d-%d-%d.dyn.isp%d.example.net", byte(i>>16), byte(i>>8), byte(i), i*7919%1000),
			ResolvedAt: at.Add(time.Duration(i/2000) * time.Second)}
		if i%20 == 1 || i%50 == 3 {
			r.PTR, r.Status, r.FCrDNS = "", sweep.StatusNoData, sweep.FCrDNSNone
		}
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchStore opens a fresh test database.
func benchStore(b *testing.B) *store.Store {
	st, err := store.Open(context.Background(), storetest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// benchImport imports data into a new scan.
func benchImport(b *testing.B, st *store.Store, scan string, data []byte) ImportSummary {
	cfg := ImportConfig{Scan: scan, Format: ingest.FormatJSONL, File: "bench.jsonl"}
	inserter := func(ctx context.Context) (blockInserter, error) { return st.NewRowInserter(ctx) }
	sum, err := importRows(context.Background(), st, inserter, importInserters, cfg, bytes.NewReader(data), time.Time{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

// BenchmarkImport measures coordinator import of an export file (JSONL,
// in memory): decode, prepare sorted blocks, insert into ptr (and, through
// the materialized view, ptr_by_ip), one new scan an iteration.
func BenchmarkImport(b *testing.B) {
	n := benchRows()
	st := benchStore(b)
	data := benchExportFile(b, n)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := processCPU()
	i := 0
	for b.Loop() {
		if sum := benchImport(b, st, fmt.Sprintf("bench-%d", i), data); sum.Stats.Rows != n {
			b.Fatalf("imported %d rows, want %d", sum.Stats.Rows, n)
		}
		i++
	}
	reportRows(b, n, cpu0)
}

// BenchmarkExport measures coordinator export of a scan of
// PTRSWEEP_BENCH_ROWS rows (read from ClickHouse, collapsed, encoded),
// written to io.Discard, in each format.
func BenchmarkExport(b *testing.B) {
	n := benchRows()
	st := benchStore(b)
	benchImport(b, st, "bench", benchExportFile(b, n))
	for _, format := range []string{"jsonl", "sonar"} {
		b.Run(format, func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				if err := export(context.Background(), st, "bench", format, analytics.Filter{}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, n, cpu0)
		})
	}
}
