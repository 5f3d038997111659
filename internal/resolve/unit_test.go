package resolve

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// synthetic answers every PTR query from its name: the last octet decides
// the outcome (multiples of 3 nxdomain, 3k+1 one PTR, 3k+2 two PTRs).
var synthetic = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	var last int
	if _, err := fmt.Sscanf(q.Name, "%d.", &last); err != nil || q.Qtype != dns.TypePTR {
		m.Rcode = dns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	hdr := dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}
	switch last % 3 {
	case 0:
		m.Rcode = dns.RcodeNameError
	case 2:
		m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: "second." + q.Name})
		fallthrough
	case 1:
		m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: "host." + q.Name})
	}
	_ = w.WriteMsg(m)
})

func wantSynthetic(t *testing.T, res sweep.Result) {
	t.Helper()
	wantSyntheticQ(t, res, 1)
}

// wantSyntheticQ is wantSynthetic with queries wanted per address (0: any
// number, as with pruning probes counted on some addresses).
func wantSyntheticQ(t *testing.T, res sweep.Result, queries int) {
	t.Helper()
	last := int(res.IP.As4()[3])
	want := []sweep.Status{sweep.StatusNXDomain, sweep.StatusOK, sweep.StatusOK}[last%3]
	wantPTRs := []int{0, 1, 2}[last%3]
	if res.Status != want || len(res.PTRs) != wantPTRs || (queries > 0 && res.Queries != queries) || res.Queries < 1 {
		t.Errorf("%v: %v with %d PTRs, %d queries; want %v with %d PTRs, %d queries", res.IP, res.Status, len(res.PTRs), res.Queries, want, wantPTRs, queries)
	}
	if want == sweep.StatusOK && res.PTRs[0].Name != "host."+sweep.CanonicalName(sweep.ReverseName(res.IP)) &&
		res.PTRs[0].Name != "second."+sweep.CanonicalName(sweep.ReverseName(res.IP)) {
		t.Errorf("%v: PTRs %+v are not this address's", res.IP, res.PTRs)
	}
}

func TestEmitOncePerAddress(t *testing.T) {
	s := newServer(t, synthetic)
	tests := []struct {
		prefix      string
		concurrency int
		prune       bool
	}{
		{"192.0.2.0/24", 0, false},
		{"192.0.2.0/24", 1, false},
		{"192.0.2.0/24", 7, false},
		{"192.0.2.77/24", 1000, false}, // not masked: the whole /24
		{"192.0.2.7/32", 0, false},
		{"192.0.2.8/32", 1, false},
		{"192.0.2.252/30", 0, false},
		// The synthetic server answers NXDOMAIN for 0.192.in-addr.arpa
		// though names exist below: the samples must find that out.
		{"192.0.2.0/24", 0, true},
		{"192.0.2.0/24", 1, true},
		{"192.0.0.0/22", 16, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/c=%d/prune=%v", tt.prefix, tt.concurrency, tt.prune), func(t *testing.T) {
			r := mustNew(t, Config{Servers: []string{s.Addr}, Concurrency: tt.concurrency})
			before := s.total.Load()
			queries := 0
			var inEmit atomic.Int32
			p := netip.MustParsePrefix(tt.prefix)
			got := map[netip.Addr]int{}
			err := r.Resolve(t.Context(), sweep.Unit{Prefix: p, Options: sweep.Options{NoPrune: !tt.prune}}, func(res sweep.Result) {
				if inEmit.Add(1) != 1 {
					t.Errorf("emit called concurrently")
				}
				defer inEmit.Add(-1)
				got[res.IP]++
				queries += res.Queries
				if tt.prune {
					wantSyntheticQ(t, res, 0)
				} else {
					wantSynthetic(t, res)
				}
			})
			if err != nil {
				t.Fatalf("Resolve = %v", err)
			}
			if seen := int(s.total.Load() - before); seen != queries {
				t.Errorf("server saw %d queries, results count %d", seen, queries)
			}
			masked := p.Masked()
			if n := len(got); n != 1<<(32-p.Bits()) {
				t.Errorf("%d addresses emitted, want %d", n, 1<<(32-p.Bits()))
			}
			for ip, n := range got {
				if n != 1 || !masked.Contains(ip) {
					t.Errorf("%v emitted %d times (in %v: %v), want once", ip, n, masked, masked.Contains(ip))
				}
			}
		})
	}
}

// TestConcurrentResolve shares one Resolver among goroutines (run with -race).
func TestConcurrentResolve(t *testing.T) {
	s := newServer(t, synthetic)
	r := mustNew(t, Config{Servers: []string{s.Addr}, Concurrency: 8})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 0}), 26)
			for _, res := range resolveAll(t, r, p, sweep.Options{Confirm: true, NoPrune: true}) {
				if res.Status == sweep.StatusNXDomain && res.Queries != 1 {
					t.Errorf("%v: %d queries, want 1", res.IP, res.Queries)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.Logf("stats %+v", r.Stats())
	}
}

func TestCancel(t *testing.T) {
	// Addresses .0–.9 answer; the others never do, with a long timeout.
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		var last int
		if _, err := fmt.Sscanf(r.Question[0].Name, "%d.", &last); err == nil && last < 10 {
			synthetic(w, r)
		}
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, Timeout: time.Minute, Concurrency: 32})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	emitted, returned := 0, false
	// A /27 with Concurrency 32: every address is in flight at once, so
	// the answering ones finish first whatever the order.
	noPrune := sweep.Options{NoPrune: true}
	err := r.Resolve(ctx, sweep.Unit{Prefix: netip.MustParsePrefix("192.0.2.0/27"), Options: noPrune}, func(res sweep.Result) {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			t.Errorf("emit after Resolve returned")
		}
		if res.IP.As4()[3] >= 10 {
			t.Errorf("%v emitted, it never got an answer", res.IP)
		}
		wantSynthetic(t, res)
		if emitted++; emitted == 10 {
			cancel()
		}
	})
	mu.Lock()
	returned = true
	mu.Unlock()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve = %v, want context.Canceled", err)
	}
	if emitted > 10 {
		t.Errorf("%d addresses emitted, want at most 10", emitted)
	}

	// A context cancelled before the call emits nothing.
	err = r.Resolve(ctx, sweep.Unit{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Options: noPrune}, func(res sweep.Result) {
		t.Errorf("%v emitted with a cancelled context", res.IP)
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve(cancelled) = %v, want context.Canceled", err)
	}
}

func TestQPSLimit(t *testing.T) {
	const qps = 400.0
	s := newServer(t, synthetic)
	r := mustNew(t, Config{Servers: []string{s.Addr}, QPS: qps, Concurrency: 64})
	start := time.Now()
	got := resolveAll(t, r, netip.MustParsePrefix("192.0.2.0/24"), sweep.Options{NoPrune: true})
	elapsed := time.Since(start)
	total := 0
	for _, res := range got {
		total += res.Queries
	}
	seen := int(s.total.Load())
	if seen != total || total != 256 {
		t.Errorf("server saw %d queries, results count %d, want 256 and 256", seen, total)
	}
	// The limiter allows its burst (4) at once and then qps per second;
	// allow 10% for clock and scheduling noise.
	if limit := int(qps*elapsed.Seconds()*1.1) + 4 + 2; seen > limit {
		t.Errorf("server saw %d queries in %v, want at most %d at %v qps", seen, elapsed, limit, qps)
	}
}

// TestQPSCountsRetries checks that retries and forward lookups wait on the
// limiter too.
func TestQPSCountsRetries(t *testing.T) {
	const qps = 200.0
	z := newZone(t, false)
	for i := range 32 {
		rr, _ := dns.NewRR(fmt.Sprintf("%d.2.0.192.in-addr.arpa. 60 IN PTR h%d.example.", i, i))
		z.add(rr)
		rr, _ = dns.NewRR(fmt.Sprintf("h%d.example. 60 IN A 192.0.2.%d", i, i))
		z.add(rr)
	}
	// The first query for each name is refused, so every lookup is retried.
	var mu sync.Mutex
	asked := map[string]bool{}
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		first := !asked[r.Question[0].Name]
		asked[r.Question[0].Name] = true
		mu.Unlock()
		if first {
			m := new(dns.Msg)
			_ = w.WriteMsg(m.SetRcode(r, dns.RcodeRefused))
			return
		}
		z.ServeDNS(w, r)
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, QPS: qps, Retries: 5, Concurrency: 32})
	start := time.Now()
	got := resolveAll(t, r, netip.MustParsePrefix("192.0.2.0/27"), sweep.Options{Confirm: true})
	elapsed := time.Since(start)
	total := 0
	for _, res := range got {
		total += res.Queries
		if res.Status != sweep.StatusOK || res.PTRs[0].FCrDNS != sweep.FCrDNSConfirmed {
			t.Errorf("%v: %v %+v, want ok and confirmed", res.IP, res.Status, res.PTRs)
		}
	}
	seen := int(s.total.Load())
	if seen != total || seen != 128 {
		t.Errorf("server saw %d queries, results count %d, want 128 and 128", seen, total)
	}
	if limit := int(qps*elapsed.Seconds()*1.1) + 2 + 2; seen > limit {
		t.Errorf("server saw %d queries in %v, want at most %d at %v qps", seen, elapsed, limit, qps)
	}
}

func TestResolveBadUnit(t *testing.T) {
	r := mustNew(t, Config{Servers: []string{"127.0.0.1:53"}})
	for _, p := range []netip.Prefix{{}, netip.MustParsePrefix("2001:db8::/120")} {
		err := r.Resolve(t.Context(), sweep.Unit{Prefix: p}, func(sweep.Result) { t.Errorf("emit for bad unit %v", p) })
		if !errors.Is(err, ErrBadUnit) {
			t.Errorf("Resolve(%v) = %v, want ErrBadUnit", p, err)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
		inErr   string
	}{
		{"ok", Config{Servers: []string{"127.0.0.1:53", "[::1]:5353"}}, nil, ""},
		{"no servers", Config{}, ErrNoServers, ""},
		{"no port", Config{Servers: []string{"127.0.0.1:53", "127.0.0.2"}}, ErrBadServer, `"127.0.0.2"`},
		{"host name", Config{Servers: []string{"dns.example:53"}}, ErrBadServer, `"dns.example:53"`},
		{"port zero", Config{Servers: []string{"127.0.0.1:0"}}, ErrBadServer, `"127.0.0.1:0"`},
		{"port too big", Config{Servers: []string{"127.0.0.1:65536"}}, ErrBadServer, `"127.0.0.1:65536"`},
		{"negative qps", Config{Servers: []string{"127.0.0.1:53"}, QPS: -1}, ErrBadConfig, "QPS"},
		{"negative timeout", Config{Servers: []string{"127.0.0.1:53"}, Timeout: -1}, ErrBadConfig, "Timeout"},
		{"negative concurrency", Config{Servers: []string{"127.0.0.1:53"}, Concurrency: -1}, ErrBadConfig, "Concurrency"},
		{"small udp size", Config{Servers: []string{"127.0.0.1:53"}, UDPSize: 511}, ErrBadConfig, "UDPSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cfg)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.inErr)) {
				t.Fatalf("New(%+v) = %v, want %v naming %s", tt.cfg, err, tt.wantErr, tt.inErr)
			}
			if err == nil && (r.timeout != DefaultTimeout || r.retries != DefaultRetries || r.concurrency != DefaultConcurrency || r.udpSize != DefaultUDPSize || r.limiter != nil) {
				t.Errorf("New(%+v) defaults = %v %d %d %d %v", tt.cfg, r.timeout, r.retries, r.concurrency, r.udpSize, r.limiter)
			}
		})
	}
	r := mustNew(t, Config{Servers: []string{"127.0.0.1:53"}, Retries: -1, QPS: 1000})
	if r.retries != 0 || r.limiter == nil || r.limiter.Burst() != 10 {
		t.Errorf("Retries -1, QPS 1000: retries %d, limiter %v, want 0 and burst 10", r.retries, r.limiter)
	}
}

// TestQPSDeadline checks that a query whose turn at the limiter comes after
// the context's deadline ends the call with the deadline error.
func TestQPSDeadline(t *testing.T) {
	s := newServer(t, synthetic)
	r := mustNew(t, Config{Servers: []string{s.Addr}, QPS: 0.1}) // one token per 10s
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	emitted := 0
	err := r.Resolve(ctx, sweep.Unit{Prefix: netip.MustParsePrefix("192.0.2.0/30")}, func(res sweep.Result) {
		emitted++
		wantSynthetic(t, res)
	})
	if !errors.Is(err, context.DeadlineExceeded) || emitted != 1 || s.total.Load() != 1 {
		t.Errorf("Resolve = %v with %d emitted, %d queries; want DeadlineExceeded, 1, 1", err, emitted, s.total.Load())
	}
}

// TestUnpackableName checks that a name that cannot be sent ends as
// servfail without a query.
func TestUnpackableName(t *testing.T) {
	s := newServer(t, synthetic)
	r := mustNew(t, Config{Servers: []string{s.Addr}})
	if err := r.eng.acquire(); err != nil {
		t.Fatal(err)
	}
	defer r.eng.release()
	out, err := r.lookup(t.Context(), newSlot(), request{name: "a..example.", qtype: dns.TypeA})
	if err != nil || out.status != sweep.StatusServFail || out.queries != 0 || s.total.Load() != 0 {
		t.Errorf("lookup = %v, %v with %d queries, want servfail, nil, 0", out.status, err, out.queries)
	}
}

// TestConcurrentResolveFast shares one small window among Resolve calls on
// the fast path (run with -race): every address once, with one query.
func TestConcurrentResolveFast(t *testing.T) {
	s := newServer(t, synthetic)
	r := mustNew(t, Config{Servers: []string{s.Addr}, Concurrency: 8})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 0}), 24)
			for _, res := range resolveAll(t, r, p, sweep.Options{NoPrune: true}) {
				wantSynthetic(t, res)
			}
		}()
	}
	wg.Wait()
}

// TestCancelQueued cancels Resolve calls whose queries wait in the
// engine's queue behind a full window of unanswered ones.
func TestCancelQueued(t *testing.T) {
	s := newServer(t, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, Timeout: time.Minute, Concurrency: 16})
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 0}), 24)
			errs <- r.Resolve(ctx, sweep.Unit{Prefix: p, Options: sweep.Options{NoPrune: true}}, func(res sweep.Result) {
				t.Errorf("%v emitted, it never got an answer", res.IP)
			})
		}()
	}
	for r.Stats().Queries < 16 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for range 3 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("Resolve = %v, want context.Canceled", err)
		}
	}
	if got := r.Stats().Queries; got > 16 {
		t.Errorf("%d queries sent, want at most the window of 16", got)
	}
}
