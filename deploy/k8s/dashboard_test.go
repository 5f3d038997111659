package k8s_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricName matches a ptrsweep metric in a PromQL expression or in
// README.md's metrics table.
var metricName = regexp.MustCompile(`\bptrsweep_[a-z0-9_]+`)

// histogramSuffix strips the series suffixes of a histogram.
var histogramSuffix = regexp.MustCompile(`_(bucket|sum|count)$`)

// The dashboard uses exactly the metrics README.md's "Metrics" table lists
// (the contract with the binaries' /metrics), and every panel queries the
// chosen Prometheus data source.
func TestDashboardMetricsDocumented(t *testing.T) {
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(mustRead(t, "grafana/ptrsweep-dashboard.json"), &d); err != nil {
		t.Fatalf("grafana/ptrsweep-dashboard.json: %v", err)
	}
	if d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q with %d panels", d.UID, len(d.Panels))
	}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d queries; want ${datasource} and at least one", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q uses no ptrsweep metric", p.Title, q.Expr)
			}
			for _, n := range names {
				used[histogramSuffix.ReplaceAllString(n, "")] = true
			}
		}
	}
	readme := string(mustRead(t, "README.md"))
	_, table, ok := strings.Cut(readme, "\n## Metrics\n")
	if !ok {
		t.Fatal("README.md has no ## Metrics section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	documented := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| `ptrsweep_") {
			documented[metricName.FindString(line)] = true
		}
	}
	var missing, unused []string
	for n := range used {
		if !documented[n] {
			missing = append(missing, n)
		}
	}
	for n := range documented {
		if !used[n] {
			unused = append(unused, n)
		}
	}
	slices.Sort(missing)
	slices.Sort(unused)
	if len(missing) > 0 || len(unused) > 0 {
		t.Errorf("dashboard metrics not in README.md's table: %v; table metrics no panel shows: %v", missing, unused)
	}
	// The binaries' own list (docs/metrics.md, checked against the exposed
	// metrics by internal/telemetry's tests) must hold every metric the
	// dashboard shows.
	exposed := string(mustRead(t, "../../docs/metrics.md"))
	for n := range used {
		if !strings.Contains(exposed, "`"+n+"`") {
			t.Errorf("dashboard metric %s is not exposed by the binaries (docs/metrics.md)", n)
		}
	}
}
