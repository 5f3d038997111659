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
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
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
