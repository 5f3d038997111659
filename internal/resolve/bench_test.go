package resolve

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// BenchmarkResolve20 resolves a /20 (4096 addresses) against a local
// miekg/dns server; the server's CPU is part of the cost, on the same cores.
func BenchmarkResolve20(b *testing.B) {
	s := newServer(b, synthetic)
	// 64 in flight: the server's default socket buffer drops packets
	// beyond about 200 (see NOTES.md), and a drop costs a 1s timeout.
	r, err := New(Config{Servers: []string{s.Addr}, Concurrency: 64})
	if err != nil {
		b.Fatal(err)
	}
	u := sweep.Unit{Scan: "bench", Prefix: netip.MustParsePrefix("192.0.0.0/20")}
	b.ReportAllocs()
	start := time.Now()
	n, retries := 0, 0
	for b.Loop() {
		var c sweep.Counts
		if err := r.Resolve(b.Context(), u, c.Add); err != nil {
			b.Fatal(err)
		}
		if c.Addresses() != 4096 || c.Timeout != 0 {
			b.Fatalf("counts %v, want 4096 addresses and no timeout", c)
		}
		retries += int(c.Queries) - 4096
		n += 4096
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
	b.ReportMetric(float64(retries)/float64(n), "retries/addr")
}
