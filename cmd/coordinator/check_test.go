package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// TestCheckConfig checks --check-config on every command: flags and
// environment are checked as a run checks them (the scan is planned), one
// config-ok line without secrets is printed and the exit status is 0,
// without connecting to NATS or ClickHouse; bad config is exit 2.
func TestCheckConfig(t *testing.T) {
	nats, ch := testenv.TripwireAddr(t), testenv.TripwireAddr(t)
	t.Setenv("PTRSWEEP_NATS", "nats://sweeper:n4tspw@"+nats)
	t.Setenv("PTRSWEEP_CLICKHOUSE", "clickhouse://reader:chpw@"+ch+"/sweeps")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := []string{"--cidr", "198.18.0.0/22", "--allow-reserved", "--scan", "chk"}
	dataFile := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(dataFile, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	chOK := "clickhouse=reader@" + ch + "/sweeps"
	good := []struct {
		args []string
		want []string
	}{
		{append([]string{"sweep", "--check-config", "--resolvers", "127.0.0.1:53", "--metrics-listen", "127.0.0.1:9464", "--workers", "2"}, plan...),
			[]string{"config ok: coordinator sweep scan=chk units=4 addresses=1024 workers=2 nats=nats://" + nats, "clickhouse=reader@" + ch + "/sweeps",
				"resolvers=127.0.0.1:53", "metrics=127.0.0.1:9464"}},
		{append([]string{"publish", "--check-config"}, plan...),
			[]string{"config ok: coordinator publish scan=chk units=4 addresses=1024 ", "metrics=off", "nats=nats://" + nats + " nats_auth=url"}},
		{[]string{"status", "--check-config", "--scan", "chk"}, []string{"config ok: coordinator status scan=chk nats=nats://" + nats}},
		{[]string{"retry", "--check-config", "--scan", "chk"}, []string{"config ok: coordinator retry scan=chk nats=nats://" + nats}},
		{[]string{"search", "--check-config", "--suffix", "fleet.example"}, []string{"config ok: coordinator search clickhouse=reader@" + ch + "/sweeps"}},
		{[]string{"export", "--check-config", "--scan", "chk"}, []string{"config ok: coordinator export scan=chk clickhouse=reader@" + ch + "/sweeps"}},
		{[]string{"asn", "list", "--check-config"}, []string{"config ok: coordinator asn list " + chOK}},
		{[]string{"asn", "load", dataFile, "--check-config", "--format", "location"}, []string{"config ok: coordinator asn load file=" + dataFile + " format=location " + chOK}},
		{[]string{"lookup", "192.0.2.7", "--check-config"}, []string{"config ok: coordinator lookup target=192.0.2.7/32 " + chOK}},
		{[]string{"fleets", "--check-config", "--scan", "chk"}, []string{"config ok: coordinator fleets " + chOK}},
		{[]string{"diff", "--check-config", "--from", "a", "--to", "b"}, []string{"config ok: coordinator diff from=a to=b " + chOK}},
		{[]string{"import", "--check-config", "--scan", "imp", "--format", "jsonl", dataFile}, []string{"config ok: coordinator import scan=imp format=jsonl file=" + dataFile + " " + chOK}},
		{[]string{"serve", "--check-config", "--token-file", tokenFile}, []string{"config ok: coordinator serve listen=127.0.0.1:8080 token=true metrics=off nats=nats://" + nats, "clickhouse=reader@" + ch + "/sweeps"}},
	}
	for _, tt := range good {
		code, out, stderr := runCmd(tt.args...)
		if code != 0 {
			t.Errorf("coordinator %q: exit %d, stderr %q; want 0", tt.args, code, stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("coordinator %q: config-ok line %q lacks %q", tt.args, out, w)
			}
		}
		if strings.Count(out, "\n") != 1 || strings.Contains(out, "pw") {
			t.Errorf("coordinator %q: stdout %q, want one line without a password", tt.args, out)
		}
	}

	bad := []struct {
		args []string
		want string
	}{
		{append([]string{"sweep", "--check-config", "--resolvers", "127.0.0.1:53", "--metrics-listen", "localhost:9464"}, plan...), "--metrics-listen"},
		{append([]string{"sweep", "--check-config", "--resolvers", "127.0.0.1:53", "--unit-prefix", "7"}, plan...), "unit"},
		{append([]string{"publish", "--check-config", "--metrics-listen", "127.0.0.1:99999"}, plan...), "--metrics-listen"},
		{[]string{"publish", "--check-config", "--cidr", "198.18.0.0/22"}, "--allow-reserved"},
		{[]string{"status", "--check-config", "--scan", "Bad Name"}, "--scan"},
		{[]string{"retry", "--check-config", "--scan", "chk", "--nats-creds", "/nonexistent"}, "creds"},
		{[]string{"search", "--check-config", "--suffix", "fleet.example", "--clickhouse", "clickhouse://" + ch + "/db?password_file=/nonexistent"}, "password_file"},
		{[]string{"export", "--check-config", "--scan", "x/y"}, "--scan"},
		{[]string{"asn", "load", "/nonexistent/asn.txt", "--check-config"}, "/nonexistent/asn.txt"},
		{[]string{"asn", "list", "--check-config", "--clickhouse", "clickhouse://" + ch + "/db?password_file=/nonexistent"}, "password_file"},
		{[]string{"lookup", "192.0.2.300", "--check-config"}, "192.0.2.300"},
		{[]string{"lookup", "192.0.2.7", "--check-config", "--scan", "Bad Name"}, "--scan"},
		{[]string{"fleets", "--check-config"}, "--scan"},
		{[]string{"fleets", "--check-config", "--scan", "x/y"}, "--scan"},
		{[]string{"diff", "--check-config", "--from", "a", "--to", "x/y"}, "--to"},
		{[]string{"import", "--check-config", "--scan", "imp", "--format", "jsonl", "/nonexistent/rows.jsonl"}, "/nonexistent/rows.jsonl"},
		{[]string{"import", "--check-config", "--scan", "imp", "--format", "nope", dataFile}, "--format"},
		{[]string{"serve", "--check-config", "--listen", "localhost:8080"}, "--listen"},
		{[]string{"serve", "--check-config", "--page-size", "0"}, "--page-size"},
		{[]string{"serve", "--check-config", "--max-execution-time", "10ms"}, "--max-execution-time"},
		{[]string{"serve", "--check-config", "--max-result-rows", "0"}, "--max-result-rows"},
		{[]string{"serve", "--check-config", "--token-file", "/nonexistent"}, "--token-file"},
		{[]string{"serve", "--check-config", "--metrics-listen", "127.0.0.1:99999"}, "--metrics-listen"},
	}
	for _, tt := range bad {
		code, out, stderr := runCmd(tt.args...)
		if code != 2 || out != "" || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("coordinator %q: exit %d, stdout %q, stderr %q; want 2, no stdout and one line naming %q", tt.args, code, out, stderr, tt.want)
		}
	}
}
