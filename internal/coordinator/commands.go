package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Publish plans nothing itself: it records the scan and publishes every unit
// of p. Units already queued (same scan and CIDR, within the stream's
// duplicate window) are not published again.
func Publish(ctx context.Context, conn Conn, p *plan.Plan, out io.Writer) error {
	st, err := store.Open(ctx, conn.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := queue.Connect(ctx, queue.Config{URL: conn.NATS, Auth: conn.NATSAuth, Name: "ptrsweep-coordinator", AckWait: conn.AckWait, MaxDeliver: conn.MaxDeliver, Replicas: conn.Replicas})
	if err != nil {
		return err
	}
	defer q.Close()
	rec := p.Record()
	if err := st.SaveScan(ctx, rec); err != nil {
		return fmt.Errorf("save scan %s: %w", rec.Name, err)
	}
	pub, dup, err := q.PublishAll(ctx, p.All(), nil)
	if err != nil {
		return fmt.Errorf("publish scan %s after %d units: %w", rec.Name, pub+dup, err)
	}
	fmt.Fprintf(out, "scan %s: %d units published, %d already queued, %d addresses\n", rec.Name, pub, dup, p.Addresses())
	return nil
}

// StatusConfig configures Status.
type StatusConfig struct {
	Conn
	Scan string
	// Watch reprints the status every Interval until the scan completes;
	// Wait blocks silently until then. With Wait, failed units make Status
	// return ErrUnitsFailed.
	Watch, Wait bool
	Interval    time.Duration
}

// Report is one status reading of a scan.
type Report struct {
	Scan     sweep.ScanRecord
	Progress store.Progress
	Pending  int
	Queue    *queue.Pending // nil when NATS was not asked for or is unreachable
	Rate     float64        // addresses per second
	ETA      time.Duration  // -1 when unknown
	Complete bool
}

// Status prints the state of a scan from the unit log (and the queue, when a
// NATS URL is given).
func Status(ctx context.Context, cfg StatusConfig, out io.Writer) error {
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	var q *queue.Queue
	if cfg.NATS != "" {
		q, err = queue.Connect(ctx, queue.Config{URL: cfg.NATS, Auth: cfg.NATSAuth, Name: "ptrsweep-status", Existing: true})
		if err != nil {
			return err
		}
		defer q.Close()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	for {
		r, err := report(ctx, st, q, cfg.Scan)
		if err != nil {
			return err
		}
		if !cfg.Wait || r.Complete {
			printReport(out, r)
		}
		if r.Complete {
			if r.Progress.UnitsFailed > 0 && cfg.Wait {
				return fmt.Errorf("%w: %d of %d units", ErrUnitsFailed, r.Progress.UnitsFailed, r.Scan.Units)
			}
			return nil
		}
		if !cfg.Watch && !cfg.Wait {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.Interval):
		}
	}
}

func report(ctx context.Context, st *store.Store, q *queue.Queue, scan string) (Report, error) {
	rec, err := st.Scan(ctx, scan)
	if err != nil {
		if errors.Is(err, store.ErrScanNotFound) {
			return Report{}, fmt.Errorf("scan %q not found in database %s (check --scan and --clickhouse)", scan, st.Database())
		}
		return Report{}, err
	}
	p, err := st.Progress(ctx, scan)
	if err != nil {
		return Report{}, err
	}
	r := Report{Scan: rec, Progress: p, ETA: -1}
	finished := p.UnitsDone + p.UnitsFailed
	r.Pending = max(rec.Units-finished, 0)
	r.Complete = finished >= rec.Units
	if q != nil {
		if qp, err := q.Pending(ctx, scan); err == nil {
			r.Queue = &qp
		}
	}
	if !p.FirstStarted.IsZero() && p.LastFinished.After(p.FirstStarted) {
		secs := p.LastFinished.Sub(p.FirstStarted).Seconds()
		r.Rate = float64(p.Counts.Addresses()) / secs
		if r.Rate > 0 && !r.Complete {
			left := float64(rec.Addresses) - float64(p.Counts.Addresses())
			r.ETA = time.Duration(left / r.Rate * float64(time.Second)).Round(time.Second)
		}
	}
	return r, nil
}

func printReport(w io.Writer, r Report) {
	p := r.Progress
	state := "running"
	switch {
	case r.Complete && p.UnitsFailed > 0:
		state = "complete with failed units"
	case r.Complete:
		state = "complete"
	}
	fmt.Fprintf(w, "scan %s: %s\n", r.Scan.Name, state)
	fmt.Fprintf(w, "  units: %d total, %d done, %d pending, %d failed\n", r.Scan.Units, p.UnitsDone, r.Pending, p.UnitsFailed)
	fmt.Fprintf(w, "  addresses: %d of %d, %d PTRs, %d rows\n", p.Counts.Addresses(), r.Scan.Addresses, p.Counts.PTRs, p.Rows)
	c := p.Counts
	fmt.Fprintf(w, "  outcomes: ok=%d nxdomain=%d nodata=%d servfail=%d refused=%d timeout=%d (pruned %d)\n",
		c.OK, c.NXDomain, c.NoData, c.ServFail, c.Refused, c.Timeout, c.Pruned)
	eta := "-"
	if r.ETA >= 0 {
		eta = r.ETA.String()
	}
	fmt.Fprintf(w, "  rate: %.0f addresses/s, ETA %s\n", r.Rate, eta)
	if r.Queue != nil {
		fmt.Fprintf(w, "  queue: %d queued, %d in flight, %d dead-lettered\n", r.Queue.Queued, r.Queue.InFlight, r.Queue.Dead)
	}
	for _, f := range p.FailedUnits {
		fmt.Fprintf(w, "  failed unit %s (attempt %d): %s\n", f.Unit, f.Attempt, f.Error)
	}
	if p.UnitsFailed > 0 {
		fmt.Fprintf(w, "  retry failed units with: coordinator retry --scan %s --nats URL\n", r.Scan.Name)
	}
}

// Retry moves the dead-lettered units of a scan back to the work queue and
// records them as queued in the unit log, so status counts them pending
// until a worker finishes them.
func Retry(ctx context.Context, conn Conn, scan string, out io.Writer) error {
	st, err := store.Open(ctx, conn.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := queue.Connect(ctx, queue.Config{URL: conn.NATS, Auth: conn.NATSAuth, Name: "ptrsweep-coordinator", Existing: true})
	if err != nil {
		return err
	}
	defer q.Close()
	units, err := q.Retry(ctx, scan)
	var recs []sweep.UnitRecord
	now := time.Now().UTC()
	for _, u := range units {
		recs = append(recs, sweep.UnitRecord{Scan: u.Scan, Unit: u.Prefix.String(), Seq: u.Seq, State: sweep.UnitQueued,
			Worker: "coordinator retry", StartedAt: now, FinishedAt: now})
	}
	if len(recs) > 0 {
		if serr := st.InsertUnits(ctx, recs); serr != nil {
			return fmt.Errorf("%d units of scan %s queued again, but recording them failed (status shows them failed until they finish): %w", len(recs), scan, serr)
		}
	}
	if err != nil {
		return fmt.Errorf("retry dead units of scan %s after %d: %w", scan, len(units), err)
	}
	fmt.Fprintf(out, "scan %s: %d failed units queued again\n", scan, len(units))
	return nil
}

// SearchConfig configures Search.
type SearchConfig struct {
	ClickHouse string
	Suffix     string
	Scan       string
	Format     string // ips, table, csv or json
	Group      string // "" or netblock
}

// Search prints every stored PTR whose name is Suffix or ends in "."+Suffix.
func Search(ctx context.Context, cfg SearchConfig, out io.Writer) error {
	if cfg.Group != "" && cfg.Group != "netblock" {
		return fmt.Errorf("unknown --group %q (want netblock)", cfg.Group)
	}
	var w output.RowWriter
	if cfg.Group == "" {
		var err error
		if w, err = output.NewWriter(out, searchFormat(cfg.Format)); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	q := store.Query{Suffix: cfg.Suffix, Scan: cfg.Scan}
	if cfg.Group == "netblock" {
		var addrs []netip.Addr
		err := st.Search(ctx, q, func(r sweep.Row) error {
			if n := len(addrs); n == 0 || addrs[n-1] != r.IP {
				addrs = append(addrs, r.IP)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return printNetblocks(out, addrs)
	}
	if err := st.Search(ctx, q, w.Write); err != nil {
		return err
	}
	return w.Flush()
}

func searchFormat(f string) string {
	switch f {
	case "", "table":
		return "table"
	case "json":
		return "jsonl"
	}
	return f
}

// printNetblocks prints per-/24 address counts and the merged CIDR list.
func printNetblocks(w io.Writer, addrs []netip.Addr) error {
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)
	fmt.Fprintf(w, "%d addresses\n\nper /24:\n", len(addrs))
	for i := 0; i < len(addrs); {
		p, _ := addrs[i].Prefix(24)
		j := i
		for j < len(addrs) && p.Contains(addrs[j]) {
			j++
		}
		fmt.Fprintf(w, "  %-18s %d\n", p, j-i)
		i = j
	}
	fmt.Fprintf(w, "\nmerged CIDRs:\n")
	for _, p := range cidr.Merge(addrs) {
		fmt.Fprintf(w, "  %s\n", p)
	}
	return nil
}

// Export writes every stored row of a scan in jsonl or sonar format.
func Export(ctx context.Context, clickhouse, scan, format string, out io.Writer) error {
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "sonar" {
		return fmt.Errorf("unknown export format %q (want jsonl or sonar)", format)
	}
	w, err := output.NewWriter(out, format)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, clickhouse)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Scan(ctx, scan); err != nil {
		if errors.Is(err, store.ErrScanNotFound) {
			return fmt.Errorf("scan %q not found in %s", scan, st.Database())
		}
		return err
	}
	if err := st.Export(ctx, scan, w.Write); err != nil {
		return err
	}
	return w.Flush()
}
