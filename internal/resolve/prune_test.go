package resolve

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// startLab serves the DNS lab on 127.0.0.1 for the test.
func startLab(t *testing.T) (*lab.Lab, *lab.Server) {
	t.Helper()
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.Start(t.Context(), l, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return l, srv
}

// startLabB serves the DNS lab for a benchmark and returns its address.
func startLabB(b *testing.B) (*lab.Lab, string) {
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := lab.Start(b.Context(), l, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return l, srv.Addr()
}

// TestPruneLab resolves one /24 of every lab class (silent aside) with and
// without pruning: both give exactly the lab's truth, pruned addresses are
// only ever nxdomain, and pruning saves the queries of the empty /24s.
func TestPruneLab(t *testing.T) {
	l, srv := startLab(t)
	space := l.Space().Addr().As4()
	for _, noPrune := range []bool{false, true} {
		t.Run(fmt.Sprintf("noprune=%v", noPrune), func(t *testing.T) {
			r := mustNew(t, Config{Servers: []string{srv.Addr()}})
			emptyPruned := 0
			for c := range 16 {
				if c == 8 { // silent: its timeouts are covered elsewhere
					continue
				}
				p := netip.PrefixFrom(netip.AddrFrom4([4]byte{space[0], space[1], byte(c), 0}), 24)
				class, _ := l.Class(p.Addr())
				for ip, got := range resolveAll(t, r, p, sweep.Options{NoPrune: noPrune}) {
					want := l.Expect(ip)
					if got.Status != want.Status || !slices.Equal(got.PTRs, stripFCrDNS(want.PTRs)) {
						t.Errorf("%v (%v): %v %+v, want %v %+v", ip, class, got.Status, got.PTRs, want.Status, want.PTRs)
					}
					if got.Pruned && (noPrune || got.Status != sweep.StatusNXDomain) {
						t.Errorf("%v (%v): pruned with status %v, noprune %v", ip, class, got.Status, noPrune)
					}
					if got.Pruned && class == lab.ClassEmpty {
						emptyPruned++
					}
				}
			}
			st := r.Stats()
			if noPrune && (st.Pruned != 0 || st.Probes != 0) {
				t.Errorf("NoPrune: stats %+v, want no probes and nothing pruned", st)
			}
			// Classes 2 and 13 and 15 are empty: 3 /24s, 16 samples each.
			if !noPrune && (emptyPruned != 3*(256-16) || st.Pruned != uint64(emptyPruned) || st.PruneDisabled != 0) {
				t.Errorf("pruned %d addresses of empty /24s (stats %+v), want %d and none disabled", emptyPruned, st, 3*(256-16))
			}
		})
	}
}

func stripFCrDNS(ps []sweep.PTR) []sweep.PTR {
	out := []sweep.PTR{}
	for _, p := range ps {
		p.FCrDNS = sweep.FCrDNSNone
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b sweep.PTR) int { return compareStrings(a.Name, b.Name) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestPruneWrongNXDomain checks a server that answers NXDOMAIN for the /16
// and /24 reverse names while serving a PTR for every address below: the
// samples find out, pruning is disabled for the zone and every PTR is
// found, in this unit and the next.
func TestPruneWrongNXDomain(t *testing.T) {
	s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		if labels := dns.CountLabel(q.Name); labels < 6 || q.Qtype != dns.TypePTR {
			m.Rcode = dns.RcodeNameError
		} else {
			m.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}, Ptr: "host." + q.Name}}
		}
		_ = w.WriteMsg(m)
	}))
	r := mustNew(t, Config{Servers: []string{s.Addr}})
	for _, p := range []string{"192.0.2.0/24", "192.0.3.0/24", "192.0.4.0/22"} {
		pfx := netip.MustParsePrefix(p)
		for ip, got := range resolveAll(t, r, pfx, sweep.Options{}) {
			want := "host." + sweep.CanonicalName(sweep.ReverseName(ip))
			if got.Status != sweep.StatusOK || got.Pruned || len(got.PTRs) != 1 || got.PTRs[0].Name != want {
				t.Errorf("%v: %v pruned=%v %+v, want ok %s", ip, got.Status, got.Pruned, got.PTRs, want)
			}
		}
	}
	if st := r.Stats(); st.PruneDisabled == 0 || st.Pruned != 0 {
		t.Errorf("stats %+v, want pruning disabled and nothing pruned", st)
	}
}

// TestPruneCountsQueries checks that probe queries are counted in the
// results: their sum equals what the server saw.
func TestPruneCountsQueries(t *testing.T) {
	_, srv := startLab(t)
	r := mustNew(t, Config{Servers: []string{srv.Addr()}})
	before := srv.Queries()
	total := 0
	for _, p := range []string{"198.18.2.0/24", "198.18.0.0/24", "198.18.16.0/23"} {
		for _, res := range resolveAll(t, r, netip.MustParsePrefix(p), sweep.Options{}) {
			total += res.Queries
		}
	}
	// The server may miss a query the kernel dropped; the resolver counts
	// every query it sent.
	if seen, sent := srv.Queries()-before, r.Stats().Queries; sent != uint64(total) || seen > sent {
		t.Errorf("server saw %d queries, resolver sent %d, results count %d", seen, sent, total)
	}
}

// TestZoneAndServerQPS checks the per-zone and per-server hard limits:
// the queries one server sees never run ahead of the limit.
func TestZoneAndServerQPS(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		qps  float64
	}{
		{"zone", Config{ZoneQPS: 300}, 300},
		{"server", Config{ServerQPS: 300}, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, synthetic)
			cfg := tt.cfg
			cfg.Servers = []string{s.Addr}
			r := mustNew(t, cfg)
			start := time.Now()
			resolveAll(t, r, netip.MustParsePrefix("192.0.2.0/24"), sweep.Options{NoPrune: true})
			elapsed := time.Since(start)
			seen := int(s.total.Load())
			burst := max(1, int(tt.qps/100))
			if limit := int(tt.qps*elapsed.Seconds()*1.1) + burst + 2; seen > limit || seen < 256 {
				t.Errorf("server saw %d queries in %v, want 256 to %d at %v qps", seen, elapsed, limit, tt.qps)
			}
		})
	}
}
