package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// byIPTable is the address-sorted copy of ptr (schema/020_ptr_by_ip.sql).
const byIPTable = "ptr_by_ip"

// backfillByIP copies the rows ptr held before ptr_by_ip and its view
// existed. applySchema calls it once, right after creating them in a
// database whose ptr table was already there; rows the view copied in the
// meantime are copied twice and collapse like any re-inserted row.
func (s *Store) backfillByIP(ctx context.Context) error {
	const q = "INSERT INTO ptr_by_ip (ip, scan, ptr, status, ttl, fcrdns, unit, resolved_at)" +
		" SELECT ip, scan, ptr, status, ttl, fcrdns, unit, resolved_at FROM ptr"
	if err := s.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("copy the existing rows of ptr into ptr_by_ip in database %s: %w", s.opts.Database, err)
	}
	return nil
}

// needsBackfill reports whether applySchema must run backfillByIP: ptr
// existed before this start-up and ptr_by_ip did not.
func needsBackfill(existing []string) bool {
	return existing != nil && slices.Contains(existing, "ptr") && !slices.Contains(existing, byIPTable)
}

// AddressQuery selects rows by address for LookupRows.
type AddressQuery struct {
	// First and Last bound the addresses (inclusive, IPv4).
	First, Last netip.Addr
	// Scan restricts the rows to one scan; empty means every scan.
	Scan string
	// Statuses and FCrDNS keep only rows with these outcomes; empty keeps
	// every outcome.
	Statuses []sweep.Status
	FCrDNS   []sweep.FCrDNS
	// Limit caps the number of rows; zero or less means no cap.
	Limit int
}

// LookupRows calls emit for every stored row of the addresses First to
// Last, each (scan, ip, ptr) once, ordered by ip, then resolved_at, scan
// and ptr. It reads ptr_by_ip, whose primary key is the address, so one
// address or one /16 is a narrow range read. It stops at emit's first
// error and returns it.
func (s *Store) LookupRows(ctx context.Context, q AddressQuery, emit func(sweep.Row) error) error {
	first, last := q.First.Unmap(), q.Last.Unmap()
	if !first.Is4() || !last.Is4() || last.Less(first) {
		return fmt.Errorf("look up %v-%v: want an IPv4 range", q.First, q.Last)
	}
	query := "SELECT " + rowColumns + " FROM ptr_by_ip FINAL WHERE ip >= ? AND ip <= ?"
	args := []any{cidr.AddrToUint32(first), cidr.AddrToUint32(last)}
	if q.Scan != "" {
		query += " AND scan = ?"
		args = append(args, q.Scan)
	}
	if len(q.Statuses) > 0 {
		query += " AND status IN (" + placeholders(len(q.Statuses)) + ")"
		for _, st := range q.Statuses {
			args = append(args, st.String())
		}
	}
	if len(q.FCrDNS) > 0 {
		query += " AND fcrdns IN (" + placeholders(len(q.FCrDNS)) + ")"
		for _, f := range q.FCrDNS {
			args = append(args, f.String())
		}
	}
	query += " ORDER BY ip, resolved_at, scan, ptr"
	if q.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(q.Limit)
	}
	if err := s.stream(ctx, query, args, emit); err != nil {
		return fmt.Errorf("look up %v-%v: %w", first, last, err)
	}
	return nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// LoadASNRanges reads the ranges of the newest complete IP-to-ASN table
// that overlap first to last, as a Table that answers for those addresses
// (a few rows instead of the whole table: what a lookup needs). It returns
// an error wrapping ErrNoASNTable when no table is stored.
func (s *Store) LoadASNRanges(ctx context.Context, first, last netip.Addr) (*enrich.Table, ASNVersion, error) {
	vs, err := s.ASNVersions(ctx)
	if err != nil {
		return nil, ASNVersion{}, err
	}
	if len(vs) == 0 {
		return nil, ASNVersion{}, fmt.Errorf("%w in database %s: load one with `coordinator asn load FILE`", ErrNoASNTable, s.opts.Database)
	}
	v := vs[0]
	day := v.Version.Format(time.DateOnly)
	lo, hi := cidr.AddrToUint32(first.Unmap()), cidr.AddrToUint32(last.Unmap())
	// Ranges do not overlap, so the one holding first starts at or before
	// it. Most start less than a /8 before: read that window of the
	// primary key first, and everything before it only when the window
	// holds no range covering first (an unrouted address, or a range
	// longer than a /8).
	window := uint32(0)
	if lo > asnWindow {
		window = lo - asnWindow
	}
	ranges, err := s.asnRanges(ctx, day, window, lo, hi)
	if err != nil {
		return nil, v, err
	}
	if window > 0 && (len(ranges) == 0 || cidr.AddrToUint32(ranges[0].First) > lo) {
		if ranges, err = s.asnRanges(ctx, day, 0, lo, hi); err != nil {
			return nil, v, err
		}
	}
	a := enrich.NewRangeAppender(len(ranges))
	for _, r := range ranges {
		if err := a.Append(r); err != nil {
			return nil, v, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
		}
	}
	return a.Table(), v, nil
}

// asnWindow is how far before an address LoadASNRanges first looks for
// the range holding it: a /8.
const asnWindow = 1 << 24

// asnRanges reads the ranges of a version that start at from or later and
// overlap lo to hi, in address order.
func (s *Store) asnRanges(ctx context.Context, day string, from, lo, hi uint32) ([]enrich.Range, error) {
	rows, err := s.conn.Query(ctx, "SELECT ip_start, ip_end, net, asn, as_name, country FROM asn_ranges"+
		" WHERE version = toDate(?) AND ip_start >= ? AND ip_start <= ? AND ip_end >= ? ORDER BY ip_start",
		day, from, hi, lo)
	if err != nil {
		return nil, fmt.Errorf("read IP-to-ASN table %s for %v-%v: %w", day, cidr.Uint32ToAddr(lo), cidr.Uint32ToAddr(hi), err)
	}
	defer rows.Close()
	var (
		out                   []enrich.Range
		start, end, asn       uint32
		netStr, name, country string
	)
	for rows.Next() {
		if err := rows.Scan(&start, &end, &netStr, &asn, &name, &country); err != nil {
			return nil, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
		}
		p, err := netip.ParsePrefix(netStr)
		if err != nil {
			return nil, fmt.Errorf("read IP-to-ASN table %s: network %q: %w", day, netStr, err)
		}
		out = append(out, enrich.Range{First: cidr.Uint32ToAddr(start), Last: cidr.Uint32ToAddr(end),
			Info: enrich.Info{Net: p, ASN: asn, ASName: name, Country: country}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
	}
	return out, nil
}
