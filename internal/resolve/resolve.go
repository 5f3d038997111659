// Package resolve holds ptrsweep's DNS resolution: a PTR resolver that
// turns a unit's addresses into sweep.Results, with retries across
// resolvers, TCP fallback, CNAME (RFC 2317) chains, forward confirmation and
// hard query-rate limits, over a multiplexed UDP engine with an adaptive
// in-flight window and empty-zone pruning (RFC 8020).
//
// It and its wire codec, resolve/dnswire, are the product packages that
// import github.com/miekg/dns; the harness imports it too (the DNS lab
// serves zones with it, and the chaos tests' hostile server forges
// answers with it). This package alone imports golang.org/x/time/rate and
// golang.org/x/net.
//
// A map of the package, from the entry point down:
//
//   - resolve.go: Config, New, Resolver, Resolve, Stats: the exported
//     entry; addrs.go: ResolveAddrs, for any list of addresses.
//   - Unit logic, what to ask and what the answers mean: unit.go (a unit's
//     chunks and blocks, emitting Results), addrs.go (an address list's
//     /24 blocks), prune.go (RFC 8020 probes and
//     samples), lookup.go (one lookup: tries across servers, CNAME chains,
//     answers into outcomes), confirm.go (forward confirmation).
//   - Engine, how queries travel: engine.go (sockets, readers, matching
//     answers to queries), fast.go (the event-driven fast path: a query
//     per address without a goroutine), sendq.go (the send queue and
//     batched writes), slot.go (the slow path's UDP exchange), tcp.go (TCP
//     after truncation), window.go (the in-flight window, RTT estimates),
//     limits.go (rate limits), servers.go (server lists, choice, ejection).
//   - dnswire: packing queries and parsing answers, pure and fuzzed.
package resolve

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout     = time.Second
	DefaultRetries     = 4
	DefaultConcurrency = 1024
	DefaultUDPSize     = 1232
	// DefaultSockets is the number of UDP sockets per server.
	DefaultSockets = 2
)

// Config configures a Resolver. Zero fields take the documented defaults.
type Config struct {
	// Servers are the resolvers, "host:port" with an IP-literal host
	// (see ParseServers and SystemServers). Required.
	Servers []string
	// QPS is a hard limit on the queries per second this Resolver sends to
	// all servers together, retries, probes, TCP repeats and forward
	// lookups included. 0 means unlimited.
	QPS float64
	// ServerQPS is a hard limit on the queries per second sent to each
	// server. 0 means unlimited.
	ServerQPS float64
	// ZoneQPS is a hard limit on the reverse queries per second for the
	// addresses of one /16 (one reverse zone such as 51.198.in-addr.arpa),
	// so no network's nameservers see a burst. 0 means unlimited.
	ZoneQPS float64
	// Timeout is the longest one try waits for a valid answer (default
	// 1s). Tries before a lookup's last wait for a retransmit timeout
	// derived from the server's measured round-trip times (RFC 6298, at
	// least 50ms, doubling with each try) when that is shorter; the last
	// try always waits the full Timeout.
	Timeout time.Duration
	// Retries is the number of extra tries after the first, each on the
	// next server in the list (default 2; a negative value means none).
	Retries int
	// Concurrency is the most addresses the Resolver resolves at once,
	// across all its Resolve calls (default 1024): the ceiling of its
	// adaptive in-flight window, which starts at 128 and shrinks when
	// answers start to time out (a local server's socket buffer drops
	// beyond a few hundred queries in flight).
	Concurrency int
	// UDPSize is the EDNS0 UDP buffer size advertised (default 1232, at
	// least 512).
	UDPSize uint16
	// Sockets is the number of UDP sockets per server (default 2).
	Sockets int
	// NoGSO sends every query on its own, without UDP segmentation
	// offload (see gso_linux.go); a socket whose kernel refuses it falls
	// back by itself.
	NoGSO bool
}

// Resolver resolves the PTR records of a unit's addresses (Resolve) or of
// any address list (ResolveAddrs). It is safe for concurrent use by many
// goroutines; all its Resolve and ResolveAddrs calls share its rate
// limiters, one adaptive in-flight window and one set of UDP sockets per
// server, which are open while at least one Resolve call runs (see
// engine.go). It needs no Close.
type Resolver struct {
	tcp         tcpPool // idle TCP connections for truncated answers
	servers     []*server
	timeout     time.Duration
	retries     int
	concurrency int
	udpSize     uint16
	sockets     int
	gso         bool
	limiter     *rate.Limiter // nil: unlimited
	zones       *zoneLimiters // nil: unlimited
	win         *window
	eng         engine
	prune       pruneCache
	stats       counters
	next        atomic.Uint64 // round-robin start of the next lookup
	anyEjected  atomic.Bool
}

// New validates cfg and returns a Resolver. A bad server gives an error
// wrapping ErrBadServer that names it; a bad field one wrapping ErrBadConfig.
func New(cfg Config) (*Resolver, error) {
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("new resolver: %w", ErrNoServers)
	}
	servers := make([]*server, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		ap, err := checkServer(s)
		if err != nil {
			return nil, fmt.Errorf("new resolver: %w", err)
		}
		servers = append(servers, &server{addr: ap})
	}
	for _, q := range []struct {
		name string
		v    float64
	}{{"QPS", cfg.QPS}, {"ServerQPS", cfg.ServerQPS}, {"ZoneQPS", cfg.ZoneQPS}} {
		if q.v < 0 || math.IsNaN(q.v) || math.IsInf(q.v, 0) {
			return nil, fmt.Errorf("new resolver: %w: %s %v must be a finite number >= 0", ErrBadConfig, q.name, q.v)
		}
	}
	switch {
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("new resolver: %w: Timeout %v must be >= 0", ErrBadConfig, cfg.Timeout)
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("new resolver: %w: Concurrency %d must be >= 0", ErrBadConfig, cfg.Concurrency)
	case cfg.UDPSize != 0 && cfg.UDPSize < 512:
		return nil, fmt.Errorf("new resolver: %w: UDPSize %d must be >= 512", ErrBadConfig, cfg.UDPSize)
	case cfg.Sockets < 0 || cfg.Sockets > 64:
		return nil, fmt.Errorf("new resolver: %w: Sockets %d must be in 0-64", ErrBadConfig, cfg.Sockets)
	}
	for _, s := range servers {
		s.limiter = newLimiter(cfg.ServerQPS)
	}
	r := &Resolver{
		servers:     servers,
		timeout:     orDefault(cfg.Timeout, DefaultTimeout),
		retries:     orDefault(cfg.Retries, DefaultRetries),
		concurrency: orDefault(cfg.Concurrency, DefaultConcurrency),
		udpSize:     orDefault(cfg.UDPSize, DefaultUDPSize),
		sockets:     orDefault(cfg.Sockets, DefaultSockets),
		gso:         gsoPlatform && !cfg.NoGSO,
		limiter:     newLimiter(cfg.QPS),
	}
	if r.retries < 0 {
		r.retries = 0
	}
	if cfg.ZoneQPS > 0 {
		r.zones = newZoneLimiters(cfg.ZoneQPS)
	}
	r.win = newWindow(r.concurrency)
	r.eng.r = r
	r.prune.init()
	return r, nil
}

// newLimiter returns a limiter of qps with a burst of a hundredth of a
// second's queries (at least one), or nil for 0 (unlimited).
func newLimiter(qps float64) *rate.Limiter {
	if qps <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(qps), max(1, int(qps/100)))
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Resolve resolves every address of u.Prefix and calls emit exactly once per
// address with its Result, in any order; emit calls are serialized. emit
// runs on the Resolver's own goroutines (mostly the socket readers, shared
// by every running Resolve call): it must be quick and must neither block
// on nor call into the Resolver. DNS outcomes are Status values. Unless u.Options.NoPrune, the /16 and /24
// reverse names are asked first and the addresses of a /24 that answers
// NXDOMAIN are emitted as nxdomain with Pruned set (see prune.go).
// Addresses are resolved in a shuffled order, interleaved with those of
// other running Resolve calls. Resolve returns nil once every address is
// emitted; ctx.Err() when ctx ends first (having emitted only completed
// addresses); an error wrapping ErrBadUnit for a prefix that is not IPv4;
// or one wrapping ErrSocket when no query can be sent at all. No emit call
// happens after Resolve returns. Many Resolve calls may run at once on one
// Resolver; their queries share its rate limits and in-flight window.
func (r *Resolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	if !u.Prefix.IsValid() || !u.Prefix.Addr().Is4() {
		return fmt.Errorf("resolve unit %q: %w: %v", u.ID(), ErrBadUnit, u.Prefix)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.eng.acquire(); err != nil {
		return fmt.Errorf("resolve unit %q: %w", u.ID(), err)
	}
	defer r.eng.release()
	p := u.Prefix.Masked()
	ur := &unitRun{r: r, opts: u.Options, emitFn: emit, fwd: newForwardCache()}
	bits := max(p.Bits(), 16) // chunks of at most a /16 keep memory bounded
	base := u32(p.Addr())
	size := uint64(1) << (32 - bits)
	var failed error
	for k := range uint64(1) << (bits - p.Bits()) {
		if err := ur.chunk(ctx, uint32(uint64(base)+k*size), int(size)); err != nil {
			failed = err
			break
		}
	}
	if ur.emitted == uint64(u.Addresses()) {
		return nil // complete, even if ctx ended just after the last address
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("resolve unit %q: %w", u.ID(), failed)
	}
	return nil
}

// Stats returns the Resolver's counters. It is safe to call at any time.
func (r *Resolver) Stats() Stats {
	c := &r.stats
	st := Stats{
		Queries: c.sent.Load(), Answers: c.answers.Load(), Timeouts: c.timeouts.Load(), Retries: c.retries.Load(),
		TCP: c.tcp.Load(), Invalid: c.invalid.Load(), Unmatched: c.unmatched.Load(), Probes: c.probes.Load(),
		Pruned: c.pruned.Load(), Sampled: c.sampled.Load(), PruneDisabled: c.pruneDisabled.Load(),
		Ejected: c.ejected.Load(), Window: r.win.size(), PeakInFlight: int(r.win.peak.Load()), Segmented: c.segmented.Load(),
	}
	now := time.Now().UnixNano()
	for _, s := range r.servers {
		if s.ejected.Load() > now {
			st.EjectedServers = append(st.EjectedServers, s.addr.String())
		}
	}
	return st
}

// Stats are a Resolver's counters since New, for reports and summaries.
type Stats struct {
	// Queries is the number of queries sent, UDP and TCP, probes, retries
	// and forward lookups included.
	Queries uint64
	// Answers is the number of valid answers received.
	Answers uint64
	// Timeouts is the number of tries that got no valid answer in time.
	Timeouts uint64
	// Retries is the number of tries after a lookup's first.
	Retries uint64
	// TCP is the number of queries repeated over TCP after TC.
	TCP uint64
	// Invalid is the number of packets dropped because they failed
	// validation: malformed, not a response, or the wrong question for
	// their ID.
	Invalid uint64
	// Unmatched is the number of packets dropped because no query was
	// waiting for their ID (late answers and spoofing attempts).
	Unmatched uint64
	// Probes is the number of empty-zone probes (RFC 8020) sent: queries
	// for /16 and /24 reverse names.
	Probes uint64
	// Pruned is the number of addresses answered nxdomain by pruning,
	// without a query of their own: the queries pruning saved.
	Pruned uint64
	// Sampled is the number of addresses of pruned zones queried anyway to
	// check the server's NXDOMAIN.
	Sampled uint64
	// PruneDisabled is the number of zones whose NXDOMAIN a sample proved
	// wrong; pruning is off for them from then on.
	PruneDisabled uint64
	// Ejected is the number of times a server was ejected for failing
	// every try in a long run; EjectedServers lists those ejected now.
	Ejected        uint64
	EjectedServers []string
	// Window is the current adaptive in-flight window (addresses).
	Window int
	// PeakInFlight is the most window slots held at once since New: the
	// addresses (and probes) in flight, silent zones' aside.
	PeakInFlight int
	// Segmented is the number of queries sent several to a send, cut
	// into datagrams by the kernel (UDP GSO).
	Segmented uint64
}

// counters are the live, atomically updated Stats.
type counters struct {
	sent, answers, timeouts, retries, tcp, invalid, unmatched  atomic.Uint64
	probes, pruned, sampled, pruneDisabled, ejected, segmented atomic.Uint64
}

// String formats the stats for a summary line.
func (s Stats) String() string {
	out := fmt.Sprintf("engine: %d queries, %d answers, %d timeouts, %d retries, %d over TCP, %d invalid and %d unmatched packets dropped, "+
		"pruning: %d probes saved %d queries (%d sampled, %d zones found lying), %d ejections",
		s.Queries, s.Answers, s.Timeouts, s.Retries, s.TCP, s.Invalid, s.Unmatched, s.Probes, s.Pruned, s.Sampled, s.PruneDisabled, s.Ejected)
	if len(s.EjectedServers) > 0 {
		out += fmt.Sprintf(" (ejected now: %s)", strings.Join(s.EjectedServers, ", "))
	}
	return out
}
