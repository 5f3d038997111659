package analytics

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"139.162.77.6", "139.162.77.6/32", ""},
		{" 139.162.0.0/16 ", "139.162.0.0/16", ""},
		{"::ffff:1.2.3.4", "1.2.3.4/32", ""},
		{"139.162.1.0/16", "", "did you mean 139.162.0.0/16"},
		{"2001:db8::1", "", "not an IPv4 address"},
		{"2001:db8::/32", "", "not an IPv4 CIDR"},
		{"host.example", "", "not an IPv4 address"},
	} {
		got, err := ParseTarget(tt.in)
		if tt.err != "" {
			if !errors.Is(err, ErrBadTarget) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTarget(%q) error = %v, want ErrBadTarget with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTarget(%q) = %v, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

func at(days int) time.Time { return day1.Add(time.Duration(days) * 24 * time.Hour) }

func TestHistories(t *testing.T) {
	row := func(scan, ip, ptr string, st sweep.Status, days int) sweep.Row {
		r := okRow(scan, ip, ptr)
		r.Status, r.ResolvedAt = st, at(days)
		if st != sweep.StatusOK {
			r.FCrDNS = sweep.FCrDNSNone
		}
		return r
	}
	rows := []sweep.Row{
		// 139.162.77.6: a, then a timeout in b (no answer: no change), a new name in c, gone in d
		row("a", "139.162.77.6", "scan-30.security.ipip.net", sweep.StatusOK, 0),
		row("b", "139.162.77.6", "", sweep.StatusTimeout, 1),
		row("c", "139.162.77.6", "scan-31.security.ipip.net", sweep.StatusOK, 2),
		row("c", "139.162.77.6", "scan-32.security.ipip.net", sweep.StatusOK, 2),
		row("d", "139.162.77.6", "", sweep.StatusNoData, 3),
		// 139.162.77.7: a timeout then an answer within one scan: the answer
		row("a", "139.162.77.7", "", sweep.StatusTimeout, 0),
		row("a", "139.162.77.7", "x.example", sweep.StatusOK, 0),
	}
	var got []History
	err := Histories(func(emit func(sweep.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}, caseTable(t), func(h History) error { got = append(got, h); return nil })
	if err != nil {
		t.Fatal(err)
	}
	t0, t2 := at(0), at(2)
	confirmed := "confirmed"
	want := []History{
		{IP: "139.162.77.6", Netblock: "139.162.64.0/19", ASN: 63949, ASName: "Linode, LLC", Country: "JP", FirstSeen: &t0, LastSeen: &t2, Changes: 2,
			Scans: []Observation{
				{"a", t0, "ok", []Name{{"scan-30.security.ipip.net", confirmed, 60}}},
				{"b", at(1), "timeout", []Name{}},
				{"c", t2, "ok", []Name{{"scan-31.security.ipip.net", confirmed, 60}, {"scan-32.security.ipip.net", confirmed, 60}}},
				{"d", at(3), "nodata", []Name{}},
			}},
		{IP: "139.162.77.7", Netblock: "139.162.64.0/19", ASN: 63949, ASName: "Linode, LLC", Country: "JP", FirstSeen: &t0, LastSeen: &t0,
			Scans: []Observation{{"a", t0, "ok", []Name{{"x.example", confirmed, 60}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Histories =\n%+v\nwant\n%+v", got, want)
	}

	var out bytes.Buffer
	hw, err := NewHistoryWriter(&out, "table")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range got {
		if err := hw.Write(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := hw.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"139.162.77.6  b     2026-11-02T00:00:00Z  timeout  -                          -          139.162.64.0/19  AS63949  Linode, LLC  JP",
		"139.162.77.6: 4 scans, 2 changes, first seen 2026-11-01T00:00:00Z, last seen 2026-11-03T00:00:00Z",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("table output lacks %q:\n%s", line, out.String())
		}
	}
	out.Reset()
	hw, _ = NewHistoryWriter(&out, "csv")
	_ = hw.Write(got[1])
	_ = hw.Flush()
	if want := "139.162.77.7,a,2026-11-01T00:00:00Z,ok,x.example,confirmed,139.162.64.0/19,63949,\"Linode, LLC\",JP,2026-11-01T00:00:00Z,2026-11-01T00:00:00Z,0\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("csv = %q, want it to end in %q", out.String(), want)
	}
	if _, err := NewHistoryWriter(&out, "xml"); err == nil {
		t.Error("NewHistoryWriter(xml): no error")
	}
}

// TestHistoryStoredRoutes checks that a history shows the routing stored
// with the address's latest routed row, the netblock of the table, and
// the table's routing for an address stored without one.
func TestHistoryStoredRoutes(t *testing.T) {
	tab := caseTable(t)
	older := okRow("old", "139.162.77.6", "scan-30.security.ipip.net")
	older.ASN, older.Country = 2516, "KR"
	newer := okRow("new", "139.162.77.6", "scan-30.security.ipip.net")
	newer.ResolvedAt = newer.ResolvedAt.Add(time.Hour)
	newer.ASN, newer.Country = 64496, "NL"
	unrouted := okRow("new", "139.162.77.7", "scan-31.security.ipip.net")
	var got []History
	err := Histories(func(emit func(sweep.Row) error) error {
		for _, r := range []sweep.Row{older, newer, unrouted} {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}, tab, func(h History) error { got = append(got, h); return nil })
	if err != nil {
		t.Fatal(err)
	}
	type routing struct {
		ip, net string
		asn     uint32
		name    string
		cc      string
	}
	want := []routing{
		{"139.162.77.6", "139.162.64.0/19", 64496, "", "NL"},
		{"139.162.77.7", "139.162.64.0/19", 63949, "Linode, LLC", "JP"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d histories, want %d", len(got), len(want))
	}
	for i, h := range got {
		if r := (routing{h.IP, h.Netblock, h.ASN, h.ASName, h.Country}); r != want[i] {
			t.Errorf("history %d routing = %+v, want %+v", i, r, want[i])
		}
	}
}
