package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labproc"
)

// DNSPerfPath is the dnsperf binary, as Debian's dnsperf package installs it.
const DNSPerfPath = "/usr/bin/dnsperf"

// stopDelay is how long a child process gets after SIGTERM before SIGKILL.
const stopDelay = 15 * time.Second

// Config configures Run.
type Config struct {
	// Bin is the directory holding the coordinator and worker binaries.
	Bin string
	// Space is the generated space.
	Space *Space
	// Rounds is how many times each tool is run (at least 1).
	Rounds int
	// Unbound also measures dnsperf and the engine through Unbound.
	Unbound bool
	// ClickHouse is the DSN of the pipeline's store; Drop drops its
	// database at the end.
	ClickHouse string
	Drop       bool
	// Scan prefixes the pipeline's scan names ("<Scan>-r1"…).
	Scan string
	// MassDNS is the path of a massdns binary to measure as a peer
	// (`-s 100 -o Snr`); empty: its row says "not run".
	MassDNS string
	// Dir is the working directory (zones, query list, outputs, server
	// state); it must exist.
	Dir string
	// Log receives a line per step.
	Log io.Writer
}

// Row is one line of the results table: one tool against one server.
type Row struct {
	// Tool names the tool and its options; Target the server it asked
	// ("knot" or "unbound → knot").
	Tool, Target string
	// Runs holds one measurement per round.
	Runs []Measurement
	// Verdicts holds one check of the answers per round.
	Verdicts []Verdict
	// Ceiling marks dnsperf, the row other rows of the same Target are
	// compared with.
	Ceiling bool
	// RcodesOnly marks a row whose answers can only be checked by their
	// rcode counts (dnsperf); a wrong count there is reported, not ours.
	RcodesOnly bool
	// Peer marks massdns, the second row other rows of the same Target
	// are compared with.
	Peer bool
}

// Report is the result of Run.
type Report struct {
	Stats  lab.BigStats
	Rounds int
	Rows   []*Row
}

// Run sets up the lab (zone files, Knot on a free 127.0.0.1 port, Unbound
// when asked), then runs every round: dnsperf, the engine alone with and
// without pruning, the whole pipeline, and through Unbound dnsperf and the
// engine, one after the other, checking every answer. Every process it
// starts is stopped before it returns, also when ctx is cancelled. A
// measurement whose answers are wrong is recorded, not an error; an error
// means a tool could not run.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	s := cfg.Space
	rep = &Report{Stats: s.Stats(), Rounds: max(cfg.Rounds, 1)}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "ptrbench: "+format+"\n", args...)
		}
	}
	need := []string{filepath.Join(cfg.Bin, "worker"), filepath.Join(cfg.Bin, "coordinator"), DNSPerfPath}
	if cfg.MassDNS != "" {
		need = append(need, cfg.MassDNS)
	}
	for _, b := range need {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("need %s: %w", b, err)
		}
	}
	st := rep.Stats
	logf("space: %d addresses, %d with one PTR, %d with two, %d NXDOMAIN (%d empty /24s)",
		st.Addresses, st.OnePTR, st.TwoPTRs, st.NXDomain, st.EmptyBlocks)

	t0 := time.Now()
	zones, err := s.WriteZones(filepath.Join(cfg.Dir, "zones"))
	if err != nil {
		return nil, err
	}
	h := &harness{cfg: cfg, logf: logf}
	for _, f := range []struct {
		path  *string
		name  string
		write func(io.Writer) error
	}{
		{&h.queries, "queries.txt", s.WriteQueries},
		{&h.names, "names.txt", s.WriteNames},
		{&h.blocks, "blocks.txt", s.WriteBlocks},
		{&h.addrs, "addresses.txt", s.WriteAddrs},
		{&h.mix, "mix.txt", s.WriteMix},
	} {
		*f.path = filepath.Join(cfg.Dir, f.name)
		if err := writeFile(*f.path, f.write); err != nil {
			return nil, err
		}
	}
	logf("wrote %d zone files and the input lists in %s", len(zones), time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	knot, err := startIn(ctx, cfg.Dir, "knot", func(dir string) (*labproc.Proc, error) {
		return labproc.StartKnot(ctx, dir, zones, "")
	})
	if err != nil {
		return nil, err
	}
	defer closeProc(knot, &err)
	logf("knot serves %d zones on %s (loaded in %s)", len(zones), knot.Addr(), time.Since(t0).Round(time.Millisecond))

	const viaKnot, viaUnbound = "knot", "unbound → knot"
	var unbound *labproc.Proc
	if cfg.Unbound {
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = z.Zone
		}
		unbound, err = startIn(ctx, cfg.Dir, "unbound", func(dir string) (*labproc.Proc, error) {
			return labproc.StartUnbound(ctx, dir, knot.Addr(), names)
		})
		if err != nil {
			return nil, err
		}
		defer closeProc(unbound, &err)
		logf("unbound on %s in front of knot", unbound.Addr())
	}
	if cfg.Drop {
		defer func() {
			if derr := dropDatabase(cfg.ClickHouse); derr != nil && err == nil {
				err = derr
			}
		}()
	}

	type step struct {
		row *Row
		run func(ctx context.Context, round int) (Measurement, Verdict, error)
	}
	// The DNS servers behind each target, whose CPU time a run adds to.
	servers := map[string][]*labproc.Proc{viaKnot: {knot}}
	if unbound != nil {
		servers[viaUnbound] = []*labproc.Proc{unbound, knot}
	}
	var steps []step
	add := func(r *Row, run func(ctx context.Context, round int) (Measurement, Verdict, error)) {
		rep.Rows = append(rep.Rows, r)
		if run != nil {
			steps = append(steps, step{r, run})
		}
	}
	add(&Row{Tool: "dnsperf -c 2 -T 2 -q 100", Target: viaKnot, Ceiling: true, RcodesOnly: true}, func(ctx context.Context, _ int) (Measurement, Verdict, error) {
		return h.dnsperf(ctx, knot.Addr(), 2, st)
	})
	add(&Row{Tool: "dnsperf -c 8 -T 2 -q 100", Target: viaKnot, RcodesOnly: true}, func(ctx context.Context, _ int) (Measurement, Verdict, error) {
		return h.dnsperf(ctx, knot.Addr(), 8, st)
	})
	var massdns func(ctx context.Context, round int) (Measurement, Verdict, error)
	if cfg.MassDNS != "" {
		massdns = func(ctx context.Context, _ int) (Measurement, Verdict, error) { return h.massdns(ctx, knot.Addr()) }
	}
	add(&Row{Tool: "massdns -s 100 -o Snr", Target: viaKnot, Peer: true}, massdns)
	add(&Row{Tool: "worker resolve (CIDR list)", Target: viaKnot}, func(ctx context.Context, round int) (Measurement, Verdict, error) {
		return h.engine(ctx, knot.Addr(), h.blocks, true)
	})
	for _, in := range []struct{ name, path string }{
		{"CIDR list", h.blocks}, {"address list", h.addrs}, {"shuffled mix", h.mix},
	} {
		add(&Row{Tool: "worker resolve --prune=false (" + in.name + ")", Target: viaKnot}, func(ctx context.Context, round int) (Measurement, Verdict, error) {
			return h.engine(ctx, knot.Addr(), in.path, false)
		})
	}
	add(&Row{Tool: "coordinator sweep (NATS + workers + ClickHouse)", Target: viaKnot}, func(ctx context.Context, round int) (Measurement, Verdict, error) {
		return h.pipeline(ctx, knot.Addr(), fmt.Sprintf("%s-r%d", cfg.Scan, round))
	})
	add(&Row{Tool: "coordinator sweep --unit-prefix 28", Target: viaKnot}, func(ctx context.Context, round int) (Measurement, Verdict, error) {
		return h.pipeline(ctx, knot.Addr(), fmt.Sprintf("%s-r%d-u28", cfg.Scan, round), "--unit-prefix", "28")
	})
	if unbound != nil {
		add(&Row{Tool: "dnsperf -c 2 -T 2 -q 100", Target: viaUnbound, Ceiling: true, RcodesOnly: true}, func(ctx context.Context, _ int) (Measurement, Verdict, error) {
			return h.dnsperf(ctx, unbound.Addr(), 2, st)
		})
		add(&Row{Tool: "worker resolve --prune=false (CIDR list)", Target: viaUnbound}, func(ctx context.Context, round int) (Measurement, Verdict, error) {
			return h.engine(ctx, unbound.Addr(), h.blocks, false)
		})
	}
	for round := 1; round <= rep.Rounds; round++ {
		for _, sp := range steps {
			before, err := serverCPU(servers[sp.row.Target])
			if err != nil {
				return rep, err
			}
			m, v, err := sp.run(ctx, round)
			if err != nil {
				return rep, fmt.Errorf("round %d, %s → %s: %w", round, sp.row.Tool, sp.row.Target, err)
			}
			after, err := serverCPU(servers[sp.row.Target])
			if err != nil {
				return rep, err
			}
			m.ServerCPU = after - before
			sp.row.Runs = append(sp.row.Runs, m)
			sp.row.Verdicts = append(sp.row.Verdicts, v)
			logf("round %d/%d: %-48s → %-14s %8.0f qps %8.0f addresses/s in %6s, verified: %s",
				round, rep.Rounds, sp.row.Tool, sp.row.Target, m.QPS, m.AddressesPerSec, m.Elapsed.Round(time.Millisecond), v)
		}
	}
	return rep, nil
}

// serverCPU returns the CPU time the servers have used so far.
func serverCPU(procs []*labproc.Proc) (time.Duration, error) {
	var sum time.Duration
	for _, p := range procs {
		d, err := p.CPU()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// harness runs the tools.
type harness struct {
	cfg  Config
	logf func(string, ...any)
	// The input lists (see Space): dnsperf's queries, massdns's names,
	// the /24s, the addresses, and the mix of forms.
	queries, names, blocks, addrs, mix string
}

func (h *harness) dnsperf(ctx context.Context, addr string, clients int, st lab.BigStats) (Measurement, Verdict, error) {
	host, port, _ := strings.Cut(addr, ":")
	var out bytes.Buffer
	errOut, cpu, err := runCmd(ctx, DNSPerfPath, []string{"-s", host, "-p", port, "-d", h.queries,
		"-c", fmt.Sprint(clients), "-T", "2", "-q", "100", "-n", "1"}, nil, &out)
	if err != nil {
		return Measurement{}, Verdict{}, fmt.Errorf("%w: %s%s", err, tail(out.String()), errOut)
	}
	d, err := ParseDNSPerf(out.String())
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	d.ClientCPU = cpu
	return d.Measurement, d.CheckRcodes(st), nil
}

// massdns runs massdns over every address's PTR name against addr, timed
// from start to exit (massdns reports no rate of its own); its queries are
// counted as one per name.
func (h *harness) massdns(ctx context.Context, addr string) (Measurement, Verdict, error) {
	resolvers := filepath.Join(h.cfg.Dir, "resolvers.txt")
	if err := os.WriteFile(resolvers, []byte(addr+"\n"), 0o644); err != nil {
		return Measurement{}, Verdict{}, err
	}
	path := filepath.Join(h.cfg.Dir, "massdns.out")
	defer os.Remove(path)
	args := []string{"-r", resolvers, "-t", "PTR", "-o", "Snr", "-s", "100", "-q", "-w", path}
	if os.Geteuid() == 0 {
		// massdns drops privileges to nobody when root, who may not
		// write the working directory.
		args = append(args, "--root")
	}
	args = append(args, h.names)
	t0 := time.Now()
	errOut, cpu, err := runCmd(ctx, h.cfg.MassDNS, args, nil, io.Discard)
	elapsed := time.Since(t0)
	if err != nil {
		return Measurement{}, Verdict{}, fmt.Errorf("%w: %s", err, tail(errOut))
	}
	n := h.cfg.Space.Len()
	rate := float64(n) / elapsed.Seconds()
	m := Measurement{Queries: n, Addresses: n, Elapsed: elapsed, QPS: rate, AddressesPerSec: rate, ClientCPU: cpu}
	f, err := os.Open(path)
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	defer f.Close()
	v, err := h.cfg.Space.VerifyMassDNS(f)
	return m, v, err
}

func (h *harness) engine(ctx context.Context, addr, input string, prune bool) (Measurement, Verdict, error) {
	in, err := os.Open(input)
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	defer in.Close()
	path := filepath.Join(h.cfg.Dir, "engine.jsonl")
	out, err := os.Create(path)
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	defer os.Remove(path)
	args := []string{"resolve", "--allow-reserved", "--resolvers", addr, "--qps", "0", "--prune=" + fmt.Sprint(prune)}
	errOut, cpu, err := runCmd(ctx, filepath.Join(h.cfg.Bin, "worker"), args, in, out)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return Measurement{}, Verdict{}, fmt.Errorf("%w: %s", err, tail(errOut))
	}
	m, err := ParseWorker(errOut)
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	m.ClientCPU = cpu
	v, err := h.verifyFile(path)
	return m, v, err
}

func (h *harness) pipeline(ctx context.Context, addr, scan string, extra ...string) (Measurement, Verdict, error) {
	var cidrs []string
	for _, p := range h.cfg.Space.CIDRs() {
		cidrs = append(cidrs, p.String())
	}
	coord := filepath.Join(h.cfg.Bin, "coordinator")
	var out bytes.Buffer
	args := append([]string{"sweep", "--cidr", strings.Join(cidrs, ","), "--allow-reserved",
		"--resolvers", addr, "--qps", "0", "--clickhouse", h.cfg.ClickHouse, "--scan", scan}, extra...)
	errOut, cpu, err := runCmd(ctx, coord, args, nil, &out)
	if err != nil {
		return Measurement{}, Verdict{}, fmt.Errorf("%w: %s%s", err, tail(out.String()), tail(errOut))
	}
	m, err := ParseSweep(out.String())
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	m.ClientCPU = cpu
	path := filepath.Join(h.cfg.Dir, "export.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return Measurement{}, Verdict{}, err
	}
	defer os.Remove(path)
	errOut, _, err = runCmd(ctx, coord, []string{"export", "--scan", scan, "--clickhouse", h.cfg.ClickHouse}, nil, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return Measurement{}, Verdict{}, fmt.Errorf("export: %w: %s", err, tail(errOut))
	}
	v, err := h.verifyFile(path)
	return m, v, err
}

func (h *harness) verifyFile(path string) (Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return Verdict{}, err
	}
	defer f.Close()
	return h.cfg.Space.Verify(f)
}

// runCmd runs bin with args, stdin and stdout, and returns its stderr and
// the CPU time (user and system) it and its waited-for children used.
// When ctx is done the process gets SIGTERM, then SIGKILL after stopDelay;
// runCmd always waits for it.
func runCmd(ctx context.Context, bin string, args []string, stdin io.Reader, stdout io.Writer) (string, time.Duration, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopDelay
	err := cmd.Run()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", 0, fmt.Errorf("%s %s: stopped (%v): %w", filepath.Base(bin), args[0], err, cerr)
		}
		return stderr.String(), 0, fmt.Errorf("%s %s: %w", filepath.Base(bin), args[0], err)
	}
	return stderr.String(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// startIn makes dir/name and starts a server there.
func startIn(ctx context.Context, dir, name string, start func(dir string) (*labproc.Proc, error)) (*labproc.Proc, error) {
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return start(d)
}

func closeProc(p *labproc.Proc, err *error) {
	if cerr := p.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	return write(f)
}

// dropDatabase drops the database of dsn. It uses its own short context:
// it also runs after ctx was cancelled.
func dropDatabase(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("drop the benchmark database: %w", err)
	}
	defer st.Close()
	return st.DropDatabase(ctx)
}
