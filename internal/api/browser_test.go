package api_test

// The browser test drives Debian's chromium headless with chromedp (test
// code only) against `coordinator serve`'s Run on loopback. Chromium may
// reach nothing but 127.0.0.1: background networking, updates, sync and
// QUIC are off, every host name resolves to nothing, and every request
// that is not loopback goes to a dead proxy.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/serve"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// fleetQuery is what the test types into the page.
const fleetQuery = "ptr_part = 'security.fleet.example'"

// outDir returns $PTRSWEEP_TEST_OUT/name (created) or a temporary
// directory, logged.
func outDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("PTRSWEEP_TEST_OUT"); base != "" {
		dir = filepath.Join(base, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// startServe runs serve.Run on a free loopback port until the test ends
// and returns its base URL.
func startServe(t *testing.T, dsn string, pageSize int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve.Run(ctx, serve.Config{Conn: coordinator.Conn{ClickHouse: dsn}, Listen: "127.0.0.1:0",
			API: api.Config{PageSize: pageSize}, Listening: func(a net.Addr) { addr <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve.Run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve.Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening in 30 s")
	}
	return ""
}

func testBrowser(t *testing.T, f *fixture) {
	path, err := exec.LookPath("chromium")
	testenv.Require(t, "chromium (apt-get install chromium)", err)
	base := startServe(t, f.dsn, 1000)
	dir := outDir(t, "serve-browser")

	// The API's count of the query.
	body, _ := json.Marshal(api.ListRequest{Query: fleetQuery})
	resp, err := http.Post(base+"/api/v1/ips/list", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var want api.ListResponse
	err = json.NewDecoder(resp.Body).Decode(&want)
	resp.Body.Close()
	if err != nil || want.RecordCount == 0 || want.RecordCount > 1000 {
		t.Fatalf("API: %v, record_count %d; want 1 to 1000 (one page)", err, want.RecordCount)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.WindowSize(1280, 1600),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	defer cancelT()

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("query")),
		chromedp.SendKeys(chromedp.ID("query"), fleetQuery),
		chromedp.Click(chromedp.CSS("#search-form button")),
		chromedp.WaitVisible(chromedp.ID("results")),
		chromedp.WaitVisible(chromedp.ID("map-img")),
	)
	if err != nil {
		t.Fatalf("search in the page: %v", err)
	}
	rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#results tbody tr').length`))
	summary := run(t, ctx, chromedp.Text(chromedp.ID("search-summary")))
	writeShot(t, dir, "search.png", run(t, ctx, chromedp.FullScreenshot(100)))
	if uint64(rows) != want.RecordCount {
		t.Errorf("page shows %d rows (%q), API record_count %d", rows, summary, want.RecordCount)
	}

	// The map: the /8 of the lab in outcome mode with the query
	// highlighted; a click zooms in; then the lab's /16.
	showView := func(v string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("view"), v),
			chromedp.Click(chromedp.CSS("#map-form button[type=submit]")),
		); err != nil {
			t.Fatalf("map view %s: %v", v, err)
		}
		waitMap(t, ctx, v)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("mode"), "outcome")); err != nil {
		t.Fatalf("map mode: %v", err)
	}
	showView("198.0.0.0/8")
	writeShot(t, dir, "map-slash8.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("map"))))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("map-img"))); err != nil {
		t.Fatalf("click the map: %v", err)
	}
	run(t, ctx, chromedp.Poll[bool](`document.getElementById('map-img').dataset.view !== '198.0.0.0/8'`, chromedp.WithPollingTimeout(20*time.Second)))
	zoomed := run(t, ctx, chromedp.Value(chromedp.ID("view")))
	if p, err := netip.ParsePrefix(zoomed); err != nil || p.Bits() != 12 || !netip.MustParsePrefix("198.0.0.0/8").Contains(p.Addr()) {
		t.Errorf("after a click on the /8 the view is %q, want a /12 inside 198.0.0.0/8", zoomed)
	}
	showView("198.18.0.0/16")
	writeShot(t, dir, "map-lab16.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("map"))))

	browseAnalytics(t, ctx, base, dir)
}

// browseAnalytics opens the grouping by provider of the query typed in
// before, a lookup, the fleets and a diff, and saves a CSV download.
func browseAnalytics(t *testing.T, ctx context.Context, base, dir string) {
	// The grouping by provider: the page shows the API's counts.
	resp, err := http.Get(base + "/api/v1/groups?by=asn&query=" + url.QueryEscape(fleetQuery))
	if err != nil {
		t.Fatal(err)
	}
	var groups struct {
		Addresses int                  `json:"addresses"`
		Groups    []analytics.ASNGroup `json:"groups"`
	}
	err = json.NewDecoder(resp.Body).Decode(&groups)
	resp.Body.Close()
	if err != nil || len(groups.Groups) < 2 {
		t.Fatalf("API groups: %v, %+v; want two providers or more", err, groups)
	}
	want := map[string]int{}
	for _, g := range groups.Groups {
		want[strings.TrimSpace(fmt.Sprintf("AS%d %s", g.ASN, g.ASName))] = g.Addresses // no name: "AS64500"
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("group-asn"))); err != nil {
		t.Fatalf("open the grouping by provider: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('group-summary').dataset.by === 'asn'`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({summary: document.getElementById('group-summary').textContent, error: document.getElementById('group-error').textContent})`))
		t.Fatalf("the grouping by provider is not shown: %v; page state %s", err, state)
	}
	shown := run(t, ctx, chromedp.Evaluate[map[string]int](`Object.fromEntries([...document.querySelectorAll('#group-table tbody tr')].map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]))`))
	if !reflect.DeepEqual(shown, want) {
		t.Errorf("the page's grouping by provider = %v, the API's %v", shown, want)
	}
	if q := run(t, ctx, chromedp.Evaluate[string](`document.getElementById('group-summary').dataset.query`)); q != fleetQuery {
		t.Errorf("the grouping is of %q, want the query typed, %q", q, fleetQuery)
	}
	writeShot(t, dir, "groups-provider.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("groups"))))
	for _, by := range []string{"netblock", "country"} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("group-"+by))); err != nil {
			t.Fatalf("open the grouping by %s: %v", by, err)
		}
		run(t, ctx, chromedp.Poll[bool](`document.getElementById('group-summary').dataset.by === '`+by+`'`, chromedp.WithPollingTimeout(20*time.Second)))
		total := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('#group-table tbody tr')].reduce((n, tr) => n + Number(tr.querySelector('td.num').textContent), 0)`))
		if total != groups.Addresses {
			t.Errorf("the grouping by %s shows %d addresses in all, the API %d", by, total, groups.Addresses)
		}
		writeShot(t, dir, "groups-"+by+".png", run(t, ctx, chromedp.Screenshot(chromedp.ID("groups"))))
	}

	// The CSV download of the whole result lands in the download folder
	// with every record.
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("dl-csv"))); err != nil {
		t.Fatalf("download: %v", err)
	}
	var csvRows int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && csvRows == 0; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(dl, "ptrsweep.csv")); err == nil {
			csvRows = bytes.Count(b, []byte("\n")) - 1
		}
	}
	if count := run(t, ctx, chromedp.Evaluate[int](`Number(document.getElementById('search-summary').dataset.count)`)); csvRows != count {
		t.Errorf("the CSV download holds %d records, the page says %d", csvRows, count)
	}

	// A lookup with history, the fleets of the lab scan, a diff.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("lookup-target"), "198.18.11.9"),
		chromedp.Click(chromedp.CSS("#lookup-form button")),
		chromedp.WaitVisible(chromedp.CSS("#lookup-results .history")),
	); err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#lookup-results .history tbody tr').length`)); n != 2 {
		t.Errorf("the lookup of 198.18.11.9 shows %d scan rows, want 2 (lab, lab2)", n)
	}
	writeShot(t, dir, "lookup.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("lookup"))))
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("fleets-scan"), labScan),
		chromedp.Click(chromedp.CSS("#fleets-form button")),
		chromedp.WaitVisible(chromedp.CSS("#fleets-table tbody tr")),
	); err != nil {
		t.Fatalf("fleets: %v", err)
	}
	writeShot(t, dir, "fleets.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("fleets"))))
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("diff-from"), labScan),
		chromedp.SetValue(chromedp.ID("diff-to"), lab2Scan),
		chromedp.SendKeys(chromedp.ID("diff-suffix"), "security.fleet.example"),
		chromedp.Click(chromedp.CSS("#diff-form button")),
		chromedp.WaitVisible(chromedp.CSS("#diff-table tbody tr")),
	); err != nil {
		t.Fatalf("diff: %v", err)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#diff-table tbody tr').length`)); n != 3 {
		t.Errorf("the diff of lab and lab2 under security.fleet.example shows %d changes, want 3", n)
	}
	writeShot(t, dir, "diff.png", run(t, ctx, chromedp.Screenshot(chromedp.ID("diff"))))
	writeShot(t, dir, "page.png", run(t, ctx, chromedp.FullScreenshot(100)))
}

// waitMap waits until the page shows the map of view v, loaded.
func waitMap(t *testing.T, ctx context.Context, v string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.getElementById('map-img'); return i.dataset.view === '`+v+`' && i.complete && i.naturalWidth > 0; })()`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const i = document.getElementById('map-img'); return JSON.stringify({view: i.dataset.view, complete: i.complete, w: i.naturalWidth, input: document.getElementById('view').value, error: document.getElementById('search-error').textContent}); })()`))
		t.Fatalf("map of %s not shown: %v; page state %s", v, err, state)
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

// run runs one browser action and returns its value; an error ends the
// test.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

func writeShot(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Errorf("screenshot %s is empty", name)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
