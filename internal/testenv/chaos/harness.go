package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/natsproc"
)

// Config configures a Harness.
type Config struct {
	// Bin is the directory holding coordinator, worker, ptrlab and
	// nats-server (build nats-server with
	// `go build -o BIN/nats-server github.com/nats-io/nats-server/v2`).
	Bin string
	// ClickHouseServer is the clickhouse-server binary (default: found).
	ClickHouseServer string
	// Quick makes every scenario small: a /22 and short outages.
	Quick bool
	// Keep leaves the temp directory (logs, data) in place after Close.
	Keep bool
	// Logger receives progress lines; nil discards.
	Logger *slog.Logger
}

// Harness owns the processes and directories of a chaos run: a private
// ClickHouse for the whole run, and per scenario a NATS server, lab
// servers and workers. Create it with New, run scenarios with Run, and
// always Close it. Not safe for concurrent use.
type Harness struct {
	cfg  Config
	dir  string
	ps   *procs
	ch   *ClickHouse
	log  *slog.Logger
	lab  *lab.Lab
	labE error
	labO sync.Once
}

// New creates the temp directory and starts the private ClickHouse.
func New(ctx context.Context, cfg Config) (*Harness, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ClickHouseServer == "" {
		p, err := FindClickHouse()
		if err != nil {
			return nil, err
		}
		cfg.ClickHouseServer = p
	}
	for _, b := range []string{"coordinator", "worker", "ptrlab", "nats-server"} {
		if _, err := os.Stat(filepath.Join(cfg.Bin, b)); err != nil {
			return nil, fmt.Errorf("binary %s: %w (build with: go build -o %s/ ./cmd/... && go build -o %s/nats-server github.com/nats-io/nats-server/v2)", b, err, cfg.Bin, cfg.Bin)
		}
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, err
	}
	cfg.Bin = bin
	dir, err := os.MkdirTemp("", "ptrchaos-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	h := &Harness{cfg: cfg, dir: dir, log: cfg.Logger}
	h.ps = &procs{dir: dir}
	ch, err := newClickHouse(cfg.ClickHouseServer, filepath.Join(dir, "clickhouse"), h.ps, nil, nil)
	if err != nil {
		h.Close()
		return nil, err
	}
	h.ch = ch
	if err := ch.Start(ctx); err != nil {
		h.Close()
		return nil, err
	}
	h.log.Info("clickhouse started", "tcp", ch.TCPPort, "dir", dir)
	return h, nil
}

// Dir returns the harness's temp directory (logs of every process).
func (h *Harness) Dir() string { return h.dir }

// Close ends every process the harness started and removes its directory
// (unless Config.Keep).
func (h *Harness) Close() error {
	h.ps.stopAll(30 * time.Second)
	if h.cfg.Keep {
		return nil
	}
	if err := os.RemoveAll(h.dir); err != nil {
		return fmt.Errorf("remove %s: %w", h.dir, err)
	}
	return nil
}

// theLab returns the lab's truth for 198.18.0.0/16, built once.
func (h *Harness) theLab() (*lab.Lab, error) {
	h.labO.Do(func() { h.lab, h.labE = lab.New(lab.DefaultSpace) })
	return h.lab, h.labE
}

// env is one scenario's world: its own NATS server, database and scan.
type env struct {
	h       *Harness
	name    string            // scenario id, used for the scan and the database
	nats    *NATS             // the scenario's server (nil with a cluster)
	cluster *natsproc.Cluster // the scenario's cluster (nil with one server)
	url     string            // client URL(s) of nats or cluster
	replica int               // --replicas of publish (0: not given)
	space   netip.Prefix
	db      string
	scan    string
	labs    []*testenv.Proc
	labAddr []string
	workers int
	procs   []*testenv.Proc // every process of the scenario, stopped by close
}

// start starts a process that belongs to the scenario.
func (e *env) start(name string, argv ...string) (*testenv.Proc, error) {
	p, err := e.h.ps.start(name, nil, nil, argv...)
	if err == nil {
		e.procs = append(e.procs, p)
	}
	return p, err
}

// newEnv starts a NATS server for one scenario.
func (h *Harness) newEnv(ctx context.Context, name string, space netip.Prefix) (*env, error) {
	port, err := testenv.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	mon, err := testenv.FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	n := &NATS{bin: filepath.Join(h.cfg.Bin, "nats-server"), dir: filepath.Join(h.dir, "nats-"+name), Port: port, MonPort: mon, ps: h.ps}
	e := h.env(name, space)
	e.nats, e.url = n, n.URL()
	n.onStart = func(p *testenv.Proc) { e.procs = append(e.procs, p) }
	if err := n.Start(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// env returns a scenario's world without a queue yet.
func (h *Harness) env(name string, space netip.Prefix) *env {
	stamp := strconv.FormatInt(time.Now().Unix()%100000, 10)
	return &env{h: h, name: name, space: space, db: "ptrchaos_" + name + "_" + stamp, scan: "chaos-" + name + "-" + stamp}
}

// newClusterEnv starts a JetStream cluster of nodes nats-servers for one
// scenario; publish then asks for streams with nodes replicas.
func (h *Harness) newClusterEnv(ctx context.Context, name string, space netip.Prefix, nodes int) (*env, error) {
	e := h.env(name, space)
	c, err := natsproc.Start(ctx, natsproc.Spec{Bin: filepath.Join(h.cfg.Bin, "nats-server"), Dir: filepath.Join(h.dir, "nats-"+name),
		Nodes: nodes, Start: e.start})
	if err != nil {
		e.close()
		return nil, err
	}
	e.cluster, e.url, e.replica = c, c.URL(), nodes
	return e, nil
}

// close stops the scenario's processes and drops its database.
func (e *env) close() {
	// Workers and coordinators first, while NATS and ClickHouse still
	// serve their last acks; then the servers.
	var first, rest []*testenv.Proc
	for _, p := range e.procs {
		if strings.HasPrefix(p.Name, "worker") || strings.HasPrefix(p.Name, "coordinator") {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	stopProcs(first, 15*time.Second)
	stopProcs(rest, 15*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.h.ch.Query(ctx, "", "DROP DATABASE IF EXISTS "+e.db); err != nil {
		e.h.log.Warn("drop scenario database", "db", e.db, "err", err)
	}
}

// startLab starts `ptrlab serve` on host (127.0.0.x) and waits until it serves.
func (e *env) startLab(ctx context.Context, host string) (*testenv.Proc, string, error) {
	port, err := testenv.FreePort(host)
	if err != nil {
		return nil, "", err
	}
	addr := host + ":" + strconv.Itoa(port)
	p, err := e.start("ptrlab-"+host, filepath.Join(e.h.cfg.Bin, "ptrlab"), "serve", "--listen", addr)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, 100*time.Millisecond, logSays(p, 5, "ptrlab: serving")); err != nil {
		return nil, "", fmt.Errorf("ptrlab on %s: %w", addr, err)
	}
	e.labs = append(e.labs, p)
	e.labAddr = append(e.labAddr, addr)
	return p, addr, nil
}

// workerOpts are the per-worker flags a scenario varies.
type workerOpts struct {
	resolvers string   // default: every lab server started
	qps       int      // default 300; negative: unlimited
	units     int      // units at once, default 2
	grace     string   // default 5s
	prefix    []string // argv prefix (e.g. prlimit)
}

const ackWait = 5 * time.Second

// startWorker starts one worker process.
func (e *env) startWorker(o workerOpts) (*testenv.Proc, error) {
	e.workers++
	if o.resolvers == "" {
		o.resolvers = strings.Join(e.labAddr, ",")
	}
	if o.qps == 0 {
		o.qps = 300
	}
	o.qps = max(o.qps, 0)
	if o.units == 0 {
		o.units = 2
	}
	if o.grace == "" {
		o.grace = "5s"
	}
	name := fmt.Sprintf("w%d", e.workers)
	argv := append(append([]string(nil), o.prefix...), filepath.Join(e.h.cfg.Bin, "worker"),
		"--nats", e.url, "--clickhouse", e.h.ch.DSN(e.db), "--resolvers", o.resolvers,
		"--ack-wait", ackWait.String(), "--max-deliver", "5", "--qps", strconv.Itoa(o.qps),
		"--timeout", "500ms", "--units", strconv.Itoa(o.units), "--flush-interval", "300ms", "--grace", o.grace,
		"--name", e.name+"-"+name, "--log-level", "info")
	return e.start("worker-"+name, argv...)
}

// coordinator runs `coordinator args…` to completion (or ctx) and returns
// its exit code and combined output.
func (e *env) coordinator(ctx context.Context, stdout io.Writer, args ...string) (int, string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.h.cfg.Bin, "coordinator"), args...)
	var errb strings.Builder
	if stdout == nil {
		stdout = &errb
	}
	cmd.Stdout, cmd.Stderr = stdout, &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return -1, errb.String(), fmt.Errorf("coordinator %s: %w", args[0], err)
	}
	return cmd.ProcessState.ExitCode(), errb.String(), nil
}

// publishArgs are the arguments of `coordinator publish` for the scenario.
func (e *env) publishArgs(unitPrefix int) []string {
	args := []string{"publish", "--cidr", e.space.String(), "--allow-reserved", "--unit-prefix", strconv.Itoa(unitPrefix),
		"--scan", e.scan, "--nats", e.url, "--clickhouse", e.h.ch.DSN(e.db), "--ack-wait", ackWait.String(), "--max-deliver", "5"}
	if e.replica > 0 {
		args = append(args, "--replicas", strconv.Itoa(e.replica))
	}
	return args
}

// publish runs `coordinator publish` and fails unless it exits 0.
func (e *env) publish(ctx context.Context, unitPrefix int) (string, error) {
	code, out, err := e.coordinator(ctx, nil, e.publishArgs(unitPrefix)...)
	if err != nil {
		return out, err
	}
	if code != 0 {
		return out, fmt.Errorf("coordinator publish exited %d: %s", code, out)
	}
	return out, nil
}

// progress returns the units done and failed, from the unit log.
func (e *env) progress(ctx context.Context) (done, failed int, err error) {
	out, err := e.h.ch.Query(ctx, e.db, "SELECT countIf(state = 'done'), countIf(state = 'failed') FROM units FINAL WHERE scan = '"+e.scan+"'")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("progress: %q", out)
	}
	done, _ = strconv.Atoi(f[0])
	failed, _ = strconv.Atoi(f[1])
	return done, failed, nil
}

// watcher polls the unit log in the background: it records when the done
// count last rose, so a scenario can wait for a fraction of the units and
// measure stalls.
type watcher struct {
	e      *env
	units  int
	mu     sync.Mutex
	done   int
	failed int
	times  []time.Time // times[i]: when done first reached i+1 (approx.)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (e *env) watch(units int) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{e: e, units: units, cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for ctx.Err() == nil {
			qctx, qcancel := context.WithTimeout(ctx, 2*time.Second)
			d, f, err := e.progress(qctx)
			qcancel()
			if err == nil {
				now := time.Now()
				w.mu.Lock()
				for len(w.times) < d {
					w.times = append(w.times, now)
				}
				w.done, w.failed = max(w.done, d), f
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *watcher) stop() { w.cancel(); w.wg.Wait() }

// state returns the done and failed counts last seen.
func (w *watcher) state() (int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done, w.failed
}

// until waits until at least n units are done (or failed), or d passes.
func (w *watcher) until(ctx context.Context, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		done, failed := w.state()
		if done+failed >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d units finished after %s", ErrTimeout, done+failed, n, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// untilDone waits until n units are done (not failed), or d passes.
func (w *watcher) untilDone(ctx context.Context, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		w.mu.Lock()
		done, failed := w.done, w.failed
		w.mu.Unlock()
		if done >= n && failed == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d of %d units done, %d failed after %s", ErrTimeout, done, n, failed, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// maxGap returns the longest time without a newly done unit between since
// and the last unit.
func (w *watcher) maxGap(since time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gap time.Duration
	prev := since
	for _, t := range w.times {
		if t.Before(since) {
			continue
		}
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	return gap
}

// lastDone returns when the last unit was seen done.
func (w *watcher) lastDone() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.times) == 0 {
		return time.Time{}
	}
	return w.times[len(w.times)-1]
}

// waitStatus runs `coordinator status --wait` and returns its exit code.
func (e *env) waitStatus(ctx context.Context, d time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	code, out, err := e.coordinator(ctx, nil, "status", "--scan", e.scan, "--clickhouse", e.h.ch.DSN(e.db), "--wait", "--interval", "250ms")
	if ctx.Err() != nil {
		return code, out, fmt.Errorf("%w: coordinator status --wait after %s", ErrTimeout, d)
	}
	return code, out, err
}

// key is one comparable row: what export prints minus scan, time and TTL.
type key struct{ ip, ptr, status, fcrdns string }

// truth returns the rows a correct sweep of the scenario's space stores.
func (e *env) truth() (map[key]bool, error) {
	l, err := e.h.theLab()
	if err != nil {
		return nil, err
	}
	return truthOf(e.space, l.Expect), nil
}

// truthOf returns the rows a correct sweep of space without --confirm
// stores when expect gives each address's answer.
func truthOf(space netip.Prefix, expect func(netip.Addr) lab.Expected) map[key]bool {
	want := map[key]bool{}
	var rows []sweep.Row
	for ip := space.Masked().Addr(); space.Contains(ip); ip = ip.Next() {
		rows = sweep.Rows(rows[:0], sweep.Unit{Prefix: space}, expect(ip).Result(ip))
		for _, r := range rows {
			// Scans here run without --confirm: no forward outcome.
			want[key{r.IP.String(), r.PTR, r.Status.String(), ""}] = true
		}
	}
	return want
}

// Counts is the comparison of stored rows with the truth.
type Counts struct {
	Expected, Stored, Missing, Duplicates, Foreign int
	Examples                                       []string
}

// compare exports the scan with `coordinator export` and compares it with
// the truth. Duplicates are export lines whose row repeats.
func (e *env) compare(ctx context.Context) (Counts, error) {
	want, err := e.truth()
	if err != nil {
		return Counts{}, err
	}
	path := filepath.Join(e.h.dir, e.name+"-export.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return Counts{}, err
	}
	code, out, err := e.coordinator(ctx, f, "export", "--scan", e.scan, "--clickhouse", e.h.ch.DSN(e.db))
	f.Close()
	if err != nil || code != 0 {
		return Counts{}, fmt.Errorf("coordinator export exited %d: %v %s", code, err, out)
	}
	f, err = os.Open(path)
	if err != nil {
		return Counts{}, err
	}
	defer f.Close()
	return compareExport(f, want)
}

// CompareExport compares the JSON lines of `coordinator export` of a scan
// of space without --confirm, read from export, with what expect (the
// lab's Expect, or ExpectRecursive through a resolver) says a correct
// sweep stores. Duplicates are export lines whose row repeats.
func CompareExport(export io.Reader, space netip.Prefix, expect func(netip.Addr) lab.Expected) (Counts, error) {
	return compareExport(export, truthOf(space, expect))
}

func compareExport(export io.Reader, want map[key]bool) (Counts, error) {
	c := Counts{Expected: len(want)}
	seen := map[key]int{}
	sc := bufio.NewScanner(export)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct{ IP, PTR, Status, FCrDNS string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return c, fmt.Errorf("export line %q: %w", sc.Text(), err)
		}
		k := key{r.IP, r.PTR, r.Status, r.FCrDNS}
		c.Stored++
		seen[k]++
		if seen[k] == 2 {
			c.Duplicates++
			c.example("duplicate " + fmt.Sprint(k))
		}
		if !want[k] && seen[k] == 1 {
			c.Foreign++
			c.example("foreign " + fmt.Sprint(k))
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	for k := range want {
		if seen[k] == 0 {
			c.Missing++
			c.example("missing " + fmt.Sprint(k))
		}
	}
	return c, nil
}

func (c *Counts) example(s string) {
	if len(c.Examples) < 5 {
		c.Examples = append(c.Examples, s)
	}
}
