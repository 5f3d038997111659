package store

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// currentPTRs returns the sorted "ip ptr" pairs of scan that each read
// path shows: Search (which drops stale rows itself, or with a LIMIT
// joins the superseded entries as the other reads do), Export, LookupRows
// and the ptr_current view.
func currentPTRs(t *testing.T, s *Store, scan string) (search, export, lookup, view []string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range collect(t, func(emit func(sweep.Row) error) error {
		return s.Search(ctx, Query{Suffix: "example", Scan: scan}, emit)
	}) {
		search = append(search, r.IP.String()+" "+r.PTR)
	}
	var limited []string
	for _, r := range collect(t, func(emit func(sweep.Row) error) error {
		return s.Search(ctx, Query{Suffix: "example", Scan: scan, Limit: 1000}, emit)
	}) {
		limited = append(limited, r.IP.String()+" "+r.PTR)
	}
	if !slices.Equal(limited, search) {
		t.Errorf("Search with a LIMIT = %q, without %q", limited, search)
	}
	for _, r := range collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, scan, emit) }) {
		export = append(export, r.IP.String()+" "+r.PTR)
	}
	all := AddressQuery{First: netip.MustParseAddr("0.0.0.0"), Last: netip.MustParseAddr("255.255.255.255"), Scan: scan}
	for _, r := range collect(t, func(emit func(sweep.Row) error) error { return s.LookupRows(ctx, all, emit) }) {
		lookup = append(lookup, r.IP.String()+" "+r.PTR)
	}
	rows, err := s.conn.Query(ctx, "SELECT IPv4NumToString(ip), ptr FROM ptr_current WHERE scan = ? ORDER BY ip, ptr", scan)
	if err != nil {
		t.Fatalf("query ptr_current: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ip, ptr string
		if err := rows.Scan(&ip, &ptr); err != nil {
			t.Fatal(err)
		}
		view = append(view, ip+" "+ptr)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(search)
	slices.Sort(export)
	slices.Sort(lookup)
	slices.Sort(view)
	return search, export, lookup, view
}

// TestSupersededAttempts checks the promise of exact data after retries: a
// unit stored by attempt 1 with PTRs {a, b} for an address and by attempt 2
// with {a, c} shows exactly {a, c} on every read path, also when attempt 1's
// rows arrive after attempt 2's (a late worker); a unit never redelivered is
// untouched.
func TestSupersededAttempts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const unit, other = "192.0.2.0/24", "198.51.100.0/24"
	first, second := uint64(7)<<16|1, uint64(7)<<16|2
	row := func(u, ip, ptr string, attempt uint64) sweep.Row {
		r := okRow("s", ip, ptr)
		r.Unit, r.Attempt = u, attempt
		return r
	}
	att1 := []sweep.Row{row(unit, "192.0.2.1", "a.example", first), row(unit, "192.0.2.1", "b.example", first),
		row(unit, "192.0.2.2", "gone.example", first)}
	att2 := []sweep.Row{row(unit, "192.0.2.1", "a.example", second), row(unit, "192.0.2.1", "c.example", second)}
	untouched := []sweep.Row{row(other, "198.51.100.1", "x.example", 9<<16|1)}
	for _, batch := range [][]sweep.Row{att1, untouched, att2} {
		if err := s.InsertRows(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertSuperseded(ctx, []Supersede{{Scan: "s", Unit: unit, Below: second}}); err != nil {
		t.Fatal(err)
	}
	// A late worker of attempt 1 stores its rows again, attempt 2's insert
	// is retried after a lost reply, and a stale superseded entry of an
	// older attempt arrives: none changes a thing.
	if err := s.InsertRows(ctx, att1); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertRows(ctx, att2); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertSuperseded(ctx, []Supersede{{Scan: "s", Unit: unit, Below: first}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1 a.example", "192.0.2.1 c.example", "198.51.100.1 x.example"}
	check := func(when string) {
		t.Helper()
		search, export, lookup, view := currentPTRs(t, s, "s")
		for _, c := range []struct {
			path string
			got  []string
		}{{"Search", search}, {"Export", export}, {"LookupRows", lookup}} {
			if !slices.Equal(c.got, want) {
				t.Errorf("%s: %s = %q, want %q", when, c.path, c.got, want)
			}
		}
		// the view does not dedupe rows of one attempt stored twice
		// (schema/README.md): each pair at least once, no stale one
		if got := slices.Compact(view); !slices.Equal(got, want) {
			t.Errorf("%s: ptr_current = %q, want %q", when, got, want)
		}
	}
	check("before merges")
	for _, table := range []string{"ptr", "ptr_by_ip"} {
		if err := s.Exec(ctx, "OPTIMIZE TABLE "+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
	}
	check("after OPTIMIZE FINAL")
	// Rows keep their attempt.
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) })
	for _, r := range got {
		if r.Unit == unit && r.Attempt != second {
			t.Errorf("Export row %v %s: attempt %d, want %d", r.IP, r.PTR, r.Attempt, second)
		}
	}
}

// TestOpenRefusesOldPtr checks that a database whose ptr table predates the
// attempt column is refused with an error that names it and says what to do.
func TestOpenRefusesOldPtr(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.Exec(ctx, "DROP TABLE ptr"); err != nil {
		t.Fatal(err)
	}
	old := "CREATE TABLE ptr (scan String, rname String, ip UInt32, ptr String, status Enum8('ok' = 1, 'nxdomain' = 2, 'nodata' = 3, 'servfail' = 4, 'refused' = 5, 'timeout' = 6), " +
		"ttl UInt32, fcrdns Enum8('' = 0, 'confirmed' = 1, 'mismatch' = 2, 'no_address' = 3, 'error' = 4, 'numeric' = 5), unit String, resolved_at DateTime) " +
		"ENGINE = ReplacingMergeTree(resolved_at) PARTITION BY scan ORDER BY (rname, ip, scan)"
	if err := s.Exec(ctx, old); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenOptions(ctx, s.opts)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with an old ptr table succeeded, want ErrOldSchema")
	}
	if !errors.Is(err, ErrOldSchema) {
		t.Errorf("Open error = %v, want ErrOldSchema", err)
	}
	for _, want := range []string{s.Database(), "attempt", "new database", "schema/README.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}
}

// TestPermanent classifies real errors of the ClickHouse server.
func TestPermanent(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		sql                   string
		permanent, overloaded bool
	}{
		{"INSERT INTO nope (x) SELECT 1", true, false},              // UNKNOWN_TABLE
		{"INSERT INTO ptr (scan, nope) SELECT 's', 1", true, false}, // NO_SUCH_COLUMN_IN_TABLE
		{"SELECT nope FROM ptr", true, false},                       // UNKNOWN_IDENTIFIER
		{"SELECT 1 FROM nodb.ptr", true, false},                     // UNKNOWN_DATABASE
	} {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.Exec(cctx, c.sql)
		cancel()
		if err == nil {
			t.Errorf("%s: no error, want one", c.sql)
			continue
		}
		if got := Permanent(err); got != c.permanent {
			t.Errorf("Permanent(%v) = %v, want %v", err, got, c.permanent)
		}
		if got := errors.Is(err, ErrPermanent); got != c.permanent {
			t.Errorf("errors.Is(%v, ErrPermanent) = %v, want %v", err, got, c.permanent)
		}
		if got := Overloaded(err); got != c.overloaded {
			t.Errorf("Overloaded(%v) = %v, want %v", err, got, c.overloaded)
		}
	}
	// A read-only session (what a readonly user gets): READONLY.
	roCtx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 1}))
	err := s.Exec(roCtx, "INSERT INTO superseded (scan, unit, below) SELECT 's', 'u', 1")
	if err == nil || !Permanent(err) {
		t.Errorf("insert in a readonly session: %v, want a permanent error", err)
	}
	// Last: a connection that saw TOO_MANY_PARTS on an INSERT … SELECT is
	// not reused reliably by the driver.
	// 18.16 checks parts_to_throw_insert only past parts_to_delay_insert.
	if err := s.Exec(ctx, "CREATE TABLE parts (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS parts_to_delay_insert = 1, parts_to_throw_insert = 2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "SYSTEM STOP MERGES parts"); err != nil {
		t.Fatal(err)
	}
	// INSERT … SELECT, not VALUES: Exec sends no data blocks. With merges
	// stopped, a few inserts reach the table's tiny parts limit.
	var tooMany error
	for i := 0; i < 10 && tooMany == nil; i++ {
		if err := s.Exec(ctx, "INSERT INTO parts SELECT 1"); err != nil {
			tooMany = err
		}
	}
	if tooMany == nil || !Overloaded(tooMany) || Permanent(tooMany) {
		t.Errorf("inserts past parts_to_throw_insert: %v, want a transient TOO_MANY_PARTS (overloaded)", tooMany)
	}
	// Errors that are not exceptions are transient.
	for _, err := range []error{io.EOF, errors.New("dial tcp 127.0.0.1:9: connect: connection refused"), context.DeadlineExceeded} {
		if Permanent(err) {
			t.Errorf("Permanent(%v) = true, want false", err)
		}
	}
}

// TestInsertTypeMismatchPermanent checks that rows the client cannot
// convert to the table's column type fail permanently, naming the column.
func TestInsertTypeMismatchPermanent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.Exec(ctx, "ALTER TABLE superseded MODIFY COLUMN below String"); err != nil {
		t.Fatal(err)
	}
	err := s.InsertSuperseded(ctx, []Supersede{{Scan: "s", Unit: "u", Below: 1}})
	if !Permanent(err) || !strings.Contains(err.Error(), "below") {
		t.Errorf("InsertSuperseded into a String column = %v, want a permanent error naming column below", err)
	}
}
