package bench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Measurement is one timed run of one tool.
type Measurement struct {
	// Queries is the number of DNS queries the tool sent (or completed,
	// for dnsperf), retries included; Addresses the addresses it covered.
	Queries, Addresses int
	// Elapsed is the run's duration as the tool reports it.
	Elapsed time.Duration
	// QPS and AddressesPerSec are the tool's own rates.
	QPS, AddressesPerSec float64
	// ClientCPU is the CPU time (user and system) the tool's process used:
	// for the pipeline the coordinator with its embedded NATS server and
	// in-process workers, not ClickHouse. ServerCPU is what the DNS
	// servers of the row's target used meanwhile (on loopback the kernel
	// charges part of each packet's delivery to its sender).
	ClientCPU, ServerCPU time.Duration
}

// DNSPerf is what dnsperf reports about a run.
type DNSPerf struct {
	Measurement
	// Sent, Completed and Lost count queries.
	Sent, Completed, Lost int
	// Rcodes counts the responses by rcode name (NOERROR, NXDOMAIN…).
	Rcodes map[string]int
}

var (
	dnsperfInt   = regexp.MustCompile(`(?m)^\s*Queries (sent|completed|lost):\s+(\d+)`)
	dnsperfFloat = regexp.MustCompile(`(?m)^\s*(Run time \(s\)|Queries per second):\s+([\d.]+)`)
	dnsperfCodes = regexp.MustCompile(`(?m)^\s*Response codes:\s+(.*)$`)
	dnsperfCode  = regexp.MustCompile(`([A-Z]+) (\d+) \(`)
)

// ParseDNSPerf reads dnsperf's statistics ("Queries sent:", "Queries
// completed:", "Queries lost:", "Response codes:", "Run time (s):",
// "Queries per second:").
func ParseDNSPerf(out string) (DNSPerf, error) {
	d := DNSPerf{Rcodes: map[string]int{}}
	found := 0
	for _, m := range dnsperfInt.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "sent":
			d.Sent = n
		case "completed":
			d.Completed = n
		case "lost":
			d.Lost = n
		}
		found++
	}
	for _, m := range dnsperfFloat.FindAllStringSubmatch(out, -1) {
		f, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "Queries per second" {
			d.QPS = f
		} else {
			d.Elapsed = time.Duration(f * float64(time.Second))
		}
		found++
	}
	if found < 5 || d.QPS <= 0 {
		return d, fmt.Errorf("dnsperf: %w: %q", ErrNoSummary, tail(out))
	}
	if m := dnsperfCodes.FindStringSubmatch(out); m != nil {
		for _, c := range dnsperfCode.FindAllStringSubmatch(m[1], -1) {
			n, _ := strconv.Atoi(c[2])
			d.Rcodes[c[1]] = n
		}
	}
	d.Queries, d.Addresses = d.Completed, d.Completed
	d.AddressesPerSec = d.QPS
	return d, nil
}

// CheckRcodes compares a dnsperf run over the whole query list with the
// space's truth: every query answered, NOERROR for the addresses with PTRs
// and NXDOMAIN for the rest. dnsperf does not look inside answers, so this
// is all it can be checked for.
func (d DNSPerf) CheckRcodes(st lab.BigStats) Verdict {
	v := Verdict{Rows: d.Completed, Want: st.Addresses, Pairs: d.Rcodes["NOERROR"]}
	if d.Lost > 0 || d.Completed != st.Addresses {
		v.Missing = st.Addresses - d.Completed
		v.example("%d of %d queries completed, %d lost", d.Completed, st.Addresses, d.Lost)
	}
	if got, want := d.Rcodes["NOERROR"], st.OnePTR+st.TwoPTRs; got != want {
		v.NotOK += abs(got - want)
		v.example("NOERROR %d, want %d", got, want)
	}
	if got, want := d.Rcodes["NXDOMAIN"], st.NXDomain; got != want {
		v.NotOK += abs(got - want)
		v.example("NXDOMAIN %d, want %d", got, want)
	}
	for code, n := range d.Rcodes {
		if code != "NOERROR" && code != "NXDOMAIN" {
			v.NotOK += n
			v.example("%s %d", code, n)
		}
	}
	return v
}

var workerSummary = regexp.MustCompile(`worker resolve: (\d+) addresses, \d+ PTRs in (\S+) \(([\d.]+) addresses/s, (\d+) queries, ([\d.]+) qps\)`)

// ParseWorker reads the summary line of `worker resolve`: "worker resolve:
// N addresses, N PTRs in D (X addresses/s, Q queries, Y qps); …".
func ParseWorker(stderr string) (Measurement, error) {
	m := workerSummary.FindStringSubmatch(stderr)
	if m == nil {
		return Measurement{}, fmt.Errorf("worker resolve: %w: %q", ErrNoSummary, tail(stderr))
	}
	var r Measurement
	r.Addresses, _ = strconv.Atoi(m[1])
	r.Elapsed, _ = time.ParseDuration(m[2])
	r.AddressesPerSec, _ = strconv.ParseFloat(m[3], 64)
	r.Queries, _ = strconv.Atoi(m[4])
	r.QPS, _ = strconv.ParseFloat(m[5], 64)
	return r, nil
}

var (
	sweepRate  = regexp.MustCompile(`(?m)^(\d+) queries in (\S+): ([\d.]+) qps, ([\d.]+) addresses/s`)
	sweepAddrs = regexp.MustCompile(`(?m)^scan \S+: (\d+) addresses in`)
)

// ParseSweep reads the summary of `coordinator sweep`: "scan S: N addresses
// in U units, …" and "Q queries in D: X qps, Y addresses/s".
func ParseSweep(stdout string) (Measurement, error) {
	m := sweepRate.FindStringSubmatch(stdout)
	if m == nil {
		return Measurement{}, fmt.Errorf("coordinator sweep: %w: %q", ErrNoSummary, tail(stdout))
	}
	var r Measurement
	r.Queries, _ = strconv.Atoi(m[1])
	r.Elapsed, _ = time.ParseDuration(m[2])
	r.QPS, _ = strconv.ParseFloat(m[3], 64)
	r.AddressesPerSec, _ = strconv.ParseFloat(m[4], 64)
	if a := sweepAddrs.FindStringSubmatch(stdout); a != nil {
		r.Addresses, _ = strconv.Atoi(a[1])
	}
	return r, nil
}

// tail returns the last 500 bytes of s.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		return "…" + s[len(s)-500:]
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
