package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/schema"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func okRow(scan, ip, ptr string) sweep.Row {
	return sweep.Row{Scan: scan, Unit: "192.0.2.0/24", IP: netip.MustParseAddr(ip), PTR: ptr,
		Status: sweep.StatusOK, TTL: 3600, ResolvedAt: t0}
}

// collect returns the rows emitted by a Search or Export.
func collect(t *testing.T, run func(emit func(sweep.Row) error) error) []sweep.Row {
	t.Helper()
	var got []sweep.Row
	if err := run(func(r sweep.Row) error { got = append(got, r); return nil }); err != nil {
		t.Fatalf("query: %v", err)
	}
	return got
}

func search(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	rows := collect(t, func(emit func(sweep.Row) error) error { return s.Search(context.Background(), q, emit) })
	var names []string
	for _, r := range rows {
		names = append(names, r.IP.String()+" "+r.PTR)
	}
	return names
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, "clickhouse://u:hunter2@127.0.0.1:1/db?dial_timeout=2s")
	if err == nil {
		s.Close()
		t.Fatal("Open(127.0.0.1:1) succeeded, want an error")
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", "unreachable", "PTRSWEEP_CLICKHOUSE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Open(127.0.0.1:1) error = %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("Open error = %q: it shows the password", msg)
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Open(127.0.0.1:1) error = %v, want ErrUnreachable", err)
	}
}

func TestOpenInvalidDSN(t *testing.T) {
	_, err := Open(context.Background(), "clickhouse://h/bad-name")
	if !errors.Is(err, ErrInvalidDSN) {
		t.Errorf("Open(bad database) error = %v, want ErrInvalidDSN", err)
	}
}

func TestOpenIdempotentSchema(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if err := s.InsertRows(ctx, []sweep.Row{okRow("s", "192.0.2.1", "a.example")}); err != nil {
		t.Fatal(err)
	}
	// A second Open of the same database keeps its data.
	s2, err := OpenOptions(ctx, s.opts)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	// Every statement runs again without error, even where its table exists.
	stmts, err := schema.Statements()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stmts {
		if err := s2.conn.Exec(ctx, st.SQL); err != nil {
			t.Errorf("re-applying %s: %v", st.File, err)
		}
	}
	tables, err := s2.tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tables)
	var created []string // every table the schema creates, once
	for _, st := range stmts {
		if !st.Alter {
			created = append(created, st.Table)
		}
	}
	slices.Sort(created)
	if got, want := strings.Join(tables, ","), strings.Join(created, ","); got != want {
		t.Errorf("tables = %s, want %s", got, want)
	}
	got := search(t, s2, Query{Suffix: "example"})
	if want := []string{"192.0.2.1 a.example"}; !slices.Equal(got, want) {
		t.Errorf("Search after reopening = %q, want %q", got, want)
	}
	if s2.Database() != s.Database() || s2.Addr() == "" {
		t.Errorf("Database() = %q, Addr() = %q; want %q and an address", s2.Database(), s2.Addr(), s.Database())
	}
}

func TestSearchWholeLabels(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rows := []sweep.Row{
		okRow("s1", "192.0.2.1", "security.ipip.net"),
		okRow("s1", "192.0.2.2", "scan-30.security.ipip.net"),
		okRow("s1", "192.0.2.3", "a.b.security.ipip.net"),
		okRow("s1", "192.0.2.4", "notsecurity.ipip.net"),
		okRow("s1", "192.0.2.5", "security.ipip.net.evil.example"),
		okRow("s1", "192.0.2.6", "scan.security-x.ipip.net"),
		okRow("s1", "192.0.2.7", "ipip.net"),
		okRow("s2", "192.0.2.2", "scan-30.security.ipip.net"),
		okRow("s2", "198.51.100.9", "scan-31.security.ipip.net"),
		// No PTR: never found by a search.
		{Scan: "s1", Unit: "192.0.2.0/24", IP: netip.MustParseAddr("192.0.2.8"), Status: sweep.StatusTimeout, ResolvedAt: t0},
	}
	// Two PTRs of one address are two rows.
	rows = append(rows, okRow("s1", "192.0.2.2", "alias.security.ipip.net"))
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    Query
		want []string
	}{
		{Query{Suffix: "security.ipip.net"}, []string{
			"192.0.2.1 security.ipip.net", "192.0.2.2 alias.security.ipip.net",
			"192.0.2.2 scan-30.security.ipip.net", "192.0.2.2 scan-30.security.ipip.net",
			"192.0.2.3 a.b.security.ipip.net", "198.51.100.9 scan-31.security.ipip.net"}},
		{Query{Suffix: "  Security.IPIP.net. ", Scan: "s1"}, []string{
			"192.0.2.1 security.ipip.net", "192.0.2.2 alias.security.ipip.net",
			"192.0.2.2 scan-30.security.ipip.net", "192.0.2.3 a.b.security.ipip.net"}},
		{Query{Suffix: ".security.ipip.net", Scan: "s2"}, []string{
			"192.0.2.2 scan-30.security.ipip.net", "198.51.100.9 scan-31.security.ipip.net"}},
		{Query{Suffix: "scan-30.security.ipip.net", Scan: "s1"}, []string{"192.0.2.2 scan-30.security.ipip.net"}},
		{Query{Suffix: "security.ipip.net", Scan: "s1", Limit: 2}, []string{
			"192.0.2.1 security.ipip.net", "192.0.2.2 alias.security.ipip.net"}},
		{Query{Suffix: "ipip.net", Scan: "s1"}, []string{
			"192.0.2.1 security.ipip.net", "192.0.2.2 alias.security.ipip.net",
			"192.0.2.2 scan-30.security.ipip.net", "192.0.2.3 a.b.security.ipip.net",
			"192.0.2.4 notsecurity.ipip.net", "192.0.2.6 scan.security-x.ipip.net", "192.0.2.7 ipip.net"}},
		{Query{Suffix: "evil.example"}, []string{"192.0.2.5 security.ipip.net.evil.example"}},
		{Query{Suffix: "ipip.ne"}, nil},
		{Query{Suffix: "curity.ipip.net"}, nil},
		{Query{Suffix: "security.ipip.net", Scan: "nope"}, nil},
	}
	for _, tt := range tests {
		got := search(t, s, tt.q)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestSearchLiteralSuffix(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	// Stored names are in presentation form: ' and \ inside a label are
	// escaped with a backslash; % and _ are plain bytes.
	rows := []sweep.Row{
		okRow("s", "192.0.2.1", `x.100%.example`),
		okRow("s", "192.0.2.2", `x.1000.example`),
		okRow("s", "192.0.2.3", `x.1_0.example`),
		okRow("s", "192.0.2.4", `x.110.example`),
		okRow("s", "192.0.2.5", `o\'neil.example`),
		okRow("s", "192.0.2.6", `back\\slash.example`),
		okRow("s", "192.0.2.7", `weird\032label.example`),
	}
	if err := s.InsertRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		suffix string
		want   []string
	}{
		{`100%.example`, []string{`192.0.2.1 x.100%.example`}},
		{`%.example`, nil},
		{`%`, nil},
		{`1_0.example`, []string{`192.0.2.3 x.1_0.example`}},
		{`_`, nil},
		{`o\'neil.example`, []string{`192.0.2.5 o\'neil.example`}},
		{`O\'Neil.EXAMPLE`, []string{`192.0.2.5 o\'neil.example`}},
		{`o'neil.example`, nil},
		{`'`, nil},
		{`back\\slash.example`, []string{`192.0.2.6 back\\slash.example`}},
		{`\\`, nil},
		{`weird\032label.example`, []string{`192.0.2.7 weird\032label.example`}},
		{`'; DROP TABLE ptr; --`, nil},
		{`example') OR 1=1 --`, nil},
		{`?`, nil},
	}
	for _, tt := range tests {
		got := search(t, s, Query{Suffix: tt.suffix})
		if !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q) = %q, want %q", tt.suffix, got, tt.want)
		}
	}
	// A lone backslash escapes nothing: not a name, so refused, not searched.
	if err := s.Search(ctx, Query{Suffix: `\`}, func(sweep.Row) error { return nil }); !errors.Is(err, ErrBadSuffix) {
		t.Errorf("Search(%q) = %v, want ErrBadSuffix", `\`, err)
	}
	// The table survived every suffix.
	if got := search(t, s, Query{Suffix: "example"}); len(got) != len(rows) {
		t.Errorf("Search(example) after the hostile suffixes = %d rows, want %d", len(got), len(rows))
	}
}

func TestSearchEmptySuffix(t *testing.T) {
	for _, suffix := range []string{"", "  ", ".", ".."} {
		_, err := NormalizeSuffix(suffix)
		if !errors.Is(err, ErrEmptySuffix) {
			t.Errorf("NormalizeSuffix(%q) error = %v, want ErrEmptySuffix", suffix, err)
		}
	}
}

func TestNormalizeSuffix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Security.IPIP.Net.", "security.ipip.net"},
		{" .ipip.net ", "ipip.net"},
		{`A\.B.example`, `a\.b.example`},
		{"net", "net"},
	}
	for _, tt := range tests {
		got, err := NormalizeSuffix(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeSuffix(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDuplicatesCollapse(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rows := []sweep.Row{
		okRow("s", "192.0.2.1", "a.example"),
		okRow("s", "192.0.2.1", "b.example"),
		okRow("s", "192.0.2.2", "c.example"),
		{Scan: "s", Unit: "192.0.2.0/24", IP: netip.MustParseAddr("192.0.2.3"), Status: sweep.StatusServFail, ResolvedAt: t0},
	}
	// A redelivered unit inserts its rows again, later, with a higher
	// attempt; the first attempt's rows are then inserted once more (a late
	// worker): the highest attempt wins, not the last insert.
	for i := range rows {
		rows[i].Attempt = 1<<16 | 1
	}
	again := slices.Clone(rows)
	for i := range again {
		again[i].ResolvedAt = t0.Add(time.Minute)
		again[i].TTL = 60
		again[i].Attempt = 1<<16 | 2
	}
	for _, batch := range [][]sweep.Row{rows, again, rows} {
		if err := s.InsertRows(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) })
	if len(got) != len(rows) {
		t.Fatalf("Export after inserting every row three times = %d rows, want %d: %v", len(got), len(rows), got)
	}
	for _, r := range got {
		if !r.ResolvedAt.Equal(t0.Add(time.Minute)) || r.TTL != 60 {
			t.Errorf("Export row %v %s: resolved %v ttl %d, want the highest attempt's (%v, 60)", r.IP, r.PTR, r.ResolvedAt, r.TTL, t0.Add(time.Minute))
		}
	}
	if got := search(t, s, Query{Suffix: "example"}); len(got) != 3 {
		t.Errorf("Search after duplicates = %q, want 3 rows", got)
	}
}

func TestExportOrderAndFields(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := t0.Add(1500 * time.Millisecond) // sub-second parts are not stored
	want := []sweep.Row{
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.1"), PTR: "a.example", Status: sweep.StatusOK, TTL: 300, FCrDNS: sweep.FCrDNSConfirmed, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.1"), PTR: "b.example", Status: sweep.StatusOK, TTL: 301, FCrDNS: sweep.FCrDNSMismatch, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.2"), Status: sweep.StatusNoData, TTL: 60, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.3"), Status: sweep.StatusServFail, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.4"), Status: sweep.StatusRefused, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.5"), Status: sweep.StatusTimeout, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.6"), PTR: "z.example", Status: sweep.StatusOK, FCrDNS: sweep.FCrDNSNoAddress, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.7"), PTR: "10.0.0.7", Status: sweep.StatusOK, FCrDNS: sweep.FCrDNSNumeric, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr("10.0.0.8"), PTR: "e.example", Status: sweep.StatusOK, FCrDNS: sweep.FCrDNSError, ResolvedAt: at},
		{Scan: "s", Unit: "10.0.1.0/24", IP: netip.MustParseAddr("10.0.1.0"), PTR: "a.example", Status: sweep.StatusOK, ResolvedAt: at},
		{Scan: "s", Unit: "255.255.255.0/24", IP: netip.MustParseAddr("255.255.255.255"), PTR: "top.example", Status: sweep.StatusOK, ResolvedAt: at},
	}
	in := slices.Clone(want)
	slices.Reverse(in)
	in[0].IP = netip.MustParseAddr("::ffff:255.255.255.255") // IPv4-mapped is stored as IPv4
	in = append(in, okRow("other", "10.0.0.1", "a.example"))
	if err := s.InsertRows(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) })
	if len(got) != len(want) {
		t.Fatalf("Export = %d rows, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		w := want[i]
		w.ResolvedAt = w.ResolvedAt.Truncate(time.Second)
		if got[i] != w {
			t.Errorf("Export row %d = %+v, want %+v", i, got[i], w)
		}
	}
	// emit's error stops the export and comes back.
	stop := errors.New("stop")
	n := 0
	err := s.Export(ctx, "s", func(sweep.Row) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Export with a failing emit: %d calls, error %v; want 1 call and the emit error", n, err)
	}
	if got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "nope", emit) }); len(got) != 0 {
		t.Errorf("Export(unknown scan) = %v, want no rows", got)
	}
}

func TestInsertRowsRejects(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	bad := []sweep.Row{
		{Scan: "s", IP: netip.MustParseAddr("2001:db8::1"), Status: sweep.StatusOK, PTR: "v6.example"},
		{Scan: "s", IP: netip.Addr{}, Status: sweep.StatusOK},
		{Scan: "s", IP: netip.MustParseAddr("192.0.2.1"), Status: 0},
		{Scan: "s", IP: netip.MustParseAddr("192.0.2.1"), Status: sweep.StatusOK, FCrDNS: 9},
	}
	for _, r := range bad {
		if err := s.InsertRows(ctx, []sweep.Row{okRow("s", "192.0.2.9", "fine.example"), r}); err == nil {
			t.Errorf("InsertRows(%+v) succeeded, want an error", r)
		}
	}
	if got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) }); len(got) != 0 {
		t.Errorf("Export after rejected batches = %v, want no rows (a batch is all or nothing)", got)
	}
	if err := s.InsertRows(ctx, nil); err != nil {
		t.Errorf("InsertRows(nil) = %v, want nil", err)
	}
}

func unitRec(scan, unit string, seq int, state sweep.UnitState, ok uint32, finished time.Time) sweep.UnitRecord {
	return sweep.UnitRecord{
		Scan: scan, Unit: unit, Seq: seq, State: state,
		Counts: sweep.Counts{OK: ok, NXDomain: 256 - ok - 2, NoData: 1, Timeout: 1, PTRs: ok + 1, Pruned: 10, Queries: 300},
		Rows:   ok + 3, Worker: "w1", Attempt: 1, StartedAt: finished.Add(-time.Minute), FinishedAt: finished,
	}
}

func TestProgress(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a := unitRec("s", "10.0.0.0/24", 0, sweep.UnitDone, 100, t0)
	// Unit b failed, was retried and is done: counted once, as done.
	bFailed := unitRec("s", "10.0.1.0/24", 1, sweep.UnitFailed, 0, t0.Add(time.Minute))
	bFailed.Error = "servfail storm"
	bDone := unitRec("s", "10.0.1.0/24", 1, sweep.UnitDone, 50, t0.Add(2*time.Minute))
	bDone.Attempt = 2
	// Unit c is logged done twice (a redelivery after the ack was lost).
	c1 := unitRec("s", "10.0.2.0/24", 2, sweep.UnitDone, 20, t0.Add(3*time.Minute))
	c2 := unitRec("s", "10.0.2.0/24", 2, sweep.UnitDone, 20, t0.Add(4*time.Minute))
	d := unitRec("s", "10.0.3.0/24", 3, sweep.UnitFailed, 0, t0.Add(5*time.Minute))
	d.Error, d.Attempt = "max deliveries", 5
	other := unitRec("other", "10.0.0.0/24", 0, sweep.UnitDone, 7, t0)
	for _, batch := range [][]sweep.UnitRecord{{a, bFailed, c1, other}, {bDone, c2, d}} {
		if err := s.InsertUnits(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.Progress(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	var want sweep.Counts
	for _, u := range []sweep.UnitRecord{a, bDone, c2} {
		want.Merge(u.Counts)
	}
	if p.UnitsDone != 3 || p.UnitsFailed != 1 {
		t.Errorf("Progress units done/failed = %d/%d, want 3/1", p.UnitsDone, p.UnitsFailed)
	}
	if p.Counts != want {
		t.Errorf("Progress counts = %v, want %v", p.Counts, want)
	}
	if wantRows := uint64(a.Rows + bDone.Rows + c2.Rows); p.Rows != wantRows {
		t.Errorf("Progress rows = %d, want %d", p.Rows, wantRows)
	}
	if !p.FirstStarted.Equal(a.StartedAt) || !p.LastFinished.Equal(d.FinishedAt) {
		t.Errorf("Progress span = %v..%v, want %v..%v", p.FirstStarted, p.LastFinished, a.StartedAt, d.FinishedAt)
	}
	if len(p.FailedUnits) != 1 {
		t.Fatalf("Progress failed units = %+v, want unit %s only", p.FailedUnits, d.Unit)
	}
	if got := p.FailedUnits[0]; got != d {
		t.Errorf("Progress failed unit = %+v, want %+v", got, d)
	}

	empty, err := s.Progress(ctx, "nope")
	if err != nil {
		t.Fatal(err)
	}
	if empty.UnitsDone != 0 || empty.UnitsFailed != 0 || !empty.FirstStarted.IsZero() || !empty.LastFinished.IsZero() || empty.FailedUnits != nil {
		t.Errorf("Progress(unknown scan) = %+v, want zero", empty)
	}
}

func TestInsertUnitsRejectsBadState(t *testing.T) {
	s := openTest(t)
	rec := unitRec("s", "10.0.0.0/24", 0, 0, 1, t0)
	if err := s.InsertUnits(context.Background(), []sweep.UnitRecord{rec}); err == nil {
		t.Error("InsertUnits(state 0) succeeded, want an error")
	}
}

func TestScans(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.Scan(ctx, "missing"); !errors.Is(err, ErrScanNotFound) {
		t.Errorf("Scan(missing) error = %v, want ErrScanNotFound", err)
	}
	first := sweep.ScanRecord{Name: "first", CIDRs: []string{"10.0.0.0/8", "192.0.2.0/24"}, Excludes: []string{"10.1.0.0/16"},
		UnitPrefix: 24, Units: 65537, Addresses: 1 << 24, Options: sweep.Options{Confirm: true}, CreatedAt: t0}
	second := sweep.ScanRecord{Name: "second", CIDRs: []string{"0.0.0.0/0"}, UnitPrefix: 16,
		Units: 1 << 16, Addresses: 1 << 32, Options: sweep.Options{NoPrune: true, AllowReserved: true}}
	before := time.Now().Add(-time.Second)
	for _, r := range []sweep.ScanRecord{first, second} {
		if err := s.SaveScan(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Scan(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(first) || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("Scan(first) = %+v, want %+v", got, first)
	}
	got2, err := s.Scan(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	if got2.CreatedAt.Before(before) {
		t.Errorf("Scan(second).CreatedAt = %v, want about now (SaveScan fills a zero CreatedAt)", got2.CreatedAt)
	}
	if got2.Excludes == nil || len(got2.Excludes) != 0 || !got2.Options.AllowReserved || !got2.Options.NoPrune || got2.Addresses != 1<<32 || got2.Units != 1<<16 {
		t.Errorf("Scan(second) = %+v, want %+v", got2, second)
	}
	// Saving a scan again replaces it.
	first.Units, first.CreatedAt = 7, t0.Add(time.Hour)
	if err := s.SaveScan(ctx, first); err != nil {
		t.Fatal(err)
	}
	all, err := s.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range all {
		names = append(names, fmt.Sprintf("%s:%d", r.Name, r.Units))
	}
	if want := []string{"first:7", "second:65536"}; !slices.Equal(names, want) {
		t.Errorf("Scans() = %q, want %q", names, want)
	}
	if err := s.SaveScan(ctx, sweep.ScanRecord{}); err == nil {
		t.Error("SaveScan(no name) succeeded, want an error")
	}
}

func BenchmarkInsertRows100k(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	rows := make([]sweep.Row, 100_000)
	for i := range rows {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		rows[i] = sweep.Row{Scan: "bench", Unit: "10.0.0.0/15", IP: ip, PTR: fmt.Sprintf("host-%d.pool-%d.isp.example", i, i>>8),
			Status: sweep.StatusOK, TTL: 3600, ResolvedAt: t0}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.InsertRows(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestInsertRowsConcurrent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const writers, perWriter = 4, 500
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			rows := make([]sweep.Row, perWriter)
			for i := range rows {
				ip := netip.AddrFrom4([4]byte{10, byte(w), byte(i >> 8), byte(i)})
				rows[i] = okRow("s", ip.String(), fmt.Sprintf("h%d.w%d.example", i, w))
			}
			errs <- s.InsertRows(ctx, rows)
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("concurrent InsertRows: %v", err)
		}
	}
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) })
	if len(got) != writers*perWriter {
		t.Errorf("Export after %d concurrent inserts = %d rows, want %d", writers, len(got), writers*perWriter)
	}
	if !slices.IsSortedFunc(got, func(a, b sweep.Row) int { return a.IP.Compare(b.IP) }) {
		t.Error("Export rows are not ordered by ip")
	}
}

// TestExportOneOutcomePerAddress checks that rows of two deliveries of a
// unit whose answers changed in between give one outcome per address: the
// PTRs if any delivery found them, else the latest outcome.
func TestExportOneOutcomePerAddress(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	first, second := t0, t0.Add(time.Minute)
	row := func(ip, ptr string, st sweep.Status, at time.Time) sweep.Row {
		return sweep.Row{Scan: "s", Unit: "10.0.0.0/24", IP: netip.MustParseAddr(ip), PTR: ptr, Status: st, ResolvedAt: at}
	}
	in := []sweep.Row{
		row("10.0.0.1", "", sweep.StatusTimeout, first), row("10.0.0.1", "a.example", sweep.StatusOK, second),
		row("10.0.0.2", "b.example", sweep.StatusOK, first), row("10.0.0.2", "", sweep.StatusServFail, second),
		row("10.0.0.3", "", sweep.StatusTimeout, first), row("10.0.0.3", "", sweep.StatusServFail, second),
		row("10.0.0.4", "", sweep.StatusNoData, first),
	}
	if err := s.InsertRows(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := collect(t, func(emit func(sweep.Row) error) error { return s.Export(ctx, "s", emit) })
	want := []sweep.Row{in[1], in[2], in[5], in[6]}
	if len(got) != len(want) {
		t.Fatalf("Export = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].IP != want[i].IP || got[i].PTR != want[i].PTR || got[i].Status != want[i].Status {
			t.Errorf("Export[%d] = %s %q %s, want %s %q %s", i, got[i].IP, got[i].PTR, got[i].Status, want[i].IP, want[i].PTR, want[i].Status)
		}
	}
}

// TestSchemaMigratesUnitsState checks that a units table created before the
// 'queued' state existed gains it when a store opens the database again.
func TestSchemaMigratesUnitsState(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := `CREATE TABLE units (scan String, unit String, seq UInt32, state Enum8('done' = 1, 'failed' = 2),
		addresses UInt32, ok UInt32, nxdomain UInt32, nodata UInt32, servfail UInt32, refused UInt32, timeout UInt32,
		ptrs UInt32, pruned UInt32, queries UInt64, rows UInt32, worker String, attempt UInt32, error String,
		started_at DateTime, finished_at DateTime) ENGINE = ReplacingMergeTree(finished_at) ORDER BY (scan, unit)`
	for _, q := range []string{"DROP TABLE units", old} {
		if err := s.conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	again, err := OpenOptions(ctx, s.opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	rec := sweep.UnitRecord{Scan: "m", Unit: "10.0.0.0/24", State: sweep.UnitQueued, StartedAt: t0, FinishedAt: t0}
	if err := again.InsertUnits(ctx, []sweep.UnitRecord{rec}); err != nil {
		t.Fatalf("insert a queued record after migration: %v", err)
	}
	p, err := again.Progress(ctx, "m")
	if err != nil || p.UnitsDone != 0 || p.UnitsFailed != 0 {
		t.Errorf("Progress = %+v, %v; a queued unit is neither done nor failed", p, err)
	}
}
