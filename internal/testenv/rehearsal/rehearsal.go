// Package rehearsal runs a whole ptrsweep deployment on one machine against
// the lab's synthetic Internet (lab.InternetExpect) and checks what it
// stored: an external nats-server (or a three-node cluster), `ptrlab serve
// --internet` on 127.0.0.x, worker processes, and ClickHouse (a fresh
// database on a running server). It publishes a CIDR with `coordinator
// publish`, waits with `coordinator status --wait`, samples the peak RSS of
// the workers and of NATS, and reports throughput, ClickHouse parts and
// bytes per row, and every difference from the truth: each row of a random
// 1 % of the /24s, and the per-status totals of the whole CIDR.
//
// All DNS goes to the lab's loopback address: the workers get it as their
// only resolver.
package rehearsal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/natsproc"
)

// DefaultCIDR is the /8 of the synthetic Internet a rehearsal sweeps: public
// space (so no --allow-reserved), about 28.5 % of its addresses with a PTR.
var DefaultCIDR = netip.MustParsePrefix("8.0.0.0/8")

// Config configures Run.
type Config struct {
	// Bin holds coordinator, worker, ptrlab and nats-server.
	Bin string
	// CIDR is the prefix to sweep (default DefaultCIDR).
	CIDR netip.Prefix
	// UnitPrefix is the prefix length of a unit (default 24).
	UnitPrefix int
	// AllowReserved passes --allow-reserved to publish (for a CIDR in
	// reserved space).
	AllowReserved bool
	// Workers is the number of worker processes (default 4).
	Workers int
	// WorkerArgs are extra flags for every worker (e.g. --qps 5000).
	WorkerArgs []string
	// Cluster is the number of nats-server nodes: 1 (default) or 3, with
	// streams of as many replicas.
	Cluster int
	// ClickHouse is the native-protocol address of the ClickHouse server
	// (default clickhouse://127.0.0.1:9000) and ClickHouseHTTP its HTTP
	// interface (default http://127.0.0.1:8123), for the checks.
	ClickHouse, ClickHouseHTTP string
	// LabHost is the loopback address the lab serves on (default 127.0.0.2).
	LabHost string
	// SampleShare is the share of /24s checked row by row (default 0.01).
	SampleShare float64
	// Timeout bounds the sweep, publish to done (default 3 h).
	Timeout time.Duration
	// Keep keeps the database and the temp directory (logs).
	Keep bool
	// Logger receives progress lines; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if !c.CIDR.IsValid() {
		c.CIDR = DefaultCIDR
	}
	c.CIDR = c.CIDR.Masked()
	if c.UnitPrefix == 0 {
		c.UnitPrefix = 24
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Cluster == 0 {
		c.Cluster = 1
	}
	if c.ClickHouse == "" {
		c.ClickHouse = "clickhouse://127.0.0.1:9000"
	}
	if c.ClickHouseHTTP == "" {
		c.ClickHouseHTTP = "http://127.0.0.1:8123"
	}
	if c.LabHost == "" {
		c.LabHost = "127.0.0.2"
	}
	if c.SampleShare == 0 {
		c.SampleShare = 0.01
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) check() error {
	if !c.CIDR.Addr().Is4() || c.CIDR.Bits() < 8 || c.CIDR.Bits() > 24 {
		return fmt.Errorf("cidr %s: want an IPv4 prefix of length 8 to 24", c.CIDR)
	}
	if c.UnitPrefix < c.CIDR.Bits() || c.UnitPrefix > 32 {
		return fmt.Errorf("unit prefix /%d: want %d to 32", c.UnitPrefix, c.CIDR.Bits())
	}
	if c.Workers < 1 {
		return fmt.Errorf("workers %d: want at least 1", c.Workers)
	}
	if c.Cluster != 1 && c.Cluster != 3 {
		return fmt.Errorf("cluster %d: want 1 or 3 nodes", c.Cluster)
	}
	if c.SampleShare <= 0 || c.SampleShare > 1 {
		return fmt.Errorf("sample share %g: want more than 0 and at most 1", c.SampleShare)
	}
	ip, err := netip.ParseAddr(c.LabHost)
	if err != nil || !ip.Is4() || !ip.IsLoopback() {
		return fmt.Errorf("lab host %q: want an IPv4 address in 127.0.0.0/8", c.LabHost)
	}
	for _, b := range []string{"coordinator", "worker", "ptrlab", "nats-server"} {
		if _, err := os.Stat(filepath.Join(c.Bin, b)); err != nil {
			return fmt.Errorf("binary %s: %w (build with: go build -o %s/ ./cmd/... && go build -o %s/nats-server github.com/nats-io/nats-server/v2)", b, err, c.Bin, c.Bin)
		}
	}
	return nil
}

// rig is one rehearsal's processes and names.
type rig struct {
	cfg     Config
	dir     string
	db, dsn string
	scan    string
	ch      *clickHouse
	mu      sync.Mutex
	procs   []*testenv.Proc
	nats    *natsproc.Cluster
	lab     string
	workers []*testenv.Proc
}

func (r *rig) start(name string, argv ...string) (*testenv.Proc, error) {
	p, err := testenv.Start(testenv.ProcSpec{Name: name, Argv: argv, Log: filepath.Join(r.dir, name+".log")})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p, nil
}

// stop ends the workers first, then the servers.
func (r *rig) stop() {
	stopAll(r.workers)
	r.mu.Lock()
	rest := append([]*testenv.Proc(nil), r.procs...)
	r.mu.Unlock()
	stopAll(rest)
}

func stopAll(ps []*testenv.Proc) {
	var wg sync.WaitGroup
	for _, p := range ps {
		if p.Running() {
			wg.Add(1)
			go func() { defer wg.Done(); p.Stop(15 * time.Second) }()
		}
	}
	wg.Wait()
}

// Run runs a rehearsal, writes its report to out, and returns the report;
// the error wraps ErrMismatch when the stored data differ from the truth.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, err
	}
	cfg.Bin = bin
	dir, err := os.MkdirTemp("", "ptrrehearse-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	tag := hex.EncodeToString(rnd[:])
	r := &rig{cfg: cfg, dir: dir, db: "ptrsweep_rehearsal_" + tag, scan: "rehearsal-" + tag,
		ch: &clickHouse{url: cfg.ClickHouseHTTP}}
	r.dsn = strings.TrimSuffix(cfg.ClickHouse, "/") + "/" + r.db
	defer func() {
		r.stop()
		if cfg.Keep {
			fmt.Fprintf(out, "kept: database %s, logs in %s\n", r.db, dir)
			return
		}
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a busy 18.16 may take a minute
		defer cancel()
		if _, err := r.ch.query(dctx, "DROP DATABASE IF EXISTS "+r.db); err != nil {
			cfg.Logger.Warn("drop rehearsal database", "db", r.db, "err", err)
		}
		_ = os.RemoveAll(dir)
	}()
	rep, err := r.run(ctx)
	if rep != nil {
		rep.Write(out)
	}
	if err != nil {
		fmt.Fprintf(out, "logs: %s\n", dir)
	}
	return rep, err
}

func (r *rig) run(ctx context.Context) (*Report, error) {
	cfg, log := r.cfg, r.cfg.Logger
	if _, err := r.ch.query(ctx, "SELECT 1"); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w (start it with make clickhouse)", cfg.ClickHouseHTTP, err)
	}
	// The truth's totals, computed while the processes start.
	truthc := make(chan truth, 1)
	go func() { truthc <- truthTotals(cfg.CIDR) }()

	var err error
	r.nats, err = natsproc.Start(ctx, natsproc.Spec{Bin: filepath.Join(cfg.Bin, "nats-server"), Dir: filepath.Join(r.dir, "nats"),
		Nodes: cfg.Cluster, Start: r.start})
	if err != nil {
		return nil, err
	}
	if err := r.startLab(ctx); err != nil {
		return nil, err
	}
	log.Info("servers up", "nats", r.nats.URL(), "lab", r.lab, "db", r.db)

	rep := &Report{CIDR: cfg.CIDR, Workers: cfg.Workers, Cluster: cfg.Cluster, Scan: r.scan, DB: r.db}
	start := time.Now()
	args := []string{"publish", "--cidr", cfg.CIDR.String(), "--scan", r.scan, "--unit-prefix", strconv.Itoa(cfg.UnitPrefix),
		"--nats", r.nats.URL(), "--clickhouse", r.dsn}
	if cfg.AllowReserved {
		args = append(args, "--allow-reserved")
	}
	if cfg.Cluster > 1 {
		args = append(args, "--replicas", strconv.Itoa(cfg.Cluster))
	}
	if out, err := r.coordinator(ctx, args...); err != nil {
		return nil, fmt.Errorf("coordinator publish: %w: %s", err, out)
	}
	rep.Publish = time.Since(start)
	log.Info("published", "elapsed", rep.Publish)

	for i := range cfg.Workers {
		argv := append([]string{filepath.Join(cfg.Bin, "worker"), "--nats", r.nats.URL(), "--clickhouse", r.dsn,
			"--resolvers", r.lab, "--name", fmt.Sprintf("rehearsal-w%d", i+1), "--log-level", "warn"}, cfg.WorkerArgs...)
		p, err := r.start(fmt.Sprintf("worker-%d", i+1), argv...)
		if err != nil {
			return nil, err
		}
		r.workers = append(r.workers, p)
	}
	peaks := newSampler(append(append([]*testenv.Proc(nil), r.workers...), r.natsProcs()...))
	wctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	out, err := r.coordinator(wctx, "status", "--scan", r.scan, "--clickhouse", r.dsn, "--wait", "--interval", "1s")
	cancel()
	rep.Elapsed = time.Since(start)
	peaks.stop()
	rep.WorkerRSS, rep.NATSRSS = peaks.peaks(r.workers), peaks.peaks(r.natsProcs())
	if err != nil {
		return rep, fmt.Errorf("coordinator status --wait: %w: %s", err, out)
	}
	log.Info("scan done", "elapsed", rep.Elapsed)
	stopAll(r.workers)

	if err := r.measure(ctx, rep); err != nil {
		return rep, err
	}
	t := <-truthc
	rep.Truth, rep.TruthAddrs = t.rows, t.addrs
	if err := r.compareTotals(ctx, rep); err != nil {
		return rep, err
	}
	if err := r.compareSample(ctx, rep); err != nil {
		return rep, err
	}
	if rep.Failed() {
		return rep, ErrMismatch
	}
	return rep, nil
}

func (r *rig) natsProcs() []*testenv.Proc {
	var ps []*testenv.Proc
	for _, n := range r.nats.Nodes {
		ps = append(ps, n.Proc)
	}
	return ps
}

// startLab starts `ptrlab serve --internet` and waits until it serves.
func (r *rig) startLab(ctx context.Context) error {
	addr, err := testenv.FreeAddr(r.cfg.LabHost)
	if err != nil {
		return err
	}
	p, err := r.start("ptrlab", filepath.Join(r.cfg.Bin, "ptrlab"), "serve", "--internet", "--listen", addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = p.WaitReady(ctx, 100*time.Millisecond, func(context.Context) bool { return strings.Contains(p.Output(), "ptrlab: serving") })
	if err != nil {
		return fmt.Errorf("ptrlab on %s: %w", addr, err)
	}
	r.lab = addr
	return nil
}

// coordinator runs `coordinator args…` to completion and returns its
// combined output.
func (r *rig) coordinator(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.cfg.Bin, "coordinator"), args...)
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(b)), err
}
