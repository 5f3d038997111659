package analytics

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func caseRows() []sweep.Row {
	return []sweep.Row{
		okRow("s", "139.162.77.6", "scan-30.security.ipip.net"),
		okRow("s", "139.162.77.6", "scan-31.security.ipip.net"), // a second PTR: one address
		okRow("s", "139.162.77.7", "scan-32.security.ipip.net"),
		okRow("s", "139.162.1.1", "scan-33.security.ipip.net"),
		okRow("s", "45.118.132.9", "scan-34.security.ipip.net"),
		okRow("s", "106.128.1.1", "scan-35.security.ipip.net"),
		okRow("s", "106.187.2.2", "scan-36.security.ipip.net"),
		okRow("s", "192.0.2.1", "scan-37.security.ipip.net"), // not routed
	}
}

func TestGroups(t *testing.T) {
	tab := caseTable(t)
	var g Grouper
	for _, r := range caseRows() {
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	got := g.Groups(GroupNetblock, tab)
	want := []NetblockGroup{
		{"45.118.132.0/23", 63949, "Linode, LLC", "SG", 1},
		{"106.128.0.0/10", 2516, "KDDI CORPORATION", "JP", 1},
		{"106.187.0.0/16", 2516, "KDDI CORPORATION", "US", 1},
		{"139.162.0.0/16", 63949, "Linode, LLC", "US", 1},
		{"139.162.64.0/19", 63949, "Linode, LLC", "JP", 2},
		{"192.0.2.0/24", 0, "", "", 1},
	}
	if got.Addresses != 7 || !got.Routed || !reflect.DeepEqual(got.Netblocks, want) {
		t.Errorf("Groups(netblock) = %+v, want 7 routed addresses in\n%+v", got, want)
	}
	asns := g.Groups(GroupASN, tab).ASNs
	wantASNs := []ASNGroup{
		{63949, "Linode, LLC", 4, []string{"45.118.132.0/23", "139.162.0.0/16", "139.162.64.0/19"}, []string{"JP", "SG", "US"}},
		{2516, "KDDI CORPORATION", 2, []string{"106.128.0.0/10", "106.187.0.0/16"}, []string{"JP", "US"}},
		{0, "", 1, []string{"192.0.2.0/24"}, []string{}},
	}
	if !reflect.DeepEqual(asns, wantASNs) {
		t.Errorf("Groups(asn) = %+v, want %+v", asns, wantASNs)
	}
	ccs := g.Groups(GroupCountry, tab).Countries
	wantCCs := []CountryGroup{
		{"JP", 3, []string{"106.128.0.0/10", "139.162.64.0/19"}, []uint32{2516, 63949}},
		{"US", 2, []string{"106.187.0.0/16", "139.162.0.0/16"}, []uint32{2516, 63949}},
		{"", 1, []string{"192.0.2.0/24"}, []uint32{0}},
		{"SG", 1, []string{"45.118.132.0/23"}, []uint32{63949}},
	}
	if !reflect.DeepEqual(ccs, wantCCs) {
		t.Errorf("Groups(country) = %+v, want %+v", ccs, wantCCs)
	}

	var out bytes.Buffer
	if err := WriteGroups(&out, g.Groups(GroupASN, tab), "json"); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if wantLine := `{"asn":63949,"as_name":"Linode, LLC","addresses":4,"netblocks":["45.118.132.0/23","139.162.0.0/16","139.162.64.0/19"],"countries":["JP","SG","US"]}`; first != wantLine {
		t.Errorf("asn json line = %s, want %s", first, wantLine)
	}
	out.Reset()
	if err := WriteGroups(&out, g.Groups(GroupASN, tab), "table"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if wantLine := "AS63949  Linode, LLC       4          3 netblocks: 45.118.132.0/23,139.162.0.0/16,139.162.64.0/19  JP,SG,US"; lines[1] != wantLine {
		t.Errorf("asn table line = %q, want %q", lines[1], wantLine)
	}
	// without routing data: /24s
	nb := g.Groups(GroupNetblock, nil)
	if nb.Routed || len(nb.Netblocks) != 6 || nb.Netblocks[4] != (NetblockGroup{Netblock: "139.162.77.0/24", Addresses: 2}) {
		t.Errorf("Groups(netblock, nil) = %+v, want /24s", nb)
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		status, fcrdns string
		want           Filter
		err            string
	}{
		{"", "", Filter{}, ""},
		{"servfail, Timeout", "", Filter{Statuses: []sweep.Status{sweep.StatusServFail, sweep.StatusTimeout}}, ""},
		{"", "mismatch,no_address,none", Filter{FCrDNS: []sweep.FCrDNS{sweep.FCrDNSMismatch, sweep.FCrDNSNoAddress, sweep.FCrDNSNone}}, ""},
		{"okay", "", Filter{}, `--status "okay"`},
		{"", "bad", Filter{}, `--fcrdns "bad"`},
	}
	for _, tt := range tests {
		got, err := ParseFilter(tt.status, tt.fcrdns)
		if tt.err != "" {
			if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseFilter(%q, %q) error = %v, want ErrBadFilter naming %s", tt.status, tt.fcrdns, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q, %q) = %+v, %v, want %+v", tt.status, tt.fcrdns, got, err, tt.want)
		}
	}
}

func TestFleets(t *testing.T) {
	rows := caseRows()
	rows = append(rows, okRow("s", "198.51.100.1", "198-51-100-1.dsl.example.net"), okRow("s", "198.51.100.2", "198-51-100-2.dsl.example.net"),
		okRow("s", "192.0.2.9", "mail.example.org"), sweep.Row{Scan: "s", IP: rows[0].IP, Status: sweep.StatusTimeout})
	stream := func(emit func(sweep.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
	tab := caseTable(t)
	got, err := Fleets(stream, func([]netip.Addr, []uint32) (Enricher, error) { return tab, nil }, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Fleet{
		{Template: "scan-#.security.ipip.net", Scanner: "scan", Addresses: 7, Names: 8, Example: "scan-30.security.ipip.net",
			Netblocks: []string{"45.118.132.0/23", "106.128.0.0/10", "106.187.0.0/16", "139.162.0.0/16", "139.162.64.0/19", "192.0.2.0/24"},
			ASNs:      []uint32{0, 2516, 63949}, Countries: []string{"JP", "SG", "US"}},
		{Template: "{ip}.dsl.example.net", Addresses: 2, Names: 2, Example: "198-51-100-1.dsl.example.net",
			Netblocks: []string{"198.51.100.0/24"}, ASNs: []uint32{0}, Countries: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fleets =\n%+v\nwant\n%+v", got, want)
	}
	var out bytes.Buffer
	if err := WriteFleets(&out, got[:1], "table"); err != nil {
		t.Fatal(err)
	}
	if want := "scan-#.security.ipip.net  7 addresses  6 netblocks  2 ASNs  3 countries  scanner (scan)  e.g. scan-30.security.ipip.net\n"; out.String() != want {
		t.Errorf("WriteFleets table = %q, want %q", out.String(), want)
	}
	out.Reset()
	_ = WriteFleets(&out, got[1:], "json")
	if want := `{"template":"{ip}.dsl.example.net","addresses":2,"names":2,"example":"198-51-100-1.dsl.example.net","netblocks":["198.51.100.0/24"],"asns":[0],"countries":[]}` + "\n"; out.String() != want {
		t.Errorf("WriteFleets json = %s, want %s", out.String(), want)
	}
}

// TestGroupsStoredRoutes groups rows stored with their ASN and country
// (the routing when resolved): those win over the table's, the netblock
// and the AS name come from the table, and rows stored without routing
// (ASN 0, no country) fall back to the table. An address with rows from
// several scans counts once, with its routed row.
func TestGroupsStoredRoutes(t *testing.T) {
	withRoute := func(r sweep.Row, asn uint32, cc string) sweep.Row { r.ASN, r.Country = asn, cc; return r }
	rows := []sweep.Row{
		withRoute(okRow("s", "139.162.77.6", "scan-30.security.ipip.net"), 2516, "KR"), // moved since: KDDI then
		okRow("s", "139.162.77.7", "scan-32.security.ipip.net"),                        // scanned before a table
		withRoute(okRow("s", "192.0.2.1", "scan-37.security.ipip.net"), 64496, "NL"),   // routed then, not now
		okRow("old", "192.0.2.1", "scan-37.security.ipip.net"),                         // same address, older scan
	}
	var g Grouper
	for _, r := range rows {
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := g.StoredASNs(), []uint32{2516, 64496}; !reflect.DeepEqual(got, want) {
		t.Errorf("StoredASNs() = %v, want %v", got, want)
	}
	tab := caseTable(t)
	got := g.Groups(GroupNetblock, tab).Netblocks
	want := []NetblockGroup{
		{"139.162.64.0/19", 2516, "KDDI CORPORATION", "KR", 1},
		{"139.162.64.0/19", 63949, "Linode, LLC", "JP", 1},
		{"192.0.2.0/24", 64496, "", "NL", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Groups(netblock) =\n%+v\nwant\n%+v", got, want)
	}
	asns := g.Groups(GroupASN, tab).ASNs
	wantASNs := []ASNGroup{
		{2516, "KDDI CORPORATION", 1, []string{"139.162.64.0/19"}, []string{"KR"}},
		{63949, "Linode, LLC", 1, []string{"139.162.64.0/19"}, []string{"JP"}},
		{64496, "", 1, []string{"192.0.2.0/24"}, []string{"NL"}},
	}
	if !reflect.DeepEqual(asns, wantASNs) {
		t.Errorf("Groups(asn) =\n%+v\nwant\n%+v", asns, wantASNs)
	}
	fs, err := Fleets(func(emit func(sweep.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}, func(addrs []netip.Addr, asns []uint32) (Enricher, error) {
		if len(addrs) != 3 || !reflect.DeepEqual(asns, []uint32{2516, 64496}) {
			t.Errorf("Fleets loads routes of %v and names of %v, want 3 addresses and 2516, 64496", addrs, asns)
		}
		return tab, nil
	}, 1)
	if err != nil || len(fs) != 1 || !reflect.DeepEqual(fs[0].ASNs, []uint32{2516, 63949, 64496}) || !reflect.DeepEqual(fs[0].Countries, []string{"JP", "KR", "NL"}) {
		t.Errorf("Fleets = %+v, %v; want one fleet with ASNs 2516, 63949, 64496 in JP, KR, NL", fs, err)
	}
}

func TestWriteGroupsCSV(t *testing.T) {
	var g Grouper
	for _, r := range caseRows()[:5] {
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	_ = g.Add(okRow("s", "192.0.2.1", "x.example")) // not routed
	tab := caseTable(t)
	tests := []struct {
		group string
		want  string
	}{
		{GroupNetblock, `netblock,asn,as_name,country,addresses
45.118.132.0/23,63949,"Linode, LLC",SG,1
139.162.0.0/16,63949,"Linode, LLC",US,1
139.162.64.0/19,63949,"Linode, LLC",JP,2
192.0.2.0/24,0,,,1
`},
		{GroupASN, `asn,as_name,addresses,netblocks,countries
63949,"Linode, LLC",4,45.118.132.0/23 139.162.0.0/16 139.162.64.0/19,JP SG US
0,,1,192.0.2.0/24,
`},
		{GroupCountry, `country,addresses,netblocks,asns
JP,2,139.162.64.0/19,63949
,1,192.0.2.0/24,0
SG,1,45.118.132.0/23,63949
US,1,139.162.0.0/16,63949
`},
	}
	var none Grouper
	for _, tt := range []struct{ group, want string }{
		{GroupNetblock, "netblock,asn,as_name,country,addresses\n"},
		{GroupASN, "asn,as_name,addresses,netblocks,countries\n"},
		{GroupCountry, "country,addresses,netblocks,asns\n"},
	} {
		var out bytes.Buffer
		if err := WriteGroups(&out, none.Groups(tt.group, tab), "csv"); err != nil || out.String() != tt.want {
			t.Errorf("WriteGroups(no addresses by %s, csv) = %q, %v; want the header %q", tt.group, out.String(), err, tt.want)
		}
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := WriteGroups(&out, g.Groups(tt.group, tab), "csv"); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tt.want {
			t.Errorf("WriteGroups(%s, csv) =\n%s\nwant\n%s", tt.group, got, tt.want)
		}
	}
}
