package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/ptrsweep/ptrsweep/"

// owners maps a third-party module to the packages allowed to import it
// (non-test code). The lab and the chaos harness are test infrastructure
// that speaks DNS itself.
var owners = map[string][]string{
	"github.com/miekg/dns":                 {"internal/resolve", "internal/lab", "internal/chaos"},
	"golang.org/x/time/rate":               {"internal/resolve"},
	"golang.org/x/net":                     {"internal/resolve"},
	"github.com/nats-io/nats.go":           {"internal/queue"},
	"github.com/nats-io/nats-server/v2":    {"internal/queue"},
	"github.com/ClickHouse/clickhouse-go":  {"internal/store"},
	"github.com/schollz/progressbar":       {"internal/coordinator"},
	"golang.org/x/term":                    {"cmd/coordinator"},
	"github.com/oschwald/maxminddb-golang": {"internal/enrich"},
}

// layer gives each package prefix its level; a package may import only
// packages of a lower level (or its own subpackages).
var layers = []struct {
	prefix string
	level  int
}{
	{"internal/sweep", 0},
	{"internal/cidr", 1}, {"internal/testpki", 1},
	{"internal/enrich", 2}, {"internal/fleet", 2},
	{"internal/plan", 2}, {"internal/output", 2}, {"internal/cli", 2}, {"schema", 2},
	{"internal/queue", 3}, {"internal/resolve", 3}, {"internal/store", 3}, {"internal/lab", 3},
	{"internal/worker", 4}, {"internal/connflags", 4}, {"internal/bench", 4}, {"internal/chaos", 4},
	{"internal/coordinator", 5},
	{"cmd/", 6},
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
		if pkg == "internal" || strings.HasPrefix(pkg, "internal/arch") || strings.HasPrefix(pkg, "internal/e2e") {
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
		if pkg == "internal/enrich" || pkg == "internal/fleet" {
			// pure: the standard library, sweep, cidr and the MaxMind DB reader
			for _, imp := range f[1:] {
				if strings.Contains(imp, ".") && imp != mod+"internal/sweep" && imp != mod+"internal/cidr" &&
					!strings.HasPrefix(imp, "github.com/oschwald/maxminddb-golang/") {
					t.Errorf("%s imports %s; it must use only the standard library, internal/sweep, internal/cidr and the MaxMind DB reader", pkg, imp)
				}
			}
		}
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, mod) {
				ip := strings.TrimPrefix(imp, mod)
				il, ok := levelOf(ip)
				if ok && il >= lv && !strings.HasPrefix(ip, strings.SplitN(pkg, "/", 3)[0]+"/"+strings.SplitN(pkg+"/", "/", 3)[1]) {
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
