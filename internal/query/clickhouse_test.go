package query

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// testTable has the ptr table's columns that queries read, plus asn and
// country, and the same sort key.
const testTable = `CREATE TABLE q
(
    scan    String,
    rname   String,
    ip      UInt32,
    ptr     String,
    status  Enum8('ok' = 1, 'nxdomain' = 2, 'nodata' = 3, 'servfail' = 4, 'refused' = 5, 'timeout' = 6),
    fcrdns  Enum8('' = 0, 'confirmed' = 1, 'mismatch' = 2, 'no_address' = 3, 'error' = 4, 'numeric' = 5),
    asn     UInt32,
    country String
)
ENGINE = MergeTree
ORDER BY (rname, ip, scan)
SETTINGS index_granularity = 4`

// row is one test row.
type row struct {
	scan, ip, ptr, status, fcrdns string
	asn                           uint32
	country                       string
}

func (r row) key() string { return r.scan + " " + r.ip + " " + r.ptr }

var testRows = []row{
	{"demo", "139.162.77.6", "scan-30.security.ipip.net", "ok", "confirmed", 63949, "JP"},
	{"demo", "139.162.77.7", "scan-31.security.ipip.net", "ok", "mismatch", 63949, "JP"},
	{"demo", "139.162.80.1", "security.ipip.net", "ok", "", 63949, "US"},
	{"demo", "106.185.1.2", "scan-7.security.ipip.net", "ok", "no_address", 2516, "JP"},
	{"demo", "106.185.1.3", "notsecurity.ipip.net", "ok", "confirmed", 2516, "JP"},
	{"demo", "106.185.1.4", "security.ipip.net.evil.example", "ok", "", 2516, "DE"},
	{"demo", "106.185.1.5", `a\.security.ipip.net`, "ok", "error", 2516, "JP"},
	{"demo", "106.185.1.6", "security-ipip.net", "ok", "", 2516, "JP"},
	{"demo", "106.185.1.7", "security-x.ipip.net", "ok", "", 2516, "JP"},
	{"demo", "106.185.1.8", "security.ipip.net-x", "ok", "", 2516, "JP"},
	{"demo", "198.18.0.1", `o\'neil.example`, "ok", "numeric", 0, ""},
	{"demo", "198.18.0.2", "a_b.example", "ok", "", 0, ""},
	{"demo", "198.18.0.3", "a%b.example", "ok", "", 0, ""},
	{"demo", "198.18.0.4", `sp\ ace.example`, "ok", "", 0, ""},
	{"demo", "198.18.0.5", "", "servfail", "", 0, ""},
	{"demo", "198.18.0.6", "", "timeout", "", 0, ""},
	{"demo", "198.18.1.1", "", "nodata", "", 64500, "NL"},
	{"demo", "198.18.1.2", "host.example", "ok", "", 64500, "NL"},
	{"demo", "198.18.1.2", "alias.security.ipip.net", "ok", "mismatch", 64500, "NL"},
	{"demo", "255.255.255.255", "last.example", "ok", "", 4294967295, "ZZ"},
	{"demo", "0.0.0.0", "first.example", "ok", "", 0, ""},
	{"old", "139.162.77.6", "scan-30.security.ipip.net", "ok", "", 63949, "JP"},
	{"old", "139.162.77.8", "scan-32.security.ipip.net", "ok", "", 63949, "SG"},
	{"old", "106.185.1.2", "", "refused", "", 2516, "JP"},
}

// eval is a reference evaluation of a query on one row, written from the
// language's definition rather than from the compiled SQL.
func eval(n Node, r row) bool {
	switch n := n.(type) {
	case *And:
		for _, t := range n.Terms {
			if !eval(t, r) {
				return false
			}
		}
		return true
	case *Or:
		for _, t := range n.Terms {
			if eval(t, r) {
				return true
			}
		}
		return false
	}
	c := n.(*Cond)
	var hit bool
	switch c.Field {
	case FieldPTRPart:
		name, suffix := sweep.SplitLabels(r.ptr), sweep.SplitLabels(c.Value)
		hit = len(name) >= len(suffix) && slices.Equal(name[len(name)-len(suffix):], suffix)
	case FieldPTR:
		hit = r.ptr == c.Value
	case FieldIP:
		hit = c.Prefix.Contains(netip.MustParseAddr(r.ip))
	case FieldASN:
		hit = r.asn == c.ASN
	case FieldCountry:
		hit = r.country == c.Value
	case FieldFCrDNS:
		hit = r.fcrdns == c.Value
	case FieldStatus:
		hit = r.status == c.Value
	case FieldScan:
		hit = r.scan == c.Value
	}
	if c.Op == OpNe || c.Op == OpNotIn {
		return !hit
	}
	return hit
}

// openTestConn connects to a fresh test database holding table q filled
// with testRows.
func openTestConn(t *testing.T) driver.Conn {
	t.Helper()
	o, err := store.ParseDSN(storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     []string{o.Addr},
		Auth:     clickhouse.Auth{Database: o.Database, Username: o.User, Password: o.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := conn.Exec(ctx, testTable); err != nil {
		t.Fatalf("create table: %v", err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO q (scan, rname, ip, ptr, status, fcrdns, asn, country)")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testRows {
		a := netip.MustParseAddr(r.ip).As4()
		ip := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		if err := b.Append(r.scan, sweep.ReverseLabels(r.ptr), ip, r.ptr, r.status, r.fcrdns, r.asn, r.country); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("insert: %v", err)
	}
	return conn
}

// run returns the keys of the rows matching the query, sorted.
func run(ctx context.Context, t *testing.T, conn driver.Conn, c Clause) ([]string, error) {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT scan, IPv4NumToString(ip), ptr FROM q WHERE "+c.SQL, c.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.scan, &r.ip, &r.ptr); err != nil {
			return nil, err
		}
		got = append(got, r.key())
	}
	slices.Sort(got)
	return got, rows.Err()
}

func TestClickHouse(t *testing.T) {
	conn := openTestConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Name conditions must be primary-key ranges: with force_primary_key the
	// server refuses a query that would scan the table.
	indexed := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"force_primary_key": 1}))

	keys := func(ps ...string) []string { slices.Sort(ps); return ps }
	tests := []struct {
		q       string
		indexed bool
		want    []string // nil: only the reference evaluation
	}{
		{"ptr_part = 'security.ipip.net'", true, keys(
			"demo 139.162.77.6 scan-30.security.ipip.net", "demo 139.162.77.7 scan-31.security.ipip.net",
			"demo 139.162.80.1 security.ipip.net", "demo 106.185.1.2 scan-7.security.ipip.net",
			"demo 198.18.1.2 alias.security.ipip.net",
			"old 139.162.77.6 scan-30.security.ipip.net", "old 139.162.77.8 scan-32.security.ipip.net")},
		{"ptr_part = 'Security.IPIP.net' AND scan = 'old'", true, keys(
			"old 139.162.77.6 scan-30.security.ipip.net", "old 139.162.77.8 scan-32.security.ipip.net")},
		{"ptr_part = 'scan-30.security.ipip.net'", true, keys(
			"demo 139.162.77.6 scan-30.security.ipip.net", "old 139.162.77.6 scan-30.security.ipip.net")},
		{`ptr_part = 'a\.security.ipip.net'`, true, keys(`demo 106.185.1.5 a\.security.ipip.net`)},
		{"ptr_part = 'example'", true, nil},
		{"ptr_part = 'a_b.example' OR ptr_part = 'a%b.example'", true, keys("demo 198.18.0.2 a_b.example", "demo 198.18.0.3 a%b.example")},
		{"ptr = 'security.ipip.net'", true, keys("demo 139.162.80.1 security.ipip.net")},
		{`ptr = 'o\'neil.example'`, true, keys(`demo 198.18.0.1 o\'neil.example`)},
		{`ptr = 'sp\ ace.example'`, true, keys(`demo 198.18.0.4 sp\ ace.example`)},
		{"ptr = 'ipip.net'", true, []string{}},
		{"ptr_part = 'ipip.net' AND (asn = 2516 OR country = 'SG')", true, nil},
		{"ptr_part != 'security.ipip.net'", false, nil},
		{"ptr != 'host.example'", false, nil},
		{"ip = '139.162.77.6'", false, keys(
			"demo 139.162.77.6 scan-30.security.ipip.net", "old 139.162.77.6 scan-30.security.ipip.net")},
		{"ip != '139.162.77.6'", false, nil},
		{"ip in '139.162.64.0/19'", false, nil},
		{"ip in '198.18.0.0/24' AND ip not in '198.18.0.4/30'", false, nil},
		{"ip in '0.0.0.0/0'", false, nil},
		{"ip in '255.255.255.255'", false, keys("demo 255.255.255.255 last.example")},
		{"ip = '0.0.0.0'", false, keys("demo 0.0.0.0 first.example")},
		{"asn = 63949", false, nil},
		{"asn = 'AS4294967295'", false, keys("demo 255.255.255.255 last.example")},
		{"asn != 0 AND country != 'JP'", false, nil},
		{"country = 'jp'", false, nil},
		{"fcrdns = 'mismatch'", false, keys("demo 139.162.77.7 scan-31.security.ipip.net", "demo 198.18.1.2 alias.security.ipip.net")},
		{"fcrdns = ''", false, nil},
		{"fcrdns != 'confirmed' AND fcrdns != ''", false, nil},
		{"status = 'servfail' OR status = 'timeout' OR status = 'refused'", false, keys(
			"demo 198.18.0.5 ", "demo 198.18.0.6 ", "old 106.185.1.2 ")},
		{"status != 'ok'", false, nil},
		{"scan = 'old' OR scan = 'demo' AND asn = 64500", false, nil},
		{"(scan = 'old' OR scan = 'demo') AND asn = 64500", false, nil},
		{"scan = 'none'", false, []string{}},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.q, err)
			continue
		}
		c, err := Compile(n, PTRColumns())
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.q, err)
			continue
		}
		qctx := ctx
		if tt.indexed {
			qctx = indexed
		}
		got, err := run(qctx, t, conn, c)
		if err != nil {
			t.Errorf("%q as %s %v: %v", tt.q, c.SQL, c.Args, err)
			continue
		}
		var ref []string
		for _, r := range testRows {
			if eval(n, r) {
				ref = append(ref, r.key())
			}
		}
		slices.Sort(ref)
		if !slices.Equal(got, ref) {
			t.Errorf("%q (%s) =\n  %s\nreference evaluation\n  %s", tt.q, c.SQL, strings.Join(got, "\n  "), strings.Join(ref, "\n  "))
		}
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("%q =\n  %s\nwant\n  %s", tt.q, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
		}
		if tt.want == nil && (len(ref) == 0 || len(ref) == len(testRows)) && tt.q != "ip in '0.0.0.0/0'" {
			t.Errorf("%q matches %d of %d rows: pick a query that tells rows apart", tt.q, len(ref), len(testRows))
		}
	}
}

// TestClickHouseFullScanRefused shows the force_primary_key check above
// has teeth: a condition on a column outside the sort key is refused.
func TestClickHouseFullScanRefused(t *testing.T) {
	conn := openTestConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"force_primary_key": 1}))
	n, err := Parse("country = 'JP'")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(n, PTRColumns())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := run(ctx, t, conn, c); err == nil {
		t.Errorf("%s with force_primary_key = %v, want an error (the condition does not use the key)", c.SQL, got)
	} else {
		t.Logf("refused as expected: %v", err)
	}
}
