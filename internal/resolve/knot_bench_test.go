package resolve

import (
	"os"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// BenchmarkEngineServer resolves 198.18.0.0/16 (no pruning) against the
// server named by PTRSWEEP_BENCH_SERVER, such as a local Knot serving the
// lab's zones, 64 /24 units at once like `worker resolve`, and reports the
// client's CPU time per address. Without the variable there is no server
// to measure against and it is skipped.
func BenchmarkEngineServer(b *testing.B) {
	srv := os.Getenv("PTRSWEEP_BENCH_SERVER")
	if srv == "" {
		b.Skip("PTRSWEEP_BENCH_SERVER not set")
	}
	r, err := New(Config{Servers: []string{srv}})
	if err != nil {
		b.Fatal(err)
	}
	benchParallel(b, r, "198.18.0.0/16", 64, sweep.Options{NoPrune: true})
}
