package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// quietLogger discards log output.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// scrape fetches h's /metrics in the text format and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200; body:\n%s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// samples flattens the ptrsweep families into "name{k=v,…}" -> value;
// histograms give name_count and name_sum.
func samples(mfs map[string]*dto.MetricFamily) map[string]float64 {
	out := make(map[string]float64)
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "ptrsweep_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := name
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
			default:
				out[key] = -1
			}
		}
	}
	return out
}

// diff returns the keys whose values differ between got and want, sorted.
func diff(got, want map[string]float64) []string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("%s missing, want %v", k, w))
		} else if g != w {
			d = append(d, fmt.Sprintf("%s = %v, want %v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s = %v, not expected", k, g))
		}
	}
	sort.Strings(d)
	return d
}

// fakeWorkerStats returns worker stats holding the given totals.
func fakeWorkerStats(acked, nakked, dead, flushes, flushErrors, rows uint64) *worker.Stats {
	s := new(worker.Stats)
	s.UnitsAcked.Store(acked)
	s.UnitsNakked.Store(nakked)
	s.UnitsDead.Store(dead)
	s.Flushes.Store(flushes)
	s.FlushErrors.Store(flushErrors)
	s.Rows.Store(rows)
	return s
}

// hookOnly are the metrics present before any source is added.
var hookOnly = map[string]float64{
	"ptrsweep_addresses_total{status=ok}":       0,
	"ptrsweep_addresses_total{status=nxdomain}": 0,
	"ptrsweep_addresses_total{status=nodata}":   0,
	"ptrsweep_addresses_total{status=servfail}": 0,
	"ptrsweep_addresses_total{status=refused}":  0,
	"ptrsweep_addresses_total{status=timeout}":  0,
	"ptrsweep_ptr_records_total":                0,
	"ptrsweep_insert_duration_seconds_count":    0,
	"ptrsweep_insert_duration_seconds_sum":      0,
	"ptrsweep_queue_status_errors_total":        0,
}

func TestMetricsWithoutSources(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	if d := diff(samples(scrape(t, m.Handler())), hookOnly); len(d) > 0 {
		t.Errorf("a fresh Metrics exposes:\n%s", strings.Join(d, "\n"))
	}
}

func TestMetricsFromSources(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	m.AddResolver(func() resolve.Stats {
		return resolve.Stats{Queries: 1000, Answers: 900, Timeouts: 100, Retries: 90, TCP: 3, Invalid: 2, Unmatched: 5,
			Probes: 7, Pruned: 256, Sampled: 4, PruneDisabled: 1, Ejected: 2, EjectedServers: []string{"127.0.0.9:53"}, Window: 128}
	})
	m.AddResolver(func() resolve.Stats { return resolve.Stats{Queries: 24, Answers: 20, Timeouts: 4, Window: 64} })
	w1 := fakeWorkerStats(10, 2, 1, 4, 1, 2500)
	m.AddWorker(func() *worker.Stats { return w1 })
	m.AddWorker(func() *worker.Stats { return nil }) // a worker not built yet
	m.AddWorker(func() *worker.Stats { return fakeWorkerStats(5, 0, 0, 1, 0, 1280) })
	m.SetQueue(func(context.Context) (QueueLag, error) { return QueueLag{Pending: 4096, AckPending: 12}, nil })
	m.AddCounts(sweep.Counts{OK: 200, NXDomain: 50, NoData: 3, ServFail: 1, Refused: 1, Timeout: 1, PTRs: 210, Pruned: 40, Queries: 300})
	m.AddCounts(sweep.Counts{OK: 1, Timeout: 2, PTRs: 1})
	m.AddResult(sweep.Result{Status: sweep.StatusOK, PTRs: []sweep.PTR{{}, {}}})
	m.AddResult(sweep.Result{Status: sweep.StatusRefused})
	m.AddResult(sweep.Result{Status: sweep.Status(0)})
	m.ObserveInsert(40 * time.Millisecond)
	m.ObserveInsert(1500 * time.Millisecond)

	want := map[string]float64{
		"ptrsweep_dns_queries_total":                           1024,
		"ptrsweep_dns_answers_total":                           920,
		"ptrsweep_dns_timeouts_total":                          104,
		"ptrsweep_dns_retries_total":                           90,
		"ptrsweep_dns_tcp_queries_total":                       3,
		"ptrsweep_dns_dropped_packets_total{reason=invalid}":   2,
		"ptrsweep_dns_dropped_packets_total{reason=unmatched}": 5,
		"ptrsweep_dns_prune_probes_total":                      7,
		"ptrsweep_dns_pruned_addresses_total":                  256,
		"ptrsweep_dns_prune_samples_total":                     4,
		"ptrsweep_dns_prune_disabled_zones_total":              1,
		"ptrsweep_dns_server_ejections_total":                  2,
		"ptrsweep_dns_ejected_servers":                         1,
		"ptrsweep_dns_window":                                  192,
		"ptrsweep_units_done_total":                            15,
		"ptrsweep_units_retried_total":                         2,
		"ptrsweep_units_failed_total":                          1,
		"ptrsweep_batches_inserted_total":                      5,
		"ptrsweep_insert_errors_total":                         1,
		"ptrsweep_rows_inserted_total":                         3780,
		"ptrsweep_queue_pending_units":                         4096,
		"ptrsweep_queue_ack_pending_units":                     12,
		"ptrsweep_queue_status_errors_total":                   0,
		"ptrsweep_addresses_total{status=ok}":                  202,
		"ptrsweep_addresses_total{status=nxdomain}":            50,
		"ptrsweep_addresses_total{status=nodata}":              3,
		"ptrsweep_addresses_total{status=servfail}":            1,
		"ptrsweep_addresses_total{status=refused}":             2,
		"ptrsweep_addresses_total{status=timeout}":             3,
		"ptrsweep_addresses_total{status=unknown}":             1,
		"ptrsweep_ptr_records_total":                           213,
		"ptrsweep_insert_duration_seconds_count":               2,
		"ptrsweep_insert_duration_seconds_sum":                 1.54,
	}
	got := samples(scrape(t, m.Handler()))
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("/metrics:\n%s", strings.Join(d, "\n"))
	}

	// Sources are read at scrape time: a later change shows in the next scrape.
	w1.UnitsAcked.Add(5)
	got = samples(scrape(t, m.Handler()))
	if g := got["ptrsweep_units_done_total"]; g != 20 {
		t.Errorf("after 5 more acks, ptrsweep_units_done_total = %v, want 20", g)
	}
}

func TestInsertHistogramBuckets(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	for _, d := range []time.Duration{3 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 2 * time.Second, time.Minute} {
		m.ObserveInsert(d)
	}
	mf := scrape(t, m.Handler())["ptrsweep_insert_duration_seconds"]
	if mf == nil {
		t.Fatal("ptrsweep_insert_duration_seconds missing")
	}
	got := map[float64]uint64{}
	for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
		got[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	want := map[float64]uint64{0.005: 1, 0.01: 1, 0.025: 1, 0.05: 3, 1: 3, 2.5: 4, 30: 4}
	for le, w := range want {
		if got[le] != w {
			t.Errorf("bucket le=%v = %d, want %d", le, got[le], w)
		}
	}
}

func TestQueueErrorOmitsGauges(t *testing.T) {
	var logged strings.Builder
	m := NewMetrics(MetricsConfig{Logger: slog.New(slog.NewTextHandler(&logged, nil)), QueueTimeout: 50 * time.Millisecond})
	m.SetQueue(func(ctx context.Context) (QueueLag, error) {
		<-ctx.Done() // an unreachable server: the scrape's timeout ends the call
		return QueueLag{}, fmt.Errorf("consumer info: %w", ctx.Err())
	})
	got := samples(scrape(t, m.Handler()))
	for _, name := range []string{"ptrsweep_queue_pending_units", "ptrsweep_queue_ack_pending_units"} {
		if v, ok := got[name]; ok {
			t.Errorf("%s = %v after a failed queue read, want it missing", name, v)
		}
	}
	if g := got["ptrsweep_queue_status_errors_total"]; g != 1 {
		t.Errorf("ptrsweep_queue_status_errors_total = %v, want 1", g)
	}
	if !strings.Contains(logged.String(), "deadline exceeded") {
		t.Errorf("log = %q, want the queue error", logged.String())
	}

	m.SetQueue(nil)
	got = samples(scrape(t, m.Handler()))
	if g := got["ptrsweep_queue_status_errors_total"]; g != 1 {
		t.Errorf("after SetQueue(nil), ptrsweep_queue_status_errors_total = %v, want 1 (no more reads)", g)
	}
}

func TestMetricsHandlerFormats(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	tests := []struct {
		accept, wantType string
	}{
		{"text/plain; version=0.0.4", "text/plain"},
		{"application/openmetrics-text; version=1.0.0", "application/openmetrics-text"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", tt.accept)
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
			t.Errorf("Accept %q: Content-Type = %q, want %s", tt.accept, ct, tt.wantType)
		}
		if !strings.Contains(string(body), "ptrsweep_addresses_total") {
			t.Errorf("Accept %q: body lacks ptrsweep_addresses_total", tt.accept)
		}
	}
}

// TestConcurrentHooks feeds the hooks from many goroutines while scraping;
// run with -race.
func TestConcurrentHooks(t *testing.T) {
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	const n, per = 8, 500
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		for range 20 {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				errs <- errors.New(rec.Body.String())
				return
			}
		}
	}()
	var ws []func()
	for i := range n {
		ws = append(ws, func() {
			m.AddResolver(func() resolve.Stats { return resolve.Stats{Queries: uint64(i)} })
			for range per {
				m.AddCounts(sweep.Counts{OK: 1})
				m.ObserveInsert(time.Millisecond)
			}
		})
	}
	runAll(ws)
	<-done
	select {
	case err := <-errs:
		t.Fatalf("scrape failed: %v", err)
	default:
	}
	got := samples(scrape(t, m.Handler()))
	if g, w := got["ptrsweep_addresses_total{status=ok}"], float64(n*per); g != w {
		t.Errorf("ptrsweep_addresses_total{status=ok} = %v, want %v", g, w)
	}
	if g, w := got["ptrsweep_dns_queries_total"], float64(n*(n-1)/2); g != w {
		t.Errorf("ptrsweep_dns_queries_total = %v, want %v", g, w)
	}
}

// runAll runs fs concurrently and waits for them.
func runAll(fs []func()) {
	done := make(chan struct{}, len(fs))
	for _, f := range fs {
		go func() { f(); done <- struct{}{} }()
	}
	for range fs {
		<-done
	}
}

// sweepCountsOK returns counts of n answered addresses with one PTR each.
func sweepCountsOK(n uint32) sweep.Counts { return sweep.Counts{OK: n, PTRs: n} }
