package store

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// TestWithLimits checks that the row reads without a Limits argument obey
// the limits a context carries, and Count and ListAll their own.
func TestWithLimits(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rows := []sweep.Row{
		lookupRow("a", "198.51.100.7", "scan-1.fleet.example", sweep.StatusOK, sweep.FCrDNSConfirmed, at),
		lookupRow("a", "198.51.100.8", "scan-2.fleet.example", sweep.StatusOK, sweep.FCrDNSConfirmed, at),
		lookupRow("a", "198.51.100.9", "", sweep.StatusServFail, 0, at),
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// ClickHouse checks max_rows_to_read per block read: enough rows of
	// the scan, in the /24 and under the suffix for several blocks.
	if err := s.Exec(ctx, "INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt)"+
		" SELECT 'a', concat('example.fleet.x', toString(number)), IPv4StringToNum('198.51.100.10') + number % 240, concat('x', toString(number), '.fleet.example'),"+
		" 'ok', 60, 'confirmed', '198.51.100.0/24', toDateTime('2026-10-01 00:00:00'), 1 FROM system.numbers LIMIT 100000"); err != nil {
		t.Fatal(err)
	}
	first, last := netip.MustParseAddr("198.51.100.0"), netip.MustParseAddr("198.51.100.255")
	reads := []struct {
		name string
		read func(ctx context.Context, emit func(sweep.Row) error) error
		want int
	}{
		{"Search", func(ctx context.Context, emit func(sweep.Row) error) error {
			return s.Search(ctx, Query{Suffix: "fleet.example"}, emit)
		}, 100_002},
		{"Export", func(ctx context.Context, emit func(sweep.Row) error) error { return s.Export(ctx, "a", emit) }, 100_003},
		{"LookupRows", func(ctx context.Context, emit func(sweep.Row) error) error {
			return s.LookupRows(ctx, AddressQuery{First: first, Last: last}, emit)
		}, 100_003},
	}
	tight := WithLimits(ctx, Limits{MaxRowsToRead: 1000})
	loose := WithLimits(ctx, Limits{MaxExecutionTime: 10 * time.Second, MaxRowsToRead: 1_000_000})
	// The context carries the settings to the server.
	var n uint64
	if err := s.conn.QueryRow(readContext(tight, nil), "SELECT count() FROM ptr").Scan(&n); !LimitExceeded(err) {
		t.Errorf("a read of 100003 rows with WithLimits(at most 1000): %v, want a limit error", err)
	}
	// None of these reads uses FINAL, whose rows 18.16 does not count
	// against max_rows_to_read: the limit bounds them on 18.16 too.
	for _, r := range reads {
		n := 0
		if err := r.read(loose, func(sweep.Row) error { n++; return nil }); err != nil || n != r.want {
			t.Errorf("%s within the limits: %d rows, %v; want %d rows", r.name, n, err, r.want)
		}
		err := r.read(tight, func(sweep.Row) error { return nil })
		if !LimitExceeded(err) {
			t.Errorf("%s reading at most 1000 rows: %v, want a limit error", r.name, err)
		}
	}

	where := Where{SQL: "status = ?", Args: []any{"ok"}}
	if n, err := s.Count(ctx, where, Limits{}); err != nil || n != 100_002 {
		t.Errorf("Count(ok) = %d, %v; want 100002", n, err)
	}
	if _, err := s.Count(ctx, where, Limits{MaxRowsToRead: 1000}); !LimitExceeded(err) {
		t.Errorf("Count reading at most 1000 rows: %v, want a limit error", err)
	}
	var got []string
	if err := s.ListAll(ctx, Where{SQL: "1 = ?", Args: []any{1}}, 2, Limits{}, func(r Record) error {
		got = append(got, r.IP.String()+" "+r.PTR)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"198.51.100.7 scan-1.fleet.example", "198.51.100.8 scan-2.fleet.example"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ListAll(limit 2) = %q, want %q", got, want)
	}
	if err := s.ListAll(ctx, where, 0, Limits{}, func(Record) error { return nil }); err == nil {
		t.Error("ListAll(limit 0): no error")
	}
}
