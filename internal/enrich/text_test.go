package enrich

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lookupCase is an address and the Info a table must give for it.
type lookupCase struct {
	addr    string
	net     string // "" for not found
	asn     uint32
	asName  string
	country string
}

func checkLookups(t *testing.T, tab *Table, cases []lookupCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := tab.Lookup(mustAddr(c.addr))
		gotNet := ""
		if ok {
			gotNet = got.Net.String()
		}
		if gotNet != c.net || got.ASN != c.asn || got.ASName != c.asName || got.Country != c.country {
			t.Errorf("Lookup(%s) = %s AS%d %q %q, want %s AS%d %q %q", c.addr, gotNet, got.ASN, got.ASName, got.Country, c.net, c.asn, c.asName, c.country)
		}
	}
}

// errCase is malformed input and the line and words its error must name.
type errCase struct {
	in   string
	line int
	msg  string
}

// checkErrors reads each case (building the table when reading succeeds)
// and fails unless the error is a ParseError naming file:line and msg.
func checkErrors(t *testing.T, file string, read func(io.Reader, string, *Builder) (Stats, error), cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		var b Builder
		_, err := read(strings.NewReader(tc.in), file, &b)
		if err == nil {
			_, err = b.Table()
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != file || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("read %q: err = %v, want %s:%d mentioning %q", tc.in, err, file, tc.line, tc.msg)
		}
	}
}

func build(t *testing.T, read func(*Builder) (Stats, error)) (*Table, Stats) {
	t.Helper()
	var b Builder
	st, err := read(&b)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	tab, err := b.Table()
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	checkTable(t, tab)
	return tab, st
}

// TestLocationSlice reads the committed slice of Debian's location
// database. The expected answers are libloc's own (`location lookup` on the
// full 2022-10-29 database); see testdata/README.md.
func TestLocationSlice(t *testing.T) {
	f, err := os.Open("testdata/location-slice.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, st := build(t, func(b *Builder) (Stats, error) { return ReadLocationDump(f, "location-slice.txt", b) })
	if st.Networks != 67 || st.SkippedIPv6 != 3 || st.Names != 12 {
		t.Errorf("stats = %+v, want 67 networks, 3 IPv6 skipped, 12 names (the slice's blocks)", st)
	}
	if want := time.Date(2022, 10, 29, 5, 59, 54, 0, time.UTC); !st.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", st.Date, want)
	}
	checkLookups(t, tab, []lookupCase{
		{"1.0.0.1", "1.0.0.0/24", 13335, "CLOUDFLARENET", "AU"},
		{"1.0.1.5", "1.0.1.0/24", 0, "", "CN"},
		{"1.0.4.1", "1.0.4.0/22", 38803, "Wirefreebroadband Pty Ltd", "AU"},
		{"1.0.5.9", "1.0.5.0/24", 38803, "Wirefreebroadband Pty Ltd", "AU"},
		{"1.0.16.1", "1.0.16.0/24", 2519, "", "JP"},
		{"1.0.17.1", "1.0.16.0/20", 0, "", "JP"},
		{"1.0.64.1", "1.0.64.0/18", 18144, "Energia Communications,Inc.", "JP"},
		{"45.118.132.1", "45.118.132.0/23", 63949, "Linode, LLC", "SG"},
		{"45.118.135.255", "45.118.134.0/23", 63949, "Linode, LLC", "SG"},
		{"45.118.131.255", "45.118.128.0/22", 0, "", "IN"},
		{"1.2.3.4", "1.0.0.0/8", 0, "", "AU"},
		{"2.0.0.1", "", 0, "", ""},
	})
}

func TestReadLocationDumpErrors(t *testing.T) {
	checkErrors(t, "dump.txt", ReadLocationDump, []errCase{
		{"net: 1.0.0.0/24\ncountry AU\n", 2, "key: value"},
		{"net: 1.0.0.1/24\n", 1, "net:"},
		{"net: 1.0.0.0/24\ncountry: AUS\n", 2, "country"},
		{"net: 1.0.0.0/24\ncolour: blue\n", 2, "unknown key"},
		{"country: AU\n", 1, "outside a block"},
		{"net: 1.0.0.0/24\nnet: 1.0.1.0/24\n", 2, "blank line"},
		{"aut-num: ASx\nname: X\n", 1, "aut-num"},
		{"aut-num: AS1\n\nnet: 1.0.0.0/24\n", 1, "name"},
		{"net: 1.0.0.0/24\naut-num: 1\naut-num: 2\n", 3, "second"},
		{"net: 1.0.0.0/24\naut-num: 1\n\nnet: 1.0.0.0/24\naut-num: 2\n", 4, "given again"},
	})
}

func TestReadPfx2AS(t *testing.T) {
	in := "; IP-ASN32-DAT file\n" +
		"; Original file : data/rib.20140513.0600.bz2.skip\n" +
		";\n" +
		"1.0.0.0/24\t15169\n" + // pyasn form
		"1.0.4.0\t22\t56203\n" + // RouteViews form
		"1.0.5.0\t24\t3356_174\n" + // multi-origin: the first wins
		"1.0.6.0\t24\t{7018,701}\n" + // AS set
		"1.0.7.0 24 64500_{64501,64502}\r\n" + // spaces, CRLF, both
		"2001:db8::\t32\t64496\n" + // IPv6: skipped
		"\n"
	tab, st := build(t, func(b *Builder) (Stats, error) { return ReadPfx2AS(strings.NewReader(in), "ipasn.dat", b) })
	if st.Networks != 5 || st.SkippedIPv6 != 1 {
		t.Errorf("stats = %+v, want 5 networks, 1 IPv6", st)
	}
	if want := time.Date(2014, 5, 13, 0, 0, 0, 0, time.UTC); !st.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", st.Date, want)
	}
	checkLookups(t, tab, []lookupCase{
		{"1.0.0.255", "1.0.0.0/24", 15169, "", ""},
		{"1.0.4.1", "1.0.4.0/22", 56203, "", ""},
		{"1.0.5.1", "1.0.5.0/24", 3356, "", ""},
		{"1.0.6.1", "1.0.6.0/24", 7018, "", ""},
		{"1.0.7.1", "1.0.7.0/24", 64500, "", ""},
		{"1.0.1.0", "", 0, "", ""},
	})

	checkErrors(t, "p.txt", ReadPfx2AS, []errCase{
		{"1.0.0.0/24 1 2 3\n", 1, "fields"},
		{"; c\n1.0.0.0/33\t1\n", 2, "prefix"},
		{"1.0.0.0/24\tAS-X\n", 1, "origin"},
		{"1.0.0.0/24\t1_x\n", 1, "origin"},
		{"1.0.0.0/24\t99999999999\n", 1, "origin"},
		{"1.0.0.1/24\t1\n", 1, "prefix"},
	})
}

func TestReadIPtoASN(t *testing.T) {
	in := "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n" +
		"1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n" +
		"1.0.4.0\t1.0.7.255\t38803\tAU\tWPL-AS-AP Wirefreebroadband Pty Ltd\n" +
		"1.0.8.1\t1.0.8.6\t64500\tNone\tOdd range\n" +
		"2001:db8::\t2001:db8::ffff\t64496\tNL\tv6\n"
	tab, st := build(t, func(b *Builder) (Stats, error) { return ReadIPtoASN(strings.NewReader(in), "ip2asn-v4.tsv", b) })
	if st.Networks != 6 || st.Unrouted != 1 || st.SkippedIPv6 != 1 || st.Names != 3 {
		t.Errorf("stats = %+v, want 6 networks (1+1+4 CIDR blocks), 1 unrouted, 1 IPv6, 3 names", st)
	}
	checkLookups(t, tab, []lookupCase{
		{"1.0.0.1", "1.0.0.0/24", 13335, "CLOUDFLARENET", "US"},
		{"1.0.2.1", "", 0, "", ""},
		{"1.0.7.255", "1.0.4.0/22", 38803, "WPL-AS-AP Wirefreebroadband Pty Ltd", "AU"},
		{"1.0.8.3", "1.0.8.2/31", 64500, "Odd range", ""},
		{"1.0.8.7", "", 0, "", ""},
	})

	checkErrors(t, "t.tsv", ReadIPtoASN, []errCase{
		{"1.0.0.0\t1.0.0.255\t1\tUS\n", 1, "5 tab-separated"},
		{"1.0.0.0\tx\t1\tUS\td\n", 1, "two IP addresses"},
		{"1.0.0.9\t1.0.0.1\t1\tUS\td\n", 1, "ends before"},
		{"1.0.0.0\t1.0.0.255\t1\tUS\td\n1.0.0.128\t1.0.1.0\t2\tUS\td\n", 2, "line 1"},
		{"1.0.0.0\t1.0.0.255\tAS\tUS\td\n", 1, "AS number"},
		{"1.0.0.0\t1.0.0.255\t1\tUSA\td\n", 1, "country"},
		{"1.0.0.0\t::1\t1\tUS\td\n", 1, "mixes"},
	})
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	slice, err := os.ReadFile("testdata/location-slice.txt")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("1.0.0.0\t24\t15169\n"))
	_ = zw.Close()
	files := map[string][]byte{
		"location.txt":                           slice,
		"routeviews-rv2-20240101-1200.pfx2as.gz": gz.Bytes(),
		"ip2asn-v4.tsv":                          []byte("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n"),
		"garbage.txt":                            []byte("hello world, this is not a table\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		file string
		asn  uint32
		date time.Time
	}{
		{"location.txt", 13335, time.Date(2022, 10, 29, 5, 59, 54, 0, time.UTC)},
		{"routeviews-rv2-20240101-1200.pfx2as.gz", 15169, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"ip2asn-v4.tsv", 13335, time.Time{}},
	} {
		tab, st, err := LoadFile(filepath.Join(dir, tc.file), FormatAuto)
		if err != nil {
			t.Errorf("LoadFile(%s): %v", tc.file, err)
			continue
		}
		if got, _ := tab.Lookup(mustAddr("1.0.0.1")); got.ASN != tc.asn {
			t.Errorf("LoadFile(%s): Lookup(1.0.0.1).ASN = %d, want %d", tc.file, got.ASN, tc.asn)
		}
		if !st.Date.Equal(tc.date) {
			t.Errorf("LoadFile(%s): Date = %v, want %v", tc.file, st.Date, tc.date)
		}
	}
	if _, _, err := LoadFile(filepath.Join(dir, "garbage.txt"), FormatAuto); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("LoadFile(garbage) = %v, want ErrUnknownFormat", err)
	}
	// naming the wrong format gives a line-numbered error
	if _, _, err := LoadFile(filepath.Join(dir, "location.txt"), FormatIPtoASN); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "location.txt:1:") {
		t.Errorf("LoadFile(location as ip2asn) = %v, want ErrFormat at line 1", err)
	}
	if _, _, err := LoadFile(filepath.Join(dir, "missing.txt"), FormatAuto); err == nil {
		t.Errorf("LoadFile(missing) succeeded")
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v, want %q", f, got, err, f)
		}
	}
	if got, err := ParseFormat("auto"); err != nil || got != FormatAuto {
		t.Errorf("ParseFormat(auto) = %q, %v", got, err)
	}
	if _, err := ParseFormat("csv"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(csv) = %v, want ErrUnknownFormat", err)
	}
}

func TestDateFromName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"routeviews-rv2-20240101-1200.pfx2as.gz", "2024-01-01"},
		{"ipasn_20140513.dat.gz", "2014-05-13"},
		{"ip2asn-v4.tsv", ""},
		{"x-20241399.txt", ""},
		{"123456789.txt", ""},
	} {
		d, ok := DateFromName(tc.name)
		got := ""
		if ok {
			got = d.Format(time.DateOnly)
		}
		if got != tc.want {
			t.Errorf("DateFromName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
