// Package labproc runs the real DNS servers from Debian for the lab's
// integration tests and benchmarks: Knot DNS (knotd) serving the zone files
// of lab.WriteZones, and Unbound as a recursive resolver in front of it,
// locked down so it never sends a packet off the machine. Each server is a
// child process owned by a Proc; Close stops it.
package labproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// The binaries, as Debian's knot and unbound packages install them.
const (
	KnotdPath   = "/usr/sbin/knotd"
	UnboundPath = "/usr/sbin/unbound"
)

// ErrNotInstalled is returned when a server's binary is missing.
var ErrNotInstalled = errors.New("binary not installed")

// stopTimeout is how long Close waits after SIGTERM before SIGKILL.
const stopTimeout = 10 * time.Second

// Proc is one running server process. Close stops it; its methods are safe
// for concurrent use.
type Proc struct {
	*testenv.Proc
	addr      string
	closeOnce sync.Once
	closeErr  error
}

// Addr returns the "127.0.0.1:port" the server answers on (UDP and TCP).
func (p *Proc) Addr() string { return p.addr }

// Close sends SIGTERM to the process (SIGKILL if it has not exited after
// 10 s) and waits for it. It is safe to call more than once.
func (p *Proc) Close() error {
	p.closeOnce.Do(func() {
		if !p.Running() {
			p.closeErr = fmt.Errorf("%s exited early: %v: %s", p.Name, p.ExitErr(), p.Output())
			return
		}
		if err := p.Signal(syscall.SIGTERM); err != nil {
			p.closeErr = err
		}
		if _, err := p.Wait(stopTimeout); err != nil {
			p.Kill()
			p.closeErr = fmt.Errorf("stop %s (pid %d): killed after %s", p.Name, p.PID(), stopTimeout)
		}
	})
	return p.closeErr
}

// start runs bin with args, its output in dir/name.log, and returns its
// Proc once ready reports that the server answers on addr.
func start(ctx context.Context, name, bin, dir, addr string, args []string, ready func(context.Context) bool) (*Proc, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("start %s: %s: %w", name, bin, ErrNotInstalled)
	}
	tp, err := testenv.Start(testenv.ProcSpec{Name: name, Argv: append([]string{bin}, args...), Log: filepath.Join(dir, name+".log")})
	if err != nil {
		return nil, err
	}
	p := &Proc{Proc: tp, addr: addr}
	if err := tp.WaitReady(ctx, 50*time.Millisecond, ready); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("start %s on %s: %w", name, addr, err)
	}
	return p, nil
}

// answers reports whether the server on addr gives an answer with rcode
// NOERROR to a query for name and qtype (with rd: recursion desired).
func answers(ctx context.Context, addr, name string, qtype uint16, rd bool) bool {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}

// StartKnot starts knotd serving zones (from lab.WriteZones) on addr, a
// "127.0.0.1:port" (or "" for a free port), with its configuration,
// database and control socket in dir. It returns when Knot answers the SOA
// query of every zone, or fails when ctx is done first.
func StartKnot(ctx context.Context, dir string, zones []lab.ZoneFile, addr string) (*Proc, error) {
	if addr == "" {
		var err error
		if addr, err = testenv.FreeAddr("127.0.0.1"); err != nil {
			return nil, fmt.Errorf("start knot: %w", err)
		}
	}
	if err := lab.CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("start knot: %w", err)
	}
	host, port, _ := net.SplitHostPort(addr)
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start knot: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n    rundir: %q\n    listen: %s@%s\n    udp-workers: 2\n    tcp-workers: 1\n    background-workers: 1\n",
		dir, host, port)
	fmt.Fprintf(&b, "database:\n    storage: %q\n", filepath.Join(dir, "db"))
	fmt.Fprintf(&b, "control:\n    listen: %q\n", filepath.Join(dir, "knot.sock"))
	b.WriteString("log:\n  - target: stderr\n    any: warning\n")
	fmt.Fprintf(&b, "template:\n  - id: default\n    storage: %q\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n    semantic-checks: off\n", dir)
	b.WriteString("zone:\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", z.Zone, z.Path)
	}
	conf := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("start knot: %w", err)
	}
	ready := func(ctx context.Context) bool {
		for _, z := range zones {
			if !answers(ctx, addr, z.Zone, dns.TypeSOA, false) {
				return false
			}
		}
		return true
	}
	return start(ctx, "knotd", KnotdPath, dir, addr, []string{"-c", conf}, ready)
}

// outside127 is the IPv4 space outside 127.0.0.0/8, and all of IPv6.
var outside127 = []string{"0.0.0.0/2", "64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6",
	"124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/1", "::/0"}

// StartUnbound starts Unbound as a recursive resolver on a free
// "127.0.0.1:port", with its configuration in dir, that resolves zones (the
// lab's zone apexes, lab.Lab.Zones) by asking the authoritative server at
// stubAddr ("127.0.0.1:port"). It is locked down so it never sends a packet
// off the machine: every other name is answered from a static root zone,
// the root itself is stubbed to a dead loopback address, every address
// outside 127.0.0.0/8 is a do-not-query-address, IPv6 is off and there is
// no DNSSEC trust anchor. It returns when Unbound answers the SOA query of
// the first zone, or fails when ctx is done first.
func StartUnbound(ctx context.Context, dir, stubAddr string, zones []string) (*Proc, error) {
	if err := lab.CheckLoopback(stubAddr); err != nil {
		return nil, fmt.Errorf("start unbound: stub: %w", err)
	}
	if len(zones) == 0 {
		return nil, errors.New("start unbound: no zones")
	}
	addr, err := testenv.FreeAddr("127.0.0.1")
	if err != nil {
		return nil, fmt.Errorf("start unbound: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start unbound: %w", err)
	}
	host, port, _ := net.SplitHostPort(addr)
	stubHost, stubPort, _ := net.SplitHostPort(stubAddr)
	var b strings.Builder
	b.WriteString("server:\n")
	for _, line := range []string{
		"interface: " + host, "port: " + port, "do-daemonize: no", `username: ""`, `chroot: ""`,
		"directory: " + strconv.Quote(dir),
		"pidfile: " + strconv.Quote(filepath.Join(dir, "unbound.pid")),
		"use-syslog: no", `logfile: ""`, "verbosity: 0", "num-threads: 1",
		`module-config: "iterator"`, "do-not-query-localhost: no", "do-ip6: no", "do-ip4: yes",
		"access-control: 127.0.0.0/8 allow", "qname-minimisation: no", "prefetch: no",
		"outgoing-range: 2048", "num-queries-per-thread: 1024", "so-reuseport: no", "infra-host-ttl: 60",
		// Under load the authoritative server may answer late; keep asking
		// it instead of declaring it down and answering SERVFAIL for a while.
		"infra-keep-probing: yes",
		// Give up on the dead servers of the failing /24s within a second or
		// two, and answer SERVFAIL instead of dropping the client's query.
		"infra-cache-max-rtt: 500", "discard-timeout: 0",
		`local-zone: "." static`,
	} {
		b.WriteString("    " + line + "\n")
	}
	for _, z := range zones {
		fmt.Fprintf(&b, "    local-zone: %q transparent\n", dns.Fqdn(z))
	}
	for _, r := range outside127 {
		fmt.Fprintf(&b, "    do-not-query-address: %s\n", r)
	}
	b.WriteString("remote-control:\n    control-enable: no\n")
	// The root goes nowhere: priming, if it ever happens, asks a dead address.
	b.WriteString("stub-zone:\n    name: \".\"\n    stub-addr: 127.0.0.6\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "stub-zone:\n    name: %q\n    stub-addr: %s@%s\n", dns.Fqdn(z), stubHost, stubPort)
	}
	conf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("start unbound: %w", err)
	}
	ready := func(ctx context.Context) bool { return answers(ctx, addr, dns.Fqdn(zones[0]), dns.TypeSOA, true) }
	return start(ctx, "unbound", UnboundPath, dir, addr, []string{"-d", "-c", conf}, ready)
}
