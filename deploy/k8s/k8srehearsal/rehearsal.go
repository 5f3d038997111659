// Package k8srehearsal rehearses the dev overlay on one machine: it
// renders overlays/dev and runs its workloads as local processes with the
// manifests' own commands, arguments, environment and config files
// (package podenv), against the DNS lab instead of the Internet, and ends
// with the lab-truth comparison of the stored rows.
//
// What is changed, and only that:
//   - Service host:port strings (nats:4222, clickhouse:9000, the pod-local
//     127.0.0.1:53 of Unbound, :9090 of the metrics) are rewritten to free
//     127.0.0.1 ports, whole tokens only; the bare host clickhouse of the
//     schema Job's CH_HOST becomes 127.0.0.1. Nothing is ever resolved.
//   - Config files keep their content except the listening ports
//     (nats.conf port/http_port, unbound.conf port/control-port) and mount
//     paths, which move under a temp root, as in the environment.
//   - SCAN_CIDR of the ConfigMap ptrsweep-scan becomes the lab's /16
//     (198.18.0.0/16, the benchmarking range): the dev overlay's public /24
//     would send queries to the Internet.
//   - unbound.conf gets a lab section appended: a stub-zone for each lab
//     zone to Knot, local-zone "." static, do-not-query-address for
//     everything outside 127.0.0.0/8, do-not-query-localhost: no (the lab
//     is on loopback). Everything else is the rendered file.
//   - ClickHouse is a private clickhouse-server 18.16 (the chaos harness's,
//     on its own ports and directory) with the rendered users file merged
//     from users.d and the rendered password variables in its environment;
//     the rendered server file is not used (it sets the image's paths and
//     the ports 9000/8123 of the shared server; 18.16 lacks its prometheus
//     section). 18.16 has no GRANT: the users exist with their passwords,
//     their grants are not enforced.
//   - The schema Job's clickhouse-client is Debian's 18.16, which does not
//     read CLICKHOUSE_USER/CLICKHOUSE_PASSWORD: the rehearsal writes them,
//     with the port, into $HOME/.clickhouse-client/config.xml (HOME is the
//     Job's own /tmp mount).
package k8srehearsal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ptrsweep/ptrsweep/deploy/k8s/podenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/chaos"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
	"github.com/ptrsweep/ptrsweep/internal/testenv/labproc"
)

// ErrMismatch is returned when the stored rows differ from the lab's truth.
var ErrMismatch = errors.New("stored rows differ from the lab's truth")

// Config configures a rehearsal.
type Config struct {
	// Overlay is the overlay directory (deploy/k8s/overlays/dev).
	Overlay string
	// Bin holds worker, coordinator and nats-server.
	Bin string
	// Workers is the number of worker pods (3); the second is killed.
	Workers int
	// Keep leaves the temp directory (logs, files) in place.
	Keep bool
	// Out receives the report.
	Out io.Writer
	// Logger receives progress lines.
	Logger *slog.Logger
}

// pathEnv is the PATH of the Job's shell, as an image sets it.
const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// rehearsal is one run's state.
type rehearsal struct {
	cfg   Config
	dir   string
	docs  [][]byte
	kinds map[string][]byte // "Kind/name" → YAML
	procs []*testenv.Proc
	log   *slog.Logger
}

// Run renders the overlay, runs it, and compares the stored rows with the
// lab's truth; it returns ErrMismatch when they differ.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Workers == 0 {
		cfg.Workers = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return err
	}
	cfg.Bin = bin
	for _, b := range []string{"worker", "coordinator", "nats-server"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("binary %s: %w (make build; go build -o %s/nats-server github.com/nats-io/nats-server/v2)", b, err, bin)
		}
	}
	dir, err := os.MkdirTemp("", "ptrk8srehearse-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	r := &rehearsal{cfg: cfg, dir: dir, kinds: map[string][]byte{}, log: cfg.Logger}
	defer func() {
		for i := len(r.procs) - 1; i >= 0; i-- {
			if r.procs[i].Running() {
				r.procs[i].Stop(15 * time.Second)
			}
		}
		if cfg.Keep || err != nil {
			fmt.Fprintf(cfg.Out, "files and logs kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	return r.run(ctx)
}

func (r *rehearsal) render() error {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), r.cfg.Overlay)
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", r.cfg.Overlay, err)
	}
	for _, res := range rm.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			return err
		}
		r.docs = append(r.docs, doc)
		r.kinds[res.GetKind()+"/"+res.GetName()] = doc
	}
	return nil
}

// podSpec returns the pod template of the rendered workload kind/name.
func (r *rehearsal) podSpec(kind, name string) (*corev1.PodSpec, error) {
	doc, ok := r.kinds[kind+"/"+name]
	if !ok {
		return nil, fmt.Errorf("%s/%s: not rendered", kind, name)
	}
	switch kind {
	case "StatefulSet":
		var s appsv1.StatefulSet
		if err := yaml.Unmarshal(doc, &s); err != nil {
			return nil, err
		}
		// Each claim of the StatefulSet: an empty directory.
		for _, c := range s.Spec.VolumeClaimTemplates {
			s.Spec.Template.Spec.Volumes = append(s.Spec.Template.Spec.Volumes,
				corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}
		return &s.Spec.Template.Spec, nil
	case "Job":
		var j batchv1.Job
		if err := yaml.Unmarshal(doc, &j); err != nil {
			return nil, err
		}
		return &j.Spec.Template.Spec, nil
	}
	return nil, fmt.Errorf("%s/%s: not a workload", kind, name)
}

// container returns the (init) container called name of spec.
func container(spec *corev1.PodSpec, name string) (*corev1.Container, error) {
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i], nil
			}
		}
	}
	return nil, fmt.Errorf("no container %s", name)
}

// pod materialises container cname of the pod podName of workload kind/name
// under its own root; rewrite maps host:port strings.
func (r *rehearsal) pod(kind, name, podName, cname string, rewrite func(string) string, scanCIDR string) (*podenv.Process, error) {
	spec, err := r.podSpec(kind, name)
	if err != nil {
		return nil, err
	}
	c, err := container(spec, cname)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", kind, name, err)
	}
	w, err := podenv.NewWorld(filepath.Join(r.dir, "pods", podName), r.docs)
	if err != nil {
		return nil, err
	}
	if err := w.SetConfigMapValue("ptrsweep-scan", "SCAN_CIDR", scanCIDR); err != nil {
		return nil, err
	}
	p, err := w.Materialise(podName, spec, c, rewrite)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", kind, name, err)
	}
	return p, nil
}

// start starts argv as a process named name with exactly env.
func (r *rehearsal) start(name string, env []string, argv ...string) (*testenv.Proc, error) {
	if err := os.MkdirAll(filepath.Join(r.dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	p, err := testenv.Start(testenv.ProcSpec{Name: name, Argv: argv, Env: env, Log: filepath.Join(r.dir, "logs", name+".log")})
	if err == nil {
		r.procs = append(r.procs, p)
	}
	return p, err
}

// rewriter replaces whole host:port tokens (not followed by a digit or a
// letter) by their local addresses.
func rewriter(pairs ...string) func(string) string {
	type rep struct {
		re  *regexp.Regexp
		new string
	}
	var reps []rep
	for i := 0; i+1 < len(pairs); i += 2 {
		reps = append(reps, rep{regexp.MustCompile(`(^|[^A-Za-z0-9.-])` + regexp.QuoteMeta(pairs[i]) + `($|[^A-Za-z0-9])`), pairs[i+1]})
	}
	return func(s string) string {
		for _, p := range reps {
			s = p.re.ReplaceAllString(s, "${1}"+p.new+"${2}")
		}
		return s
	}
}

// setLine replaces the value of every "key: value" line of a config file.
func setLine(conf, key, value string) string {
	re := regexp.MustCompile(`(?m)^(\s*` + regexp.QuoteMeta(key) + `:\s*)\S+\s*$`)
	return re.ReplaceAllString(conf, "${1}"+value)
}

// editFile rewrites the file at path with edit.
func editFile(path string, edit func(string) string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(edit(string(b))), 0o644)
}

func freeAddr() (string, int, error) {
	port, err := testenv.FreePort("127.0.0.1")
	return "127.0.0.1:" + strconv.Itoa(port), port, err
}

func (r *rehearsal) run(ctx context.Context) error {
	start := time.Now()
	if err := r.render(); err != nil {
		return err
	}
	out := r.cfg.Out
	space := lab.DefaultSpace
	fmt.Fprintf(out, "rendered %s: %d objects; scan CIDR replaced by the lab's %s\n", r.cfg.Overlay, len(r.docs), space)

	// The lab: Knot serving the synthetic reverse zones.
	l, err := lab.New(space)
	if err != nil {
		return err
	}
	zones, err := l.WriteZones(filepath.Join(r.dir, "knot", "zones"))
	if err != nil {
		return err
	}
	knot, err := labproc.StartKnot(ctx, filepath.Join(r.dir, "knot"), zones, "")
	if err != nil {
		return err
	}
	defer knot.Close()
	fmt.Fprintf(out, "knot: %d lab zones on %s\n", len(zones), knot.Addr())

	// ClickHouse: a private 18.16 with the rendered users file.
	chp, err := r.pod("StatefulSet", "clickhouse", "clickhouse-0", "clickhouse", nil, space.String())
	if err != nil {
		return err
	}
	users, err := os.ReadFile(chp.Mounts["/etc/clickhouse-server/users.d/ptrsweep-users.xml"])
	if err != nil {
		return fmt.Errorf("rendered users file: %w", err)
	}
	chBin, err := chaos.FindClickHouse()
	if err != nil {
		return err
	}
	ch, err := chaos.NewPrivateClickHouse(chBin, filepath.Join(r.dir, "clickhouse"),
		map[string][]byte{"users.d/ptrsweep-users.xml": users}, chp.Env)
	if err != nil {
		return err
	}
	if err := ch.Start(ctx); err != nil {
		return err
	}
	defer ch.Stop()
	chAddr := "127.0.0.1:" + strconv.Itoa(ch.TCPPort)
	fmt.Fprintf(out, "clickhouse: private clickhouse-server 18.16 on %s with the rendered ptrsweep-users.xml (users.d)\n", chAddr)

	// NATS: nats-server from the module with the rendered nats.conf.
	natsAddr, natsPort, err := freeAddr()
	if err != nil {
		return err
	}
	_, monPort, err := freeAddr()
	if err != nil {
		return err
	}
	np, err := r.pod("StatefulSet", "nats", "nats-0", "nats", nil, space.String())
	if err != nil {
		return err
	}
	natsConf := filepath.Join(np.Mounts["/etc/nats"], "nats.conf")
	if err := editFile(natsConf, func(s string) string {
		s = setLine(s, "port", strconv.Itoa(natsPort))
		s = setLine(s, "http_port", strconv.Itoa(monPort))
		return np.Remap(s)
	}); err != nil {
		return err
	}
	natsArgv := append([]string{filepath.Join(r.cfg.Bin, "nats-server")}, np.Command[1:]...)
	natsArgv = append(natsArgv, np.Args...)
	nats, err := r.start("nats-0", np.Env, natsArgv...)
	if err != nil {
		return err
	}
	if err := waitTCP(ctx, natsAddr, nats); err != nil {
		return err
	}
	fmt.Fprintf(out, "nats: %s on %s (monitor 127.0.0.1:%d)\n", strings.Join(natsArgv[1:], " "), natsAddr, monPort)

	// The schema Job, as rendered: sh -ec with clickhouse-client.
	// CH_HOST is the bare service name: only a value equal to it changes.
	chHost := func(s string) string {
		if s == "clickhouse" {
			return "127.0.0.1"
		}
		return s
	}
	sp, err := r.pod("Job", "ptrsweep-schema", "ptrsweep-schema-x", "schema", chHost, space.String())
	if err != nil {
		return err
	}
	if err := r.clientConfig(sp, ch.TCPPort); err != nil {
		return err
	}
	if err := r.runToEnd(ctx, "schema", append(sp.Env, pathEnv), 2*time.Minute, append(sp.Command, sp.Args...)...); err != nil {
		return err
	}
	fmt.Fprintln(out, "schema job: exit 0")

	services := []string{"nats:4222", natsAddr, "clickhouse:9000", chAddr}
	// The coordinator Job: publish (init container), then status --wait.
	pubMetrics, _, err := freeAddr()
	if err != nil {
		return err
	}
	pub, err := r.pod("Job", "ptrsweep-coordinator", "ptrsweep-coordinator-x", "publish",
		rewriter(append(services, ":9090", pubMetrics)...), space.String())
	if err != nil {
		return err
	}
	coord := filepath.Join(r.cfg.Bin, "coordinator")
	if err := r.runToEnd(ctx, "coordinator-publish", pub.Env, 5*time.Minute, append([]string{coord}, pub.Args...)...); err != nil {
		return err
	}
	fmt.Fprintf(out, "coordinator publish %s: exit 0\n", strings.Join(pub.Args[1:], " "))
	st, err := r.pod("Job", "ptrsweep-coordinator", "ptrsweep-coordinator-x", "status", rewriter(services...), space.String())
	if err != nil {
		return err
	}
	status, err := r.start("coordinator-status", st.Env, append([]string{coord}, st.Args...)...)
	if err != nil {
		return err
	}

	// The worker pods, each with its own Unbound.
	var workers, unbounds []*testenv.Proc
	for i := range r.cfg.Workers {
		w, u, err := r.workerPod(ctx, i, knot.Addr(), l.Zones(), services, space.String())
		if err != nil {
			return err
		}
		workers, unbounds = append(workers, w), append(unbounds, u)
	}
	fmt.Fprintf(out, "worker pods: %d, each worker with its own unbound\n", len(workers))

	units := 1 << (24 - space.Bits())
	kill := units / 4
	if err := waitUnits(ctx, ch, kill, 5*time.Minute); err != nil {
		return err
	}
	victim := min(1, len(workers)-1)
	if err := workers[victim].Signal(syscall.SIGKILL); err != nil {
		return err
	}
	unbounds[victim].Signal(syscall.SIGKILL)
	done, _ := unitsDone(ctx, ch)
	fmt.Fprintf(out, "killed worker pod %d (SIGKILL, with its unbound) at %d of %d units done\n", victim, done, units)

	code, err := status.Wait(15 * time.Minute)
	if err != nil {
		return fmt.Errorf("coordinator status --wait: %w\n%s", err, status.Tail(10))
	}
	fmt.Fprintf(out, "coordinator status --wait: exit %d: %s\n", code, lastLine(status.Tail(3)))
	if code != 0 {
		return fmt.Errorf("coordinator status --wait exited %d:\n%s", code, status.Tail(10))
	}
	for i, w := range workers {
		if i == victim {
			continue
		}
		c, err := w.Wait(2 * time.Minute)
		fmt.Fprintf(out, "worker pod %d: exit %d (--exit-when-idle) %v\n", i, c, errOrEmpty(err))
	}

	// The lab-truth comparison.
	counts, err := r.compare(ctx, chAddr, space, l)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "lab truth: expected %d rows, stored %d, missing %d, duplicates %d, foreign %d (%s)\n",
		counts.Expected, counts.Stored, counts.Missing, counts.Duplicates, counts.Foreign, time.Since(start).Round(time.Second))
	for _, e := range counts.Examples {
		fmt.Fprintf(out, "  %s\n", e)
	}
	if counts.Missing+counts.Duplicates+counts.Foreign != 0 {
		return ErrMismatch
	}
	return nil
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// clientConfig writes $HOME/.clickhouse-client/config.xml of the schema
// Job: the port, and the user and password of its environment (which
// Debian's 18.16 client does not read).
func (r *rehearsal) clientConfig(p *podenv.Process, port int) error {
	env := map[string]string{}
	for _, kv := range p.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if env["HOME"] == "" {
		return errors.New("schema job: no HOME")
	}
	d := filepath.Join(env["HOME"], ".clickhouse-client")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	conf := fmt.Sprintf("<config><port>%d</port><user>%s</user><password>%s</password></config>\n",
		port, env["CLICKHOUSE_USER"], env["CLICKHOUSE_PASSWORD"])
	return os.WriteFile(filepath.Join(d, "config.xml"), []byte(conf), 0o600)
}

// runToEnd runs argv to completion and fails unless it exits 0.
func (r *rehearsal) runToEnd(ctx context.Context, name string, env []string, d time.Duration, argv ...string) error {
	p, err := r.start(name, env, argv...)
	if err != nil {
		return err
	}
	code, err := p.Wait(d)
	if err != nil || code != 0 {
		p.Stop(5 * time.Second)
		return fmt.Errorf("%s: exit %d %v:\n%s", name, code, errOrEmpty(err), p.Tail(15))
	}
	return ctx.Err()
}

// lockdown is appended to each pod's rendered unbound.conf: the lab's
// zones go to Knot, nothing else goes anywhere.
func lockdown(knotAddr string, zones []string) string {
	host, port, _ := net.SplitHostPort(knotAddr)
	var b strings.Builder
	b.WriteString("\n# --- rehearsal: the lab instead of the Internet ---\nserver:\n")
	b.WriteString("    do-not-query-localhost: no\n    local-zone: \".\" static\n")
	// The lab's dead /24s are delegated to silent loopback addresses:
	// give up on them within half a second and answer SERVFAIL (what
	// lab.ExpectRecursive expects), as labproc's Unbound does. With the
	// rendered settings alone Unbound keeps trying for longer than the
	// worker's --timeout times its tries, and the worker stores timeout.
	b.WriteString("    infra-cache-max-rtt: 500\n    infra-keep-probing: yes\n    discard-timeout: 0\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "    local-zone: %q transparent\n", dns.Fqdn(z))
	}
	for _, p := range []string{"0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6", "124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/1", "::/0"} {
		fmt.Fprintf(&b, "    do-not-query-address: %s\n", p)
	}
	b.WriteString("stub-zone:\n    name: \".\"\n    stub-addr: 127.0.0.6\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "stub-zone:\n    name: %q\n    stub-addr: %s@%s\n", dns.Fqdn(z), host, port)
	}
	return b.String()
}

// workerPod starts pod i of the worker Job: its Unbound sidecar with the
// rendered unbound.conf, then the worker.
func (r *rehearsal) workerPod(ctx context.Context, i int, knotAddr string, zones, services []string, cidr string) (w, u *testenv.Proc, err error) {
	podName := fmt.Sprintf("ptrsweep-worker-%d", i)
	up, err := r.pod("Job", "ptrsweep-worker", podName, "unbound", nil, cidr)
	if err != nil {
		return nil, nil, err
	}
	dnsAddr, dnsPort, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	_, ctlPort, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	conf := filepath.Join(up.Mounts["/etc/unbound-ptrsweep"], "unbound.conf")
	if err := editFile(conf, func(s string) string {
		s = setLine(s, "port", strconv.Itoa(dnsPort))
		s = setLine(s, "control-port", strconv.Itoa(ctlPort))
		return up.Remap(s) + lockdown(knotAddr, zones)
	}); err != nil {
		return nil, nil, err
	}
	argv := append([]string{labproc.UnboundPath}, up.Command[1:]...)
	u, err = r.start(podName+"-unbound", up.Env, append(argv, up.Args...)...)
	if err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := u.WaitReady(rctx, 100*time.Millisecond, func(ctx context.Context) bool {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(zones[0]), dns.TypeSOA)
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		resp, _, err := c.ExchangeContext(ctx, m, dnsAddr)
		return err == nil && resp.Rcode == dns.RcodeSuccess
	}); err != nil {
		return nil, nil, fmt.Errorf("%s unbound on %s: %w\n%s", podName, dnsAddr, err, u.Tail(10))
	}
	metricsAddr, _, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	wp, err := r.pod("Job", "ptrsweep-worker", podName, "worker",
		rewriter(append(services, "127.0.0.1:53", dnsAddr, ":9090", metricsAddr)...), cidr)
	if err != nil {
		return nil, nil, err
	}
	w, err = r.start(podName, wp.Env, append([]string{filepath.Join(r.cfg.Bin, "worker")}, wp.Args...)...)
	if err != nil {
		return nil, nil, err
	}
	if i == 0 {
		fmt.Fprintf(r.cfg.Out, "worker pod args: %s\n", strings.Join(wp.Args, " "))
	}
	return w, u, nil
}

// waitTCP waits until addr accepts connections.
func waitTCP(ctx context.Context, addr string, p *testenv.Proc) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := testenv.WaitTCP(ctx, addr, p); err != nil {
		return fmt.Errorf("%s on %s: %w\n%s", p.Name, addr, err, p.Tail(10))
	}
	return nil
}

// unitsDone returns the units of the scan stored as done.
func unitsDone(ctx context.Context, ch *chaos.ClickHouse) (int, error) {
	out, err := ch.Query(ctx, "ptrsweep", "SELECT countIf(state = 'done') FROM units FINAL WHERE scan = 'dev'")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// waitUnits waits until n units are done.
func waitUnits(ctx context.Context, ch *chaos.ClickHouse, n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		done, err := unitsDone(ctx, ch)
		if err == nil && done >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d units done after %s (%v)", done, n, d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// compare exports the scan as the admin user and compares it with what a
// sweep through a recursive resolver in front of Knot must store. (Not as
// ptrsweep_search: export opens the store, which applies the schema, and a
// readonly profile refuses that.)
func (r *rehearsal) compare(ctx context.Context, chAddr string, space netip.Prefix, l *lab.Lab) (chaos.Counts, error) {
	var pw []byte
	for _, d := range r.docs {
		var s corev1.Secret
		if err := yaml.Unmarshal(d, &s); err == nil && s.Kind == "Secret" && s.Name == "ptrsweep-clickhouse" {
			pw = s.Data["admin-password"]
			if pw == nil {
				pw = []byte(s.StringData["admin-password"])
			}
		}
	}
	pwFile := filepath.Join(r.dir, "admin-password")
	if err := os.WriteFile(pwFile, pw, 0o600); err != nil {
		return chaos.Counts{}, err
	}
	path := filepath.Join(r.dir, "export.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return chaos.Counts{}, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(r.cfg.Bin, "coordinator"), "export", "--scan", "dev",
		"--clickhouse", "clickhouse://ptrsweep_admin@"+chAddr+"/ptrsweep?password_file="+pwFile)
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr, cmd.Env = f, &errb, []string{}
	err = cmd.Run()
	f.Close()
	if err != nil {
		return chaos.Counts{}, fmt.Errorf("coordinator export: %w: %s", err, errb.String())
	}
	f, err = os.Open(path)
	if err != nil {
		return chaos.Counts{}, err
	}
	defer f.Close()
	return chaos.CompareExport(f, space, l.ExpectRecursive)
}
