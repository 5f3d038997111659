package rehearsal

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Totals are row counts by status ("ok" counts (address, PTR) pairs).
type Totals map[string]uint64

// statuses are the row statuses in report order.
var statuses = []sweep.Status{sweep.StatusOK, sweep.StatusNXDomain, sweep.StatusNoData, sweep.StatusServFail,
	sweep.StatusRefused, sweep.StatusTimeout}

// truth holds the truth's totals over a prefix: addresses and rows by status.
type truth struct{ addrs, rows Totals }

// truthTotals sums the truth over prefix.
func truthTotals(prefix netip.Prefix) truth {
	st := lab.CountInternet(prefix)
	t := truth{addrs: Totals{}, rows: Totals{}}
	for s, n := range st.Status {
		t.addrs[s.String()] += uint64(n)
	}
	for s, n := range st.Rows() {
		t.rows[s.String()] += uint64(n)
	}
	return t
}

// Report is what a rehearsal measured and found.
type Report struct {
	CIDR            netip.Prefix
	Workers         int
	Cluster         int
	Scan, DB        string
	Publish         time.Duration // coordinator publish
	Elapsed         time.Duration // publish start → status --wait done
	Addresses       uint64        // addresses of done units
	Queries         uint64        // DNS queries the workers counted
	Sweep           time.Duration // first unit started → last unit finished
	WorkerRSS       []uint64      // peak RSS per worker, bytes
	NATSRSS         []uint64      // peak RSS per nats-server node, bytes
	Parts           uint64        // active parts of the ptr table
	UnitParts       uint64        // active parts of the units table
	Rows, DiskBytes uint64        // rows and bytes on disk of those parts
	Truth, Stored   Totals        // rows by status: truth, stored (distinct (ip, ptr))
	TruthAddrs      Totals        // addresses by status: truth
	StoredAddrs     Totals        // addresses by status: the unit log of done units
	StoredRaw       uint64        // rows stored before merges collapse re-inserts
	Sample24s       int           // /24s checked row by row
	SampleRows      int           // truth rows in them
	Missing         int           // sampled truth rows not stored
	Foreign         int           // sampled stored rows not in the truth
	Examples        []string
}

// Rate returns the sustained addresses per second of the sweep.
func (r *Report) Rate() float64 {
	if r.Sweep <= 0 {
		return 0
	}
	return float64(r.Addresses) / r.Sweep.Seconds()
}

// Failed reports whether the stored data differ from the truth.
func (r *Report) Failed() bool {
	if r.Missing > 0 || r.Foreign > 0 || r.Truth == nil || r.Addresses != uint64(1)<<(32-r.CIDR.Bits()) {
		return true
	}
	for _, s := range statuses {
		if r.Truth[s.String()] != r.Stored[s.String()] || r.TruthAddrs[s.String()] != r.StoredAddrs[s.String()] {
			return true
		}
	}
	return false
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "rehearsal of %s (%d addresses): %d workers, nats-server ×%d, scan %s, database %s\n",
		r.CIDR, uint64(1)<<(32-r.CIDR.Bits()), r.Workers, r.Cluster, r.Scan, r.DB)
	fmt.Fprintf(w, "publish: %s; publish → done: %s\n", r.Publish.Round(time.Millisecond), r.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "sustained addresses/s: %.0f (%d addresses in %s, first unit started → last finished; %d DNS queries)\n",
		r.Rate(), r.Addresses, r.Sweep, r.Queries)
	for i, b := range r.WorkerRSS {
		fmt.Fprintf(w, "worker %d peak RSS: %s\n", i+1, mib(b))
	}
	for i, b := range r.NATSRSS {
		fmt.Fprintf(w, "NATS node %d peak RSS: %s\n", i+1, mib(b))
	}
	per := 0.0
	if r.Rows > 0 {
		per = float64(r.DiskBytes) / float64(r.Rows)
	}
	fmt.Fprintf(w, "ClickHouse ptr table: %d active parts, %d rows, %s on disk, %.1f bytes per row; units table: %d active parts\n",
		r.Parts, r.Rows, mib(r.DiskBytes), per, r.UnitParts)
	if r.Truth == nil {
		return
	}
	fmt.Fprintf(w, "by status: addresses (truth / unit log), rows (truth / stored distinct (ip, ptr)); %d rows stored before merges:\n", r.StoredRaw)
	for _, s := range statuses {
		k, mark := s.String(), ""
		if r.Truth[k] != r.Stored[k] || r.TruthAddrs[k] != r.StoredAddrs[k] {
			mark = "  MISMATCH"
		}
		fmt.Fprintf(w, "  %-9s addresses %10d / %10d   rows %10d / %10d%s\n", s, r.TruthAddrs[k], r.StoredAddrs[k], r.Truth[k], r.Stored[k], mark)
	}
	fmt.Fprintf(w, "sample: %d /24s, %d truth rows: %d missing, %d foreign\n", r.Sample24s, r.SampleRows, r.Missing, r.Foreign)
	for _, e := range r.Examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if r.Failed() {
		fmt.Fprintln(w, "result: FAIL")
	} else {
		fmt.Fprintln(w, "result: PASS")
	}
}

func (r *Report) example(s string) {
	if len(r.Examples) < 10 {
		r.Examples = append(r.Examples, s)
	}
}

// clickHouse queries the rehearsal's server over HTTP.
type clickHouse struct{ url string }

func (c *clickHouse) query(ctx context.Context, sql string) (string, error) {
	return testenv.ClickHouseQuery(ctx, c.url, "", sql)
}

// uints runs sql and splits its one-line result into unsigned integers.
func (c *clickHouse) uints(ctx context.Context, sql string, dst ...*uint64) error {
	out, err := c.query(ctx, sql)
	if err != nil {
		return err
	}
	f := strings.Fields(out)
	if len(f) != len(dst) {
		return fmt.Errorf("clickhouse %q: got %q, want %d numbers", sql, out, len(dst))
	}
	for i, s := range f {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("clickhouse %q: %q: %w", sql, s, err)
		}
		*dst[i] = v
	}
	return nil
}

// measure reads throughput and addresses by status from the unit log, and
// the ptr table's parts.
func (r *rig) measure(ctx context.Context, rep *Report) error {
	var first, last uint64
	c := make([]uint64, len(statuses))
	err := r.ch.uints(ctx, fmt.Sprintf("SELECT sum(addresses), sum(queries), toUInt64(min(started_at)), toUInt64(max(finished_at)), "+
		"sum(ok), sum(nxdomain), sum(nodata), sum(servfail), sum(refused), sum(timeout) "+
		"FROM (SELECT * FROM %s.units FINAL WHERE scan = '%s' AND state = 'done')", r.db, r.scan),
		&rep.Addresses, &rep.Queries, &first, &last, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5])
	if err != nil {
		return err
	}
	rep.StoredAddrs = Totals{}
	for i, s := range statuses {
		rep.StoredAddrs[s.String()] = c[i]
	}
	rep.Sweep = time.Duration(max(last-first, 1)) * time.Second
	if err := r.ch.uints(ctx, fmt.Sprintf("SELECT count() FROM system.parts WHERE database = '%s' AND table = 'units' AND active", r.db),
		&rep.UnitParts); err != nil {
		return err
	}
	return r.ch.uints(ctx, fmt.Sprintf("SELECT count(), sum(rows), sum(bytes_on_disk) FROM system.parts "+
		"WHERE database = '%s' AND table = 'ptr' AND active", r.db), &rep.Parts, &rep.Rows, &rep.DiskBytes)
}

// compareTotals counts the stored rows by status.
func (r *rig) compareTotals(ctx context.Context, rep *Report) error {
	out, err := r.ch.query(ctx, fmt.Sprintf("SELECT toString(status), uniqExact(ip, ptr), count() FROM %s.ptr WHERE scan = '%s' GROUP BY status", r.db, r.scan))
	if err != nil {
		return err
	}
	rep.Stored = Totals{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		n, err1 := strconv.ParseUint(f[1], 10, 64)
		raw, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("status totals: bad line %q", line)
		}
		rep.Stored[f[0]] = n
		rep.StoredRaw += raw
	}
	return nil
}

// rowKey is one comparable row.
type rowKey struct {
	ip     uint32
	ptr    string
	status string
}

// compareSample compares every row of a random share of the /24s with the truth.
func (r *rig) compareSample(ctx context.Context, rep *Report) error {
	n := 1 << (24 - r.cfg.CIDR.Bits())
	k := max(1, int(float64(n)*r.cfg.SampleShare+0.5))
	base := cidr.AddrToUint32(r.cfg.CIDR.Addr()) >> 8
	picked := rand.Perm(n)[:k]
	slices.Sort(picked)
	want := map[rowKey]bool{}
	ids := make([]string, k)
	var rows []sweep.Row
	for i, p := range picked {
		b := base + uint32(p)
		ids[i] = strconv.FormatUint(uint64(b), 10)
		for d := range uint32(256) {
			ip := cidr.Uint32ToAddr(b<<8 | d)
			rows = sweep.Rows(rows[:0], sweep.Unit{Prefix: r.cfg.CIDR}, lab.InternetExpect(ip).Result(ip))
			for _, row := range rows {
				want[rowKey{b<<8 | d, row.PTR, row.Status.String()}] = true
			}
		}
	}
	rep.Sample24s, rep.SampleRows = k, len(want)
	out, err := r.ch.query(ctx, fmt.Sprintf("SELECT DISTINCT ip, ptr, toString(status) FROM %s.ptr WHERE scan = '%s' AND intDiv(ip, 256) IN (%s)",
		r.db, r.scan, strings.Join(ids, ",")))
	if err != nil {
		return err
	}
	seen := map[rowKey]bool{}
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		v, err := strconv.ParseUint(f[0], 10, 32)
		if len(f) != 3 || err != nil {
			return fmt.Errorf("sample: bad line %q", line)
		}
		key := rowKey{uint32(v), f[1], f[2]}
		seen[key] = true
		if !want[key] {
			rep.Foreign++
			rep.example(fmt.Sprintf("foreign %s %q %s", cidr.Uint32ToAddr(key.ip), key.ptr, key.status))
		}
	}
	for key := range want {
		if !seen[key] {
			rep.Missing++
			rep.example(fmt.Sprintf("missing %s %q %s", cidr.Uint32ToAddr(key.ip), key.ptr, key.status))
		}
	}
	return nil
}

// sampler records the peak RSS (VmHWM) of processes every second until
// stop; a process that exits keeps its last reading.
type sampler struct {
	ps     []*testenv.Proc
	mu     sync.Mutex
	peak   map[*testenv.Proc]uint64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newSampler(ps []*testenv.Proc) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{ps: ps, peak: map[*testenv.Proc]uint64{}, cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			s.read()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return s
}

func (s *sampler) read() {
	for _, p := range s.ps {
		if v, err := p.PeakRSS(); err == nil {
			s.mu.Lock()
			s.peak[p] = max(s.peak[p], v)
			s.mu.Unlock()
		}
	}
}

// stop takes a last reading and ends the sampling.
func (s *sampler) stop() {
	s.cancel()
	s.wg.Wait()
	s.read()
}

// peaks returns the peak RSS of each of ps, in order.
func (s *sampler) peaks(ps []*testenv.Proc) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint64, len(ps))
	for i, p := range ps {
		out[i] = s.peak[p]
	}
	return out
}
