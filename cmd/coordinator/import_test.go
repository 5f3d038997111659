package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/storetest"
)

// TestImport loads a gzip Sonar file and a zdns file into scans and reads
// them back through status, search, export and lookup.
func TestImport(t *testing.T) {
	dsn := storetest.DSN(t)
	dir := t.TempDir()
	sonar := filepath.Join(dir, "rdns.json.gz")
	f, err := os.Create(sonar)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	const n = 3000
	for i := range n {
		fmt.Fprintf(zw, `{"timestamp":"1582236213","name":"203.0.%d.%d","type":"ptr","value":"scan-%d.security.example.net"}`+"\n", i/256, i%256, i)
	}
	fmt.Fprintf(zw, `{"timestamp":"1582236213","name":"2001:db8::1","type":"ptr","value":"v6.example.net"}`+"\n")
	zw.Close()
	f.Close()

	code, out, stderr := runCmd("import", "--scan", "sonar-2020", "--format", "sonar", "--batch", "1000", sonar, "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d rows (%d addresses)", n, n)) || !strings.Contains(out, "ipv6=1") {
		t.Fatalf("import sonar: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCmd("status", "--scan", "sonar-2020", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "complete") || !strings.Contains(out, fmt.Sprintf("%d PTRs, %d rows", n, n)) {
		t.Errorf("status of the import: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("search", "--suffix", "security.example.net", "--scan", "sonar-2020", "--format", "ips", "--clickhouse", dsn)
	if code != 0 || len(strings.Fields(out)) != n {
		t.Errorf("search of the import: exit %d, %d addresses, want %d", code, len(strings.Fields(out)), n)
	}
	code, out, _ = runCmd("export", "--scan", "sonar-2020", "--clickhouse", dsn)
	if code != 0 || strings.Count(out, "\n") != n || !strings.Contains(out, `"resolved_at":"2020-02-20T22:03:33Z"`) {
		t.Errorf("export of the import: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	// the export imports again, row for row
	exported := filepath.Join(dir, "export.jsonl")
	if err := os.WriteFile(exported, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCmd("import", "--scan", "again", "--format", "jsonl", exported, "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d rows", n)) {
		t.Errorf("import of an export: exit %d\n%s%s", code, out, stderr)
	}

	zdns := filepath.Join(dir, "zdns.json")
	if err := os.WriteFile(zdns, []byte(`{"name":"203.0.0.1","status":"NOERROR","timestamp":"2021-03-04T05:06:07Z","data":{"answers":[{"ttl":60,"type":"PTR","answer":"renamed.example.net."}]}}
{"name":"203.0.0.2","status":"SERVFAIL","timestamp":"2021-03-04T05:06:07Z"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr = runCmd("import", "--scan", "zdns-2021", "--format", "zdns", zdns, "--clickhouse", dsn); code != 0 {
		t.Fatalf("import zdns: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCmd("lookup", "203.0.0.1", "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "203.0.0.1: 3 scans, 1 change, first seen 2020-02-20T22:03:33Z, last seen 2021-03-04T05:06:07Z") {
		t.Errorf("lookup across imports: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("lookup", "203.0.0.0/24", "--status", "servfail", "--format", "csv", "--clickhouse", dsn)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "203.0.0.2,zdns-2021,") {
		t.Errorf("lookup --status servfail: exit %d\n%s", code, out)
	}

	// diff: an import of the export changes nothing; the zdns scan renames
	// one address, fails on one and lacks the others
	code, out, _ = runCmd("diff", "--from", "sonar-2020", "--to", "again", "--clickhouse", dsn)
	if code != 0 || !strings.HasSuffix(out, fmt.Sprintf("appeared 0, disappeared 0, changed 0, unchanged %d, unresolved 0\n", n)) {
		t.Errorf("diff of identical scans: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("diff", "--from", "sonar-2020", "--to", "zdns-2021", "--format", "json", "--clickhouse", dsn)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != n || lines[0] != `{"ip":"203.0.0.0","change":"disappeared","from":["scan-0.security.example.net"],"to":[]}` ||
		lines[1] != `{"ip":"203.0.0.1","change":"changed","from":["scan-1.security.example.net"],"to":["renamed.example.net"]}` ||
		lines[len(lines)-1] != fmt.Sprintf(`{"counts":{"appeared":0,"disappeared":%d,"changed":1,"unchanged":0,"unresolved":1}}`, n-2) {
		t.Errorf("diff --format json: exit %d, %d lines, first %q, last %q", code, len(lines), lines[0], lines[len(lines)-1])
	}
	code, out, stderr = runCmd("diff", "--from", "sonar-2020", "--to", "zdns-2021", "--suffix", "security.example.net", "--format", "csv", "--clickhouse", dsn)
	if code != 0 || !strings.HasPrefix(out, "ip,change,from,to\n203.0.0.0,disappeared,scan-0.security.example.net,\n") || !strings.Contains(stderr, fmt.Sprintf("disappeared %d,", n)) {
		t.Errorf("diff --suffix --format csv: exit %d\n%.300s\nstderr %s", code, out, stderr)
	}

	// bad input: exit 2, one line naming the problem
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"timestamp":"1","name":"1.2.3.4","type":"ptr","value":"a.example"}`+"\n{oops\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--scan", "x", "--format", "sonar", bad}, "bad.json:2: "},
		{[]string{"import", "--scan", "sonar-2020", "--format", "sonar", sonar}, `scan "sonar-2020" already exists`},
		{[]string{"import", "--scan", "x", "--format", "sonar", filepath.Join(dir, "missing.json")}, "missing.json"},
	} {
		code, _, stderr := runCmd(append(tt.args, "--clickhouse", dsn)...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("coordinator %q: exit %d, stderr %q, want 2 and one line with %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestImportStoresRoutes imports rows after an IP-to-ASN table was loaded:
// each row stores the AS and country of its address (0 and "" where the
// table has no range), and the import says which table it used.
func TestImportStoresRoutes(t *testing.T) {
	dsn := storetest.DSN(t)
	file := filepath.Join(t.TempDir(), "rows.json")
	if err := os.WriteFile(file, []byte(`{"timestamp":"1582236213","name":"198.18.11.7","type":"ptr","value":"a.example.net"}
{"timestamp":"1582236213","name":"198.18.27.9","type":"ptr","value":"b.example.net"}
{"timestamp":"1582236213","name":"203.0.113.5","type":"ptr","value":"c.example.net"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCmd("asn", "load", labASN, "--format", "location", "--clickhouse", dsn); code != 0 {
		t.Fatalf("asn load: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := runCmd("import", "--scan", "routed", "--format", "sonar", file, "--clickhouse", dsn)
	if code != 0 || !strings.Contains(out, "asn and country from the IP-to-ASN table of 2026-11-01") {
		t.Fatalf("import: exit %d\n%s%s", code, out, stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[string]string{}
	err = st.Search(ctx, store.Query{Suffix: "example.net", Scan: "routed"}, func(r sweep.Row) error {
		got[r.IP.String()] = fmt.Sprintf("%d %s", r.ASN, r.Country)
		return nil
	})
	want := map[string]string{"198.18.11.7": "64500 JP", "198.18.27.9": "64501 US", "203.0.113.5": "0 "}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("stored routes = %v (%v), want %v", got, err, want)
	}

	// A newer table moves 198.18.0.0/17 to AS64502 in DE. Grouping keeps
	// the routing stored with the rows (AS64500 in JP, named by the old
	// AS's name where the newest table has one), takes the netblocks from
	// the newest table, and looks rows stored without routing up there.
	newer := filepath.Join(t.TempDir(), "newer.txt")
	if err := os.WriteFile(newer, []byte("# Generated: Tue, 01 Dec 2026 00:00:00 GMT\n\naut-num: AS64500\nname: Lab Net A\n\naut-num: AS64502\nname: Lab Net C\n\n"+
		"net: 198.18.0.0/18\ncountry: DE\naut-num: 64502\n\nnet: 203.0.113.0/24\ncountry: NL\naut-num: 64502\n\nnet: 192.0.2.0/24\ncountry: FR\naut-num: 64500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCmd("asn", "load", newer, "--format", "location", "--clickhouse", dsn); code != 0 {
		t.Fatalf("asn load of the newer table: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCmd("search", "--suffix", "example.net", "--scan", "routed", "--group", "netblock", "--format", "json", "--clickhouse", dsn)
	wantLines := `{"netblock":"198.18.0.0/18","asn":64500,"as_name":"Lab Net A","country":"JP","addresses":1}
{"netblock":"198.18.0.0/18","asn":64501,"as_name":"","country":"US","addresses":1}
{"netblock":"203.0.113.0/24","asn":64502,"as_name":"Lab Net C","country":"NL","addresses":1}
`
	if code != 0 || out != wantLines {
		t.Errorf("search --group netblock after a newer table: exit %d, stderr %q\ngot\n%swant\n%s", code, stderr, out, wantLines)
	}
}
