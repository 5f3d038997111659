package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
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
	const q = "INSERT INTO ptr_by_ip (ip, scan, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country)" +
		" SELECT ip, scan, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country FROM ptr"
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
// and ptr; rows of superseded attempts are left out. It reads ptr_by_ip,
// whose primary key is the address, so one
// address or one /16 is a narrow range read. It stops at emit's first
// error and returns it.
func (s *Store) LookupRows(ctx context.Context, q AddressQuery, emit func(sweep.Row) error) error {
	first, last := q.First.Unmap(), q.Last.Unmap()
	if !first.Is4() || !last.Is4() || last.Less(first) {
		return fmt.Errorf("look up %v-%v: want an IPv4 range", q.First, q.Last)
	}
	ctx = readContext(ctx, nil)
	cond := " AND ip >= ? AND ip <= ?"
	args := []any{cidr.AddrToUint32(first), cidr.AddrToUint32(last)}
	if q.Scan != "" {
		cond += " AND scan = ?"
		args = append(args, q.Scan)
	}
	fcond, fargs := RowFilter{Statuses: q.Statuses, FCrDNS: q.FCrDNS}.where()
	query, args := latestRows(byIPTable, q.Scan, cond+fcond, append(args, fargs...), "ip, scan, ptr", "ip, resolved_at, scan, ptr", q.Limit)
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
	lo, hi := cidr.AddrToUint32(first.Unmap()), cidr.AddrToUint32(last.Unmap())
	// Every address of the block is in a range that starts inside the
	// block or in the one holding first.
	return s.loadRanges(ctx, []span{{windowStart(lo), hi}}, []uint32{lo})
}

// span is an interval of range starts to read, inclusive.
type span struct{ from, to uint32 }

// asnWindow is how far before an address the range holding it is first
// looked for: a /8.
const asnWindow = 1 << 24

func windowStart(u uint32) uint32 {
	if u < asnWindow {
		return 0
	}
	return u - asnWindow
}

// loadRanges reads the ranges of the newest version that start inside one
// of spans and end at or after the first address of check (sorted, not
// empty). Ranges do not
// overlap, so the one holding an address starts at or before it, and
// nearly always less than a /8 before; when no range of the result holds
// an address of check and the table has a range longer than a /8, it
// reads every range below the last span instead (otherwise the address
// is not routed).
func (s *Store) loadRanges(ctx context.Context, spans []span, check []uint32) (*enrich.Table, ASNVersion, error) {
	vs, err := s.ASNVersions(ctx)
	if err != nil {
		return nil, ASNVersion{}, err
	}
	if len(vs) == 0 {
		return nil, ASNVersion{}, fmt.Errorf("%w in database %s: load one with `coordinator asn load FILE`", ErrNoASNTable, s.opts.Database)
	}
	v := vs[0]
	day := v.Version.Format(time.DateOnly)
	t, err := s.asnRanges(ctx, day, spans, check[0])
	if err != nil {
		return nil, v, err
	}
	for _, u := range check {
		if _, ok := t.Lookup(cidr.Uint32ToAddr(u)); ok || spans[0].from == 0 {
			continue
		}
		// Not covered: unrouted, unless a range is longer than the window.
		var longest uint32
		if err := s.conn.QueryRow(ctx, "SELECT toUInt32(max(ip_end - ip_start)) FROM asn_ranges WHERE version = toDate(?)", day).Scan(&longest); err != nil {
			return nil, v, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
		}
		if longest >= asnWindow {
			if t, err = s.asnRanges(ctx, day, []span{{0, spans[len(spans)-1].to}}, check[0]); err != nil {
				return nil, v, err
			}
		}
		break
	}
	return t, v, nil
}

// asnRanges reads the ranges of a version that start inside one of spans
// and end at or after minEnd, in address order, as a Table.
func (s *Store) asnRanges(ctx context.Context, day string, spans []span, minEnd uint32) (*enrich.Table, error) {
	var (
		where strings.Builder
		args  = []any{day, minEnd}
	)
	for i, sp := range spans {
		if i > 0 {
			where.WriteString(" OR ")
		}
		where.WriteString("(ip_start >= ? AND ip_start <= ?)")
		args = append(args, sp.from, sp.to)
	}
	rows, err := s.conn.Query(ctx, "SELECT ip_start, ip_end, net, asn, as_name, country FROM asn_ranges"+
		" WHERE version = toDate(?) AND ip_end >= ? AND ("+where.String()+") ORDER BY ip_start", args...)
	if err != nil {
		return nil, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
	}
	defer rows.Close()
	a := enrich.NewRangeAppender(0)
	var (
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
		r := enrich.Range{First: cidr.Uint32ToAddr(start), Last: cidr.Uint32ToAddr(end),
			Info: enrich.Info{Net: p, ASN: asn, ASName: name, Country: country}}
		if err := a.Append(r); err != nil {
			return nil, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read IP-to-ASN table %s: %w", day, err)
	}
	return a.Table(), nil
}
