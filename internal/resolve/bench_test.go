package resolve

import (
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// BenchmarkEngine resolves a /20 (4096 addresses, no pruning) against a
// local miekg/dns server with the default adaptive window; the server's
// CPU is part of the cost, on the same cores.
func BenchmarkEngine(b *testing.B) {
	s := newServer(b, synthetic)
	r, err := New(Config{Servers: []string{s.Addr}})
	if err != nil {
		b.Fatal(err)
	}
	benchUnits(b, r, "192.0.0.0/20", sweep.Options{NoPrune: true})
}

// BenchmarkEngineLab resolves the lab's dense and multi /24s (in-process
// lab server) with pruning on.
func BenchmarkEngineLab(b *testing.B) {
	l, srv := startLabB(b)
	_ = l
	r, err := New(Config{Servers: []string{srv}})
	if err != nil {
		b.Fatal(err)
	}
	benchUnits(b, r, "198.18.0.0/24,198.18.3.0/24,198.18.12.0/24,198.18.19.0/24", sweep.Options{})
}

func benchUnits(b *testing.B, r *Resolver, list string, opts sweep.Options) {
	var units []sweep.Unit
	for _, p := range splitComma(list) {
		units = append(units, sweep.Unit{Scan: "bench", Prefix: netip.MustParsePrefix(p), Options: opts})
	}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		for _, u := range units {
			var c sweep.Counts
			if err := r.Resolve(b.Context(), u, c.Add); err != nil {
				b.Fatal(err)
			}
			if c.Timeout != 0 {
				b.Fatalf("counts %v, want no timeout", c)
			}
			n += int(c.Addresses())
		}
	}
	st := r.Stats()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
	b.ReportMetric(float64(st.Retries)/float64(max(n, 1)), "retries/addr")
	b.ReportMetric(float64(st.Window), "window")
	b.Logf("stats %+v", st)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// benchParallel resolves prefix as /24 units, par of them at once (as
// `worker resolve` does), and reports the process's CPU time per address
// (user and system, the server's included when it runs in-process).
func benchParallel(b *testing.B, r *Resolver, prefix string, par int, opts sweep.Options) {
	p := netip.MustParsePrefix(prefix)
	var units []sweep.Unit
	for a := p.Addr(); p.Contains(a); {
		units = append(units, sweep.Unit{Scan: "bench", Prefix: netip.PrefixFrom(a, 24), Options: opts})
		v := u32(a) + 256
		if v < 256 {
			break
		}
		a = addrOf(v)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	start := time.Now()
	n := 0
	for b.Loop() {
		var (
			mu  sync.Mutex
			c   sweep.Counts
			wg  sync.WaitGroup
			sem = make(chan struct{}, par)
		)
		for _, u := range units {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				err := r.Resolve(b.Context(), u, func(res sweep.Result) {
					mu.Lock()
					c.Add(res)
					mu.Unlock()
				})
				if err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		if c.Timeout != 0 {
			b.Fatalf("counts %v, want no timeout", c)
		}
		n += int(c.Addresses())
	}
	st := r.Stats()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(max(n, 1)), "cpu-µs/addr")
	b.ReportMetric(float64(st.Retries)/float64(max(n, 1)), "retries/addr")
	b.Logf("stats %+v", st)
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMatch is the reader's matcher: ID lookup, question check and
// hand-over to the waiting query.
func BenchmarkMatch(b *testing.B) {
	m := new(dns.Msg)
	m.SetQuestion("7.2.0.192.in-addr.arpa.", dns.TypePTR)
	m.SetEdns0(1232, false)
	resp := new(dns.Msg)
	resp.SetReply(m)
	ptr, err := dns.NewRR("7.2.0.192.in-addr.arpa. 60 IN PTR host.example.")
	if err != nil {
		b.Fatal(err)
	}
	resp.Answer = []dns.RR{ptr}
	resp.SetEdns0(1232, false)
	resp.Compress = true
	pkt, err := resp.Pack()
	if err != nil {
		b.Fatal(err)
	}
	s := &udpSock{pending: map[uint16]*slot{}, fast: make([]*fastQuery, 1<<16)}
	sl := newSlot()
	sl.q, sl.qlen = dnswire.PackPTRQuery(sl.qbuf[:], 0, netip.MustParseAddr("192.0.2.7"), 1232)
	var st counters
	b.ReportAllocs()
	for b.Loop() {
		id := dnswire.ID(pkt)
		sl.setID(id)
		s.mu.Lock()
		s.pending[id] = sl
		s.mu.Unlock()
		s.deliver(pkt, &st)
		<-sl.ch
	}
}

// BenchmarkResolveAddrs resolves 4096 scattered single addresses of the
// lab (in-process server, pruning on) in one ResolveAddrs call, the input
// of `worker resolve` given a list of addresses.
func BenchmarkResolveAddrs(b *testing.B) {
	benchAddrList(b, func(r *Resolver, addrs []netip.Addr, c *sweep.Counts) {
		if err := r.ResolveAddrs(b.Context(), addrs, sweep.Options{}, c.Add); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkResolveSingleUnits resolves the addresses of
// BenchmarkResolveAddrs as one /32 unit each, 64 at once: how a list of
// addresses was cut before ResolveAddrs, for comparison.
func BenchmarkResolveSingleUnits(b *testing.B) {
	benchAddrList(b, func(r *Resolver, addrs []netip.Addr, c *sweep.Counts) {
		var (
			mu  sync.Mutex
			wg  sync.WaitGroup
			sem = make(chan struct{}, 64)
		)
		for _, a := range addrs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				u := sweep.Unit{Scan: "bench", Prefix: netip.PrefixFrom(a, 32)}
				err := r.Resolve(b.Context(), u, func(res sweep.Result) {
					mu.Lock()
					c.Add(res)
					mu.Unlock()
				})
				if err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	})
}

// benchAddrList runs resolve over 4096 scattered addresses of the lab per
// iteration and reports addresses per second and the peak in flight.
func benchAddrList(b *testing.B, resolve func(r *Resolver, addrs []netip.Addr, c *sweep.Counts)) {
	l, srv := startLabB(b)
	r, err := New(Config{Servers: []string{srv}})
	if err != nil {
		b.Fatal(err)
	}
	addrs := scattered(b, l, oneQueryClasses, 4096, 40)
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		var c sweep.Counts
		resolve(r, addrs, &c)
		if c.Timeout != 0 || c.Addresses() != uint64(len(addrs)) {
			b.Fatalf("counts %v, want %d addresses, no timeout", c, len(addrs))
		}
		n += len(addrs)
	}
	st := r.Stats()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
	b.ReportMetric(float64(st.PeakInFlight), "peak-in-flight")
	b.Logf("stats %+v", st)
}
