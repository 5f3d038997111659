package arch

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/ptrsweep/ptrsweep/"

// owners maps a third-party module to the packages allowed to import it
// (non-test code). In the product, each client lives in one package. The
// harness speaks DNS itself: the lab (its in-process server, labtest's
// helpers, labproc's readiness probes of Knot and Unbound) and the chaos
// harness's hostile test server may use miekg/dns too.
var owners = map[string][]string{
	"github.com/miekg/dns": {"internal/resolve",
		"internal/testenv/lab", "internal/testenv/labtest", "internal/testenv/labproc", // the lab (harness)
		"internal/testenv/chaos", // the hostile test server (harness)
	},
	"golang.org/x/time/rate":               {"internal/resolve"},
	"golang.org/x/net":                     {"internal/resolve"},
	"github.com/nats-io/nats.go":           {"internal/queue"},
	"github.com/nats-io/nats-server/v2":    {"internal/queue"},
	"github.com/ClickHouse/clickhouse-go":  {"internal/store"},
	"github.com/schollz/progressbar":       {"internal/coordinator"},
	"golang.org/x/term":                    {"cmd/coordinator", "cmd/worker"},
	"github.com/oschwald/maxminddb-golang": {"internal/enrich"},
	"github.com/prometheus/client_golang":  {"internal/telemetry"},
	"github.com/prometheus/client_model":   {"internal/telemetry"},
	"github.com/prometheus/common":         {"internal/telemetry"},
	"github.com/klauspost/compress":        {"internal/ingest"},
	// chromedp drives the browser test of internal/api: test code only.
	"github.com/chromedp/chromedp": {},
	"github.com/chromedp/cdproto":  {},
}

// layer gives each package prefix its level; a package may import only
// packages of a lower level (or its own subpackages).
var layers = []struct {
	prefix string
	level  int
}{
	{"internal/sweep", 0},
	{"internal/cidr", 1},
	{"internal/plan", 2}, {"internal/output", 2}, {"schema", 2},
	{"internal/query", 2}, {"internal/hilbert", 2}, {"internal/enrich", 2}, {"internal/fleet", 2}, {"internal/ingest", 2},
	{"internal/analytics", 3},
	{"internal/queue", 3}, {"internal/resolve", 3}, {"internal/store", 3},
	{"internal/worker", 4}, {"internal/bulk", 4}, {"internal/cli", 4},
	{"internal/coordinator", 5},
	// The HTTP API and page, over interfaces that the store and the
	// coordinator's status satisfy; serve joins them (and telemetry).
	{"internal/api", 5},
	{"internal/serve", 6},
	// Metrics and health read the loops' and the engine's stats; only the
	// mains import it.
	{"internal/telemetry", 5},
	// The harness (never imported by product code, see harnessUsers).
	{"internal/testenv/testpki", 1},
	{"internal/testenv/lab", 3},
	{"internal/testenv/labproc", 4}, {"internal/testenv/labtest", 4}, {"internal/testenv/storetest", 4},
	{"internal/testenv/natsproc", 4},
	{"internal/testenv/bench", 5}, {"internal/testenv/chaos", 5}, {"internal/testenv/e2e", 5},
	{"internal/testenv/rehearsal", 5},
	{"internal/testenv/scale", 5},
	{"internal/testenv", 1}, // the root: shared helpers, standard library only
	// The mains' shared plumbing that needs telemetry (the --metrics-listen
	// helper), below the mains.
	{"cmd/internal", 6},
	{"cmd/", 7},
}

// harness is the import path prefix of the test harness.
const harness = "internal/testenv"

// harnessUsers are the packages outside the harness whose non-test code may
// import it: the harness's own command-line tools. Product packages
// (everything else under internal/, cmd/coordinator, cmd/worker) never do;
// their tests may.
var harnessUsers = []string{"cmd/ptrlab", "cmd/ptrbench", "cmd/ptrchaos", "cmd/ptrrehearse", "cmd/ptrscale"}

// tree returns the package tree pkg belongs to, inside which imports are not
// ordered by layer: "internal/store" for internal/store/..., and each harness
// package on its own ("internal/testenv/lab").
func tree(pkg string) string {
	parts := strings.Split(pkg, "/")
	n := 2
	if pkg == harness || strings.HasPrefix(pkg, harness+"/") {
		n = 3
	}
	return strings.Join(parts[:min(n, len(parts))], "/")
}

// isHarness reports whether pkg is part of the harness.
func isHarness(pkg string) bool { return pkg == harness || strings.HasPrefix(pkg, harness+"/") }

// pure lists packages that may import only the standard library and the
// named ptrsweep packages (non-test code): they are shared by the command
// line and the API and carry no client of their own.
// A third-party module named there (enrich's MaxMind DB reader, ingest's
// gzip) is allowed too.
var pure = map[string][]string{
	"internal/query":     {"internal/sweep", "internal/cidr"},
	"internal/hilbert":   {"internal/sweep", "internal/cidr"},
	"internal/enrich":    {"internal/sweep", "internal/cidr", "github.com/oschwald/maxminddb-golang"},
	"internal/fleet":     {"internal/sweep", "internal/cidr"},
	"internal/ingest":    {"internal/sweep", "github.com/klauspost/compress"},
	"internal/analytics": {"internal/sweep", "internal/cidr", "internal/enrich", "internal/fleet"},
}

// allowedPure reports whether imp is the standard library or one of allowed
// (a ptrsweep package, or a third-party module and its packages).
func allowedPure(imp string, allowed []string) bool {
	if ip, own := strings.CutPrefix(imp, mod); own {
		return slices.Contains(allowed, ip)
	}
	if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
		return true
	}
	for _, a := range allowed {
		if imp == a || strings.HasPrefix(imp, a+"/") {
			return true
		}
	}
	return false
}

func levelOf(pkg string) (int, bool) {
	for _, l := range layers {
		if pkg == l.prefix || strings.HasPrefix(pkg, l.prefix+"/") || (strings.HasSuffix(l.prefix, "/") && strings.HasPrefix(pkg, l.prefix)) {
			return l.level, true
		}
	}
	return 0, false
}

func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		if pkg == "internal" || strings.HasPrefix(pkg, "internal/arch") {
			continue
		}
		lv, ok := levelOf(pkg)
		if !ok {
			t.Errorf("package %s has no layer in this test; add it", pkg)
			continue
		}
		if pkg == "internal/sweep" {
			for _, imp := range f[1:] {
				if strings.Contains(imp, ".") {
					t.Errorf("internal/sweep imports %s; it must use the standard library only", imp)
				}
			}
		}
		if allowed, ok := pure[pkg]; ok {
			for _, imp := range f[1:] {
				if !allowedPure(imp, allowed) {
					t.Errorf("%s imports %s; it may import only the standard library and %v", pkg, imp, allowed)
				}
			}
		}
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, mod) {
				ip := strings.TrimPrefix(imp, mod)
				if isHarness(ip) && !isHarness(pkg) && !slices.Contains(harnessUsers, pkg) {
					t.Errorf("%s imports %s: product code never imports the test harness (only %v and the harness itself may)", pkg, ip, harnessUsers)
				}
				il, ok := levelOf(ip)
				if ok && il >= lv && ip != tree(pkg) && !strings.HasPrefix(ip, tree(pkg)+"/") {
					t.Errorf("%s (level %d) imports %s (level %d): a lower package never imports a higher one", pkg, lv, ip, il)
				}
				continue
			}
			for m, allowed := range owners {
				if imp != m && !strings.HasPrefix(imp, m+"/") && !strings.HasPrefix(imp, m) {
					continue
				}
				okOwner := false
				for _, a := range allowed {
					if pkg == a || strings.HasPrefix(pkg, a+"/") {
						okOwner = true
					}
				}
				if !okOwner {
					t.Errorf("%s imports %s; only %v may", pkg, imp, allowed)
				}
			}
		}
	}
}
