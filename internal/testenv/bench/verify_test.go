package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// rowsOf returns JSONL rows with every PTR of s.
func rowsOf(s *Space) []string {
	var rows []string
	for i := range s.Len() {
		ip := s.Addr(i)
		for _, p := range lab.BigExpect(ip) {
			rows = append(rows, fmt.Sprintf(`{"ip":%q,"ptr":%q,"status":"ok","ttl":3600,"scan":"b","resolved_at":"2026-11-22T02:15:30Z"}`, ip, p))
		}
	}
	return rows
}

func TestVerify(t *testing.T) {
	s := mustSpace(t, "10.0.0.0/22", 1024)
	good := rowsOf(s)
	st := s.Stats()
	nx := s.Addr(0) // the first NXDOMAIN address
	for i := 0; lab.BigExpect(nx) != nil; i++ {
		nx = s.Addr(i)
	}
	a := nx.As4()
	nxRow := fmt.Sprintf(`{"ip":"%s","ptr":"h-10-0-%d-%d.r0.bench.example","status":"ok"}`, nx, a[2], a[3])
	for _, tc := range []struct {
		name string
		edit func([]string) []string
		want Verdict // counts only
	}{
		{"all right", func(r []string) []string { return r }, Verdict{}},
		{"shuffled", func(r []string) []string {
			out := append([]string(nil), r[len(r)/2:]...)
			return append(out, r[:len(r)/2]...)
		}, Verdict{}},
		{"one missing", func(r []string) []string { return r[1:] }, Verdict{Missing: 1}},
		{"duplicate", func(r []string) []string { return append(r, r[3]) }, Verdict{Duplicate: 1}},
		{"wrong ptr", func(r []string) []string {
			return append(r, `{"ip":"10.0.0.1","ptr":"other.example","status":"ok"}`)
		}, Verdict{Extra: 1}},
		{"nxdomain address answered", func(r []string) []string {
			return append(r, nxRow)
		}, Verdict{Extra: 1}},
		{"outside the space", func(r []string) []string {
			return append(r, `{"ip":"10.0.4.1","ptr":"h-10-0-4-1.r0.bench.example","status":"ok"}`)
		}, Verdict{Extra: 1}},
		{"timeout", func(r []string) []string {
			return append(r, `{"ip":"10.0.0.9","ptr":"","status":"timeout"}`)
		}, Verdict{NotOK: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := tc.edit(append([]string(nil), good...))
			v, err := s.Verify(strings.NewReader(strings.Join(rows, "\n") + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if v.Missing != tc.want.Missing || v.Extra != tc.want.Extra || v.Duplicate != tc.want.Duplicate || v.NotOK != tc.want.NotOK {
				t.Errorf("Verify = %s, want missing %d extra %d duplicate %d not ok %d",
					v, tc.want.Missing, tc.want.Extra, tc.want.Duplicate, tc.want.NotOK)
			}
			if v.Want != st.PTRs() || v.Rows != len(rows) {
				t.Errorf("Verify: Want %d, Rows %d; want %d, %d", v.Want, v.Rows, st.PTRs(), len(rows))
			}
			if ok := v.String() == "yes"; ok != (tc.want.Errors() == 0) {
				t.Errorf("Verdict.String() = %q with %d errors", v.String(), v.Errors())
			}
		})
	}
	if _, err := s.Verify(strings.NewReader("not json\n")); err == nil {
		t.Error("Verify(not json) = nil error, want one")
	}
}

func TestParseDNSPerf(t *testing.T) {
	b, err := os.ReadFile("testdata/dnsperf.txt")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDNSPerf(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 3 || d.Completed != 3 || d.Lost != 0 || d.QPS != 1959.503592 || d.Elapsed != 1531*time.Microsecond ||
		d.Rcodes["NOERROR"] != 1 || d.Rcodes["SERVFAIL"] != 1 || d.Rcodes["NXDOMAIN"] != 1 {
		t.Errorf("ParseDNSPerf = %+v", d)
	}
	if v := d.CheckRcodes(lab.BigStats{Addresses: 3, OnePTR: 1, NXDomain: 2}); v.Errors() != 2 {
		t.Errorf("CheckRcodes (a SERVFAIL instead of an NXDOMAIN) = %s, want 2 errors", v)
	}
	if v := d.CheckRcodes(lab.BigStats{Addresses: 4, OnePTR: 1, NXDomain: 2}); v.Missing != 1 {
		t.Errorf("CheckRcodes (one query short) = %s, want 1 missing", v)
	}
	if _, err := ParseDNSPerf("dnsperf: error: could not open file"); err == nil {
		t.Error("ParseDNSPerf(error output) = nil error, want one")
	}
}

func TestParseSummaries(t *testing.T) {
	w, err := ParseWorker("something\nworker resolve: 4096 addresses, 3096 PTRs in 149ms (27561 addresses/s, 4112 queries, 27669 qps); ok=2908 nxdomain=1188\n")
	if err != nil {
		t.Fatal(err)
	}
	if w != (Measurement{Queries: 4112, Addresses: 4096, Elapsed: 149 * time.Millisecond, QPS: 27669, AddressesPerSec: 27561}) {
		t.Errorf("ParseWorker = %+v", w)
	}
	sw, err := ParseSweep("scan b-r1: 4096 addresses in 16 units, 3096 PTRs on 2908 addresses, 3096 rows stored\n" +
		"outcomes: ok=2908 nxdomain=1188 nodata=0 servfail=0 refused=0 timeout=0 (pruned 256)\n" +
		"3856 queries in 2.249s: 1715 qps, 1821 addresses/s\n")
	if err != nil {
		t.Fatal(err)
	}
	if sw != (Measurement{Queries: 3856, Addresses: 4096, Elapsed: 2249 * time.Millisecond, QPS: 1715, AddressesPerSec: 1821}) {
		t.Errorf("ParseSweep = %+v", sw)
	}
	if _, err := ParseWorker("worker resolve: stdin:1: bad line"); err == nil {
		t.Error("ParseWorker(no summary) = nil error, want one")
	}
	if _, err := ParseSweep(""); err == nil {
		t.Error("ParseSweep(\"\") = nil error, want one")
	}
}

func TestMarkdown(t *testing.T) {
	ms := func(qps ...float64) []Measurement {
		var out []Measurement
		for _, q := range qps {
			out = append(out, Measurement{QPS: q, AddressesPerSec: q, Queries: 100,
				ClientCPU: time.Duration(q) * time.Microsecond, ServerCPU: time.Duration(2*q) * time.Microsecond})
		}
		return out
	}
	rep := &Report{Rounds: 3, Rows: []*Row{
		{Tool: "dnsperf", Target: "knot", Ceiling: true, RcodesOnly: true, Runs: ms(100, 300, 200), Verdicts: make([]Verdict, 3)},
		{Tool: "engine", Target: "knot", Runs: ms(150, 100, 50), Verdicts: []Verdict{{}, {Missing: 2}, {}}},
		{Tool: "massdns", Target: "knot", Peer: true, Runs: ms(80, 90), Verdicts: make([]Verdict, 2)},
		{Tool: "massdns", Target: "unbound", Peer: true},
	}}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| dnsperf | knot | 200 | 300 | 200 | 300 | 1.00× | 1.00× | 2.35× | 100 | 2.0 | 4.0 | rcodes only: yes |",
		"| engine | knot | 100 | 150 | 100 | 150 | 0.50× | 0.50× | 1.18× | 100 | 1.0 | 2.0 | NO: round 2: 2 errors",
		"| massdns | knot | 85 | 90 | 85 | 90 | 0.42× | 0.42× | 1.00× | 100 | 0.9 | 1.7 | yes |",
		"| massdns | unbound | — | — | — | — | — | — | — | — | — | — | not run |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown =\n%s\nwant a line with %q", b.String(), want)
		}
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Errorf("thousands(1234567.4) = %q, want 1,234,567", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median(4 1 3 2) = %v, want 2.5", got)
	}
}

// snrOf returns massdns's `-o Snr` output for every address of s: a reply
// line, then its PTR lines.
func snrOf(s *Space) []string {
	var out []string
	for i := range s.Len() {
		ip := s.Addr(i)
		name := string(appendReverse(nil, ip)) + "."
		ptrs := lab.BigExpect(ip)
		code := "NOERROR"
		if ptrs == nil {
			code = "NXDOMAIN"
		}
		out = append(out, "127.0.0.1:53 1764590000 "+code+" "+name+"  PTR")
		for _, p := range ptrs {
			out = append(out, name+" PTR "+p+".")
		}
	}
	return out
}

func TestVerifyMassDNS(t *testing.T) {
	s := mustSpace(t, "10.0.0.0/22", 1024)
	good := snrOf(s)
	firstPTR := slices.IndexFunc(good, func(l string) bool { return strings.Contains(l, " PTR ") })
	firstNX := slices.IndexFunc(good, func(l string) bool { return strings.Contains(l, " NXDOMAIN ") })
	for _, tc := range []struct {
		name string
		edit func([]string) []string
		want Verdict // counts only
	}{
		{"all right", func(r []string) []string { return r }, Verdict{}},
		{"a PTR missing", func(r []string) []string { return slices.Delete(r, firstPTR, firstPTR+1) }, Verdict{Missing: 1}},
		{"a PTR twice", func(r []string) []string { return append(r, r[firstPTR]) }, Verdict{Duplicate: 1}},
		{"a wrong PTR", func(r []string) []string {
			return append(r, "1.0.0.10.in-addr.arpa. PTR other.example.")
		}, Verdict{Extra: 1}},
		{"no reply for a name", func(r []string) []string { return slices.Delete(r, firstNX, firstNX+1) }, Verdict{NotOK: 1}},
		{"SERVFAIL", func(r []string) []string {
			r[firstNX] = strings.Replace(r[firstNX], "NXDOMAIN", "SERVFAIL", 1)
			return r
		}, Verdict{NotOK: 1}},
		{"not a reverse name", func(r []string) []string { return append(r, "example.com. A 127.0.0.1") }, Verdict{Extra: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := tc.edit(slices.Clone(good))
			v, err := s.VerifyMassDNS(strings.NewReader(strings.Join(lines, "\n") + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if v.Missing != tc.want.Missing || v.Extra != tc.want.Extra || v.Duplicate != tc.want.Duplicate || v.NotOK != tc.want.NotOK {
				t.Errorf("VerifyMassDNS = %s, want missing %d extra %d duplicate %d not ok %d",
					v, tc.want.Missing, tc.want.Extra, tc.want.Duplicate, tc.want.NotOK)
			}
		})
	}
}
