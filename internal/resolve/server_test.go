package resolve

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// testServer is a miekg/dns server on 127.0.0.1, UDP and TCP on one random
// port, that counts the queries it sees (like coredns plugin/pkg/dnstest).
type testServer struct {
	Addr    string
	total   atomic.Int64
	conns   atomic.Int64 // TCP connections accepted
	mu      sync.Mutex
	queries map[string]int // "udp PTR name", lower-case name
}

// newServer starts a server answering with h; it stops when the test ends.
func newServer(t testing.TB, h dns.Handler) *testServer {
	t.Helper()
	s := &testServer{queries: map[string]int{}}
	var (
		pc  net.PacketConn
		l   net.Listener
		err error
	)
	for range 20 { // the TCP port of a random UDP port may be taken
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	l = countingListener{l, &s.conns}
	counted := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		s.total.Add(1)
		if len(r.Question) == 1 {
			q := r.Question[0]
			key := w.LocalAddr().Network() + " " + dns.TypeToString[q.Qtype] + " " + strings.ToLower(q.Name)
			s.mu.Lock()
			s.queries[key]++
			s.mu.Unlock()
		}
		h.ServeDNS(w, r)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: counted}, {Listener: l, Handler: counted}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := srv.ActivateAndServe(); err != nil {
				t.Errorf("serve %s: %v", s.Addr, err)
			}
		}()
		<-started
		t.Cleanup(func() {
			if err := srv.Shutdown(); err != nil {
				t.Errorf("shutdown %s: %v", s.Addr, err)
			}
			<-done
		})
	}
	return s
}

// count returns how many queries for qtype and name arrived over proto ("udp", "tcp").
func (s *testServer) count(proto string, qtype uint16, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[proto+" "+dns.TypeToString[qtype]+" "+strings.ToLower(name)]
}

// zone serves records like an authoritative server; with chase it also
// follows CNAMEs into its own data like a recursive resolver.
type zone struct {
	byName map[string][]dns.RR
	chase  bool
	soa    dns.RR
}

// newZone parses records in zone-file form.
func newZone(t testing.TB, chase bool, records ...string) *zone {
	t.Helper()
	z := &zone{byName: map[string][]dns.RR{}, chase: chase}
	soa, err := dns.NewRR("example. 300 IN SOA ns.example. host.example. 1 3600 600 86400 60")
	if err != nil {
		t.Fatal(err)
	}
	z.soa = soa
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		z.add(rr)
	}
	return z
}

func (z *zone) add(rr dns.RR) {
	k := strings.ToLower(rr.Header().Name)
	z.byName[k] = append(z.byName[k], rr)
}

func (z *zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	_ = w.WriteMsg(z.answer(r))
}

func (z *zone) answer(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	name := q.Name
	for range 20 {
		rrs, exists := z.byName[strings.ToLower(name)]
		var cname *dns.CNAME
		matched := false
		for _, rr := range rrs {
			switch {
			case rr.Header().Rrtype == q.Qtype:
				m.Answer = append(m.Answer, rr)
				matched = true
			case rr.Header().Rrtype == dns.TypeCNAME:
				cname = rr.(*dns.CNAME)
			}
		}
		if matched {
			return m
		}
		if cname != nil {
			m.Answer = append(m.Answer, cname)
			if !z.chase {
				return m
			}
			name = cname.Target
			continue
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{z.soa}
		return m
	}
	return m
}

// resolveAll resolves p with r and returns the results by address, failing
// the test on an error or an address emitted twice or outside p.
func resolveAll(t testing.TB, r *Resolver, p netip.Prefix, opts sweep.Options) map[netip.Addr]sweep.Result {
	t.Helper()
	got := map[netip.Addr]sweep.Result{}
	err := r.Resolve(t.Context(), sweep.Unit{Scan: "test", Prefix: p, Options: opts}, func(res sweep.Result) {
		if _, dup := got[res.IP]; dup {
			t.Errorf("address %v emitted twice", res.IP)
		}
		if !p.Contains(res.IP) {
			t.Errorf("address %v emitted, not in %v", res.IP, p)
		}
		got[res.IP] = res
	})
	if err != nil {
		t.Fatalf("Resolve(%v) = %v", p, err)
	}
	if len(got) != 1<<(32-p.Bits()) {
		t.Errorf("Resolve(%v) emitted %d addresses, want %d", p, len(got), 1<<(32-p.Bits()))
	}
	return got
}

// resolveOneAddr resolves a single address.
func resolveOneAddr(t testing.TB, r *Resolver, ip string, opts sweep.Options) sweep.Result {
	t.Helper()
	a := netip.MustParseAddr(ip)
	return resolveAll(t, r, netip.PrefixFrom(a, 32), opts)[a]
}

// mustNew returns a resolver for servers with short timeouts for tests.
func mustNew(t testing.TB, cfg Config) *Resolver {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 200 * time.Millisecond
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return r
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
