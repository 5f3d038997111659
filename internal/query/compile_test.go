package query

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		in   string
		sql  string
		args []any
	}{
		{"ptr_part = 'security.ipip.net'", "(rname = ? OR (rname >= ? AND rname < ?))",
			[]any{"net.ipip.security", "net.ipip.security.", "net.ipip.security/"}},
		{"ptr_part != 'ipip.net'", "NOT (rname = ? OR (rname >= ? AND rname < ?))",
			[]any{"net.ipip", "net.ipip.", "net.ipip/"}},
		{`ptr_part = 'a\.b.example'`, "(rname = ? OR (rname >= ? AND rname < ?))",
			[]any{`example.a\.b`, `example.a\.b.`, `example.a\.b/`}},
		{"ptr = 'scan-30.security.ipip.net'", "(rname = ? AND ptr = ?)",
			[]any{"net.ipip.security.scan-30", "scan-30.security.ipip.net"}},
		{"ptr != 'a.example'", "ptr != ?", []any{"a.example"}},
		{"ip = '1.2.3.4'", "ip = ?", []any{uint32(0x01020304)}},
		{"ip != '255.255.255.255'", "ip != ?", []any{uint32(0xffffffff)}},
		{"ip in '1.2.0.0/16'", "(ip BETWEEN ? AND ?)", []any{uint32(0x01020000), uint32(0x0102ffff)}},
		{"ip in '0.0.0.0/0'", "(ip BETWEEN ? AND ?)", []any{uint32(0), uint32(0xffffffff)}},
		{"ip in '9.9.9.9'", "(ip BETWEEN ? AND ?)", []any{uint32(0x09090909), uint32(0x09090909)}},
		{"ip not in '10.0.0.0/8'", "NOT (ip BETWEEN ? AND ?)", []any{uint32(0x0a000000), uint32(0x0affffff)}},
		{"asn = 63949", "asn = ?", []any{uint32(63949)}},
		{"asn != 'AS2516'", "asn != ?", []any{uint32(2516)}},
		{"country = 'jp'", "country = ?", []any{"JP"}},
		{"fcrdns = 'mismatch'", "fcrdns = ?", []any{"mismatch"}},
		{"fcrdns = ''", "fcrdns = ?", []any{""}},
		{"status != 'ok'", "status != ?", []any{"ok"}},
		{"scan = 'demo'", "scan = ?", []any{"demo"}},
		{"ptr_part = 'x.example' AND (asn = 1 OR country = 'JP') AND scan = 'demo'",
			"((rname = ? OR (rname >= ? AND rname < ?)) AND (asn = ? OR country = ?) AND scan = ?)",
			[]any{"example.x", "example.x.", "example.x/", uint32(1), "JP", "demo"}},
		{"status = 'ok' OR status = 'nodata' AND fcrdns != 'confirmed'",
			"(status = ? OR (status = ? AND fcrdns != ?))", []any{"ok", "nodata", "confirmed"}},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		got, err := Compile(n, PTRColumns())
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.in, err)
			continue
		}
		if got.SQL != tt.sql || fmt.Sprintf("%#v", got.Args) != fmt.Sprintf("%#v", tt.args) {
			t.Errorf("Compile(%q) = %s %#v, want %s %#v", tt.in, got.SQL, got.Args, tt.sql, tt.args)
		}
	}
}

func TestCompileColumns(t *testing.T) {
	n, err := Parse("ptr = 'a.example' AND ip in '10.0.0.0/8'")
	if err != nil {
		t.Fatal(err)
	}
	cols := PTRColumns()
	cols.RName, cols.PTR, cols.IP = "", "p.ptr", "p.ip"
	got, err := Compile(n, cols)
	if want := "(p.ptr = ? AND (p.ip BETWEEN ? AND ?))"; err != nil || got.SQL != want {
		t.Errorf("Compile with qualified columns and no rname = %q, %v; want %q", got.SQL, err, want)
	}

	noEnrich := PTRColumns()
	noEnrich.ASN, noEnrich.Country = "", ""
	if got := fmt.Sprint(noEnrich.Fields()); got != "[ptr_part ptr ip fcrdns status scan]" {
		t.Errorf("Fields() = %s, want [ptr_part ptr ip fcrdns status scan]", got)
	}
	n, err = Parse("scan = 'demo' AND country = 'JP'")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(n, noEnrich)
	want := "at 19: expected a field of this data (ptr_part, ptr, ip, fcrdns, status, scan), found 'country'"
	var qe *Error
	if err == nil || err.Error() != want || !errors.As(err, &qe) || !errors.Is(err, ErrBadQuery) {
		t.Errorf("Compile without a country column: error %v, want *Error %q", err, want)
	}

	for _, bad := range []string{"ip; DROP TABLE ptr", "1ip", "a.b.c", "ip ", ".ip", "ip."} {
		cols := PTRColumns()
		cols.Scan = bad
		_, err := Compile(n, cols)
		if err == nil || errors.Is(err, ErrBadQuery) {
			t.Errorf("Compile with column %q: error %v, want a caller error (not ErrBadQuery)", bad, err)
		}
	}
}

// TestSuffixRange checks the compiled ptr_part bounds on label-reversed names
// with Go's byte-wise string order, which is ClickHouse's order of String.
func TestSuffixRange(t *testing.T) {
	n, err := Parse("ptr_part = 'security.ipip.net'")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(n, PTRColumns())
	if err != nil {
		t.Fatal(err)
	}
	eq, lo, hi := c.Args[0].(string), c.Args[1].(string), c.Args[2].(string)
	tests := []struct {
		name string
		want bool
	}{
		{"security.ipip.net", true},
		{"scan-30.security.ipip.net", true},
		{"a.b.security.ipip.net", true},
		{"-.security.ipip.net", true},
		{"~.security.ipip.net", true},
		{`a\.security.ipip.net`, false},
		{"notsecurity.ipip.net", false},
		{"security.ipip.net.evil.example", false},
		{"security-x.ipip.net", false},
		{"ipip.net", false},
		{"security.ipip.network", false},
		{"", false},
	}
	for _, tt := range tests {
		r := sweep.ReverseLabels(tt.name)
		if got := r == eq || (r >= lo && r < hi); got != tt.want {
			t.Errorf("ptr_part = 'security.ipip.net' on %q (rname %q) = %v, want %v", tt.name, r, got, tt.want)
		}
	}
}
