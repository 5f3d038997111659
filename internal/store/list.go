package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Limits bound one read of the API: ClickHouse stops a query that runs
// longer than MaxExecutionTime or reads more than MaxRowsToRead rows
// (settings max_execution_time and max_rows_to_read, present on 18.16 and
// current releases; read_overflow_mode is left at its default, 'throw': the
// native protocol of 18.16 carries only integer settings from this client).
// Zero values leave the server's defaults.
type Limits struct {
	MaxExecutionTime time.Duration
	MaxRowsToRead    uint64
}

// limitsKey is the context key of WithLimits.
type limitsKey struct{}

// WithLimits returns ctx bounding the store's row reads that take no
// Limits argument (Search, Export, LookupRows) by lim.
func WithLimits(ctx context.Context, lim Limits) context.Context {
	return context.WithValue(ctx, limitsKey{}, lim)
}

// readContext returns ctx carrying as query settings the Limits of
// WithLimits, if any, and extra.
func readContext(ctx context.Context, extra clickhouse.Settings) context.Context {
	lim, _ := ctx.Value(limitsKey{}).(Limits)
	set := lim.settings()
	for k, v := range extra {
		set[k] = v
	}
	if len(set) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(set))
}

// context returns ctx carrying the limits as query settings.
func (l Limits) context(ctx context.Context) context.Context {
	set := l.settings()
	if len(set) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(set))
}

// settings returns the limits as query settings.
func (l Limits) settings() clickhouse.Settings {
	set := clickhouse.Settings{}
	if l.MaxExecutionTime > 0 {
		// Whole seconds: 18.16's setting is an integer of seconds.
		set["max_execution_time"] = max(int(l.MaxExecutionTime.Round(time.Second)/time.Second), 1)
	}
	if l.MaxRowsToRead > 0 {
		set["max_rows_to_read"] = int(min(l.MaxRowsToRead, 1<<62))
	}
	return set
}

// Record is one stored row as the API lists it: the row and its
// enrichment at resolve time (ASN 0 and Country "" when unknown).
type Record struct {
	sweep.Row
	ASN     uint32
	Country string
}

// Page is one page of a List.
type Page struct {
	// Records are the page's rows, ordered by ip, ptr and scan.
	Records []Record
	// Total is the number of rows matching the query on every page.
	Total uint64
}

// Where is a condition on the ptr table's columns with one '?' per
// argument, such as a clause compiled by query.Compile over
// query.PTRColumns. Its SQL must be one expression.
type Where struct {
	SQL  string
	Args []any
}

// List returns page (0-based) of pageSize rows matching where and the number of
// matching rows. Rows of superseded attempts are left out and each
// (scan, ip, ptr) is listed once. Both reads are bounded by lim. A page
// past the end is empty. It is safe for concurrent use.
func (s *Store) List(ctx context.Context, where Where, page, pageSize int, lim Limits) (Page, error) {
	if page < 0 || pageSize <= 0 {
		return Page{}, fmt.Errorf("list rows: page %d of size %d: want page ≥ 0 and size > 0", page, pageSize)
	}
	total, err := s.Count(ctx, where, lim)
	if err != nil {
		return Page{}, fmt.Errorf("list rows: %w", err)
	}
	p := Page{Total: total}
	if uint64(page)*uint64(pageSize) >= p.Total {
		return p, nil
	}
	err = s.records(ctx, where, " LIMIT "+strconv.Itoa(pageSize)+" OFFSET "+strconv.Itoa(page*pageSize), lim, func(r Record) error {
		p.Records = append(p.Records, r)
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("list rows: %w", err)
	}
	return p, nil
}

// Count returns the number of rows List would list for where, bounded by
// lim. It is safe for concurrent use.
func (s *Store) Count(ctx context.Context, where Where, lim Limits) (uint64, error) {
	q, args := listRows(where, "")
	var n uint64
	if err := s.conn.QueryRow(lim.context(ctx), "SELECT count() FROM ("+q+")", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows: %w", err)
	}
	return n, nil
}

// listRows returns the query of the current rows matching where, each
// (scan, ip, ptr) once, sorted by order ("": unsorted); see latestRows.
func listRows(where Where, order string) (string, []any) {
	return latestRows("ptr", "", " AND ("+where.SQL+")", where.Args, "scan, ip, ptr", order, 0)
}

// ListAll calls emit for each of the first limit rows matching where, in
// List's order and with List's deduplication, streaming them (a download
// of a whole result). It stops at emit's first error and returns it. It
// is bounded by lim and safe for concurrent use.
func (s *Store) ListAll(ctx context.Context, where Where, limit int, lim Limits, emit func(Record) error) error {
	if limit <= 0 {
		return fmt.Errorf("list all rows: limit %d: want more than 0", limit)
	}
	if err := s.records(ctx, where, " LIMIT "+strconv.Itoa(limit), lim, emit); err != nil {
		return fmt.Errorf("list all rows: %w", err)
	}
	return nil
}

// records streams the current rows matching where with their enrichment,
// ordered by ip, ptr and scan, then tail (a LIMIT clause).
func (s *Store) records(ctx context.Context, where Where, tail string, lim Limits, emit func(Record) error) error {
	ctx, cancel := context.WithCancel(lim.context(ctx))
	defer cancel() // stops the server side when emit gives up early
	q, args := listRows(where, "ip, ptr, scan")
	rows, err := s.conn.Query(ctx, q+tail, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r   Record
			err error
		)
		if r.Row, err = scanRow(rows); err != nil {
			return err
		}
		r.ASN, r.Country = r.Row.ASN, r.Row.Country
		if err := emit(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// NetOutcome is the number of addresses of one /24 with one outcome.
type NetOutcome struct {
	// Net is the /24's number: its first address >> 8.
	Net uint32
	// Status is the outcome.
	Status sweep.Status
	// Addresses counts the distinct addresses with the outcome.
	Addresses uint32
}

// NetOutcomes aggregates the current rows of the addresses lo to hi
// (numbers) per /24 and outcome, for the map: one GROUP BY over the range,
// no FINAL (distinct addresses are counted). Every scan counts. It is
// bounded by lim and safe for concurrent use.
func (s *Store) NetOutcomes(ctx context.Context, lo, hi uint32, lim Limits) ([]NetOutcome, error) {
	ctx = lim.context(ctx)
	from, args := currentRows("ptr", "")
	q := "SELECT toUInt32(intDiv(ip, 256)) AS net, toString(status) AS st, uniqExact(ip) FROM " + from +
		" WHERE attempt >= below AND ip BETWEEN ? AND ? GROUP BY net, st ORDER BY net, st"
	rows, err := s.conn.Query(ctx, q, append(args, lo, hi)...)
	if err != nil {
		return nil, fmt.Errorf("outcomes per /24 of %d-%d: %w", lo, hi, err)
	}
	defer rows.Close()
	var out []NetOutcome
	for rows.Next() {
		var (
			net uint32
			st  string
			n   uint64
		)
		if err := rows.Scan(&net, &st, &n); err != nil {
			return nil, fmt.Errorf("outcomes per /24: %w", err)
		}
		status, err := sweep.ParseStatus(st)
		if err != nil {
			return nil, fmt.Errorf("outcomes per /24: %w", err)
		}
		out = append(out, NetOutcome{Net: net, Status: status, Addresses: uint32(n)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outcomes per /24: %w", err)
	}
	return out, nil
}

// MatchingNets returns the distinct /24 numbers (ascending) of the current
// rows matching where with addresses lo to hi, at most limit of them. It
// is bounded by lim and safe for concurrent use.
func (s *Store) MatchingNets(ctx context.Context, where Where, lo, hi uint32, limit int, lim Limits) ([]uint32, error) {
	ctx = lim.context(ctx)
	from, args := currentRows("ptr", "")
	q := "SELECT DISTINCT toUInt32(intDiv(ip, 256)) AS net FROM " + from +
		" WHERE attempt >= below AND ip BETWEEN ? AND ? AND " + where.SQL + " ORDER BY net LIMIT " + strconv.Itoa(max(limit, 0))
	args = append(append(args, lo, hi), where.Args...)
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("matching /24s: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var n uint32
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("matching /24s: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("matching /24s: %w", err)
	}
	return out, nil
}

// DataVersion returns a string that changes whenever a unit is logged (a
// unit's rows are stored before its record): the number of unit records
// and the latest finished_at. Caches of derived data (maps) key on it.
func (s *Store) DataVersion(ctx context.Context) (string, error) {
	var (
		n    uint64
		last time.Time
	)
	if err := s.conn.QueryRow(ctx, "SELECT count(), max(finished_at) FROM units").Scan(&n, &last); err != nil {
		return "", fmt.Errorf("data version: %w", err)
	}
	return strconv.FormatUint(n, 10) + "@" + strconv.FormatInt(last.Unix(), 10), nil
}

// limitCodes are the exception codes of a query stopped at a bound of
// Limits.
var limitCodes = map[int32]string{
	158: "TOO_MANY_ROWS",
	159: "TIMEOUT_EXCEEDED",
	160: "TOO_SLOW",
}

// LimitExceeded reports whether err says a read was stopped at a bound of
// Limits (TOO_MANY_ROWS, TIMEOUT_EXCEEDED, TOO_SLOW) or matches
// ErrLimitExceeded.
func LimitExceeded(err error) bool { return hasCode(err, ErrLimitExceeded, limitCodes) }
