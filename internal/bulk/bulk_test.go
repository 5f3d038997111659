package bulk

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// run runs Run over stdin with the fake world (or res) and returns the
// output and stderr.
func run(t *testing.T, cfg Config, stdin string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	if cfg.Resolver == nil {
		cfg.Resolver = &fakeResolver{}
	}
	cfg.Batch = cmp.Or(cfg.Batch, DefaultBatch)
	cfg.InFlight = cmp.Or(cfg.InFlight, DefaultInFlight)
	cfg.Stdin, cfg.Stdout, cfg.Stderr = strings.NewReader(stdin), &out, &errb
	err = Run(context.Background(), cfg)
	return out.String(), errb.String(), err
}

// wantRows returns the jsonl lines the fake world gives for addrs, sorted.
func wantRows(addrs []netip.Addr, scan string) []string {
	var lines []string
	for _, a := range addrs {
		for _, r := range sweep.Rows(nil, sweep.Unit{Scan: scan}, answer(a)) {
			lines = append(lines, fmt.Sprintf("%s %s %s %s", r.IP, r.PTR, r.Status, scan))
		}
	}
	slices.Sort(lines)
	return lines
}

// gotRows parses jsonl output into the form of wantRows, sorted.
func gotRows(t *testing.T, out string) []string {
	t.Helper()
	var lines []string
	for _, ln := range strings.Split(strings.TrimSpace(out), "\n") {
		if ln == "" {
			continue
		}
		var r struct{ IP, PTR, Status, Scan string }
		if err := json.Unmarshal([]byte(ln), &r); err != nil {
			t.Fatalf("row %q: %v", ln, err)
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s", r.IP, r.PTR, r.Status, r.Scan))
	}
	slices.Sort(lines)
	return lines
}

func addrsOf(ps ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ps {
		p := netip.MustParsePrefix(s)
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			out = append(out, a)
		}
	}
	return out
}

var summaryRE = regexp.MustCompile(`(?m)^worker resolve: (\d+) addresses, (\d+) PTRs in \S+ \([\d.]+ addresses/s, (\d+) queries, [\d.]+ qps\); ok=\d+ `)

// TestRunMixedInput feeds every input form, out of order and with
// duplicates, and checks every address gets its rows, a repeated one as
// often as it was given.
func TestRunMixedInput(t *testing.T) {
	in := "# a list\n\n198.51.100.9\n203.0.113.0/30 # CIDR\n7.100.51.198.in-addr.arpa.\n198.51.100.9\n" +
		"198.51.100.20-198.51.100.24\n0.2.0.192.IN-ADDR.ARPA\n2.0.192.in-addr.arpa\n\t198.51.100.7  \n"
	out, stderr, err := run(t, Config{Scan: "s", Options: sweep.Options{AllowReserved: true}}, in)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	addrs := addrsOf("198.51.100.9/32", "203.0.113.0/30", "198.51.100.7/32", "198.51.100.9/32", "198.51.100.20/30",
		"198.51.100.24/32", "192.0.2.0/32", "192.0.2.0/24", "198.51.100.7/32")
	if got, want := gotRows(t, out), wantRows(addrs, "s"); !slices.Equal(got, want) {
		t.Errorf("rows:\ngot  %q\nwant %q", got, want)
	}
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil || m[1] != fmt.Sprint(len(addrs)) || m[3] != fmt.Sprint(len(addrs)) {
		t.Errorf("summary %q: want %d addresses and queries", stderr, len(addrs))
	}
}

// TestRunBatches checks the cut: no batch is larger than Batch, every /24
// of a CIDR line goes to the engine whole, and every address is handed out
// exactly as often as the input holds it.
func TestRunBatches(t *testing.T) {
	var (
		mu      sync.Mutex
		batches [][]netip.Addr
	)
	res := &fakeResolver{resolveAddrs: func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
		mu.Lock()
		batches = append(batches, slices.Clone(addrs))
		mu.Unlock()
		for _, a := range addrs {
			emit(answer(a))
		}
		return nil
	}}
	in := "198.51.100.1\n198.51.100.2\n198.51.100.3\n10.0.0.0/22\n10.9.0.0/25\n198.51.100.1\n10.1.0.0/24\n"
	_, stderr, err := run(t, Config{Resolver: res, Batch: 512, InFlight: 2, Options: sweep.Options{AllowReserved: true}}, in)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	seen := map[netip.Addr]int{}
	whole := map[netip.Prefix]int{} // /24 → the batch holding its addresses
	for i, b := range batches {
		if len(b) > 512 {
			t.Errorf("batch %d has %d addresses, more than 512", i, len(b))
		}
		for _, a := range b {
			seen[a]++
			blk, _ := a.Prefix(24)
			if j, ok := whole[blk]; ok && j != i && blk.Addr().As4()[0] == 10 {
				t.Errorf("%s is split between batches %d and %d", blk, j, i)
			}
			whole[blk] = i
		}
	}
	want := map[netip.Addr]int{}
	for _, a := range addrsOf("198.51.100.1/32", "198.51.100.2/31", "10.0.0.0/22", "10.9.0.0/25", "198.51.100.1/32", "10.1.0.0/24") {
		want[a]++
	}
	for a, n := range want {
		if seen[a] != n {
			t.Errorf("%s handed out %d times, want %d", a, seen[a], n)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct addresses handed out, want %d", len(seen), len(want))
	}
}

// TestRunKeepsBatchesInFlight checks that InFlight batches resolve at once:
// each call waits until all of them have started.
func TestRunKeepsBatchesInFlight(t *testing.T) {
	const inFlight = 3
	var (
		mu      sync.Mutex
		started int
		most    int
		all     = make(chan struct{})
	)
	res := &fakeResolver{resolveAddrs: func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
		mu.Lock()
		started++
		if started > most && started == inFlight {
			close(all) // once: most never reaches inFlight again
		}
		most = max(most, started)
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Errorf("only %d of %d batches in flight", most, inFlight)
		}
		for _, a := range addrs {
			emit(answer(a))
		}
		mu.Lock()
		started--
		mu.Unlock()
		return nil
	}}
	in := strings.Repeat("198.51.100.7\n", 256*inFlight*2)
	if _, stderr, err := run(t, Config{Resolver: res, Batch: 256, InFlight: inFlight, Options: sweep.Options{AllowReserved: true}}, in); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr)
	}
	if most != inFlight {
		t.Errorf("at most %d batches in flight, want %d", most, inFlight)
	}
}

// TestRunBadLine checks that a bad line names its number and stops the
// run after the rows of the lines before it are written.
func TestRunBadLine(t *testing.T) {
	tests := []struct {
		in, want string
		kind     error
		before   []netip.Addr
	}{
		{"44.0.0.0/25\n44.0.1.200\n# c\nbogus\n44.0.1.201\n", "input:4: \"bogus\" is not an IPv4 address", cidr.ErrSyntax,
			addrsOf("44.0.0.0/25", "44.0.1.200/32")},
		{"44.0.0.2\n1.2.3.4-1.2.3.1\n", "input:2: \"1.2.3.4-1.2.3.1\" ends before it starts", cidr.ErrRangeOrder, addrsOf("44.0.0.2/32")},
		{"44.0.0.2\n1.2.3.4.5.in-addr.arpa.\n", "input:2: \"1.2.3.4.5.in-addr.arpa.\" has 5 octets", sweep.ErrReverseName, addrsOf("44.0.0.2/32")},
		{"8.8.8.8\n10.1.2.0/24\n", "input:2: 10.1.2.0/24 overlaps reserved ranges (10.1.2.0/24); pass --allow-reserved", ErrInput, addrsOf("8.8.8.8/32")},
		{"8.8.8.8\n9.9.8.0/23\n", "input:2: 9.9.8.0/23 overlaps the excluded ranges (9.9.9.128/25)", ErrInput, addrsOf("8.8.8.8/32")},
	}
	exclude := cidr.NewSet(netip.MustParsePrefix("9.9.9.128/25"))
	for _, tt := range tests {
		out, stderr, err := run(t, Config{Exclude: exclude}, tt.in)
		if err == nil || !errors.Is(err, ErrInput) || !errors.Is(err, tt.kind) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("input %q: error %v, want one wrapping ErrInput and %v that starts %q", tt.in, err, tt.kind, tt.want)
		}
		if got, want := gotRows(t, out), wantRows(tt.before, ""); !slices.Equal(got, want) {
			t.Errorf("input %q: rows\ngot  %q\nwant %q", tt.in, got, want)
		}
		if m := summaryRE.FindStringSubmatch(stderr); m == nil || m[1] != fmt.Sprint(len(tt.before)) {
			t.Errorf("input %q: summary %q, want %d addresses", tt.in, stderr, len(tt.before))
		}
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRunFiles reads plain and gzip input from a file and from stdin and
// writes the massdns and sonar formats to a file.
func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	list := "198.51.100.0/30\n4.100.51.198.in-addr.arpa\n"
	addrs := addrsOf("198.51.100.0/30", "198.51.100.4/32")
	plain, gz := filepath.Join(dir, "list.txt"), filepath.Join(dir, "list.txt.whatever")
	if err := os.WriteFile(plain, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gz, gzipped(t, list), 0o600); err != nil {
		t.Fatal(err)
	}
	var massdns, sonar []string
	for _, a := range addrs {
		if r := answer(a); r.Status == sweep.StatusOK {
			massdns = append(massdns, fmt.Sprintf("%s PTR %s.", sweep.ReverseName(a), r.PTRs[0].Name))
			sonar = append(sonar, fmt.Sprintf(`{"timestamp":"%d","name":"%s","type":"ptr","value":"%s"}`, r.ResolvedAt.Unix(), a, r.PTRs[0].Name))
		}
	}
	tests := []struct {
		input, stdin, format string
		want                 []string
	}{
		{plain, "", "massdns", massdns},
		{gz, "", "massdns", massdns},
		{"-", string(gzipped(t, list)), "sonar", sonar},
		{"", list, "sonar", sonar},
	}
	for _, tt := range tests {
		outPath := filepath.Join(dir, "out")
		_, stderr, err := run(t, Config{Input: tt.input, Output: outPath, Format: tt.format, Options: sweep.Options{AllowReserved: true}}, tt.stdin)
		if err != nil {
			t.Fatalf("Run(%s, %s): %v\n%s", tt.input, tt.format, err, stderr)
		}
		b, err := os.ReadFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSpace(string(b)), "\n")
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Run(%s, %s) wrote\n%q\nwant\n%q", tt.input, tt.format, got, tt.want)
		}
	}
	// A bad line of a file names the file.
	if err := os.WriteFile(plain, []byte("198.51.100.1\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, Config{Input: plain, Options: sweep.Options{AllowReserved: true}}, ""); err == nil || !strings.HasPrefix(err.Error(), plain+":2: ") {
		t.Errorf("bad line of %s: %v", plain, err)
	}
	// So does a gzip file that ends early, as a read error.
	if err := os.WriteFile(gz, gzipped(t, list)[:20], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, Config{Input: gz, Options: sweep.Options{AllowReserved: true}}, ""); err == nil || !strings.HasPrefix(err.Error(), gz+":") {
		t.Errorf("truncated gzip %s: %v", gz, err)
	}
}

func TestRunConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		cfg  Config
		kind error
		want string
	}{
		{Config{Format: "csv"}, ErrConfig, `--format "csv": want jsonl, sonar, massdns`},
		{Config{Batch: 100}, ErrConfig, "want at least 256"},
		{Config{InFlight: -1}, ErrConfig, "--units -1: want at least 1"},
		{Config{Input: filepath.Join(dir, "missing")}, ErrInput, "no such file"},
		{Config{Output: filepath.Join(dir, "no", "such", "dir")}, ErrConfig, "no such file"},
	}
	for _, tt := range tests {
		_, _, err := run(t, tt.cfg, "")
		if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%+v) = %v, want %v saying %q", tt.cfg, err, tt.kind, tt.want)
		}
	}
}

// TestRunFailures: an engine error and a write error stop the reading and
// are returned; an interrupted run returns ctx's error.
func TestRunFailures(t *testing.T) {
	boom := errors.New("no socket")
	res := &fakeResolver{resolveAddrs: func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
		return boom
	}}
	if _, _, err := run(t, Config{Resolver: res, Options: sweep.Options{AllowReserved: true}}, "198.51.100.0/24\n"); !errors.Is(err, boom) || !strings.Contains(err.Error(), "resolve 256 addresses from 198.51.100.0") {
		t.Errorf("engine failure: Run = %v, want %v with the batch named", err, boom)
	}

	err := Run(context.Background(), Config{Resolver: &fakeResolver{}, Stdin: strings.NewReader("198.51.96.0/20\n"), Stdout: failWriter{},
		Batch: 256, InFlight: 1, Options: sweep.Options{AllowReserved: true}})
	if !errors.Is(err, errFull) || !strings.HasPrefix(err.Error(), "write rows: ") {
		t.Errorf("write failure: Run = %v, want write rows: %v", err, errFull)
	}

	ctx, cancel := context.WithCancel(context.Background())
	res = &fakeResolver{resolveAddrs: func(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}
	err = Run(ctx, Config{Resolver: res, Stdin: strings.NewReader(strings.Repeat("198.51.100.0/24\n", 100)), Stdout: io.Discard, Quiet: true,
		Batch: DefaultBatch, InFlight: DefaultInFlight,
		Options: sweep.Options{AllowReserved: true}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted: Run = %v, want context.Canceled", err)
	}
}

var errFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

func TestQuiet(t *testing.T) {
	out, stderr, err := run(t, Config{Quiet: true, Progress: true, Options: sweep.Options{AllowReserved: true}}, "198.51.100.2\n")
	if err != nil || stderr != "" || len(gotRows(t, out)) != 1 {
		t.Errorf("quiet run: %v, stderr %q, output %q; want one row and nothing on stderr", err, stderr, out)
	}
}

func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{name: "worker resolve", done: new(atomic.Uint64), in: &input{name: "list.txt", size: 1000}, start: start}
	p.done.Store(5000)
	p.in.read.Store(250)
	if got, want := p.line(start.Add(10*time.Second)), "worker resolve: 5000 addresses, 500/s, 25% of list.txt read, ETA 30s"; got != want {
		t.Errorf("progress line = %q, want %q", got, want)
	}
	p.in.size = 0
	if got, want := p.line(start.Add(10*time.Second)), "worker resolve: 5000 addresses, 500/s"; got != want {
		t.Errorf("progress line of a pipe = %q, want %q", got, want)
	}
	var b bytes.Buffer
	p.w = &b
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.run(ctx, time.Hour)
	if b.String() != "\r\x1b[K" {
		t.Errorf("progress at the end wrote %q, want the line cleared", b.String())
	}
}
