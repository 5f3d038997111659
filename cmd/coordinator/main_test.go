package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labtest"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestUsageErrors checks that bad input is one line on stderr naming what
// was wrong, with exit status 2, before anything is contacted.
func TestUsageErrors(t *testing.T) {
	excl := filepath.Join(t.TempDir(), "excl.txt")
	if err := os.WriteFile(excl, []byte("# blocklist\n198.51.100.0/24\nnot-a-cidr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const lab = "--resolvers=127.0.0.1:1"
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"sweep", lab}, "--cidr is required"},
		{[]string{"sweep", lab, "--cidr", "198.51.100.7/22"}, "host bits set"},
		{[]string{"sweep", lab, "--cidr", "2001:db8::/32"}, "not IPv4"},
		{[]string{"sweep", lab, "--cidr", "300.1.2.3/8"}, `"300.1.2.3/8"`},
		{[]string{"sweep", lab, "--cidr", "198.51.100.0/24"}, "--allow-reserved"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--unit-prefix", "40"}, "unit"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--exclude", "8.8.8.0/33"}, "--exclude"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--exclude-file", excl}, "excl.txt:3"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--exclude-file", "/nonexistent/file"}, "--exclude-file"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--scan", "Bad Name!"}, "scan"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--workers", "0"}, "--workers"},
		{[]string{"sweep", "--resolvers", "not an address", "--cidr", "8.8.8.0/24"}, "--resolvers"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--clickhouse", "mysql://x"}, "--clickhouse"},
		{[]string{"search", "--suffix", "a.example", "--clickhouse", "clickhouse://w:s3cret@127.0.0.1/db"}, "PTRSWEEP_CLICKHOUSE"},
		{[]string{"retry", "--scan", "x", "--nats", "nats://u:s3cret@127.0.0.1:1"}, "PTRSWEEP_NATS"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--qps", "-1"}, "--qps"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--bogus"}, "bogus"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "stray"}, `unexpected argument "stray"`},
		{[]string{"publish", "--cidr", "8.8.8.0/24"}, "--nats is required"},
		{[]string{"publish", "--cidr", "8.8.8.0/24", "--nats", "nats://127.0.0.1:1", "--max-pending", "-1"}, "--max-pending -1"},
		{[]string{"sweep", lab, "--cidr", "8.8.8.0/24", "--max-pending", "-5"}, "--max-pending -5"},
		{[]string{"status"}, "--scan is required"},
		{[]string{"status", "--scan", "x", "--watch", "--wait"}, "exclude each other"},
		{[]string{"search"}, "--suffix is required"},
		{[]string{"search", "--suffix", "a.example", "--format", "xml"}, "--format"},
		{[]string{"search", "--suffix", "a.example", "--group", "city"}, "--group"},
		{[]string{"export"}, "--scan is required"},
		{[]string{"export", "--scan", "x", "--format", "csv"}, "--format"},
		{[]string{"retry", "--scan", "x"}, "--nats"},
		{[]string{"asn"}, "load FILE or list"},
		{[]string{"asn", "frob"}, `unknown subcommand "frob"`},
		{[]string{"asn", "load"}, "give the IP-to-ASN file"},
		{[]string{"asn", "load", "/nonexistent/asn.txt"}, "/nonexistent/asn.txt"},
		{[]string{"asn", "load", "x.txt", "--format", "csv"}, "--format"},
		{[]string{"asn", "load", "x.txt", "--version", "2026-13-01"}, "--version"},
		{[]string{"asn", "load", "a.txt", "b.txt"}, `unexpected argument "b.txt"`},
		{[]string{"search", "--suffix", "a.example", "--status", "fine"}, "--status"},
		{[]string{"search", "--suffix", "a.example", "--fcrdns", "maybe"}, "--fcrdns"},
		{[]string{"export", "--scan", "x", "--fcrdns", "maybe"}, "--fcrdns"},
		{[]string{"lookup"}, "give an IPv4 address or CIDR"},
		{[]string{"lookup", "host.example"}, `"host.example" is not an IPv4 address`},
		{[]string{"lookup", "139.162.1.0/16"}, "did you mean 139.162.0.0/16"},
		{[]string{"lookup", "139.162.77.6", "--format", "xml"}, "--format"},
		{[]string{"lookup", "--status", "bad", "139.162.77.6"}, "--status"},
		{[]string{"lookup", "1.2.3.4", "5.6.7.8"}, `unexpected argument "5.6.7.8"`},
		{[]string{"import", "--format", "sonar", "f.json"}, "--scan is required"},
		{[]string{"import", "--scan", "Bad Name", "--format", "sonar", "f.json"}, "--scan"},
		{[]string{"import", "--scan", "x", "f.json"}, "--format is required"},
		{[]string{"import", "--scan", "x", "--format", "csv", "f.json"}, "--format"},
		{[]string{"import", "--scan", "x", "--format", "sonar"}, "give the file to import"},
		{[]string{"import", "--scan", "x", "--format", "sonar", "--batch", "0", "f.json"}, "--batch"},
		{[]string{"fleets"}, "give --scan NAME or --suffix DOMAIN"},
		{[]string{"fleets", "--scan", "x", "--min-addresses", "0"}, "--min-addresses"},
		{[]string{"fleets", "--scan", "x", "--format", "csv"}, "--format"},
		{[]string{"fleets", "--suffix", ".."}, "--suffix"},
		{[]string{"diff", "--from", "a"}, "give both --from SCAN and --to SCAN"},
		{[]string{"diff", "--from", "a", "--to", "a"}, "give two scans"},
		{[]string{"diff", "--from", "a", "--to", "b", "--format", "xml"}, "--format"},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(tt.args...)
		if code != 2 {
			t.Errorf("coordinator %q: exit %d, want 2 (stderr %q)", tt.args, code, stderr)
		}
		if !strings.Contains(stderr, tt.want) {
			t.Errorf("coordinator %q: stderr %q, want it to mention %q", tt.args, stderr, tt.want)
		}
		if tt.args != nil && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("coordinator %q: stderr has several lines, want one: %q", tt.args, stderr)
		}
	}
}

// TestUnreachable checks that an unreachable service is named with its
// address and what to start.
func TestUnreachable(t *testing.T) {
	t.Setenv("PTRSWEEP_CLICKHOUSE", "clickhouse://writer:s3cret@127.0.0.1:1/ptrsweep")
	code, _, stderr := runCmd("search", "--suffix", "a.example")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") || !strings.Contains(stderr, "start ClickHouse") {
		t.Errorf("search against a dead ClickHouse: exit %d, stderr %q; want 1 naming 127.0.0.1:1 and what to start", code, stderr)
	}
	if strings.Contains(stderr, "s3cret") {
		t.Errorf("stderr shows the password: %q", stderr)
	}
	dsn := storetest.DSN(t)
	t.Setenv("PTRSWEEP_NATS", "nats://user:pw0rd@127.0.0.1:1")
	code, _, stderr = runCmd("publish", "--cidr", "8.8.8.0/24", "--clickhouse", dsn)
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") || strings.Contains(stderr, "pw0rd") {
		t.Errorf("publish to a dead NATS: exit %d, stderr %q; want 1 naming 127.0.0.1:1 without the password", code, stderr)
	}
}

// TestCommandLine runs the contract end to end through the command line:
// sweep a part of the lab, then status, search in every format, export.
func TestCommandLine(t *testing.T) {
	l, srv := labtest.Start(t)
	dsn := storetest.DSN(t)
	// 198.18.11.0/24 and 198.18.27.0/24 are fleet /24s, .0.0/24 dense, .9.0/24 nodata.
	space := "198.18.0.0/24,198.18.9.0/24,198.18.11.0/24,198.18.27.0/24"
	code, out, stderr := runCmd("sweep", "--cidr", space, "--allow-reserved", "--scan", "cli", "--confirm",
		"--resolvers", srv.Addr(), "--timeout", "300ms", "--clickhouse", dsn, "--workers", "2", "--flush-interval", "100ms")
	if code != 0 {
		t.Fatalf("sweep: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	for _, want := range []string{"scan cli: 1024 addresses in 4 units", "outcomes: ok=", "nodata=256", "qps"} {
		if !strings.Contains(out, want) {
			t.Errorf("sweep summary lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCmd("status", "--scan", "cli", "--wait", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "complete") || !strings.Contains(out, "4 done, 0 pending, 0 failed") {
		t.Errorf("status --wait: exit %d, output:\n%s", code, out)
	}
	if code, _, stderr := runCmd("status", "--scan", "nosuchscan", "--clickhouse", dsn); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("status of an unknown scan: exit %d, stderr %q", code, stderr)
	}

	// The fleet: whole-label suffix matches only, addresses sorted.
	var wantIPs []string
	for _, c := range []int{11, 27} {
		for d := range 256 {
			ip := netip.AddrFrom4([4]byte{198, 18, byte(c), byte(d)})
			for _, p := range l.Expect(ip).PTRs {
				if p.Name == "security.fleet.example" || strings.HasSuffix(p.Name, ".security.fleet.example") {
					wantIPs = append(wantIPs, ip.String())
					break
				}
			}
		}
	}
	code, out, _ = runCmd("search", "--suffix", "Security.Fleet.Example.", "--format", "ips", "--clickhouse", dsn)
	if got := strings.Fields(out); code != 0 || !slices.Equal(got, wantIPs) {
		t.Errorf("search --format ips: exit %d, %d addresses, want %d:\n%s", code, len(got), len(wantIPs), out)
	}
	if len(wantIPs) < 40 || !slices.Contains(wantIPs, "198.18.11.3") || slices.Contains(wantIPs, "198.18.11.4") || slices.Contains(wantIPs, "198.18.11.5") {
		t.Errorf("lab fleet is not what this test assumes: %v", wantIPs)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--format", "json", "--scan", "cli", "--clickhouse", dsn)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(wantIPs) {
		t.Errorf("search --format json: exit %d, %d lines, want %d", code, len(lines), len(wantIPs))
	}
	var row map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &row); err != nil || row["fcrdns"] != "confirmed" || row["status"] != "ok" || row["scan"] != "cli" {
		t.Errorf("search json row %s: %v", lines[0], err)
	}
	code, out, _ = runCmd("search", "--suffix", "security.fleet.example", "--format", "csv", "--clickhouse", dsn)
	if code != 0 || !strings.HasPrefix(out, "ip,ptr,status,ttl,fcrdns,scan,resolved_at\n") || strings.Count(out, "\n") != len(wantIPs)+1 {
		t.Errorf("search --format csv: exit %d:\n%s", code, out)
	}
	code, out, stderr = runCmd("search", "--suffix", "security.fleet.example", "--group", "netblock", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "198.18.11.0/24") || !strings.Contains(out, "198.18.27.0/24") || !strings.Contains(stderr, "no IP-to-ASN table") {
		t.Errorf("search --group netblock without a table: exit %d:\n%s\nstderr %s", code, out, stderr)
	}

	// Export: every row, with the contract's fields.
	code, out, _ = runCmd("export", "--scan", "cli", "--clickhouse", dsn)
	if code != 0 {
		t.Fatalf("export: exit %d", code)
	}
	var ok, nodata int
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(ln), &r); err != nil {
			t.Fatalf("export line %q: %v", ln, err)
		}
		for _, k := range []string{"ip", "ptr", "status", "ttl", "scan", "resolved_at", "fcrdns"} {
			if _, has := r[k]; !has && !(k == "fcrdns" && r["status"] != "ok") {
				t.Errorf("export line lacks %q: %s", k, ln)
			}
		}
		switch r["status"] {
		case "ok":
			ok++
		case "nodata":
			nodata++
		case "nxdomain":
			t.Errorf("export lists an nxdomain address: %s", ln)
		}
	}
	var wantOK int
	for _, c := range []int{0, 9, 11, 27} {
		for d := range 256 {
			ip := netip.AddrFrom4([4]byte{198, 18, byte(c), byte(d)})
			if e := l.Expect(ip); e.Status == sweep.StatusOK {
				wantOK += len(e.PTRs)
			}
		}
	}
	if ok != wantOK || nodata != 256 {
		t.Errorf("export: %d ok rows and %d nodata rows, want %d and 256", ok, nodata, wantOK)
	}
	code, out, _ = runCmd("export", "--scan", "cli", "--format", "sonar", "--clickhouse", dsn)
	if code != 0 || strings.Count(out, "\n") != wantOK || !strings.Contains(out, `"type":"ptr"`) {
		t.Errorf("export --format sonar: exit %d, %d lines, want %d", code, strings.Count(out, "\n"), wantOK)
	}
	checkAnalytics(t, l, dsn, wantIPs)
}
