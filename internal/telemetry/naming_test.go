package telemetry

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// The metric-naming lint, after coredns's test/metric_naming_test.go: every
// metric the registry gathers, with every source added and every hook fed,
// passes Prometheus's own linter and ptrsweep's rules; every metric name in
// the package's source is among them; and docs/metrics.md lists exactly
// them.

// forbiddenLabels are label names that would carry an address or a DNS
// name: unbounded, and private.
var forbiddenLabels = []string{"ip", "addr", "address", "name", "ptr", "host", "hostname", "domain", "qname", "zone", "server", "resolver", "instance_ip"}

// closedLabels is every label a ptrsweep metric may have, with its closed
// set of values.
func closedLabels() map[string][]string {
	status := []string{statusUnknown}
	for _, s := range sweep.Statuses {
		status = append(status, s.String())
	}
	return map[string][]string{"status": status, "reason": dropReasons}
}

// standardPrefixes are the client library's own metrics (Go runtime,
// process, build info, the handler's requests), named by Prometheus's
// conventions.
var standardPrefixes = []string{"go_", "process_", "promhttp_"}

// fullMetrics returns a Metrics with every source added and every hook fed,
// so that every metric it can expose is gathered.
func fullMetrics(t *testing.T) *Metrics {
	t.Helper()
	m := NewMetrics(MetricsConfig{Logger: quietLogger()})
	m.AddResolver(func() resolve.Stats {
		return resolve.Stats{Queries: 1, Answers: 1, Invalid: 1, Unmatched: 1, EjectedServers: []string{"127.0.0.9:53"}, Window: 1}
	})
	m.AddWorker(func() *worker.Stats { return fakeWorkerStats(1, 1, 1, 1, 1, 1) })
	m.SetQueue(func(context.Context) (QueueLag, error) { return QueueLag{Pending: 1, AckPending: 1}, nil })
	m.AddCounts(sweep.Counts{OK: 1, NXDomain: 1, NoData: 1, ServFail: 1, Refused: 1, Timeout: 1, PTRs: 1})
	m.AddResult(sweep.Result{Status: sweep.Status(99)})
	m.ObserveInsert(time.Millisecond)
	// One request through the handler, so promhttp's metrics exist too.
	scrape(t, m.Handler())
	return m
}

func gather(t *testing.T, m *Metrics) []*dto.MetricFamily {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	return mfs
}

func TestPromlint(t *testing.T) {
	problems, err := promlint.NewWithMetricFamilies(gather(t, fullMetrics(t))).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

var (
	metricName = regexp.MustCompile(`^ptrsweep_[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// badUnits are unit words Prometheus replaces by base units.
	badUnits = regexp.MustCompile(`_(ms|msec|millis|milliseconds|us|microseconds|ns|nanoseconds|minutes|hours|days|kb|kib|mb|mib|gb|gib|bits|percent)(_|$)`)
)

func TestMetricNaming(t *testing.T) {
	closed := closedLabels()
	for _, mf := range gather(t, fullMetrics(t)) {
		name, typ := mf.GetName(), mf.GetType()
		if !strings.HasPrefix(name, "ptrsweep_") {
			if !slices.ContainsFunc(standardPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
				t.Errorf("%s: not in the ptrsweep namespace", name)
			}
			continue
		}
		if !metricName.MatchString(name) {
			t.Errorf("%s: want lower-case words joined by '_' after ptrsweep_", name)
		}
		if strings.TrimSpace(mf.GetHelp()) == "" {
			t.Errorf("%s: no help text", name)
		}
		if badUnits.MatchString(name) {
			t.Errorf("%s: use base units (_seconds, _bytes)", name)
		}
		isTotal := strings.HasSuffix(name, "_total")
		switch typ {
		case dto.MetricType_COUNTER:
			if !isTotal {
				t.Errorf("%s: a counter's name ends in _total", name)
			}
		case dto.MetricType_GAUGE:
			if isTotal {
				t.Errorf("%s: only a counter's name ends in _total", name)
			}
		case dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
			if !strings.HasSuffix(name, "_seconds") && !strings.HasSuffix(name, "_bytes") {
				t.Errorf("%s: a %s's name ends in its unit, _seconds or _bytes", name, typ)
			}
		default:
			t.Errorf("%s: type %s; want counter, gauge or histogram", name, typ)
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				ln, lv := l.GetName(), l.GetValue()
				if slices.Contains(forbiddenLabels, ln) {
					t.Errorf("%s: label %q would hold an address or a name", name, ln)
				}
				set, ok := closed[ln]
				if !ok {
					t.Errorf("%s: label %q has no closed set of values in this test; add one (never an address or a name)", name, ln)
				} else if !slices.Contains(set, lv) {
					t.Errorf("%s: label %s=%q is outside its closed set %v", name, ln, lv, set)
				}
				if _, err := netip.ParseAddr(lv); err == nil || strings.ContainsAny(lv, ".:/") {
					t.Errorf("%s: label %s=%q looks like an address or a name", name, ln, lv)
				}
			}
		}
	}
}

// sourceMetricNames returns every string literal that is a ptrsweep metric
// name in the package's non-test Go files.
func sourceMetricNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && strings.HasPrefix(s, "ptrsweep_") && !strings.ContainsAny(s, " \n") {
				names = append(names, s)
			}
			return true
		})
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// gatheredNames returns the names of the gathered ptrsweep families.
func gatheredNames(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	out := make(map[string]dto.MetricType)
	for _, mf := range gather(t, fullMetrics(t)) {
		if strings.HasPrefix(mf.GetName(), "ptrsweep_") {
			out[mf.GetName()] = mf.GetType()
		}
	}
	return out
}

func TestEveryDeclaredMetricIsLinted(t *testing.T) {
	src := sourceMetricNames(t)
	got := gatheredNames(t)
	if len(src) < 20 {
		t.Fatalf("found %d metric names in the source, want every one (%v): is the scan broken?", len(src), src)
	}
	for _, n := range src {
		if _, ok := got[n]; !ok {
			t.Errorf("%s is declared in the source but not gathered by fullMetrics: feed it there so the lint sees it", n)
		}
	}
	for n := range got {
		if !slices.Contains(src, n) {
			t.Errorf("%s is gathered but its name is not a whole string literal in the source", n)
		}
	}
}

// docRow matches a row of the table in docs/metrics.md: | `name` | type | …
var docRow = regexp.MustCompile("(?m)^\\| `(ptrsweep_[a-z0-9_]+)` \\| (counter|gauge|histogram) \\|")

func TestMetricsDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatalf("read the metric list: %v", err)
	}
	documented := map[string]string{}
	for _, m := range docRow.FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = m[2]
	}
	got := gatheredNames(t)
	for n, typ := range got {
		want := strings.ToLower(typ.String())
		if d, ok := documented[n]; !ok {
			t.Errorf("docs/metrics.md lacks a row for %s (%s)", n, want)
		} else if d != want {
			t.Errorf("docs/metrics.md gives %s type %s, want %s", n, d, want)
		}
	}
	for n := range documented {
		if _, ok := got[n]; !ok {
			t.Errorf("docs/metrics.md lists %s, which no collector exposes", n)
		}
	}
}
