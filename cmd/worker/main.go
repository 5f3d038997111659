// Command worker pulls ptrsweep work units from NATS JetStream, resolves the
// PTR record of every address, and stores the rows in ClickHouse.
//
//	worker --nats URL --clickhouse DSN [--resolvers …] [--qps N] [--exit-when-idle]
//	worker resolve [--resolvers …] [--qps N] [--input F] [--output F] [--format jsonl|sonar|massdns] < addresses
//
// worker resolve is the resolution engine alone (internal/bulk): addresses,
// CIDRs, ranges or in-addr.arpa names on stdin or --input, rows on stdout
// or --output.
//
// SIGINT or SIGTERM stops fetching, lets in-flight units finish (or naks
// them after --grace), stores and acks what was resolved, and exits 0.
package main

import (
	"context"
	"flag"
	"io"
	"os"
	"sync"

	"github.com/ptrsweep/ptrsweep/cmd/internal/metricsflag"
	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	prog := "worker"
	var err error
	if len(args) > 0 && args[0] == "resolve" {
		prog = "worker resolve"
		err = runResolve(ctx, args[1:], stdin, stdout, stderr)
	} else {
		err = runWorker(ctx, args, stdout, stderr)
	}
	if err != nil && cli.ExitCode(err) != 0 {
		cli.Report(stderr, prog, err)
	}
	return cli.ExitCode(err)
}

// readExcludeFile reads an --exclude-file ("" gives an empty set).
func readExcludeFile(path string) (cidr.Set, error) {
	if path == "" {
		return cidr.Set{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return cidr.Set{}, cli.Usagef("--exclude-file: %v", err)
	}
	defer f.Close()
	ps, err := cidr.ParseFile(f, path)
	if err != nil {
		return cidr.Set{}, cli.Usagef("--exclude-file: %v", err)
	}
	return cidr.NewSet(ps...), nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var nf cli.NATS
	nf.Register(fs, "NATS URL of the JetStream server (required)")
	var chf cli.ClickHouse
	chf.Register(fs)
	var rf cli.Resolver
	rf.Register(fs, "this worker's")
	exitIdle := fs.Bool("exit-when-idle", false, "exit 0 once the queue has nothing left for anybody (batch jobs)")
	units := fs.Int("units", 4, "/24 units resolved at once (smaller units count for their share: 16 /28s per /24)")
	asnRefresh := fs.Duration("asn-refresh", worker.DefaultRoutesRefresh, "how often to check ClickHouse for a newer IP-to-ASN table (asn and country stored with every row)")
	batchRows := fs.Int("batch-rows", worker.DefaultBatchRows, "rows per ClickHouse insert")
	flush := fs.Duration("flush-interval", worker.DefaultFlushInterval, "longest wait before a partial batch is inserted")
	grace := fs.Duration("grace", worker.DefaultGrace, "on SIGTERM, how long in-flight units may finish before they are handed back")
	ackWait := fs.Duration("ack-wait", queue.DefaultAckWait, "consumer AckWait, when this worker creates the queue")
	maxDeliver := fs.Int("max-deliver", queue.DefaultMaxDeliver, "consumer MaxDeliver, when this worker creates the queue")
	replicas := fs.Int("replicas", 0, "stream replicas, when this worker creates the queue: 1 for one server, 3 recommended on a cluster (0: keep an existing stream's count, 1 for a new one)")
	name := fs.String("name", "", "worker name in the unit log (default: host-pid)")
	excludeFile := fs.String("exclude-file", "", "this worker's blocklist: CIDRs, one per line; units overlapping it are refused")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	var mf metricsflag.Flag
	mf.Register(fs)
	var check cli.CheckConfig
	check.Register(fs)
	if err := cli.ParseOrUsage(fs, args, stderr, "worker --nats URL --clickhouse DSN [--resolvers …] [--qps N] [--exit-when-idle]"); err != nil {
		return err
	}
	if nf.URL() == "" {
		return cli.Usagef("--nats is required (or set %s)", cli.EnvNATS)
	}
	if *asnRefresh <= 0 {
		return cli.Usagef("--asn-refresh %v: want a positive interval (e.g. 5m)", *asnRefresh)
	}
	dsn, err := chf.DSN()
	if err != nil {
		return err
	}
	qc, err := nf.Config("ptrsweep-worker", *ackWait, *maxDeliver)
	if err != nil {
		return err
	}
	if *replicas < 0 {
		return cli.Usagef("--replicas %d: want 0 or more", *replicas)
	}
	qc.Replicas = *replicas
	rc, err := rf.Config()
	if err != nil {
		return err
	}
	if *units < 1 {
		return cli.Usagef("--units %d: want at least 1", *units)
	}
	log, err := cli.Logger(stderr, *logLevel)
	if err != nil {
		return err
	}
	exclude, err := readExcludeFile(*excludeFile)
	if err != nil {
		return err
	}
	res, err := resolve.New(rc)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	tel, err := mf.New(log)
	if err != nil {
		return err
	}
	if check.Done(stdout, "worker", cli.DescribeNATS(qc), cli.DescribeClickHouse(dsn), cli.DescribeResolvers(rc), tel.Describe()) {
		return nil
	}

	// /healthz answers from here on; /readyz once both services answer.
	if err := tel.Start(ctx, metricsflag.CheckNATS, metricsflag.CheckClickHouse); err != nil {
		return err
	}
	defer tel.Close()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := tel.Store(st); err != nil {
		return err
	}
	q, err := queue.Connect(ctx, qc)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := tel.Queue(q); err != nil {
		return err
	}
	routes := worker.NewRoutes(st, log)
	if err := routes.Refresh(ctx); err != nil {
		log.Warn("load the IP-to-ASN table (rows get asn 0 until a refresh succeeds)", "err", err)
	}
	m := tel.Metrics
	m.AddResolver(res.Stats)
	w, err := worker.New(worker.Config{Queue: worker.JetStream(q), Store: st, Resolver: res, Name: *name,
		Units: *units, BatchRows: *batchRows, FlushInterval: *flush, Grace: *grace,
		Heartbeat: worker.HeartbeatFor(*ackWait), ExitWhenIdle: *exitIdle, Logger: log, Exclude: exclude,
		OnUnitDone: m.AddCounts, ObserveInsert: m.ObserveInsert, Routes: routes})
	if err != nil {
		return err
	}
	m.AddWorker(w.Stats)
	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { routes.Run(watchCtx, *asnRefresh) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := worker.WatchDead(watchCtx, q, st, log); err != nil && watchCtx.Err() == nil {
			log.Error("dead-letter watcher stopped", "err", err)
		}
	}()
	log.Info("worker started", "resolvers", len(rc.Servers), "qps", rc.QPS)
	w.Run(ctx)
	stopWatch()
	wg.Wait()
	s := w.Stats()
	log.Info("worker stopped", "units_acked", s.UnitsAcked.Load(), "units_nakked", s.UnitsNakked.Load(),
		"units_dead", s.UnitsDead.Load(), "rows", s.Rows.Load(), "resolver", res.Stats().String())
	return nil
}
