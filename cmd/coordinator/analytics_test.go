package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// labASN is an IP-to-ASN table over the lab's fleet /24s in the format of
// `location dump`: 198.18.11.0/24 falls in AS64500's /17 (JP),
// 198.18.27.0/24 in AS64501's /20 (US), nested in the /17.
const labASN = "../../internal/enrich/testdata/lab-asn.txt"

// checkAnalytics runs the analytics commands against a database holding
// the lab sweep "cli" of 198.18.{0,9,11,27}.0/24; fleet are the addresses
// with a name under security.fleet.example.
func checkAnalytics(t *testing.T, l *lab.Lab, dsn string, fleet []string) {
	t.Helper()
	// a slice of Debian's real location database (2022-10-29), then the
	// lab's table, newer, which the commands use
	code, out, stderr := runCmd("asn", "load", "../../internal/enrich/testdata/location-slice.txt", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "IP-to-ASN table 2022-10-29") {
		t.Fatalf("asn load of the Debian slice: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCmd("asn", "load", labASN, "--format", "location", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "IP-to-ASN table 2026-11-01") || !strings.Contains(out, "2 networks") {
		t.Fatalf("asn load: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCmd("asn", "list", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "2026-11-01") || !strings.Contains(out, "lab-asn.txt") || !strings.Contains(out, "2022-10-29") {
		t.Errorf("asn list: exit %d\n%s", code, out)
	}

	var in11, in27 int
	for _, ip := range fleet {
		switch a := netip.MustParseAddr(ip).As4(); a[2] {
		case 11:
			in11++
		case 27:
			in27++
		}
	}
	code, out, stderr = runCmd("search", "--suffix", "security.fleet.example", "--group", "asn", "--format", "json", "--clickhouse", dsn)
	type asnLine = analytics.ASNGroup // the JSON contract
	var got []asnLine
	for ln := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var a asnLine
		if err := json.Unmarshal([]byte(ln), &a); err != nil {
			t.Fatalf("search --group asn line %q: %v", ln, err)
		}
		got = append(got, a)
	}
	want := []asnLine{
		{ASN: 64500, ASName: "Lab Net A", Addresses: in11, Netblocks: []string{"198.18.0.0/17"}, Countries: []string{"JP"}},
		{ASN: 64501, ASName: "Lab Net B", Addresses: in27, Netblocks: []string{"198.18.16.0/20"}, Countries: []string{"US"}},
	}
	if in27 > in11 {
		want[0], want[1] = want[1], want[0]
	}
	if code != 0 || stderr != "" || !reflect.DeepEqual(got, want) {
		t.Errorf("search --group asn --format json: exit %d, stderr %q\ngot  %+v\nwant %+v", code, stderr, got, want)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--group", "netblock", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "198.18.16.0/20  AS64501  Lab Net B  US") {
		t.Errorf("search --group netblock with a table: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--group", "netblock", "--format", "csv", "--clickhouse", dsn)
	wantCSV := fmt.Sprintf("netblock,asn,as_name,country,addresses\n198.18.0.0/17,64500,Lab Net A,JP,%d\n198.18.16.0/20,64501,Lab Net B,US,%d\n", in11, in27)
	if code != 0 || out != wantCSV {
		t.Errorf("search --group netblock --format csv: exit %d\n%s\nwant\n%s", code, out, wantCSV)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--group", "country", "--format", "json", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, `{"country":"JP","addresses":`) || !strings.Contains(out, `"asns":[64501]`) {
		t.Errorf("search --group country: exit %d\n%s", code, out)
	}
	// filters: the fleet's names all confirm; none mismatches
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--fcrdns", "mismatch", "--format", "ips", "--clickhouse", dsn)
	if code != 0 || out != "" {
		t.Errorf("search --fcrdns mismatch: exit %d, %q, want no rows", code, out)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--fcrdns", "confirmed", "--format", "ips", "--clickhouse", dsn)
	if code != 0 || len(strings.Fields(out)) != len(fleet) {
		t.Errorf("search --fcrdns confirmed: exit %d, %d addresses, want %d", code, len(strings.Fields(out)), len(fleet))
	}
	code, out, _ = runCmd("export", "--scan", "cli", "--status", "nodata", "--clickhouse", dsn)
	if code != 0 || strings.Count(out, "\n") != 256 || strings.Contains(out, `"status":"ok"`) {
		t.Errorf("export --status nodata: exit %d, %d lines, want 256 nodata rows", code, strings.Count(out, "\n"))
	}

	// lookup: one address with its routing data, a block as csv
	ip := netip.MustParseAddr(fleet[0])
	code, out, _ = runCmd("lookup", ip.String(), "--format", "json", "--clickhouse", dsn)
	var h struct {
		IP      string `json:"ip"`
		ASN     uint32 `json:"asn"`
		Country string `json:"country"`
		Scans   []struct {
			Scan   string `json:"scan"`
			Status string `json:"status"`
			PTRs   []struct {
				PTR    string `json:"ptr"`
				FCrDNS string `json:"fcrdns"`
			} `json:"ptrs"`
		} `json:"scans"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || code != 0 {
		t.Fatalf("lookup %s --format json: exit %d, %v:\n%s", ip, code, err, out)
	}
	var names []string
	for _, p := range l.Expect(ip).PTRs {
		names = append(names, p.Name)
	}
	var gotNames []string
	if len(h.Scans) == 1 {
		for _, p := range h.Scans[0].PTRs {
			gotNames = append(gotNames, p.PTR)
		}
	}
	if h.IP != ip.String() || h.ASN != 64500 || h.Country != "JP" || len(h.Scans) != 1 || h.Scans[0].Scan != "cli" || !reflect.DeepEqual(gotNames, names) {
		t.Errorf("lookup %s = %+v, want AS64500 JP and the names %q", ip, h, names)
	}
	var rows11 int
	for d := range 256 {
		e := l.Expect(netip.AddrFrom4([4]byte{198, 18, 11, byte(d)}))
		switch e.Status {
		case sweep.StatusOK:
			rows11 += len(e.PTRs)
		case sweep.StatusNXDomain:
		default:
			rows11++
		}
	}
	code, out, _ = runCmd("lookup", "198.18.11.0/24", "--scan", "cli", "--format", "csv", "--clickhouse", dsn)
	if code != 0 || strings.Count(out, "\n") != rows11+1 || !strings.Contains(out, ",198.18.0.0/17,64500,Lab Net A,JP,") {
		t.Errorf("lookup 198.18.11.0/24 --format csv: exit %d, %d lines, want %d:\n%.400s", code, strings.Count(out, "\n"), rows11+1, out)
	}
	// fleets: the scan-N names of the two fleet /24s, in two ASes and countries
	var scanners int
	for _, c := range []byte{11, 27} {
		for d := range 256 {
			for _, p := range l.Expect(netip.AddrFrom4([4]byte{198, 18, c, byte(d)})).PTRs {
				if strings.HasPrefix(p.Name, "scan-") && strings.HasSuffix(p.Name, ".security.fleet.example") {
					scanners++
					break
				}
			}
		}
	}
	code, out, _ = runCmd("fleets", "--scan", "cli", "--suffix", "fleet.example", "--clickhouse", dsn)
	wantLine := fmt.Sprintf("scan-#.security.fleet.example  %d addresses  2 netblocks  2 ASNs  2 countries  scanner (scan)", scanners)
	if first, _, _ := strings.Cut(out, "\n"); code != 0 || !strings.HasPrefix(first, wantLine) {
		t.Errorf("fleets: exit %d, first line %q, want it to start %q\n%s", code, first, wantLine, out)
	}
	code, out, _ = runCmd("fleets", "--scan", "cli", "--min-addresses", "20", "--format", "json", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, `"template":"scan-#.security.fleet.example"`) {
		t.Errorf("fleets --format json: exit %d\n%.600s", code, out)
	}
	for ln := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var f struct{ Addresses int }
		if err := json.Unmarshal([]byte(ln), &f); err != nil || f.Addresses < 20 {
			t.Errorf("fleets --min-addresses 20 line %s: %v", ln, err)
		}
	}
	code, _, stderr = runCmd("fleets", "--scan", "nosuch", "--clickhouse", dsn)
	if code != 1 || !strings.Contains(stderr, `scan "nosuch" not found`) {
		t.Errorf("fleets of a missing scan: exit %d, %q", code, stderr)
	}

	code, out, stderr = runCmd("lookup", "198.18.200.1", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(stderr, "no stored rows for 198.18.200.1/32") || strings.Contains(out, "198.18.200.1") {
		t.Errorf("lookup of an address without rows: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
