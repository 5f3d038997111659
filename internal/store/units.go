package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const insertUnits = "INSERT INTO units (scan, unit, seq, state, addresses, ok, nxdomain, nodata, servfail, refused, timeout, ptrs, pruned, queries, rows, worker, attempt, error, started_at, finished_at)"

const unitColumns = "scan, unit, seq, state, ok, nxdomain, nodata, servfail, refused, timeout, ptrs, pruned, queries, rows, worker, attempt, error, started_at, finished_at"

// InsertUnits appends records to the unit log in one INSERT. A unit logged
// again (a retry) replaces its earlier record: the latest FinishedAt wins. It
// is safe for concurrent use.
func (s *Store) InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	var (
		scans, units, workers, errs                     = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, addrs, oks, nxs, nds, sfs, rfs, tos, ptrs = make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n)
		pruned, rows, attempts                          = make([]uint32, n), make([]uint32, n), make([]uint32, n)
		states                                          = make([]int8, n)
		queries                                         = make([]uint64, n)
		started, finished                               = make([]time.Time, n), make([]time.Time, n)
	)
	for i, r := range recs {
		if r.State != sweep.UnitDone && r.State != sweep.UnitFailed && r.State != sweep.UnitQueued {
			return fmt.Errorf("insert unit records: unit %s/%s: invalid state %d", r.Scan, r.Unit, uint8(r.State))
		}
		if r.Seq < 0 || int64(r.Seq) > int64(^uint32(0)) {
			return fmt.Errorf("insert unit records: unit %s/%s: seq %d out of range", r.Scan, r.Unit, r.Seq)
		}
		c := r.Counts
		scans[i], units[i], workers[i], errs[i] = r.Scan, r.Unit, r.Worker, r.Error
		seqs[i], states[i] = uint32(r.Seq), int8(r.State)
		addrs[i] = uint32(min(c.Addresses(), uint64(^uint32(0))))
		oks[i], nxs[i], nds[i], sfs[i], rfs[i], tos[i] = c.OK, c.NXDomain, c.NoData, c.ServFail, c.Refused, c.Timeout
		ptrs[i], pruned[i], queries[i] = c.PTRs, c.Pruned, c.Queries
		rows[i], attempts[i] = r.Rows, r.Attempt
		started[i], finished[i] = r.StartedAt, r.FinishedAt
	}
	return s.sendColumns(ctx, insertUnits, fmt.Sprintf("insert %d unit records", n),
		scans, units, seqs, states, addrs, oks, nxs, nds, sfs, rfs, tos, ptrs, pruned, queries, rows, workers, attempts, errs, started, finished)
}

// scanUnit reads one row of unitColumns.
func scanUnit(rows driver.Rows) (sweep.UnitRecord, error) {
	var (
		r     sweep.UnitRecord
		c     = &r.Counts
		seq   uint32
		state string
	)
	if err := rows.Scan(&r.Scan, &r.Unit, &seq, &state, &c.OK, &c.NXDomain, &c.NoData, &c.ServFail, &c.Refused, &c.Timeout,
		&c.PTRs, &c.Pruned, &c.Queries, &r.Rows, &r.Worker, &r.Attempt, &r.Error, &r.StartedAt, &r.FinishedAt); err != nil {
		return sweep.UnitRecord{}, fmt.Errorf("read unit record: %w", err)
	}
	r.Seq = int(seq)
	switch state {
	case "done":
		r.State = sweep.UnitDone
	case "failed":
		r.State = sweep.UnitFailed
	case "queued":
		r.State = sweep.UnitQueued
	default:
		return sweep.UnitRecord{}, fmt.Errorf("read unit record %s: unknown state %q", r.Unit, state)
	}
	r.StartedAt, r.FinishedAt = r.StartedAt.UTC(), r.FinishedAt.UTC()
	return r, nil
}

// Progress summarises a scan's unit log, each unit counted once by its
// latest record.
type Progress struct {
	// UnitsDone and UnitsFailed count units by their latest state.
	UnitsDone   int
	UnitsFailed int
	// Counts sums the address counts of done units.
	Counts sweep.Counts
	// Rows sums the rows stored by done units.
	Rows uint64
	// FirstStarted and LastFinished span every logged unit; zero when none.
	FirstStarted time.Time
	LastFinished time.Time
	// FailedUnits lists the failed units by Seq.
	FailedUnits []sweep.UnitRecord
}

// Progress reads the scan's unit log. It is safe for concurrent use.
func (s *Store) Progress(ctx context.Context, scan string) (Progress, error) {
	var (
		p                                         Progress
		done, failed                              uint64
		ok, nx, nd, sf, rf, to, ptrs, pruned, qry uint64
	)
	err := s.conn.QueryRow(ctx, `SELECT
		countIf(state = 'done'), countIf(state = 'failed'),
		sumIf(ok, state = 'done'), sumIf(nxdomain, state = 'done'), sumIf(nodata, state = 'done'),
		sumIf(servfail, state = 'done'), sumIf(refused, state = 'done'), sumIf(timeout, state = 'done'),
		sumIf(ptrs, state = 'done'), sumIf(pruned, state = 'done'), sumIf(queries, state = 'done'),
		sumIf(rows, state = 'done'), min(started_at), max(finished_at)
		FROM units FINAL WHERE scan = ?`, scan).Scan(
		&done, &failed, &ok, &nx, &nd, &sf, &rf, &to, &ptrs, &pruned, &qry, &p.Rows, &p.FirstStarted, &p.LastFinished)
	if err != nil {
		return Progress{}, fmt.Errorf("progress of scan %s: %w", scan, err)
	}
	p.UnitsDone, p.UnitsFailed = int(done), int(failed)
	p.Counts = sweep.Counts{
		OK: clamp32(ok), NXDomain: clamp32(nx), NoData: clamp32(nd), ServFail: clamp32(sf),
		Refused: clamp32(rf), Timeout: clamp32(to), PTRs: clamp32(ptrs), Pruned: clamp32(pruned), Queries: qry,
	}
	if done+failed == 0 {
		p.FirstStarted, p.LastFinished = time.Time{}, time.Time{}
	} else {
		p.FirstStarted, p.LastFinished = p.FirstStarted.UTC(), p.LastFinished.UTC()
	}

	rows, err := s.conn.Query(ctx, "SELECT "+unitColumns+" FROM units FINAL WHERE scan = ? AND state = 'failed' ORDER BY seq, unit", scan)
	if err != nil {
		return Progress{}, fmt.Errorf("failed units of scan %s: %w", scan, err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return Progress{}, fmt.Errorf("failed units of scan %s: %w", scan, err)
		}
		p.FailedUnits = append(p.FailedUnits, u)
	}
	if err := rows.Err(); err != nil {
		return Progress{}, fmt.Errorf("failed units of scan %s: %w", scan, err)
	}
	return p, nil
}

// clamp32 narrows a sum to sweep.Counts' uint32 fields, saturating. The sum
// of a whole-IPv4 scan (2^32 addresses) can exceed them by one.
func clamp32(v uint64) uint32 { return uint32(min(v, uint64(^uint32(0)))) }

const insertScan = "INSERT INTO scans (name, cidrs, excludes, allow_reserved, unit_prefix, units, addresses, confirm, no_prune, created_at)"

const scanColumns = "name, cidrs, excludes, allow_reserved, unit_prefix, units, addresses, confirm, no_prune, created_at"

// SaveScan stores the scan's description, replacing an earlier one of the
// same name (the latest CreatedAt wins). A zero CreatedAt means now.
func (s *Store) SaveScan(ctx context.Context, rec sweep.ScanRecord) error {
	if rec.Name == "" {
		return fmt.Errorf("save scan: empty name")
	}
	if rec.UnitPrefix < 0 || rec.UnitPrefix > 32 {
		return fmt.Errorf("save scan %s: unit prefix /%d out of range", rec.Name, rec.UnitPrefix)
	}
	if rec.Units < 0 {
		return fmt.Errorf("save scan %s: negative unit count %d", rec.Name, rec.Units)
	}
	created := rec.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	cidrs, excludes := rec.CIDRs, rec.Excludes
	if cidrs == nil {
		cidrs = []string{}
	}
	if excludes == nil {
		excludes = []string{}
	}
	return s.sendColumns(ctx, insertScan, "save scan "+rec.Name,
		[]string{rec.Name}, [][]string{cidrs}, [][]string{excludes}, []uint8{b2u(rec.Options.AllowReserved)},
		[]uint8{uint8(rec.UnitPrefix)}, []uint64{uint64(rec.Units)}, []uint64{rec.Addresses},
		[]uint8{b2u(rec.Options.Confirm)}, []uint8{b2u(rec.Options.NoPrune)}, []time.Time{created})
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Scan returns the scan named name, or an error wrapping ErrScanNotFound.
func (s *Store) Scan(ctx context.Context, name string) (sweep.ScanRecord, error) {
	recs, err := s.scans(ctx, " WHERE name = ?", name)
	if err != nil {
		return sweep.ScanRecord{}, fmt.Errorf("scan %s: %w", name, err)
	}
	if len(recs) == 0 {
		return sweep.ScanRecord{}, fmt.Errorf("scan %s: %w", name, ErrScanNotFound)
	}
	return recs[0], nil
}

// Scans returns every scan, oldest first.
func (s *Store) Scans(ctx context.Context) ([]sweep.ScanRecord, error) {
	recs, err := s.scans(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return recs, nil
}

func (s *Store) scans(ctx context.Context, where string, args ...any) ([]sweep.ScanRecord, error) {
	rows, err := s.conn.Query(ctx, "SELECT "+scanColumns+" FROM scans FINAL"+where+" ORDER BY created_at, name", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sweep.ScanRecord
	for rows.Next() {
		var (
			r                          sweep.ScanRecord
			allow, prefix, conf, noPru uint8
			units                      uint64
		)
		if err := rows.Scan(&r.Name, &r.CIDRs, &r.Excludes, &allow, &prefix, &units, &r.Addresses, &conf, &noPru, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("read scan: %w", err)
		}
		r.Options.AllowReserved, r.UnitPrefix, r.Units = allow == 1, int(prefix), int(units)
		r.Options.Confirm, r.Options.NoPrune = conf == 1, noPru == 1
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
