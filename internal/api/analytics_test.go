package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// The analytics endpoints are checked twice: against the fixture's rows
// and the IP-to-ASN table the test stored (asnOf), and against what the
// command of each prints with --format json on the same database.

// getJSON GETs path, checks the answer against the OpenAPI schema of
// pattern, and decodes a 200 answer into v.
func getJSON(t *testing.T, ts *httptest.Server, path, pattern string, v any) {
	t.Helper()
	code, b := call(t, ts, "GET", path, pattern, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// jsonLines decodes the objects a command printed one a line.
func jsonLines[T any](t *testing.T, b []byte) []T {
	t.Helper()
	var out []T
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("command output: %v: %s", err, b)
		}
		out = append(out, v)
	}
	return out
}

// command runs a command's function and returns what it printed.
func command(t *testing.T, run func(out *bytes.Buffer) error) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("command: %v", err)
	}
	return out.Bytes()
}

func fleetAddrs(f *fixture) []netip.Addr {
	var out []netip.Addr
	for _, r := range f.where(func(r store.Record) bool { return hasSuffix(r.PTR, "security.fleet.example") }) {
		out = append(out, r.IP)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// compareGroups decodes the API's groups, checks their address counts by
// key against want and the groups against the command's output cmd, and
// returns them.
func compareGroups[G any](t *testing.T, by string, raw json.RawMessage, cmd []byte, want map[string]int, key func(G) (string, int)) []G {
	t.Helper()
	var gs []G
	if err := json.Unmarshal(raw, &gs); err != nil {
		t.Fatalf("groups by %s: %v", by, err)
	}
	counts := map[string]int{}
	for _, g := range gs {
		k, n := key(g)
		counts[k] = n
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("groups by %s = %v, want %v", by, counts, want)
	}
	if c := jsonLines[G](t, cmd); !reflect.DeepEqual(gs, c) {
		t.Errorf("groups by %s:\n%+v\ncoordinator search --group %s:\n%+v", by, gs, by, c)
	}
	return gs
}

func testGroups(t *testing.T, f *fixture, ts *httptest.Server) {
	addrs := fleetAddrs(f)
	wantASN := map[uint32]int{}
	wantCountry := map[string]int{}
	wantNet := map[string]int{}
	// An address's AS and country are those stored with its rows when
	// they were scanned with routing (the enriched scan's), else the
	// table's; its netblock is the table's.
	stored := map[netip.Addr]store.Record{}
	for _, r := range f.where(func(r store.Record) bool { return r.ASN != 0 }) {
		stored[r.IP] = r
	}
	storedName := func(asn uint32) (string, bool) {
		for _, r := range stored {
			if r.ASN == asn {
				for _, n := range asnNets {
					if n.asn == asn {
						return n.name, true
					}
				}
				return "", true
			}
		}
		return "", false
	}
	for _, a := range addrs {
		p, asn, _, cc := asnOf(a)
		if r, ok := stored[a]; ok {
			asn, cc = r.ASN, r.Country
		}
		wantASN[asn]++
		wantCountry[cc]++
		wantNet[p.String()]++
	}
	wantASNKeys := map[string]int{}
	for asn, n := range wantASN {
		wantASNKeys[strconv.Itoa(int(asn))] = n
	}
	if len(wantASN) < 3 {
		t.Fatalf("the fleet's addresses fall in %d providers; the test wants 3", len(wantASN))
	}
	q := url.QueryEscape(fleetQuery)
	for _, by := range []string{"netblock", "asn", "country"} {
		var got struct {
			api.GroupsResponse
			Groups json.RawMessage `json:"groups"`
		}
		getJSON(t, ts, "/api/v1/groups?by="+by+"&query="+q, "/api/v1/groups", &got)
		if got.By != by || !got.Routed || got.Addresses != len(addrs) || got.Query != fleetQuery {
			t.Errorf("groups by %s: by %q, routed %t, %d addresses, query %q; want %s, routed, %d, %q", by, got.By, got.Routed, got.Addresses, got.Query, by, len(addrs), fleetQuery)
		}
		// The command's objects for the same addresses.
		cmd := command(t, func(out *bytes.Buffer) error {
			return coordinator.Search(context.Background(), coordinator.SearchConfig{ClickHouse: f.dsn, Suffix: "security.fleet.example", Group: by, Format: "json"}, out)
		})
		switch by {
		case "netblock":
			compareGroups(t, by, got.Groups, cmd, wantNet, func(g analytics.NetblockGroup) (string, int) { return g.Netblock, g.Addresses })
		case "asn":
			gs := compareGroups(t, by, got.Groups, cmd, wantASNKeys, func(g analytics.ASNGroup) (string, int) { return strconv.Itoa(int(g.ASN)), g.Addresses })
			for _, g := range gs {
				_, _, name, _ := asnOf(netip.MustParsePrefix(g.Netblocks[0]).Addr())
				if n, ok := storedName(g.ASN); ok {
					name = n
				}
				if name != g.ASName {
					t.Errorf("AS%d: as_name %q, want %q", g.ASN, g.ASName, name)
				}
			}
		case "country":
			compareGroups(t, by, got.Groups, cmd, wantCountry, func(g analytics.CountryGroup) (string, int) { return g.Country, g.Addresses })
		}
	}
	// The CSV download of a grouping: a header, then one group a line.
	resp, err := ts.Client().Get(ts.URL + "/api/v1/groups?by=asn&format=csv&query=" + q)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("groups csv: %d %v %q", resp.StatusCode, err, resp.Header.Get("Content-Disposition"))
	}
	if want := []string{"asn", "as_name", "addresses", "netblocks", "countries"}; !slices.Equal(recs[0], want) {
		t.Errorf("groups csv header %q, want %q", recs[0], want)
	}
	counts := map[uint32]int{}
	for _, r := range recs[1:] {
		asn, _ := strconv.ParseUint(r[0], 10, 32)
		counts[uint32(asn)], _ = strconv.Atoi(r[2])
	}
	if !reflect.DeepEqual(counts, wantASN) {
		t.Errorf("groups csv counts = %v, want %v", counts, wantASN)
	}
}

func testDownload(t *testing.T, f *fixture, ts *httptest.Server) {
	want := f.where(func(r store.Record) bool { return hasSuffix(r.PTR, "fleet.example") })
	if len(want) <= testPageSize {
		t.Fatalf("%d rows under fleet.example: the test wants more than a page (%d)", len(want), testPageSize)
	}
	q := url.QueryEscape("ptr_part = 'fleet.example'")
	same := func(format string, i int, ip, ptr, scan, asn string) bool {
		w := want[i]
		if ip == w.IP.String() && ptr == w.PTR && scan == w.Scan && asn == strconv.FormatUint(uint64(w.ASN), 10) {
			return true
		}
		t.Errorf("%s download record %d = %s %q %s AS%s, want %v %q %s AS%d", format, i, ip, ptr, scan, asn, w.IP, w.PTR, w.Scan, w.ASN)
		return false
	}
	resp, err := ts.Client().Get(ts.URL + "/api/v1/ips/download?query=" + q)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Query       string       `json:"query"`
		RecordCount int          `json:"record_count"`
		Records     []api.Record `json:"records"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Record-Count") != strconv.Itoa(len(want)) {
		t.Fatalf("json download: %d %v, X-Record-Count %q", resp.StatusCode, err, resp.Header.Get("X-Record-Count"))
	}
	if doc.RecordCount != len(want) || len(doc.Records) != len(want) {
		t.Fatalf("json download: record_count %d, %d records; want %d", doc.RecordCount, len(doc.Records), len(want))
	}
	for i, r := range doc.Records {
		if !same("json", i, r.IP, r.PTR, r.Scan, strconv.FormatUint(uint64(r.ASN), 10)) {
			break
		}
	}
	resp, err = ts.Client().Get(ts.URL + "/api/v1/ips/download?format=csv&query=" + q)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bufio.NewReader(resp.Body)).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv download: %d %v %q", resp.StatusCode, err, resp.Header.Get("Content-Type"))
	}
	if want := []string{"ip", "ptr", "status", "fcrdns", "asn", "country", "scan", "resolved_at"}; !slices.Equal(recs[0], want) {
		t.Errorf("csv header %q, want %q", recs[0], want)
	}
	if len(recs)-1 != len(want) {
		t.Fatalf("csv download: %d records, want %d", len(recs)-1, len(want))
	}
	for i, r := range recs[1:] {
		if !same("csv", i, r[0], r[1], r[6], r[4]) {
			break
		}
	}
}

func testLookup(t *testing.T, f *fixture, ts *httptest.Server) {
	// One address seen by lab, then renamed in lab2: its history.
	var got api.LookupResponse
	getJSON(t, ts, "/api/v1/lookup/"+lab2Renamed, "/api/v1/lookup/{target}", &got)
	ip := netip.MustParseAddr(lab2Renamed)
	wantNames := map[string][]string{}
	for _, r := range f.where(func(r store.Record) bool { return r.IP == ip }) {
		wantNames[r.Scan] = append(wantNames[r.Scan], r.PTR)
	}
	p, asn, name, cc := asnOf(ip)
	if len(got.Histories) != 1 || !got.Routed || got.Target != lab2Renamed+"/32" {
		t.Fatalf("lookup %s = %+v; want one routed history of %s/32", lab2Renamed, got, lab2Renamed)
	}
	h := got.Histories[0]
	gotNames := map[string][]string{}
	var scans []string
	for _, o := range h.Scans {
		scans = append(scans, o.Scan)
		for _, n := range o.PTRs {
			gotNames[o.Scan] = append(gotNames[o.Scan], n.PTR)
		}
	}
	if h.IP != lab2Renamed || h.Netblock != p.String() || h.ASN != asn || h.ASName != name || h.Country != cc ||
		!slices.Equal(scans, []string{labScan, lab2Scan}) || h.Changes != 1 || !reflect.DeepEqual(gotNames, wantNames) {
		t.Errorf("history = %+v; want %s in %v AS%d %q %s, scans lab then lab2 with %v, 1 change", h, lab2Renamed, p, asn, name, cc, wantNames)
	}
	// A block, every scan: one history per address with rows, as the
	// command prints them.
	getJSON(t, ts, "/api/v1/lookup/198.18.11.0/24", "/api/v1/lookup/{target}", &got)
	block := netip.MustParsePrefix("198.18.11.0/24")
	var ips []string
	for _, r := range f.where(func(r store.Record) bool { return block.Contains(r.IP) }) {
		if len(ips) == 0 || ips[len(ips)-1] != r.IP.String() {
			ips = append(ips, r.IP.String())
		}
	}
	var gotIPs []string
	for _, h := range got.Histories {
		gotIPs = append(gotIPs, h.IP)
	}
	if !slices.Equal(gotIPs, ips) {
		t.Errorf("lookup of the /24: %d addresses, want %d", len(gotIPs), len(ips))
	}
	cmd := jsonLines[analytics.History](t, command(t, func(out *bytes.Buffer) error {
		return coordinator.Lookup(context.Background(), coordinator.LookupConfig{ClickHouse: f.dsn, Target: block, Format: "json"}, out)
	}))
	if !reflect.DeepEqual(got.Histories, cmd) {
		t.Errorf("lookup of the /24 differs from coordinator lookup --format json")
	}
	// scan= and status= narrow it.
	getJSON(t, ts, "/api/v1/lookup/"+lab2Renamed+"?scan="+lab2Scan, "/api/v1/lookup/{target}", &got)
	if len(got.Histories) != 1 || len(got.Histories[0].Scans) != 1 || got.Histories[0].Scans[0].Scan != lab2Scan {
		t.Errorf("lookup with scan=lab2 = %+v; want lab2's observation only", got)
	}
	getJSON(t, ts, "/api/v1/lookup/198.18.6.0/24?status=servfail", "/api/v1/lookup/{target}", &got)
	if len(got.Histories) == 0 {
		t.Error("lookup of the servfail /24 with status=servfail: no history")
	}
	for _, h := range got.Histories {
		if len(h.Scans) != 1 || h.Scans[0].Status != "servfail" {
			t.Errorf("lookup with status=servfail: %+v", h)
			break
		}
	}
}

func testFleets(t *testing.T, f *fixture, ts *httptest.Server) {
	for _, c := range []struct{ scan, suffix string }{{labScan, ""}, {labScan, "fleet.example"}, {"", "security.fleet.example"}} {
		var got api.FleetsResponse
		getJSON(t, ts, "/api/v1/fleets?"+url.Values{"scan": {c.scan}, "suffix": {c.suffix}}.Encode(), "/api/v1/fleets", &got)
		cmd := jsonLines[analytics.Fleet](t, command(t, func(out *bytes.Buffer) error {
			return coordinator.Fleets(context.Background(), coordinator.FleetsConfig{ClickHouse: f.dsn, Scan: c.scan, Suffix: c.suffix, MinAddresses: 2, Format: "json"}, out)
		}))
		if !reflect.DeepEqual(got.Fleets, cmd) {
			t.Errorf("fleets of scan %q suffix %q:\n%+v\ncoordinator fleets:\n%+v", c.scan, c.suffix, got.Fleets, cmd)
		}
		// The scanner fleet: every scan-N name of the scans read.
		want := map[netip.Addr]bool{}
		for _, r := range f.where(func(r store.Record) bool {
			return (c.scan == "" || r.Scan == c.scan) && strings.HasPrefix(r.PTR, "scan-") && strings.HasSuffix(r.PTR, ".security.fleet.example")
		}) {
			want[r.IP] = true
		}
		i := slices.IndexFunc(got.Fleets, func(x analytics.Fleet) bool { return x.Template == "scan-#.security.fleet.example" })
		if i < 0 || got.Fleets[i].Addresses != len(want) || got.Fleets[i].Scanner == "" || !got.Routed || got.MinAddresses != 2 {
			t.Errorf("fleets of scan %q suffix %q = %+v; want the scanner template with %d addresses", c.scan, c.suffix, got, len(want))
		} else if !slices.Equal(got.Fleets[i].ASNs, []uint32{64496, 64497}) && c.scan != "" {
			t.Errorf("the lab's fleet template has ASNs %v, want [64496 64497]", got.Fleets[i].ASNs)
		}
	}
	var got api.FleetsResponse
	getJSON(t, ts, "/api/v1/fleets?scan=lab&min_addresses=100000", "/api/v1/fleets", &got)
	if got.Fleets == nil || len(got.Fleets) != 0 {
		t.Errorf("fleets with min_addresses=100000 = %+v, want an empty list", got.Fleets)
	}
}

func testDiff(t *testing.T, f *fixture, ts *httptest.Server) {
	var got api.DiffResponse
	getJSON(t, ts, "/api/v1/diff?from=lab&to=lab2&suffix=security.fleet.example", "/api/v1/diff", &got)
	want := []analytics.Change{}
	for _, c := range []struct{ ip, change string }{{lab2Renamed, analytics.Changed}, {lab2Gone, analytics.Disappeared}, {lab2New, analytics.Appeared}} {
		ip := netip.MustParseAddr(c.ip)
		names := func(scan string) []string {
			out := []string{}
			for _, r := range f.where(func(r store.Record) bool {
				return r.IP == ip && r.Scan == scan && hasSuffix(r.PTR, "security.fleet.example")
			}) {
				out = append(out, r.PTR)
			}
			return out
		}
		want = append(want, analytics.Change{IP: c.ip, Change: c.change, From: names(labScan), To: names(lab2Scan)})
	}
	slices.SortFunc(want, func(a, b analytics.Change) int {
		return netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP))
	})
	unchanged := 0 // every fleet address of the /24 but the three
	for _, a := range fleetAddrs(f) {
		if a.As4()[2] == 11 && a.String() != lab2Renamed && a.String() != lab2Gone && a.String() != lab2New {
			unchanged++
		}
	}
	if !reflect.DeepEqual(got.Changes, want) || got.Truncated ||
		got.Counts != (analytics.DiffCounts{Appeared: 1, Disappeared: 1, Changed: 1, Unchanged: unchanged}) {
		t.Errorf("diff lab lab2 = %+v\nwant changes %+v and %d unchanged", got, want, unchanged)
	}
	// Without a suffix, limited: the counts count every change, the list
	// is cut and says so; what it lists is what the command prints first.
	getJSON(t, ts, "/api/v1/diff?from=lab&to=lab2&limit=5", "/api/v1/diff", &got)
	lines := command(t, func(out *bytes.Buffer) error {
		return coordinator.Diff(context.Background(), coordinator.DiffConfig{ClickHouse: f.dsn, From: labScan, To: lab2Scan, Format: "json"}, out)
	})
	cmd := jsonLines[json.RawMessage](t, lines)
	var counts struct {
		Counts analytics.DiffCounts `json:"counts"`
	}
	_ = json.Unmarshal(cmd[len(cmd)-1], &counts)
	var first []analytics.Change
	for _, l := range cmd[:5] {
		var c analytics.Change
		_ = json.Unmarshal(l, &c)
		first = append(first, c)
	}
	if !got.Truncated || got.Limit != 5 || !reflect.DeepEqual(got.Changes, first) || got.Counts != counts.Counts || len(cmd)-1 <= 5 {
		t.Errorf("diff with limit=5 = %+v; want truncated, the command's first 5 changes and its counts %+v", got, counts.Counts)
	}
}

// testBounds checks the 422 of every endpoint that reads a whole result,
// on a server whose results hold at most 10 rows.
func testBounds(t *testing.T, f *fixture) {
	s, err := api.New(api.Config{Store: f.st, MaxResultRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	q := url.QueryEscape(fleetQuery)
	for _, p := range []struct{ path, pattern string }{
		{"/api/v1/ips/download?query=" + q, "/api/v1/ips/download"},
		{"/api/v1/groups?by=asn&query=" + q, "/api/v1/groups"},
		{"/api/v1/lookup/198.18.11.0/24", "/api/v1/lookup/{target}"},
		{"/api/v1/fleets?scan=lab", "/api/v1/fleets"},
		{"/api/v1/diff?from=lab&to=lab2", "/api/v1/diff"},
	} {
		code, b := call(t, ts, "GET", p.path, p.pattern, "", nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "10") || !strings.Contains(string(b), "max-result-rows") {
			t.Errorf("GET %s with 10 rows at most: %d %s; want 422 naming the bound", p.path, code, b)
		}
	}
	// A small enough result passes.
	if code, b := call(t, ts, "GET", "/api/v1/lookup/"+lab2Renamed, "/api/v1/lookup/{target}", "", nil); code != 200 {
		t.Errorf("lookup of one address with 10 rows at most: %d %s", code, b)
	}
}

// analyticsErrors are the 400 and 404 answers of the new endpoints.
var analyticsErrors = []struct {
	name, path, pattern string
	want                int
}{
	{"download: bad format", "/api/v1/ips/download?format=xml&query=asn%3D1", "/api/v1/ips/download", 400},
	{"download: bad query", "/api/v1/ips/download?query=asn%3D", "/api/v1/ips/download", 400},
	{"groups: no by", "/api/v1/groups?query=asn%3D1", "/api/v1/groups", 400},
	{"groups: bad by", "/api/v1/groups?by=provider&query=asn%3D1", "/api/v1/groups", 400},
	{"groups: bad query", "/api/v1/groups?by=asn&query=asn+%3D+%27x", "/api/v1/groups", 400},
	{"groups: bad format", "/api/v1/groups?by=asn&query=asn%3D1&format=xls", "/api/v1/groups", 400},
	{"lookup: host bits", "/api/v1/lookup/198.18.11.1/24", "/api/v1/lookup/{target}", 400},
	{"lookup: a name", "/api/v1/lookup/host.example", "/api/v1/lookup/{target}", 400},
	{"lookup: bad status", "/api/v1/lookup/198.18.11.1?status=bogus", "/api/v1/lookup/{target}", 400},
	{"lookup: unknown scan", "/api/v1/lookup/198.18.11.1?scan=nope", "/api/v1/lookup/{target}", 404},
	{"fleets: neither scan nor suffix", "/api/v1/fleets", "/api/v1/fleets", 400},
	{"fleets: bad min_addresses", "/api/v1/fleets?scan=lab&min_addresses=0", "/api/v1/fleets", 400},
	{"fleets: bad suffix", "/api/v1/fleets?suffix=..", "/api/v1/fleets", 400},
	{"fleets: unknown scan", "/api/v1/fleets?scan=nope", "/api/v1/fleets", 404},
	{"diff: no to", "/api/v1/diff?from=lab", "/api/v1/diff", 400},
	{"diff: same scans", "/api/v1/diff?from=lab&to=lab", "/api/v1/diff", 400},
	{"diff: bad limit", "/api/v1/diff?from=lab&to=lab2&limit=-1", "/api/v1/diff", 400},
	{"diff: bad suffix", "/api/v1/diff?from=lab&to=lab2&suffix=a..b", "/api/v1/diff", 400},
	{"diff: unknown scan", "/api/v1/diff?from=lab&to=nope", "/api/v1/diff", 404},
	{"POST on groups", "/api/v1/groups", "", 405},
}

func testAnalyticsErrors(t *testing.T, ts *httptest.Server) {
	for _, tt := range analyticsErrors {
		method := "GET"
		if tt.want == 405 {
			method = "POST"
		}
		code, b := call(t, ts, method, tt.path, tt.pattern, "", nil)
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(b, &e); code != tt.want || err != nil || e.Error == "" {
			t.Errorf("%s: status %d, body %s; want %d with a JSON error", tt.name, code, b, tt.want)
		}
	}
}
