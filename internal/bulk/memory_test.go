package bulk

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// lineSource generates n lines of single addresses (every 16th line a
// /28) without holding them: a stand-in for a huge input file.
type lineSource struct {
	n, i int
	buf  []byte
}

func (s *lineSource) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) && s.i < s.n {
		v := uint32(0x2c000000) + uint32(s.i)*16 // 44.0.0.0 onward
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		if s.i%16 == 0 {
			s.buf = fmt.Appendf(s.buf, "%s/28\n", a)
		} else {
			s.buf = fmt.Appendf(s.buf, "%s\n", a)
		}
		s.i++
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	return n, nil
}

// TestRunConstantMemory streams 2M lines through Run with a fake engine
// and checks the live heap stays bounded: it does not grow with the input
// (held whole, the addresses alone would take over 48 MB).
func TestRunConstantMemory(t *testing.T) {
	const lines = 2_000_000
	var (
		calls    int
		peak     uint64
		resolved int
	)
	res := &fakeResolver{resolveAddrs: func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
		for _, a := range addrs {
			emit(answer(a))
		}
		calls++ // InFlight is 1: calls do not overlap
		if calls%100 == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		resolved += len(addrs)
		return nil
	}}
	err := Run(context.Background(), Config{Resolver: res, Stdin: &lineSource{n: lines}, Stdout: io.Discard, Batch: DefaultBatch, InFlight: 1, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := lines/16*16 + (lines - lines/16); resolved != want {
		t.Errorf("resolved %d addresses, want %d", resolved, want)
	}
	if calls < 100 {
		t.Fatalf("only %d batches: too few samples", calls)
	}
	const bound = 16 << 20
	if peak > bound {
		t.Errorf("live heap reached %d bytes streaming %d lines, want under %d", peak, lines, bound)
	}
	t.Logf("%d lines, %d addresses in %d batches, peak live heap %d KiB", lines, resolved, calls, peak>>10)
}
