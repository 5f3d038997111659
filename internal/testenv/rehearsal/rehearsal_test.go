package rehearsal

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// TestQuickRehearsal runs the whole rehearsal on a /20 of the synthetic
// Internet: nats-server, ptrlab, two workers and the shared ClickHouse.
func TestQuickRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := testenv.ClickHouseQuery(ctx, "http://127.0.0.1:8123", "", "SELECT 1")
	testenv.Require(t, "ClickHouse on 127.0.0.1:9000 and :8123 (run make clickhouse)", err)
	bin := testenv.BuildCommands(t, true, "coordinator", "worker", "ptrlab")
	var out strings.Builder
	rep, err := Run(ctx, Config{Bin: bin, CIDR: netip.MustParsePrefix("8.16.0.0/20"), Workers: 2, SampleShare: 0.25}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Addresses != 4096 {
		t.Errorf("addresses done = %d, want 4096", rep.Addresses)
	}
	if rep.Sample24s != 4 {
		t.Errorf("sampled /24s = %d, want 4", rep.Sample24s)
	}
	if rep.Truth["ok"] == 0 || rep.TruthAddrs["nxdomain"] == 0 {
		t.Errorf("truth = %v / %v, want PTRs and nxdomain addresses in the /20", rep.Truth, rep.TruthAddrs)
	}
	for i, b := range append(rep.WorkerRSS, rep.NATSRSS...) {
		if b == 0 {
			t.Errorf("peak RSS #%d not measured", i+1)
		}
	}
	if rep.Parts == 0 || rep.Rows == 0 || rep.DiskBytes == 0 {
		t.Errorf("parts %d, rows %d, bytes %d: want the ptr table's parts", rep.Parts, rep.Rows, rep.DiskBytes)
	}
	// The database is gone.
	got, err := testenv.ClickHouseQuery(ctx, "http://127.0.0.1:8123", "", "SELECT count() FROM system.databases WHERE name = '"+rep.DB+"'")
	if err != nil || got != "0" {
		t.Errorf("database %s after Run: count %q (%v), want dropped", rep.DB, got, err)
	}
}

// TestReportFailed checks what counts as a difference from the truth.
func TestReportFailed(t *testing.T) {
	good := func() *Report {
		return &Report{CIDR: netip.MustParsePrefix("8.0.0.0/24"), Addresses: 256,
			Truth: Totals{"ok": 10, "servfail": 3}, Stored: Totals{"ok": 10, "servfail": 3},
			TruthAddrs: Totals{"ok": 9, "nxdomain": 244, "servfail": 3}, StoredAddrs: Totals{"ok": 9, "nxdomain": 244, "servfail": 3}}
	}
	tests := []struct {
		name   string
		change func(*Report)
		want   bool
	}{
		{"equal", func(*Report) {}, false},
		{"a row missing", func(r *Report) { r.Stored["ok"] = 9 }, true},
		{"a stale row", func(r *Report) { r.Stored["timeout"] = 1 }, true},
		{"addresses differ", func(r *Report) { r.StoredAddrs["nxdomain"] = 243; r.StoredAddrs["timeout"] = 1 }, true},
		{"sample missing", func(r *Report) { r.Missing = 1 }, true},
		{"sample foreign", func(r *Report) { r.Foreign = 1 }, true},
		{"units not done", func(r *Report) { r.Addresses = 255 }, true},
		{"no truth", func(r *Report) { r.Truth = nil }, true},
	}
	for _, tt := range tests {
		r := good()
		tt.change(r)
		if got := r.Failed(); got != tt.want {
			t.Errorf("%s: Failed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
