package resolve

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// oneQueryClasses are the lab's classes whose every address takes exactly
// one query on a server without loss: no TCP, no CNAME, no retry.
var oneQueryClasses = []lab.Class{lab.ClassDense, lab.ClassSparse, lab.ClassEmpty, lab.ClassMulti, lab.ClassNoData, lab.ClassFleet}

// scattered returns n distinct addresses of the lab's /24s of classes, in
// a random order, at most perBlock of any /24.
func scattered(t testing.TB, l *lab.Lab, classes []lab.Class, n, perBlock int) []netip.Addr {
	t.Helper()
	var blocks []netip.Prefix
	for _, c := range classes {
		blocks = append(blocks, l.Blocks(c)...)
	}
	if n > len(blocks)*perBlock {
		t.Fatalf("%d addresses do not fit %d per /24 in %d /24s", n, perBlock, len(blocks))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[netip.Addr]bool{}
	inBlock := map[netip.Prefix]int{}
	var out []netip.Addr
	for len(out) < n {
		p := blocks[rng.IntN(len(blocks))]
		if inBlock[p] >= perBlock {
			continue
		}
		b := p.Addr().As4()
		b[3] = byte(rng.IntN(256))
		a := netip.AddrFrom4(b)
		if seen[a] {
			continue
		}
		seen[a] = true
		inBlock[p]++
		out = append(out, a)
	}
	return out
}

// resolveAddrs resolves addrs and returns every Result emitted, failing
// the test on an error.
func resolveAddrs(t testing.TB, r *Resolver, addrs []netip.Addr, opts sweep.Options) []sweep.Result {
	t.Helper()
	var (
		mu  sync.Mutex
		got []sweep.Result
	)
	err := r.ResolveAddrs(t.Context(), addrs, opts, func(res sweep.Result) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, res)
	})
	if err != nil {
		t.Fatalf("ResolveAddrs(%d addresses) = %v", len(addrs), err)
	}
	return got
}

// wantLab checks every result against the lab's truth.
func wantLab(t *testing.T, l *lab.Lab, results []sweep.Result) {
	t.Helper()
	for _, got := range results {
		want := l.Expect(got.IP)
		if got.Status != want.Status || !slices.Equal(got.PTRs, stripFCrDNS(want.PTRs)) {
			t.Errorf("%v: %v %+v, want %v %+v", got.IP, got.Status, got.PTRs, want.Status, want.PTRs)
		}
	}
}

// TestResolveAddrsFillsWindow resolves 4096 scattered addresses in one
// call: the engine's window fills (its peak in flight reaches the initial
// window of 128), where one Resolve call per address with at most 64 at
// once could never have more than 64 in flight.
func TestResolveAddrsFillsWindow(t *testing.T) {
	l, srv := startLab(t)
	r := mustNew(t, Config{Servers: []string{srv.Addr()}})
	addrs := scattered(t, l, oneQueryClasses, 4096, 40)
	got := resolveAddrs(t, r, addrs, sweep.Options{})
	if len(got) != len(addrs) {
		t.Errorf("emitted %d results for %d addresses", len(got), len(addrs))
	}
	wantLab(t, l, got)
	st := r.Stats()
	t.Logf("peak in flight %d, window %d: %v", st.PeakInFlight, st.Window, st)
	if st.PeakInFlight < initialWindow {
		t.Errorf("peak in flight %d (stats %+v), want at least the initial window %d", st.PeakInFlight, st, initialWindow)
	}
}

// TestResolveAddrsSparseOneQuery checks that scattered addresses cost one
// query each, pruning on: no probe, no sample, nothing pruned. Retries are
// off and the timeout long, so a late answer on a loaded machine is not
// repeated: the lab loses nothing on loopback.
func TestResolveAddrsSparseOneQuery(t *testing.T) {
	l, srv := startLab(t)
	r := mustNew(t, Config{Servers: []string{srv.Addr()}, Concurrency: 64, Retries: -1, Timeout: 10 * time.Second})
	addrs := scattered(t, l, oneQueryClasses, 2048, pruneMinBlock-1)
	before := srv.Queries()
	got := resolveAddrs(t, r, addrs, sweep.Options{})
	wantLab(t, l, got)
	total := 0
	for _, res := range got {
		total += res.Queries
		if res.Queries != 1 || res.Pruned {
			t.Errorf("%v: %d queries, pruned %v; want 1 query, not pruned", res.IP, res.Queries, res.Pruned)
		}
	}
	st := r.Stats()
	if seen := srv.Queries() - before; total != len(addrs) || st.Queries != uint64(len(addrs)) || seen != uint64(len(addrs)) {
		t.Errorf("results count %d queries, resolver sent %d, server saw %d; want %d each", total, st.Queries, seen, len(addrs))
	}
	if st.Probes != 0 || st.Sampled != 0 || st.Pruned != 0 || st.Retries != 0 {
		t.Errorf("stats %+v, want no probe, sample, pruning or retry", st)
	}
}

// TestResolveAddrsDuplicates gives addresses once, twice and three times,
// shuffled, from scattered /24s and from whole /24s (one empty: pruned;
// one dense: probed, not pruned), pruning on and off: every element gets
// exactly one result, with the lab's truth.
func TestResolveAddrsDuplicates(t *testing.T) {
	l, srv := startLab(t)
	empty, dense := l.Blocks(lab.ClassEmpty)[0], l.Blocks(lab.ClassDense)[0]
	var addrs []netip.Addr
	for _, p := range []netip.Prefix{empty, dense} {
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			addrs = append(addrs, a)
		}
	}
	addrs = append(addrs, scattered(t, l, oneQueryClasses, 300, 8)...)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, a := range slices.Clone(addrs) {
		for range rng.IntN(3) {
			addrs = append(addrs, a)
		}
	}
	rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	want := map[netip.Addr]int{}
	for _, a := range addrs {
		want[a]++
	}
	for _, noPrune := range []bool{false, true} {
		r := mustNew(t, Config{Servers: []string{srv.Addr()}})
		got := resolveAddrs(t, r, addrs, sweep.Options{NoPrune: noPrune})
		wantLab(t, l, got)
		count := map[netip.Addr]int{}
		pruned := 0
		for _, res := range got {
			count[res.IP]++
			if res.Pruned {
				pruned++
				if !empty.Contains(res.IP) {
					t.Errorf("noprune %v: %v pruned outside the empty /24", noPrune, res.IP)
				}
			}
		}
		for a, n := range want {
			if count[a] != n {
				t.Errorf("noprune %v: %v emitted %d times, given %d times", noPrune, a, count[a], n)
			}
		}
		if len(got) != len(addrs) {
			t.Errorf("noprune %v: %d results for %d addresses", noPrune, len(got), len(addrs))
		}
		if noPrune != (pruned == 0) {
			t.Errorf("noprune %v: %d results pruned", noPrune, pruned)
		}
	}
}

// TestResolveAddrsBad checks that a list with an address that is not IPv4
// is refused before any query, naming the address.
func TestResolveAddrsBad(t *testing.T) {
	r := mustNew(t, Config{Servers: []string{"127.0.0.1:1"}})
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	emitted := 0
	err := r.ResolveAddrs(t.Context(), addrs, sweep.Options{}, func(sweep.Result) { emitted++ })
	if !errors.Is(err, ErrBadAddr) || emitted != 0 || r.Stats().Queries != 0 {
		t.Errorf("ResolveAddrs = %v with %d emitted, want ErrBadAddr and nothing sent", err, emitted)
	}
	if err == nil || !strings.Contains(err.Error(), `address 2 is "2001:db8::1"`) {
		t.Errorf("error %q does not name the address and its position", err)
	}
	if err := r.ResolveAddrs(t.Context(), nil, sweep.Options{}, func(sweep.Result) { emitted++ }); err != nil || emitted != 0 {
		t.Errorf("ResolveAddrs(nil) = %v with %d emitted, want nil and none", err, emitted)
	}
}
