package scale

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// TestRunSmall runs the whole harness on a few thousand rows: every step
// must succeed and the table must list each one.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the coordinator and fills a database; skipped with -short")
	}
	_, err := exec.LookPath("clickhouse-client")
	testenv.Require(t, "clickhouse-client (apt-get install clickhouse-client)", err)
	addr := "127.0.0.1:9000"
	if dsn := os.Getenv("PTRSWEEP_TEST_CLICKHOUSE"); dsn != "" {
		hostport, _, _ := strings.Cut(strings.TrimPrefix(dsn, "clickhouse://"), "/")
		addr = hostport[strings.LastIndex(hostport, "@")+1:]
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+"/", "./cmd/coordinator")
	cmd.Dir = "../../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log bytes.Buffer
	cfg := Config{Bin: bin, Addr: addr, Rows: 20000, ASNFile: filepath.Join("..", "..", "enrich", "testdata", "location-slice.txt"), Log: &log}
	res, sizes, err := Run(ctx, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "connect") || strings.Contains(err.Error(), "unreachable") {
			testenv.Require(t, "ClickHouse on "+addr, err)
		}
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	var out bytes.Buffer
	Table(&out, cfg, res, sizes)
	for _, want := range []string{"fill ptr with 20000 rows", "suffix search", "one address (lookup)", "one /16", "status",
		"search --group asn", "fleets", "diff", "export --scan big-a", "import of 10000 exported rows", "bytes a row on disk: ptr"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// the suffix search finds the fleet: one address in 1000 of each scan
	for _, r := range res {
		if r.What == "suffix search (ips)" && r.Note != "10 lines out" {
			t.Errorf("suffix search printed %s, want the 10 fleet addresses of big-a", r.Note)
		}
	}
}
