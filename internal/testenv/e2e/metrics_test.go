package e2e

import (
	"context"
	"io"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/coordinator"
	"github.com/ptrsweep/ptrsweep/internal/telemetry"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// The sweep hands its metrics to telemetry through coordinator.Metrics.
var _ coordinator.Metrics = (*telemetry.Metrics)(nil)

// TestSweepMetrics sweeps a few lab /24s with in-process workers and
// checks what the sweep fed to the metrics against its summary: every
// unit done, every address counted once by outcome, the engine's queries,
// the rows stored and the inserts timed.
func TestSweepMetrics(t *testing.T) {
	_, srv := startLab(t)
	dsn := testDSN(t)
	p := newPlan(t, "metrics", netip.MustParsePrefix("198.18.0.0/22"), 24, false)
	m := telemetry.NewMetrics(telemetry.MetricsConfig{})
	sum, err := coordinator.Sweep(context.Background(), coordinator.SweepConfig{
		Conn: coordinator.Conn{ClickHouse: dsn}, Plan: p, Workers: 2,
		Resolve: labResolver(srv.Addr()), Worker: worker.Config{FlushInterval: 50 * time.Millisecond}, Metrics: m,
	})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	text := string(body)
	tests := []struct {
		name string
		want float64
	}{
		{"ptrsweep_units_done_total", float64(p.Len())},
		{"ptrsweep_addresses_total", float64(p.Addresses())},
		{"ptrsweep_ptr_records_total", float64(sum.Counts.PTRs)},
		{"ptrsweep_rows_inserted_total", float64(sum.Rows)},
		{"ptrsweep_dns_queries_total", float64(sum.Engine.Queries)},
	}
	for _, tt := range tests {
		got, found := testenv.MetricSum(text, tt.name)
		if !found || got != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.name, got, found, tt.want)
		}
	}
	if sum.Engine.Queries == 0 || sum.Rows == 0 {
		t.Errorf("summary: %d queries, %d rows; the lab's /22 has answers", sum.Engine.Queries, sum.Rows)
	}
	if n, _ := testenv.MetricSum(text, "ptrsweep_insert_duration_seconds_count"); n == 0 {
		t.Error("ptrsweep_insert_duration_seconds_count = 0, want every insert timed")
	}
}
