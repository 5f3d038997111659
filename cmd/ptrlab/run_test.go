package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args     []string
		want     int
		inStderr string
	}{
		{nil, exitUsage, "usage:"},
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{[]string{"serve", "--listen", "0.0.0.0:5353"}, exitUsage, "127.0.0.0/8"},
		{[]string{"serve", "--listen", "192.0.2.1:53"}, exitUsage, "127.0.0.0/8"},
		{[]string{"serve", "--listen", "[::1]:53"}, exitUsage, "127.0.0.0/8"},
		{[]string{"truth", "--space", "198.18.0.0/24"}, exitUsage, "/16"},
		{[]string{"truth", "--space", "nonsense"}, exitUsage, "--space"},
		{[]string{"zones"}, exitUsage, "--dir is required"},
		{[]string{"truth", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"help"}, exitOK, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		got := run(context.Background(), tt.args, &stdout, &stderr)
		if got != tt.want {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.want, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.inStderr) {
			t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.inStderr)
		}
	}
}

func TestTruth(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"truth", "--confirm"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("run truth = %d, stderr %q", code, stderr.String())
	}
	counts := map[string]int{}
	fcrdns := map[string]int{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	var first truthRow
	for n := 0; sc.Scan(); n++ {
		var r truthRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d %q: %v", n+1, sc.Text(), err)
		}
		if n == 0 {
			first = r
		}
		counts[r.Status]++
		fcrdns[r.FCrDNS]++
		if (r.Status == "ok") != (r.PTR != "") {
			t.Errorf("row %+v: want a PTR exactly when status is ok", r)
		}
	}
	if want := (truthRow{IP: "198.18.0.0", PTR: "h-198-18-0-0.dense.lab.example", Status: "ok", TTL: 3600, FCrDNS: first.FCrDNS}); first != want {
		t.Errorf("first row = %+v, want %+v", first, want)
	}
	if counts["nxdomain"] != 0 {
		t.Errorf("%d nxdomain rows, want none", counts["nxdomain"])
	}
	for _, s := range []string{"ok", "nodata", "servfail", "refused", "timeout"} {
		if counts[s] == 0 {
			t.Errorf("no row with status %s", s)
		}
	}
	for _, f := range []string{"confirmed", "mismatch", "no_address", "error", "numeric"} {
		if fcrdns[f] == 0 {
			t.Errorf("no row with fcrdns %s", f)
		}
	}

	stdout.Reset()
	if code := run(context.Background(), []string{"truth", "--recursive"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("run truth --recursive = %d, stderr %q", code, stderr.String())
	}
	if s := stdout.String(); strings.Contains(s, `"timeout"`) || strings.Contains(s, `"refused"`) || strings.Contains(s, `"confirmed"`) {
		t.Error("truth --recursive has timeout, refused or fcrdns rows, want none")
	}
}

func TestZones(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"zones", "--dir", dir, "--space", "10.9.0.0/16"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("run zones = %d, stderr %q", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "9.10.in-addr.arpa.\t") {
		t.Fatalf("zones output = %q, want 4 lines starting with the reverse zone", lines)
	}
	for _, line := range lines {
		path := strings.SplitN(line, "\t", 2)[1]
		if filepath.Dir(path) != dir {
			t.Errorf("zone file %s not in %s", path, dir)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("zone file %s: %v, size %v", path, err, st)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of run and
// the reads of the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveAt runs `ptrlab args…` until ctx ends and returns the address its
// banner (matched by re, one group) names, and the channel of its exit code.
func serveAt(t *testing.T, ctx context.Context, args []string, re *regexp.Regexp, stdout, stderr *lockedBuffer) (string, <-chan int) {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdout, stderr) }()
	for {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], done
		}
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	addr, done := serveAt(t, ctx, []string{"serve", "--listen", "127.0.0.1:0"},
		regexp.MustCompile(`serving 198\.18\.0\.0/16 on (127\.0\.0\.1:\d+)`), &stdout, &stderr)
	cl := labtest.Client{Addr: addr}
	r, err := cl.Exchange(ctx, "1.0.18.198.in-addr.arpa.", dns.TypePTR)
	if err != nil {
		t.Fatalf("query the served lab: %v", err)
	}
	if len(r.Answer) != 1 {
		t.Errorf("answer = %v, want one PTR", r.Answer)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exited with %d after cancel, want 0 (stderr %q)", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "stopped after 1 queries") {
		t.Errorf("stdout = %q, want the query count", stdout.String())
	}
}

func TestServeInternet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	addr, done := serveAt(t, ctx, []string{"serve", "--internet", "--listen", "127.0.0.1:0"},
		regexp.MustCompile(`serving the synthetic Internet on (127\.0\.0\.1:\d+)`), &stdout, &stderr)
	// An address of public space, answered as the truth says.
	ip := netip.MustParseAddr("8.1.2.3")
	got, err := labtest.Client{Addr: addr}.Lookup(ctx, ip, false)
	if err != nil {
		t.Fatalf("query the served Internet: %v", err)
	}
	if want := lab.InternetExpect(ip); got.Status != want.Status || !slices.Equal(got.PTRs, want.PTRs) {
		t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exited with %d after cancel, want 0 (stderr %q)", code, stderr.String())
	}
}
