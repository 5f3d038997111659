package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/serve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/telemetry"
)

const testPageSize = 50

// newServer returns an httptest server of the API over f with token (may
// be empty).
func newServer(t *testing.T, f *fixture, token string) *httptest.Server {
	t.Helper()
	tel, err := telemetry.NewServer(telemetry.ServerConfig{Addr: "127.0.0.1:0", Metrics: telemetry.NewMetrics(telemetry.MetricsConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.AddCheck("clickhouse", f.st.Ping); err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Config{Store: f.st, Status: serve.NewStatusReader(f.st, nil), Telemetry: tel.Handler(),
		Token: token, PageSize: testPageSize})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// call sends a request and returns the status and body; a JSON answer is
// checked against the OpenAPI schema of its path, method and status.
func call(t *testing.T, ts *httptest.Server, method, path, pattern, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && pattern != "" {
		checkResponse(t, pattern, method, resp.StatusCode, b)
	}
	return resp.StatusCode, b
}

func list(t *testing.T, ts *httptest.Server, q string, page int) (int, api.ListResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(api.ListRequest{Query: q, Page: page})
	code, b := call(t, ts, "POST", "/api/v1/ips/list", "/api/v1/ips/list", "", bytes.NewReader(body))
	var out api.ListResponse
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("list %q: %v: %s", q, err, b)
		}
	}
	return code, out, b
}

func TestAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps a /20 of the lab into ClickHouse")
	}
	f := newFixture(t)
	ts := newServer(t, f, "")
	t.Run("QueryForms", func(t *testing.T) { testQueryForms(t, f, ts) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, f, ts) })
	t.Run("Scans", func(t *testing.T) { testScans(t, ts) })
	t.Run("Map", func(t *testing.T) { testMap(t, f, ts) })
	t.Run("Others", func(t *testing.T) { testOthers(t, ts) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, f, ts) })
	t.Run("Download", func(t *testing.T) { testDownload(t, f, ts) })
	t.Run("Lookup", func(t *testing.T) { testLookup(t, f, ts) })
	t.Run("Fleets", func(t *testing.T) { testFleets(t, f, ts) })
	t.Run("Diff", func(t *testing.T) { testDiff(t, f, ts) })
	t.Run("Bounds", func(t *testing.T) { testBounds(t, f) })
	t.Run("AnalyticsErrors", func(t *testing.T) { testAnalyticsErrors(t, ts) })
	t.Run("Browser", func(t *testing.T) { testBrowser(t, f) })
}

func testQueryForms(t *testing.T, f *fixture, ts *httptest.Server) {
	in := func(p string) func(store.Record) bool {
		pfx := netip.MustParsePrefix(p)
		return func(r store.Record) bool { return pfx.Contains(r.IP) }
	}
	tests := []struct {
		query string
		keep  func(store.Record) bool
	}{
		{"ptr_part = 'security.fleet.example'", func(r store.Record) bool { return hasSuffix(r.PTR, "security.fleet.example") }},
		{"ptr_part = 'FLEET.example'", func(r store.Record) bool { return hasSuffix(r.PTR, "fleet.example") }},
		{"ptr = 'security.fleet.example'", func(r store.Record) bool { return r.PTR == "security.fleet.example" }},
		{"ip = '198.18.11.1'", func(r store.Record) bool { return r.IP == netip.MustParseAddr("198.18.11.1") }},
		{"ip in '198.18.3.0/24'", in("198.18.3.0/24")},
		{"ip not in '198.18.0.0/21' AND status != 'nxdomain'", func(r store.Record) bool {
			return !in("198.18.0.0/21")(r) && r.Status != sweep.StatusNXDomain
		}},
		{"asn = 64500", func(r store.Record) bool { return r.ASN == 64500 }},
		{"asn = 'AS64501'", func(r store.Record) bool { return r.ASN == 64501 }},
		{"country = 'jp'", func(r store.Record) bool { return r.Country == "JP" }},
		{"fcrdns = 'mismatch'", func(r store.Record) bool { return r.FCrDNS == sweep.FCrDNSMismatch }},
		{"status = 'servfail'", func(r store.Record) bool { return r.Status == sweep.StatusServFail }},
		{"scan = 'enriched'", func(r store.Record) bool { return r.Scan == enrichedScan }},
		{"ptr_part = 'fleet.example' AND (status = 'ok' OR fcrdns = 'mismatch')", func(r store.Record) bool {
			return hasSuffix(r.PTR, "fleet.example") && (r.Status == sweep.StatusOK || r.FCrDNS == sweep.FCrDNSMismatch)
		}},
		{"ptr_part != 'lab.example' and scan = 'lab' or country = 'DE'", func(r store.Record) bool {
			return !hasSuffix(r.PTR, "lab.example") && r.Scan == labScan || r.Country == "DE"
		}},
	}
	for _, tt := range tests {
		want := f.where(tt.keep)
		if len(want) == 0 {
			t.Errorf("%q: the fixture has no matching row; the test would prove nothing", tt.query)
			continue
		}
		var got []api.Record
		var count uint64
		for page := 1; ; page++ {
			code, res, b := list(t, ts, tt.query, page)
			if code != http.StatusOK {
				t.Fatalf("%q page %d: status %d: %s", tt.query, page, code, b)
			}
			count = res.RecordCount
			got = append(got, res.Records...)
			if page >= res.Meta.MaxPage || page > 200 {
				break
			}
		}
		if count != uint64(len(want)) || len(got) != len(want) {
			t.Errorf("%q: record_count %d, %d records over the pages; want %d", tt.query, count, len(got), len(want))
			continue
		}
		for i, w := range want {
			g := got[i]
			if g.IP != w.IP.String() || g.PTR != w.PTR || g.Scan != w.Scan || g.Status != w.Status.String() ||
				g.FCrDNS != w.FCrDNS.String() || g.ASN != w.ASN || g.Country != w.Country {
				t.Errorf("%q: record %d = %+v, want %v %q %s %s %s AS%d %q", tt.query, i, g, w.IP, w.PTR, w.Scan, w.Status, w.FCrDNS, w.ASN, w.Country)
				break
			}
		}
	}
	// The page past the end is empty but counts; meta is canonical.
	_, res, _ := list(t, ts, "PTR_PART = 'security.fleet.example'", 1000)
	if len(res.Records) != 0 || res.RecordCount == 0 || res.Meta.Page != 1000 || res.Meta.Query != "ptr_part = 'security.fleet.example'" {
		t.Errorf("page 1000: %d records, count %d, meta %+v; want none, the count, page 1000, the canonical query", len(res.Records), res.RecordCount, res.Meta)
	}
}

func testErrors(t *testing.T, f *fixture, ts *httptest.Server) {
	tests := []struct {
		name, method, path, pattern, body string
		want                              int
	}{
		{"bad query", "POST", "/api/v1/ips/list", "/api/v1/ips/list", `{"query": "ptr_part = "}`, 400},
		{"unknown field", "POST", "/api/v1/ips/list", "/api/v1/ips/list", `{"query": "asn = 1", "limit": 5}`, 400},
		{"empty body", "POST", "/api/v1/ips/list", "/api/v1/ips/list", ``, 400},
		{"negative page", "POST", "/api/v1/ips/list", "/api/v1/ips/list", `{"query": "asn = 1", "page": -1}`, 400},
		{"huge body", "POST", "/api/v1/ips/list", "/api/v1/ips/list", `{"query": "` + strings.Repeat("a", api.MaxBodyBytes) + `"}`, 413},
		{"GET on list", "GET", "/api/v1/ips/list", "", ``, 405},
		{"POST on scans", "POST", "/api/v1/scans", "", ``, 405},
		{"unknown scan", "GET", "/api/v1/scans/nope", "/api/v1/scans/{name}", ``, 404},
		{"unknown path", "GET", "/api/v1/nothing", "", ``, 404},
		{"bad view", "GET", "/api/v1/map.png?view=10.0.0.1/8", "/api/v1/map.png", ``, 400},
		{"too narrow view", "GET", "/api/v1/map.png?view=10.0.0.0/24", "/api/v1/map.png", ``, 400},
		{"bad mode", "GET", "/api/v1/map.png?mode=heat", "/api/v1/map.png", ``, 400},
		{"bad map query", "GET", "/api/v1/map.png?query=asn%3D", "/api/v1/map.png", ``, 400},
		{"bad pixel", "GET", "/api/v1/map/block?view=10.0.0.0/8&x=999&y=0&bits=12", "/api/v1/map/block", ``, 400},
	}
	for _, tt := range tests {
		code, b := call(t, ts, tt.method, tt.path, tt.pattern, "", strings.NewReader(tt.body))
		if code != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, code, tt.want, b)
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			t.Errorf("%s: body %s: want a JSON error", tt.name, b)
		}
	}
	// A bad query names the position and what was expected.
	_, b := call(t, ts, "POST", "/api/v1/ips/list", "/api/v1/ips/list", "", strings.NewReader(`{"query": "ptr_part = 'a.example' AND"}`))
	var e struct {
		Position int    `json:"position"`
		Expected string `json:"expected"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Position != 27 || e.Expected == "" {
		t.Errorf("bad query answer %s: want position 27 (the end) and what was expected", b)
	}
	// 401 without the token, 200 with it; the page and health stay open.
	tok := newServer(t, f, "s3cret")
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/scans", "", 401}, {"/api/v1/scans", "wrong", 401}, {"/api/v1/scans", "s3cret", 200},
		{"/metrics", "", 401}, {"/", "", 200}, {"/healthz", "", 200},
	} {
		if code, b := call(t, tok, "GET", c.path, "", c.token, nil); code != c.want {
			t.Errorf("token server GET %s with %q: status %d, want %d: %s", c.path, c.token, code, c.want, b)
		}
	}
}

func testScans(t *testing.T, ts *httptest.Server) {
	code, b := call(t, ts, "GET", "/api/v1/scans", "/api/v1/scans", "", nil)
	var all api.ScansResponse
	if err := json.Unmarshal(b, &all); code != 200 || err != nil {
		t.Fatalf("GET /api/v1/scans: %d %v: %s", code, err, b)
	}
	if all.Total != 2 || len(all.Scans) != 2 || all.Scans[0].Name != lab2Scan || all.Scans[1].Name != labScan {
		t.Fatalf("scans = %+v, want lab2 and lab, newest first", all)
	}
	code, b = call(t, ts, "GET", "/api/v1/scans/"+labScan, "/api/v1/scans/{name}", "", nil)
	var s api.ScanStatus
	if err := json.Unmarshal(b, &s); code != 200 || err != nil {
		t.Fatalf("GET scan: %d %v: %s", code, err, b)
	}
	if !s.Complete || s.State != "complete" || s.Units != 16 || s.UnitsDone != 16 || s.Addresses != 4096 || s.AddressesDone != 4096 ||
		s.Published == nil || !s.Published.Done || s.ETASeconds != nil {
		t.Errorf("scan status = %+v; want complete, 16 units and 4096 addresses done, all published, no ETA", s)
	}
	if s.Outcomes.Addresses() != 4096 || s.Outcomes.ServFail == 0 || s.Outcomes.Timeout == 0 {
		t.Errorf("outcomes = %+v; want 4096 addresses with servfail and timeout among them", s.Outcomes)
	}
}

func testMap(t *testing.T, f *fixture, ts *httptest.Server) {
	get := func(path string) (*http.Response, []byte) {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, c := range []struct {
		view        string
		w, h, pixel int
	}{
		{"0.0.0.0/0", 1024, 1024, 20}, {"198.0.0.0/8", 256, 256, 24}, {"198.18.0.0/16", 16, 16, 24},
	} {
		for _, mode := range []string{"density", "outcome"} {
			path := "/api/v1/map.png?view=" + c.view + "&mode=" + mode + "&query=" + strings.ReplaceAll("ptr_part = 'security.fleet.example'", " ", "+")
			resp, b := get(path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if got := img.Bounds().Size(); got.X != c.w || got.Y != c.h {
				t.Errorf("%s: image %v, want %dx%d", path, got, c.w, c.h)
			}
			// The fleet /24 is highlighted: its pixel is magenta.
			var magenta int
			for y := 0; y < c.h; y++ {
				for x := 0; x < c.w; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					if r>>8 == 0xff && g>>8 == 0 && bl>>8 == 0xff {
						magenta++
					}
				}
			}
			if magenta != len(fleetPixels(f, c.pixel)) {
				t.Errorf("%s: %d magenta pixels, want %d (the pixels of the fleet's /24s)", path, magenta, len(fleetPixels(f, c.pixel)))
			}
			if resp.Header.Get("X-Map-Cache") != "miss" {
				t.Errorf("%s: first request X-Map-Cache %q, want miss", path, resp.Header.Get("X-Map-Cache"))
			}
			if resp, _ := get(path); resp.Header.Get("X-Map-Cache") != "hit" {
				t.Errorf("%s: second request X-Map-Cache %q, want hit", path, resp.Header.Get("X-Map-Cache"))
			}
		}
	}
	// Clicking the /16 view's pixel of the fleet /24 zooms to it.
	code, b := call(t, ts, "GET", "/api/v1/map/block?view=198.18.0.0/16&x=0&y=0&bits=16", "/api/v1/map/block", "", nil)
	var blk api.BlockResponse
	if err := json.Unmarshal(b, &blk); code != 200 || err != nil || !strings.HasPrefix(blk.Pixel, "198.18.") || blk.Zoom != "198.18.0.0/16" {
		t.Errorf("block: %d %s", code, b)
	}
}

// fleetPixels returns the distinct blocks of length bits holding rows of
// security.fleet.example.
func fleetPixels(f *fixture, bits int) map[netip.Prefix]bool {
	out := map[netip.Prefix]bool{}
	for _, r := range f.where(func(r store.Record) bool { return hasSuffix(r.PTR, "security.fleet.example") }) {
		out[netip.PrefixFrom(r.IP, bits).Masked()] = true
	}
	return out
}

func testOthers(t *testing.T, ts *httptest.Server) {
	for _, c := range []struct{ path, pattern, contains string }{
		{"/api/v1/map/legend?mode=outcome", "/api/v1/map/legend", "servfail"},
		{"/api/v1/openapi.json", "/api/v1/openapi.json", `"openapi"`},
		{"/", "", "ptrsweep"},
		{"/static/app.js", "", "/api/v1/ips/list"},
		{"/metrics", "", "go_goroutines"},
		{"/healthz", "", "ok"},
		{"/readyz", "", "ok"},
	} {
		code, b := call(t, ts, "GET", c.path, c.pattern, "", nil)
		if code != 200 || !strings.Contains(string(b), c.contains) {
			t.Errorf("GET %s: %d, body without %q: %.200s", c.path, code, c.contains, b)
		}
	}
}

// checkResponse checks a JSON answer against the required fields of the
// OpenAPI schema of (pattern, method, code).
func checkResponse(t *testing.T, pattern, method string, code int, body []byte) {
	t.Helper()
	doc := openAPIDoc(t)
	op, ok := doc.path(pattern)[strings.ToLower(method)].(map[string]any)
	if !ok {
		t.Errorf("%s %s: not documented", method, pattern)
		return
	}
	resp, ok := op["responses"].(map[string]any)[fmt.Sprint(code)].(map[string]any)
	if !ok {
		t.Errorf("%s %s: status %d not documented", method, pattern, code)
		return
	}
	schema := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: %v", method, pattern, err)
		return
	}
	doc.check(t, method+" "+pattern, schema, v)
}
