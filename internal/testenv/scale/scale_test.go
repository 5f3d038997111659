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
	// the suffix searches find the fleets of big-a's 10,000 addresses:
	// the small one (every 500,000th: address 0) and the big one (every
	// 500th, without the small one's); every coordinator step has the
	// server time of its queries
	wantNotes := map[string]string{"suffix search (ips)": "1 lines out", "suffix search of the big fleet (ips)": "19 lines out"}
	for _, r := range res {
		if want, ok := wantNotes[r.What]; ok && r.Note != want {
			t.Errorf("%s printed %s, want %s", r.What, r.Note, want)
		}
		if strings.HasPrefix(r.Command, "coordinator ") && (r.Queries == 0 || r.SlowestSQL == "") {
			t.Errorf("%s: %d queries, server time %v, slowest %q; want the command's queries from system.query_log", r.What, r.Queries, r.Server, r.SlowestSQL)
		}
	}
}
