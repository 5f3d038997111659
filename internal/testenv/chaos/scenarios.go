package chaos

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// Result is the outcome of one scenario.
type Result struct {
	ID, Name string
	Counts
	// Recover is the scenario's recovery time; Notes say what it measures.
	Recover time.Duration
	Elapsed time.Duration
	Pass    bool
	Notes   []string
	Err     error
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// fail records a failed check.
func (r *Result) fail(format string, args ...any) {
	r.Pass = false
	r.note("FAIL: "+format, args...)
}

// Scenario is one fault scenario.
type Scenario struct {
	ID   string
	Name string
	run  func(ctx context.Context, h *Harness, r *Result) error
}

// Scenarios returns every scenario, in order.
func Scenarios() []Scenario {
	return []Scenario{
		{"1", "worker SIGKILL ×3, restarted", scenarioKill},
		{"2", "worker SIGTERM (graceful)", scenarioTerm},
		{"3", "ClickHouse down mid-sweep", scenarioClickHouse},
		{"4", "NATS server restart", scenarioNATS},
		{"5", "coordinator SIGKILL mid-publish", scenarioPublish},
		{"6a", "resolver dies (1 of 2)", scenarioResolverDies},
		{"6b", "hostile resolver + good one", scenarioHostile},
		{"7", "failing unit → dead letters → retry", scenarioDead},
		{"8", "NATS cluster: stream leader SIGKILL (R3)", scenarioCluster},
	}
}

// Select returns the scenarios named in list ("1,2,5"; "6" selects 6a and
// 6b; "" selects all).
func Select(list string) ([]Scenario, error) {
	all := Scenarios()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []Scenario
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		found := false
		for _, s := range all {
			if s.ID == id || strings.TrimRight(s.ID, "ab") == id {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: %q", ErrUnknownScenario, id)
		}
	}
	return out, nil
}

// Run runs one scenario; every process it started is stopped when it
// returns. A scenario passes when the sweep completed with every expected
// row stored once, no foreign row, and its own checks held.
func (h *Harness) Run(ctx context.Context, s Scenario) Result {
	r := Result{ID: s.ID, Name: s.Name, Pass: true}
	start := time.Now()
	h.log.Info("scenario start", "id", s.ID, "name", s.Name)
	if err := s.run(ctx, h, &r); err != nil {
		r.Err = err
		r.Pass = false
	}
	if r.Missing > 0 || r.Duplicates > 0 || r.Foreign > 0 || r.Expected == 0 {
		r.Pass = false
	}
	r.Elapsed = time.Since(start)
	h.log.Info("scenario end", "id", s.ID, "pass", r.Pass, "elapsed", r.Elapsed.Round(time.Millisecond), "err", r.Err)
	return r
}

// size is a scenario's space and pace.
type size struct {
	space      netip.Prefix
	unitPrefix int
	qps        int
	outage     time.Duration
}

// sized returns the space for scenario n: a /20 of the lab (a /22 in quick
// mode), a different one per scenario.
func (h *Harness) sized(n int) size {
	if h.cfg.Quick {
		return size{space: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(16 * n), 0}), 22), unitPrefix: 26, qps: 150, outage: 5 * time.Second}
	}
	return size{space: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(16 * n), 0}), 20), unitPrefix: 26, qps: 150, outage: 30 * time.Second}
}

func units(z size) int { return 1 << (z.unitPrefix - z.space.Bits()) }

// labEnv prepares a scenario's world: its NATS server and a lab server on
// each of hosts (127.0.0.x). The caller closes the env.
func (h *Harness) labEnv(ctx context.Context, id string, space netip.Prefix, hosts ...string) (*env, error) {
	e, err := h.newEnv(ctx, id, space)
	if err != nil {
		return nil, err
	}
	for _, host := range hosts {
		if _, _, err := e.startLab(ctx, host); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

// publishWatch publishes the scan in units of /prefix and watches the unit
// log until n units are done.
func (e *env) publishWatch(ctx context.Context, prefix, n int) (*watcher, error) {
	if _, err := e.publish(ctx, prefix); err != nil {
		return nil, err
	}
	return e.watch(n), nil
}

// startWorkers starts one worker per element of opts.
func (e *env) startWorkers(opts ...workerOpts) ([]*testenv.Proc, error) {
	var ws []*testenv.Proc
	for _, o := range opts {
		p, err := e.startWorker(o)
		if err != nil {
			return nil, err
		}
		ws = append(ws, p)
	}
	return ws, nil
}

// sweepEnv prepares a scenario: NATS, the lab servers on labs, the scan
// published, n workers started and a watcher on the unit log.
func (h *Harness) sweepEnv(ctx context.Context, id string, z size, labs []string, n int) (*env, *watcher, []*testenv.Proc, error) {
	e, err := h.labEnv(ctx, id, z.space, labs...)
	if err != nil {
		return nil, nil, nil, err
	}
	w, err := e.publishWatch(ctx, z.unitPrefix, units(z))
	if err != nil {
		e.close()
		return nil, nil, nil, err
	}
	ws, err := e.startWorkers(slices.Repeat([]workerOpts{{qps: z.qps}}, n)...)
	if err != nil {
		w.stop()
		e.close()
		return nil, nil, nil, err
	}
	return e, w, ws, nil
}

// faultAt is the share of a scan's units done when most scenarios inject
// their fault.
const faultAt = 30 // percent

// sweepToFault prepares a sweep with two workers (sweepEnv) and waits
// until faultAt percent of its units are done.
func (h *Harness) sweepToFault(ctx context.Context, id string, z size, labs ...string) (*env, *watcher, []*testenv.Proc, error) {
	e, w, ws, err := h.sweepEnv(ctx, id, z, labs, 2)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := w.until(ctx, units(z)*faultAt/100, 3*time.Minute); err != nil {
		w.stop()
		e.close()
		return nil, nil, nil, err
	}
	return e, w, ws, nil
}

// recovered waits for the first unit done after the service came back at
// up (the watcher had seen doneBefore), then for the scan to complete, and
// sets r.Recover to the time from up to that first unit.
func recovered(ctx context.Context, e *env, w *watcher, r *Result, doneBefore int, up time.Time) error {
	if err := w.until(ctx, doneBefore+1, 3*time.Minute); err != nil {
		return err
	}
	r.Recover = time.Since(up)
	return finish(ctx, e, w, r, 3*time.Minute)
}

// finish waits for the scan to complete and compares the rows.
func finish(ctx context.Context, e *env, w *watcher, r *Result, limit time.Duration) error {
	code, out, err := e.waitStatus(ctx, limit)
	w.stop()
	if err != nil {
		return err
	}
	if code != 0 {
		r.fail("status --wait exited %d: %s", code, strings.TrimSpace(out))
	}
	c, err := e.compare(ctx)
	r.Counts = c
	return err
}

func scenarioKill(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(1)
	e, w, ws, err := h.sweepEnv(ctx, "s1", z, []string{"127.0.0.2"}, 2)
	if err != nil {
		return err
	}
	defer e.close()
	n := units(z)
	var last time.Time
	for i, frac := range []int{25, 50, 75} {
		if err := w.until(ctx, n*frac/100, 3*time.Minute); err != nil {
			return err
		}
		victim := ws[i%2]
		victim.Kill()
		last = time.Now()
		r.note("kill #%d: SIGKILL %s (pid %d) at %d%% of units", i+1, victim.Name, victim.PID(), frac)
		if ws[i%2], err = e.startWorker(workerOpts{qps: z.qps}); err != nil {
			return err
		}
	}
	if err := finish(ctx, e, w, r, 3*time.Minute); err != nil {
		return err
	}
	r.Recover = w.lastDone().Sub(last)
	r.note("recover = last kill → last unit done (killed units come back after AckWait %s)", ackWait)
	return nil
}

func scenarioTerm(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(2)
	e, err := h.labEnv(ctx, "s2", z.space, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	w, err := e.publishWatch(ctx, z.unitPrefix, units(z))
	if err != nil {
		return err
	}
	// The victim's grace is short, so that it naks units still resolving.
	ws, err := e.startWorkers(workerOpts{qps: z.qps, grace: "300ms"}, workerOpts{qps: z.qps})
	if err != nil {
		return err
	}
	victim := ws[0]
	if err := w.until(ctx, units(z)*30/100, 3*time.Minute); err != nil {
		return err
	}
	term := time.Now()
	if err := victim.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	code, err := victim.Wait(ackWait + 40*time.Second)
	if err != nil {
		return err
	}
	exitAfter := time.Since(term)
	r.note("SIGTERM %s: exit %d after %s (grace 300ms); its totals: %s", victim.Name, code, exitAfter.Round(time.Millisecond), lastMatch(victim, "worker stopped"))
	if code != 0 {
		r.fail("worker exited %d after SIGTERM, want 0", code)
	}
	if err := finish(ctx, e, w, r, 3*time.Minute); err != nil {
		return err
	}
	gap := w.maxGap(term)
	r.Recover = gap
	r.note("recover = longest pause between finished units after SIGTERM: %s (AckWait %s)", gap.Round(time.Millisecond), ackWait)
	if gap >= ackWait {
		r.fail("a pause of %s ≥ AckWait: units waited for redelivery instead of a nak", gap)
	}
	if st, err := e.nats.Stream(ctx, queue.WorkStream); err == nil {
		r.note("consumer: %d redelivered", st.NumRedeliver)
	}
	return nil
}

func scenarioClickHouse(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(3)
	e, w, ws, err := h.sweepToFault(ctx, "s3", z, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	doneBefore, _ := w.state()
	h.ch.Stop()
	down := time.Now()
	r.note("clickhouse stopped at %d/%d units for %s", doneBefore, units(z), z.outage)
	var maxRSS uint64
	var settled StreamState
	settledOK := false
	for time.Since(down) < z.outage {
		for _, p := range ws {
			if rss, err := p.RSS(); err == nil {
				maxRSS = max(maxRSS, rss)
			}
		}
		if !settledOK && time.Since(down) > 2*time.Second {
			if settled, err = e.nats.Stream(ctx, queue.WorkStream); err == nil {
				settledOK = true
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	end, err := e.nats.Stream(ctx, queue.WorkStream)
	if err != nil {
		return err
	}
	if settledOK && end.Messages < settled.Messages {
		r.fail("%d units acked while ClickHouse was down", settled.Messages-end.Messages)
	}
	r.note("during the outage: worker max RSS %.1f MiB; units queued+held %d→%d (none acked); redelivered %d→%d",
		float64(maxRSS)/(1<<20), settled.Messages, end.Messages, settled.NumRedeliver, end.NumRedeliver)
	if err := h.ch.Start(ctx); err != nil {
		return err
	}
	up := time.Now()
	if err := recovered(ctx, e, w, r, doneBefore, up); err != nil {
		return err
	}
	r.note("recover = ClickHouse back → first unit done: %s (worker store backoff doubles to 30s); scan done %s after restart",
		r.Recover.Round(time.Millisecond), w.lastDone().Sub(up).Round(time.Millisecond))
	return nil
}

func scenarioNATS(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(4)
	e, w, _, err := h.sweepToFault(ctx, "s4", z, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	doneBefore, _ := w.state()
	stop := time.Now()
	e.nats.Stop()
	if err := e.nats.Start(ctx); err != nil {
		return err
	}
	up := time.Now()
	r.note("nats-server SIGTERM + restart at %d/%d units: down %s", doneBefore, units(z), up.Sub(stop).Round(time.Millisecond))
	// Status through NATS too: the coordinator's client across the restart.
	code, out, err := e.coordinator(ctx, nil, "status", "--scan", e.scan, "--clickhouse", e.h.ch.DSN(e.db), "--nats", e.nats.URL())
	if err != nil || code != 0 {
		r.fail("coordinator status --nats after restart: exit %d %v %s", code, err, out)
	}
	if err := recovered(ctx, e, w, r, doneBefore, up); err != nil {
		return err
	}
	r.note("recover = NATS back → first unit done: %s; scan done %s after restart", r.Recover.Round(time.Millisecond), w.lastDone().Sub(up).Round(time.Millisecond))
	if st, err := e.nats.Stream(ctx, queue.WorkStream); err == nil {
		r.note("consumer after the run: ack_wait %s, %d redelivered", st.AckWait, st.NumRedeliver)
	}
	return nil
}

// scenarioCluster sweeps with R3 streams on a three-node JetStream
// cluster and SIGKILLs the work stream's leader mid-sweep; the workers and
// the stream carry on with the other two nodes.
func scenarioCluster(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(8)
	e, err := h.newClusterEnv(ctx, "s8", z.space, 3)
	if err != nil {
		return err
	}
	defer e.close()
	if _, _, err := e.startLab(ctx, "127.0.0.2"); err != nil {
		return err
	}
	w, err := e.publishWatch(ctx, z.unitPrefix, units(z))
	if err != nil {
		return err
	}
	defer w.stop()
	if _, err := e.startWorkers(workerOpts{qps: z.qps}, workerOpts{qps: z.qps}); err != nil {
		return err
	}
	if err := w.until(ctx, units(z)*faultAt/100, 3*time.Minute); err != nil {
		return err
	}
	info, err := e.cluster.Stream(ctx, queue.WorkStream)
	if err != nil {
		return err
	}
	if info.Replicas != 3 {
		r.fail("stream %s has %d replicas, want 3", queue.WorkStream, info.Replicas)
	}
	if dead, err := e.cluster.Stream(ctx, queue.DeadStream); err != nil || dead.Replicas != 3 {
		r.fail("stream %s: %d replicas (%v), want 3", queue.DeadStream, dead.Replicas, err)
	}
	doneBefore, _ := w.state()
	leader := info.Leader
	pid := leader.Proc.PID()
	killed := time.Now()
	e.cluster.Kill(leader)
	r.note("SIGKILL of the stream leader %s (pid %d) at %d/%d units", leader.Name, pid, doneBefore, units(z))
	if err := w.until(ctx, doneBefore+1, 3*time.Minute); err != nil {
		return err
	}
	r.Recover = time.Since(killed)
	for {
		next, err := e.cluster.Stream(ctx, queue.WorkStream)
		if err == nil && next.Leader != leader {
			r.note("new stream leader %s seen %s after the kill", next.Leader.Name, time.Since(killed).Round(time.Millisecond))
			break
		}
		if time.Since(killed) > time.Minute {
			r.fail("no new stream leader a minute after the kill")
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := finish(ctx, e, w, r, 3*time.Minute); err != nil {
		return err
	}
	r.note("recover = leader killed → first unit done: %s; scan done %s after the kill",
		r.Recover.Round(time.Millisecond), w.lastDone().Sub(killed).Round(time.Millisecond))
	return nil
}

func scenarioPublish(ctx context.Context, h *Harness, r *Result) error {
	space, prefix := netip.MustParsePrefix("198.18.0.0/16"), 28
	if h.cfg.Quick {
		space, prefix = netip.MustParsePrefix("198.18.80.0/20"), 30
	}
	planned := 1 << (prefix - space.Bits())
	e, err := h.labEnv(ctx, "s5", space, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	pub, err := e.start("coordinator-publish", append([]string{e.h.cfg.Bin + "/coordinator"}, e.publishArgs(prefix)...)...)
	if err != nil {
		return err
	}
	var atKill StreamState
	for {
		st, err := e.nats.Stream(ctx, queue.WorkStream)
		if err == nil && st.LastSeq > 0 {
			pub.Kill()
			atKill = st
			break
		}
		if !pub.Running() {
			return fmt.Errorf("coordinator publish exited before any unit was seen:\n%s", pub.Tail(5))
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.note("SIGKILL coordinator publish with %d of %d units in the stream", atKill.LastSeq, planned)
	if atKill.LastSeq >= uint64(planned) {
		r.note("publish had finished before the kill landed")
	}
	out, err := e.publish(ctx, prefix)
	if err != nil {
		return err
	}
	r.note("second publish: %s", strings.TrimSpace(out))
	after, err := e.nats.Stream(ctx, queue.WorkStream)
	if err != nil {
		return err
	}
	if after.LastSeq != uint64(planned) {
		r.fail("stream holds %d unit messages after both publishes, want %d", after.LastSeq, planned)
	}
	w := e.watch(planned)
	if _, err := e.startWorkers(workerOpts{qps: -1, units: 32}, workerOpts{qps: -1, units: 32}); err != nil {
		return err
	}
	start := time.Now()
	if err := finish(ctx, e, w, r, 6*time.Minute); err != nil {
		return err
	}
	r.Recover = w.lastDone().Sub(start)
	r.note("recover = sweep time after the re-publish (%d units)", planned)
	raw, err := h.ch.Query(ctx, e.db, "SELECT count(), uniqExact(unit), countIf(state = 'done') FROM units WHERE scan = '"+e.scan+"'")
	if err != nil {
		return err
	}
	f := strings.Fields(raw)
	if len(f) != 3 || f[0] != strconv.Itoa(planned) || f[1] != f[0] || f[2] != f[0] {
		r.fail("unit log rows/units/done = %v, want each %d", f, planned)
	}
	end, err := e.nats.Stream(ctx, queue.WorkStream)
	if err == nil {
		r.note("unit log: %v records/units/done; stream: last_seq %d, %d left, %d redelivered", f, end.LastSeq, end.Messages, end.NumRedeliver)
		if end.LastSeq != uint64(planned) || end.Messages != 0 {
			r.fail("stream last_seq %d, %d messages left", end.LastSeq, end.Messages)
		}
	}
	return nil
}

func scenarioResolverDies(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(6)
	e, w, _, err := h.sweepToFault(ctx, "s6a", z, "127.0.0.2", "127.0.0.3")
	if err != nil {
		return err
	}
	defer e.close()
	e.labs[1].Kill()
	kill := time.Now()
	r.note("SIGKILL ptrlab %s at %d%% of units", e.labAddr[1], faultAt)
	if err := finish(ctx, e, w, r, 3*time.Minute); err != nil {
		return err
	}
	r.Recover = w.maxGap(kill)
	r.note("recover = longest pause between finished units after the kill")
	return nil
}

func scenarioHostile(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(7)
	e, err := h.labEnv(ctx, "s6b", z.space, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	good := e.labAddr[0]
	port, err := testenv.FreePort("127.0.0.4")
	if err != nil {
		return err
	}
	bad, err := StartHostile("127.0.0.4:"+strconv.Itoa(port), good)
	if err != nil {
		return err
	}
	defer bad.Close()
	w, err := e.publishWatch(ctx, z.unitPrefix, units(z))
	if err != nil {
		return err
	}
	start := time.Now()
	o := workerOpts{qps: z.qps, resolvers: bad.Addr + "," + good}
	if _, err := e.startWorkers(o, o); err != nil {
		return err
	}
	if err := finish(ctx, e, w, r, 4*time.Minute); err != nil {
		return err
	}
	r.Recover = w.lastDone().Sub(start)
	st := bad.Stats()
	keys := make([]string, 0, len(st))
	for k, v := range st {
		keys = append(keys, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(keys)
	r.note("recover = whole sweep with the hostile server listed first; hostile replies: %s", strings.Join(keys, " "))
	return nil
}

func scenarioDead(ctx context.Context, h *Harness, r *Result) error {
	z := h.sized(8)
	e, err := h.labEnv(ctx, "s7", z.space, "127.0.0.2")
	if err != nil {
		return err
	}
	defer e.close()
	// The fault: a worker that can open no more files. Once it is
	// connected to NATS and ClickHouse, its RLIMIT_NOFILE is lowered to
	// the descriptors it holds, so DNS sockets fail (EMFILE) and
	// Resolve returns ErrSocket on every delivery: a failure no DNS answer
	// can cause, and one a healthy worker does not have.
	sick, err := e.startWorker(workerOpts{qps: z.qps, units: 1})
	if err != nil {
		return err
	}
	nofile, err := choke(ctx, sick)
	if err != nil {
		return err
	}
	n := 1 << (24 - z.space.Bits())
	w, err := e.publishWatch(ctx, 24, n)
	if err != nil {
		return err
	}
	if err := w.until(ctx, n, 3*time.Minute); err != nil {
		return fmt.Errorf("%w\nsick worker log:\n%s", err, sick.Tail(10))
	}
	done, failed := w.state()
	sickCode := sick.Stop(30 * time.Second)
	r.note("worker with RLIMIT_NOFILE %d (its open files): %d units done, %d failed after 5 deliveries; SIGTERM → exit %d", nofile, done, failed, sickCode)
	if failed == 0 {
		r.fail("no unit failed: the fault did not take")
	}
	_, out, err := e.coordinator(ctx, nil, "status", "--scan", e.scan, "--clickhouse", e.h.ch.DSN(e.db), "--nats", e.nats.URL())
	if err != nil {
		return err
	}
	listed := strings.Count(out, "failed unit ")
	m := regexp.MustCompile(`(\d+) dead-lettered`).FindStringSubmatch(out)
	r.note("status lists %d failed units; queue line: %v dead-lettered", listed, m)
	if listed != failed || len(m) != 2 || m[1] != strconv.Itoa(failed) {
		r.fail("status shows %d failed units and %v dead letters, want %d:\n%s", listed, m, failed, out)
	}
	code, out, err := e.coordinator(ctx, nil, "retry", "--scan", e.scan, "--nats", e.nats.URL(), "--clickhouse", e.h.ch.DSN(e.db))
	if err != nil || code != 0 {
		return fmt.Errorf("coordinator retry: exit %d %v %s", code, err, out)
	}
	r.note("retry: %s", strings.TrimSpace(out))
	if st, err := e.nats.Stream(ctx, queue.WorkStream); err == nil && st.AckWait != ackWait {
		r.note("after `coordinator retry` the consumer's AckWait is %s, not the deployment's %s", st.AckWait, ackWait)
	}
	retry := time.Now()
	if _, err := e.startWorker(workerOpts{qps: z.qps}); err != nil {
		return err
	}
	// retry records the units as queued again: `status --wait` waits for
	// them and exits 0 once they are done.
	code, out, err = e.coordinator(ctx, nil, "status", "--scan", e.scan, "--clickhouse", e.h.ch.DSN(e.db), "--wait")
	if err != nil || code != 0 {
		r.fail("after retry, `status --wait` exited %d (%v), want 0 once the retried units are done: %s", code, err, lastLines(strings.TrimSpace(out), 1))
	}
	if err := w.untilDone(ctx, n, 3*time.Minute); err != nil {
		return err
	}
	if err := finish(ctx, e, w, r, 3*time.Minute); err != nil {
		return err
	}
	r.Recover = w.lastDone().Sub(retry)
	r.note("recover = retry → last unit done")
	return nil
}

// choke waits until worker p has started and sets its open-file limit to
// the number of files it has open, with prlimit(1).
func choke(ctx context.Context, p *testenv.Proc) (int, error) {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.WaitReady(wctx, 50*time.Millisecond, logSays(p, 20, "worker started")); err != nil {
		return 0, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.PID()))
	if err != nil {
		return 0, fmt.Errorf("count open files of %s: %w", p.Name, err)
	}
	n := strconv.Itoa(len(fds))
	out, err := exec.CommandContext(ctx, "prlimit", "--pid", strconv.Itoa(p.PID()), "--nofile="+n+":"+n).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("prlimit %s: %w: %s", p.Name, err, out)
	}
	return len(fds), nil
}

// lastMatch returns the last log line of p containing s.
func lastMatch(p *testenv.Proc, s string) string {
	lines := strings.Split(p.Tail(50), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], s) {
			_, after, _ := strings.Cut(lines[i], s)
			return strings.Trim(strings.TrimSpace(after), `"`)
		}
	}
	return ""
}
