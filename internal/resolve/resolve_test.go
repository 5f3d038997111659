package resolve

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const (
	rev7  = "7.2.0.192.in-addr.arpa."
	rev7d = "7.0/25.2.0.192.in-addr.arpa." // an RFC 2317 delegated name
)

// chainRecords returns n CNAMEs from rev7 through c1..cn-1 to "cn.chain.example.",
// which has a PTR.
func chainRecords(n int) []string {
	rs := []string{}
	from := rev7
	for i := 1; i <= n; i++ {
		to := fmt.Sprintf("c%d.chain.example.", i)
		rs = append(rs, fmt.Sprintf("%s 60 IN CNAME %s", from, to))
		from = to
	}
	return append(rs, from+" 60 IN PTR end.example.")
}

func ptrs(ttl uint32, names ...string) []sweep.PTR {
	out := []sweep.PTR{}
	for _, n := range names {
		out = append(out, sweep.PTR{Name: n, TTL: ttl})
	}
	return out
}

func TestResolveAnswers(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61) + "."
	var forty []string
	var fortyNames []string
	for i := range 40 {
		forty = append(forty, fmt.Sprintf("%s 3600 IN PTR host-%02d.many.example.", rev7, i))
		fortyNames = append(fortyNames, fmt.Sprintf("host-%02d.many.example", i))
	}
	tests := []struct {
		name    string
		chase   bool
		records []string
		status  sweep.Status
		ttl     uint32
		ptrs    []sweep.PTR
		queries int
	}{
		{name: "one ptr", records: []string{rev7 + " 3600 IN PTR host.example."},
			status: sweep.StatusOK, ttl: 3600, ptrs: ptrs(3600, "host.example"), queries: 1},
		{name: "several ptrs, duplicates kept once with the first ttl",
			records: []string{
				rev7 + " 100 IN PTR a.example.",
				rev7 + " 200 IN PTR B.Example.",
				rev7 + " 300 IN PTR b.example.",
				rev7 + " 400 IN PTR a.example.",
				rev7 + " 500 IN PTR c.example.",
			},
			status: sweep.StatusOK, ttl: 100,
			ptrs: []sweep.PTR{{Name: "a.example", TTL: 100}, {Name: "b.example", TTL: 200}, {Name: "c.example", TTL: 500}}, queries: 1},
		{name: "forty ptrs", records: forty, status: sweep.StatusOK, ttl: 3600, ptrs: ptrs(3600, fortyNames...), queries: 1},
		{name: "escaped bytes kept escaped", records: []string{rev7 + ` 60 IN PTR A\ b\000c\.d\255.Example.COM.`},
			status: sweep.StatusOK, ttl: 60, ptrs: ptrs(60, `a\ b\000c\.d\255.example.com`), queries: 1},
		{name: "255-byte name", records: []string{rev7 + " 60 IN PTR " + long},
			status: sweep.StatusOK, ttl: 60, ptrs: ptrs(60, strings.TrimSuffix(long, ".")), queries: 1},
		{name: "nxdomain with soa minimum", records: []string{"8.2.0.192.in-addr.arpa. 60 IN PTR other.example."},
			status: sweep.StatusNXDomain, ttl: 60, queries: 1},
		{name: "nodata", records: []string{rev7 + ` 60 IN TXT "no ptr here"`},
			status: sweep.StatusNoData, ttl: 60, queries: 1},
		{name: "rfc 2317 cname in the answer", chase: true,
			records: []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 120 IN PTR host.example.", rev7d + " 120 IN PTR alias.example."},
			status:  sweep.StatusOK, ttl: 120, ptrs: ptrs(120, "host.example", "alias.example"), queries: 1},
		{name: "rfc 2317 cname across queries",
			records: []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 120 IN PTR host.example."},
			status:  sweep.StatusOK, ttl: 120, ptrs: ptrs(120, "host.example"), queries: 2},
		{name: "cname to nxdomain in the answer", chase: true,
			records: []string{rev7 + " 60 IN CNAME " + rev7d},
			status:  sweep.StatusNXDomain, ttl: 60, queries: 1},
		{name: "cname to nxdomain across queries",
			records: []string{rev7 + " 60 IN CNAME " + rev7d},
			status:  sweep.StatusNXDomain, ttl: 60, queries: 2},
		{name: "cname to nodata", chase: true,
			records: []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + ` 60 IN TXT "x"`},
			status:  sweep.StatusNoData, ttl: 60, queries: 2},
		{name: "cname loop in the answer", chase: true,
			records: []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 60 IN CNAME " + rev7},
			status:  sweep.StatusServFail, queries: 1},
		{name: "cname loop across queries",
			records: []string{rev7 + " 60 IN CNAME " + rev7d, rev7d + " 60 IN CNAME " + strings.ToUpper(rev7)},
			status:  sweep.StatusServFail, queries: 2},
		{name: "eight cnames followed", chase: true, records: chainRecords(8),
			status: sweep.StatusOK, ttl: 60, ptrs: ptrs(60, "end.example"), queries: 1},
		{name: "eight cnames across queries", records: chainRecords(8),
			status: sweep.StatusOK, ttl: 60, ptrs: ptrs(60, "end.example"), queries: 9},
		{name: "nine cnames are too many", chase: true, records: chainRecords(9),
			status: sweep.StatusServFail, queries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, newZone(t, tt.chase, tt.records...))
			r := mustNew(t, Config{Servers: []string{s.Addr}})
			got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{})
			if got.Status != tt.status || got.TTL != tt.ttl || got.Queries != tt.queries {
				t.Errorf("status, ttl, queries = %v, %d, %d, want %v, %d, %d", got.Status, got.TTL, got.Queries, tt.status, tt.ttl, tt.queries)
			}
			if !slices.Equal(got.PTRs, tt.ptrs) {
				t.Errorf("PTRs = %+v, want %+v", got.PTRs, tt.ptrs)
			}
			if got.ResolvedAt.IsZero() {
				t.Errorf("ResolvedAt is zero")
			}
			if n := int(s.total.Load()); n != tt.queries {
				t.Errorf("server saw %d queries, want %d", n, tt.queries)
			}
		})
	}
}

// TestResolveOnlyChainRecords checks that records not on the CNAME chain
// are never used, and that owner names and the question may differ in case.
func TestResolveOnlyChainRecords(t *testing.T) {
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		answer []string
		rcode  int
		status sweep.Status
		ptrs   []sweep.PTR
	}{
		{name: "unrelated ptrs ignored", answer: []string{
			"8.2.0.192.in-addr.arpa. 60 IN PTR evil.example.",
			rev7 + " 60 IN PTR good.example.",
			"example. 60 IN PTR evil2.example.",
		}, status: sweep.StatusOK, ptrs: ptrs(60, "good.example")},
		{name: "only unrelated ptrs is nodata", answer: []string{
			"8.2.0.192.in-addr.arpa. 60 IN PTR evil.example.",
		}, status: sweep.StatusNoData},
		{name: "mixed case owners and question", answer: []string{
			strings.ToUpper(rev7) + " 60 IN CNAME 7.0/25.2.0.192.IN-ADDR.arpa.",
			"7.0/25.2.0.192.In-Addr.Arpa. 60 IN PTR MiXeD.Example.",
			"7.0/25.2.0.192.in-addr.arpa. 60 CH PTR chaos.example.",
		}, status: sweep.StatusOK, ptrs: ptrs(60, "mixed.example")},
		{name: "ptrs on every chain name kept, unrelated cname ignored", answer: []string{
			"9.2.0.192.in-addr.arpa. 60 IN CNAME evil.example.",
			rev7 + " 60 IN CNAME " + rev7d,
			rev7d + " 60 IN PTR a.example.",
			"evil.example. 60 IN PTR evil.example.",
		}, status: sweep.StatusOK, ptrs: ptrs(60, "a.example")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
				m := new(dns.Msg)
				m.SetReply(r)
				m.Question[0].Name = strings.ToUpper(m.Question[0].Name)
				for _, a := range tt.answer {
					m.Answer = append(m.Answer, rr(a))
				}
				_ = w.WriteMsg(m)
			}))
			r := mustNew(t, Config{Servers: []string{s.Addr}})
			got := resolveOneAddr(t, r, "192.0.2.7", sweep.Options{})
			if got.Status != tt.status || !slices.Equal(got.PTRs, tt.ptrs) {
				t.Errorf("got %v %+v, want %v %+v", got.Status, got.PTRs, tt.status, tt.ptrs)
			}
		})
	}
}
