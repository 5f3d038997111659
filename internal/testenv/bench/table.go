package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rates(runs []Measurement, f func(Measurement) float64) (median, best float64) {
	xs := make([]float64, len(runs))
	for i, m := range runs {
		xs[i] = f(m)
	}
	if len(xs) > 0 {
		best = slices.Max(xs)
	}
	return Median(xs), best
}

func qps(m Measurement) float64       { return m.QPS }
func addrRate(m Measurement) float64  { return m.AddressesPerSec }
func queriesOf(m Measurement) float64 { return float64(m.Queries) }

// clientCPUOf and serverCPUOf are a run's CPU microseconds per query.
func clientCPUOf(m Measurement) float64 { return perQuery(m.ClientCPU, m.Queries) }
func serverCPUOf(m Measurement) float64 { return perQuery(m.ServerCPU, m.Queries) }

func perQuery(d time.Duration, queries int) float64 {
	if queries == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(queries)
}

// Verified summarises a row's verdicts: "yes" when every round was right,
// otherwise the problem counts of the rounds that were not (the examples
// are in the progress log).
func (r *Row) Verified() string {
	var bad []string
	for i, v := range r.Verdicts {
		if v.Errors() > 0 {
			bad = append(bad, fmt.Sprintf("round %d: %s", i+1, v.Short()))
		}
	}
	switch {
	case len(r.Verdicts) == 0:
		return "not run"
	case len(bad) > 0:
		return "NO: " + strings.Join(bad, "; ")
	case r.RcodesOnly:
		return "rcodes only: yes"
	}
	return "yes"
}

// ceiling returns the dnsperf row of target.
func (rep *Report) ceiling(target string) *Row {
	return rep.find(func(r *Row) bool { return r.Ceiling && r.Target == target })
}

// find returns the first row for which f is true, or nil.
func (rep *Report) find(f func(*Row) bool) *Row {
	for _, r := range rep.Rows {
		if f(r) {
			return r
		}
	}
	return nil
}

// PeerRatio returns a row's median addresses/s divided by that of massdns
// against the same server, or 0 when massdns did not run.
func (rep *Report) PeerRatio(r *Row) float64 {
	p := rep.find(func(p *Row) bool { return p.Peer && p.Target == r.Target })
	if p == nil {
		return 0
	}
	pa, _ := rates(p.Runs, addrRate)
	a, _ := rates(r.Runs, addrRate)
	if pa <= 0 {
		return 0
	}
	return a / pa
}

// Ratio returns a row's median queries/s and addresses/s divided by those
// of dnsperf against the same server.
func (rep *Report) Ratio(r *Row) (qpsRatio, addrRatio float64) {
	c := rep.ceiling(r.Target)
	if c == nil {
		return 0, 0
	}
	cq, _ := rates(c.Runs, qps)
	ca, _ := rates(c.Runs, addrRate)
	q, _ := rates(r.Runs, qps)
	a, _ := rates(r.Runs, addrRate)
	if cq > 0 {
		qpsRatio = q / cq
	}
	if ca > 0 {
		addrRatio = a / ca
	}
	return qpsRatio, addrRatio
}

// Markdown writes the results table: per row the median and best queries/s
// and addresses/s over the rounds, the ratios of the medians to dnsperf
// against the same server, the ratio of the median addresses/s to
// massdns's, the median queries per run, the median CPU microseconds per
// query of the tool and of the DNS servers (see Measurement), and whether
// every answer was checked right. A row that did not run says so.
func (rep *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| tool | server | queries/s median | queries/s best | addresses/s median | addresses/s best | × dnsperf (queries/s) | × dnsperf (addresses/s) | × massdns (addresses/s) | queries | client CPU µs/query | server CPU µs/query | answers verified |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range rep.Rows {
		if len(r.Runs) == 0 {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | — | — | — | — | — | — | not run |\n", r.Tool, r.Target)
			continue
		}
		qm, qb := rates(r.Runs, qps)
		am, ab := rates(r.Runs, addrRate)
		n, _ := rates(r.Runs, queriesOf)
		cc, _ := rates(r.Runs, clientCPUOf)
		sc, _ := rates(r.Runs, serverCPUOf)
		rq, ra := rep.Ratio(r)
		peer := "—"
		if pr := rep.PeerRatio(r); pr > 0 {
			peer = fmt.Sprintf("%.2f×", pr)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.2f× | %.2f× | %s | %s | %.1f | %.1f | %s |\n", r.Tool, r.Target,
			thousands(qm), thousands(qb), thousands(am), thousands(ab), rq, ra, peer, thousands(n), cc, sc, r.Verified())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// thousands formats x rounded, with thin separators: 1234567 → "1,234,567".
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
