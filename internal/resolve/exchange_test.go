package resolve

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// evil returns a well-formed reply to r carrying a PTR that must never be used.
func evil(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = []dns.RR{&dns.PTR{
		Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60},
		Ptr: "evil.example.",
	}}
	return m
}

// behaviours are the ways a test server answers a query.
func behaviour(t *testing.T, kind string, good dns.Handler) dns.Handler {
	rcode := func(code int, noQuestion bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(r, code)
			if noQuestion {
				m.Question = nil
			}
			_ = w.WriteMsg(m)
		}
	}
	spoof := func(change func(m *dns.Msg)) dns.HandlerFunc {
		return func(w dns.ResponseWriter, r *dns.Msg) {
			m := evil(r)
			change(m)
			_ = w.WriteMsg(m)
		}
	}
	switch kind {
	case "good":
		return good
	case "silent":
		return dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {})
	case "servfail":
		return rcode(dns.RcodeServerFailure, false)
	case "notimp":
		return rcode(dns.RcodeNotImplemented, false)
	case "formerr without question":
		return rcode(dns.RcodeFormatError, true)
	case "refused":
		return rcode(dns.RcodeRefused, false)
	case "refused without question":
		return rcode(dns.RcodeRefused, true)
	case "noerror without question":
		return spoof(func(m *dns.Msg) { m.Question = nil })
	case "wrong id":
		return spoof(func(m *dns.Msg) { m.Id++ })
	case "wrong name":
		return spoof(func(m *dns.Msg) { m.Question[0].Name = "8.2.0.192.in-addr.arpa." })
	case "wrong type":
		return spoof(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA })
	case "wrong class":
		return spoof(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })
	case "two questions":
		return spoof(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) })
	case "not a response":
		return spoof(func(m *dns.Msg) { m.Response = false })
	case "garbage":
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			b, _ := evil(r).Pack()
			_, _ = w.Write(b[:len(b)-3]) // cut inside the record
		})
	case "other source port":
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Errorf("listen: %v", err)
				return
			}
			defer c.Close()
			b, _ := evil(r).Pack()
			_, _ = c.WriteTo(b, w.RemoteAddr())
		})
	case "spoof then real":
		return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := evil(r)
			m.Id++
			_ = w.WriteMsg(m)
			good.ServeDNS(w, r)
		})
	}
	t.Fatalf("unknown behaviour %q", kind)
	return nil
}

func TestRetries(t *testing.T) {
	tests := []struct {
		servers []string
		status  sweep.Status
		queries int
	}{
		{[]string{"good"}, sweep.StatusOK, 1},
		{[]string{"silent", "good"}, sweep.StatusOK, 2},
		{[]string{"closed", "good"}, sweep.StatusOK, 2},
		{[]string{"servfail", "good"}, sweep.StatusOK, 2},
		{[]string{"notimp", "good"}, sweep.StatusOK, 2},
		{[]string{"formerr without question", "good"}, sweep.StatusOK, 2},
		{[]string{"refused", "good"}, sweep.StatusOK, 2},
		{[]string{"silent", "silent", "good"}, sweep.StatusOK, 3},
		{[]string{"silent", "silent", "silent", "good"}, sweep.StatusTimeout, 3},
		{[]string{"silent"}, sweep.StatusTimeout, 3},
		{[]string{"servfail", "servfail", "servfail"}, sweep.StatusServFail, 3},
		{[]string{"refused"}, sweep.StatusRefused, 3},
		{[]string{"refused without question"}, sweep.StatusRefused, 3},
		{[]string{"refused", "servfail", "silent"}, sweep.StatusServFail, 3},
		{[]string{"silent", "refused", "silent"}, sweep.StatusRefused, 3},
		// Spoofed and garbage answers are never used; they count as failed tries.
		{[]string{"wrong id", "good"}, sweep.StatusOK, 2},
		{[]string{"wrong name", "good"}, sweep.StatusOK, 2},
		{[]string{"wrong type", "good"}, sweep.StatusOK, 2},
		{[]string{"wrong class", "good"}, sweep.StatusOK, 2},
		{[]string{"two questions", "good"}, sweep.StatusOK, 2},
		{[]string{"not a response", "good"}, sweep.StatusOK, 2},
		{[]string{"noerror without question", "good"}, sweep.StatusOK, 2},
		{[]string{"garbage", "good"}, sweep.StatusOK, 2},
		{[]string{"wrong id", "wrong name", "garbage"}, sweep.StatusTimeout, 3},
		{[]string{"other source port", "good"}, sweep.StatusOK, 2},
		{[]string{"spoof then real"}, sweep.StatusOK, 1},
	}
	for _, tt := range tests {
		t.Run(joinKinds(tt.servers), func(t *testing.T) {
			good := newZone(t, false, rev7+" 60 IN PTR good.example.")
			var addrs []string
			for _, kind := range tt.servers {
				if kind == "closed" {
					addrs = append(addrs, closedPort(t))
					continue
				}
				addrs = append(addrs, newServer(t, behaviour(t, kind, good)).Addr)
			}
			r := mustNew(t, Config{Servers: addrs, Timeout: 100 * time.Millisecond, Retries: 2})
			got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{})
			var want []sweep.PTR
			if tt.status == sweep.StatusOK {
				want = ptrs(60, "good.example")
			}
			if got.Status != tt.status || got.Queries != tt.queries || !slices.Equal(got.PTRs, want) {
				t.Errorf("got %v, %d queries, %+v; want %v, %d queries, %+v", got.Status, got.Queries, got.PTRs, tt.status, tt.queries, want)
			}
		})
	}
}

func joinKinds(kinds []string) string {
	s := ""
	for i, k := range kinds {
		if i > 0 {
			s += ","
		}
		s += k
	}
	return s
}

// closedPort returns a 127.0.0.1 UDP address nothing listens on.
func closedPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// TestRoundRobin checks that successive lookups start on successive servers.
func TestRoundRobin(t *testing.T) {
	z := newZone(t, false, rev7+" 60 IN PTR good.example.")
	a, b := newServer(t, z), newServer(t, z)
	r := mustNew(t, Config{Servers: []string{a.Addr, b.Addr}})
	for range 4 {
		if got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{}); got.Status != sweep.StatusOK {
			t.Fatalf("status %v, want ok", got.Status)
		}
	}
	t.Logf("stats %+v", r.Stats())
	if na, nb := a.total.Load(), b.total.Load(); na != 2 || nb != 2 {
		t.Errorf("servers saw %d and %d queries, want 2 and 2", na, nb)
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	var records []string
	var names []string
	for i := range 40 {
		records = append(records, rev7+" 60 IN PTR a-rather-long-host-name-"+string(rune('a'+i%26))+string(rune('a'+i/26))+".example.")
		names = append(names, "a-rather-long-host-name-"+string(rune('a'+i%26))+string(rune('a'+i/26))+".example")
	}
	z := newZone(t, false, records...)
	tests := []struct {
		name string
		udp  func(w dns.ResponseWriter, r *dns.Msg)
	}{
		{"empty truncated answer", func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Truncated = true
			_ = w.WriteMsg(m)
		}},
		{"answer cut mid-record", func(w dns.ResponseWriter, r *dns.Msg) {
			m := z.answer(r)
			m.Truncated = true
			b, _ := m.Pack()
			_, _ = w.Write(b[:300])
		}},
		{"some records then TC", func(w dns.ResponseWriter, r *dns.Msg) {
			m := z.answer(r)
			m.Truncated = true
			m.Answer = m.Answer[:3]
			_ = w.WriteMsg(m)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
				if w.LocalAddr().Network() == "udp" {
					tt.udp(w, r)
					return
				}
				z.ServeDNS(w, r)
			}))
			r := mustNew(t, Config{Servers: []string{s.Addr}})
			got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{})
			if got.Status != sweep.StatusOK || got.Queries != 2 || !slices.Equal(got.PTRs, ptrs(60, names...)) {
				t.Errorf("got %v, %d queries, %d PTRs; want ok, 2 queries, %d PTRs", got.Status, got.Queries, len(got.PTRs), len(names))
			}
			if u, c := s.count("udp", dns.TypePTR, rev7), s.count("tcp", dns.TypePTR, rev7); u != 1 || c != 1 {
				t.Errorf("server saw %d udp and %d tcp queries, want 1 and 1", u, c)
			}
		})
	}
}

// TestTruncatedTCPFails checks that a truncated answer whose TCP repeat
// fails is not used: the next server is asked.
func TestTruncatedTCPFails(t *testing.T) {
	z := newZone(t, false, rev7+" 60 IN PTR good.example.")
	bad := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := evil(r)
		m.Truncated = true
		if w.LocalAddr().Network() == "tcp" {
			m.Id++ // a mismatched TCP answer
		}
		_ = w.WriteMsg(m)
	}))
	good := newServer(t, z)
	r := mustNew(t, Config{Servers: []string{bad.Addr, good.Addr}})
	got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{})
	if got.Status != sweep.StatusOK || got.Queries != 3 || !slices.Equal(got.PTRs, ptrs(60, "good.example")) {
		t.Errorf("got %v, %d queries, %+v; want ok, 3 queries, good.example", got.Status, got.Queries, got.PTRs)
	}
}

// TestQueryFormat checks what goes on the wire: RD, EDNS0 with the
// configured size, the reverse name, and fresh IDs.
func TestQueryFormat(t *testing.T) {
	var mu sync.Mutex
	seen := map[uint16]bool{}
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		opt := r.IsEdns0()
		if !r.RecursionDesired || opt == nil || opt.UDPSize() != 1400 || r.Question[0].Name != rev7 ||
			r.Question[0].Qtype != dns.TypePTR || r.Question[0].Qclass != dns.ClassINET {
			t.Errorf("query %v: want RD, EDNS0 size 1400, %s IN PTR", r, rev7)
		}
		mu.Lock()
		seen[r.Id] = true
		mu.Unlock()
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, UDPSize: 1400, Retries: 3, Timeout: 50 * time.Millisecond})
	if got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{}); got.Status != sweep.StatusTimeout || got.Queries != 4 {
		t.Errorf("got %v, %d queries, want timeout, 4", got.Status, got.Queries)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 3 { // four random 16-bit IDs; two may collide, rarely
		t.Errorf("query IDs %v, want distinct random IDs", seen)
	}
}

// TestTCPConnectionReused checks that truncated answers reuse a pooled TCP
// connection instead of opening one per query.
func TestTCPConnectionReused(t *testing.T) {
	var records []string
	for d := range 32 {
		records = append(records, fmt.Sprintf("%d.2.0.192.in-addr.arpa. 60 IN PTR host-%d.example.", d, d))
	}
	z := newZone(t, false, records...)
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if w.LocalAddr().Network() == "udp" {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		z.ServeDNS(w, r)
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}, Concurrency: 1})
	got := resolveAll(t, r, netip.MustParsePrefix("192.0.2.0/27"), sweep.Options{NoPrune: true})
	for ip, res := range got {
		if res.Status != sweep.StatusOK || len(res.PTRs) != 1 {
			t.Errorf("%s: %v %v, want one PTR", ip, res.Status, res.PTRs)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("server accepted %d TCP connections for 32 truncated answers one at a time, want 1", n)
	}
	// The pool closes its connections when the last Resolve call returns.
	if idle := len(r.tcp.idle[netip.MustParseAddrPort(s.Addr)]); idle != 0 {
		t.Errorf("%d idle TCP connections left after Resolve returned, want 0", idle)
	}
}

// TestLocalExhaustion checks which dial errors mean this machine cannot
// make a query at all (an error of the unit) rather than a failed try.
func TestLocalExhaustion(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.EMFILE)}, true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.ENFILE)}, true},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, false},
		{context.DeadlineExceeded, false},
	} {
		if got := localExhaustion(tt.err); got != tt.want {
			t.Errorf("localExhaustion(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
