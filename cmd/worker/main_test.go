package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

func runCmd(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--clickhouse", "clickhouse://127.0.0.1:1/x"}, "--nats is required"},
		{"", []string{"--nats", "nats://127.0.0.1:1", "--clickhouse", "http://x"}, "--clickhouse"},
		{"", []string{"--nats", "nats://127.0.0.1:1", "--resolvers", "nonsense"}, "--resolvers"},
		{"", []string{"--nats", "nats://127.0.0.1:1", "--exclude-file", "/nonexistent"}, "--exclude-file"},
		{"", []string{"--nats", "nats://127.0.0.1:1", "--units", "0", "--resolvers", "127.0.0.1"}, "--units"},
		{"", []string{"--nats", "nats://127.0.0.1:1", "--asn-refresh", "0s", "--resolvers", "127.0.0.1"}, "--asn-refresh 0s"},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--bogus"}, "bogus"},
		{"198.18.0.0/33\n", []string{"resolve", "--resolvers", "127.0.0.1:1"}, "input:1"},
		{"# comment\n10.1.2.0/24\n", []string{"resolve", "--resolvers", "127.0.0.1:1"}, "input:2: 10.1.2.0/24 overlaps reserved"},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--units", "0"}, "--units 0"},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--batch", "10"}, "--batch 10"},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--format", "table"}, "--format \"table\""},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--input", "/nonexistent"}, "--input: open /nonexistent"},
		{"", []string{"resolve", "--resolvers", "127.0.0.1:1", "--output", "/nonexistent/x"}, "--output: open /nonexistent/x"},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(tt.stdin, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("worker %q: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
		if !strings.HasPrefix(tt.args[0], "resolve") && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("worker %q: stderr has several lines: %q", tt.args, stderr)
		}
	}
}

func startLab(t *testing.T) (*lab.Lab, string) {
	l, srv := labtest.Start(t)
	return l, srv.Addr()
}

// TestResolveCommand runs the engine alone over a few lab /24s and checks
// every output row against the lab's truth.
func TestResolveCommand(t *testing.T) {
	l, addr := startLab(t)
	in := "198.18.0.0/24\n198.18.3.0/24 # multi\n198.18.4.0/23\n198.18.10.7\n198.18.11.0/26\n"
	code, out, stderr := runCmd(in, "resolve", "--resolvers", addr, "--allow-reserved", "--confirm", "--qps", "0", "--scan", "cli")
	if code != 0 {
		t.Fatalf("worker resolve: exit %d: %s", code, stderr)
	}
	want := map[string]bool{}
	var blocks []netip.Prefix
	for _, s := range []string{"198.18.0.0/24", "198.18.3.0/24", "198.18.4.0/23", "198.18.10.7/32", "198.18.11.0/26"} {
		blocks = append(blocks, netip.MustParsePrefix(s))
	}
	for _, p := range blocks {
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			for _, r := range sweep.Rows(nil, sweep.Unit{Scan: "cli"}, l.Expect(a).Result(a)) {
				want[key(r.IP.String(), r.PTR, r.Status.String(), r.FCrDNS.String())] = true
			}
		}
	}
	got := map[string]bool{}
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ IP, PTR, Status, FCrDNS, Scan string }
		if err := json.Unmarshal([]byte(ln), &r); err != nil {
			t.Fatalf("row %q: %v", ln, err)
		}
		if r.Scan != "cli" {
			t.Errorf("row %q: scan %q, want cli", ln, r.Scan)
		}
		k := key(r.IP, r.PTR, r.Status, r.FCrDNS)
		if got[k] {
			t.Errorf("duplicate row %s", k)
		}
		got[k] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing row %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("extra row %s", k)
		}
	}
	if !strings.Contains(stderr, "worker resolve: 1089 addresses") {
		t.Errorf("summary line: %q", stderr)
	}
}

// TestResolveCommandForms runs a gzip list of every input form, with
// duplicates and out of order, to a massdns file, and checks the lines
// against the lab's truth: every answer of every address, none lost.
func TestResolveCommandForms(t *testing.T) {
	l, addr := startLab(t)
	dir := t.TempDir()
	list := "# from a firewall log\n198.18.3.7\n7.3.18.198.in-addr.arpa.\n198.18.0.0/25\n198.18.10.1-198.18.10.9\n" +
		"0.18.198.IN-ADDR.ARPA\n198.18.3.7\n"
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(list))
	zw.Close()
	in, out := filepath.Join(dir, "list.gz"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("", "resolve", "--resolvers", addr, "--allow-reserved", "--qps", "0",
		"--input", in, "--output", out, "--format", "massdns", "--batch", "256", "--units", "2")
	if code != 0 || stdout != "" {
		t.Fatalf("worker resolve: exit %d, stdout %q: %s", code, stdout, stderr)
	}
	want := map[string]bool{}
	for _, p := range []string{"198.18.3.7/32", "198.18.0.0/24", "198.18.10.0/28"} {
		pp := netip.MustParsePrefix(p)
		for a := pp.Addr(); pp.Contains(a); a = a.Next() {
			if p == "198.18.10.0/28" && (a.As4()[3] < 1 || a.As4()[3] > 9) {
				continue
			}
			for _, r := range sweep.Rows(nil, sweep.Unit{}, l.Expect(a).Result(a)) {
				if r.Status == sweep.StatusOK {
					want[sweep.ReverseName(a)+" PTR "+strings.TrimSuffix(r.PTR, ".")+"."] = true // the root stays "."
				}
			}
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ln := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		got[ln]++
	}
	for k := range want {
		if got[k] == 0 {
			t.Errorf("missing line %q", k)
		}
	}
	for k, n := range got {
		if !want[k] {
			t.Errorf("extra line %q", k)
		}
		// 198.18.3.7 is given three times, 198.18.0.0/25 twice.
		if n > 3 {
			t.Errorf("line %q written %d times", k, n)
		}
	}
	if len(want) == 0 {
		t.Fatal("the lab gave no PTR for these addresses")
	}
}

// TestResolveCommandBadLine checks that a bad line stops worker resolve with
// exit 2 naming the line, after the rows of the lines before it.
func TestResolveCommandBadLine(t *testing.T) {
	l, addr := startLab(t)
	code, out, stderr := runCmd("198.18.0.0/24\n198.18.3.7\n198.18.3.300\n198.18.4.0/24\n", "resolve", "--resolvers", addr, "--allow-reserved", "--qps", "0", "--quiet")
	if code != 2 || !strings.HasPrefix(stderr, "worker resolve: input:3: \"198.18.3.300\" is not an IPv4 address") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 2 and one line naming input:3", code, stderr)
	}
	want := 0
	for _, a := range append(addrs(netip.MustParsePrefix("198.18.0.0/24")), netip.MustParseAddr("198.18.3.7")) {
		want += len(sweep.Rows(nil, sweep.Unit{}, l.Expect(a).Result(a)))
	}
	if got := strings.Count(out, "\n"); got != want || strings.Contains(out, `"198.18.4.`) {
		t.Errorf("%d rows written, want the %d rows of the two lines before the bad one", got, want)
	}
}

func addrs(p netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for a := p.Addr(); p.Contains(a); a = a.Next() {
		out = append(out, a)
	}
	return out
}

func key(fields ...string) string { return strings.Join(fields, " ") }

// TestWorkerCommand runs the distributed path: a scan published to a
// JetStream server, the worker command with --exit-when-idle, then status;
// every stored row carries the AS and country of the IP-to-ASN table
// stored before the worker started.
func TestWorkerCommand(t *testing.T) {
	_, addr := startLab(t)
	dsn := storetest.DSN(t)
	emb, _ := publishScan(t, "dist", dsn)
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tab, _, err := enrich.LoadFile("../../internal/enrich/testdata/lab-asn.txt", enrich.FormatLocation)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveASNTable(ctx, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "lab-asn.txt", "location", tab); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, _, stderr := runCmd("", "--nats", emb.URL(), "--clickhouse", dsn, "--resolvers", addr, "--timeout", "300ms",
		"--exit-when-idle", "--flush-interval", "50ms", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("worker: exit %d: %s", code, stderr)
	}
	err = coordinator.Status(ctx, coordinator.StatusConfig{Conn: coordinator.Conn{Queue: queue.Config{URL: emb.URL()}, ClickHouse: dsn}, Scan: "dist", Wait: true}, &out)
	if err != nil || !strings.Contains(out.String(), "4 done, 0 pending, 0 failed") || !strings.Contains(out.String(), "addresses: 1024 of 1024") {
		t.Errorf("status after the worker exited: %v\n%s", err, out.String())
	}
	routes := map[string]int{}
	q := store.AddressQuery{First: netip.MustParseAddr("198.18.0.0"), Last: netip.MustParseAddr("198.18.3.255"), Scan: "dist"}
	err = st.LookupRows(ctx, q, func(r sweep.Row) error { routes[fmt.Sprintf("%d %s", r.ASN, r.Country)]++; return nil })
	if err != nil || len(routes) != 1 || routes["64500 JP"] == 0 {
		t.Errorf("stored routes of the scan's rows = %v (%v), want every row 64500 JP", routes, err)
	}
}
