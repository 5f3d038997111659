package resolve

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout     = time.Second
	DefaultRetries     = 4
	DefaultConcurrency = 1024
	DefaultUDPSize     = 1232
)

// maxHops is the longest CNAME chain followed, counting every CNAME in
// answers and across queries.
const maxHops = 8

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
}

// Resolver resolves the PTR records of a unit's addresses. It is safe for
// concurrent use by many goroutines; all its Resolve calls share its rate
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

// Stats returns the Resolver's counters. It is safe to call at any time.
func (r *Resolver) Stats() Stats {
	c := &r.stats
	st := Stats{
		Queries: c.sent.Load(), Answers: c.answers.Load(), Timeouts: c.timeouts.Load(), Retries: c.retries.Load(),
		TCP: c.tcp.Load(), Invalid: c.invalid.Load(), Unmatched: c.unmatched.Load(), Probes: c.probes.Load(),
		Pruned: c.pruned.Load(), Sampled: c.sampled.Load(), PruneDisabled: c.pruneDisabled.Load(),
		Ejected: c.ejected.Load(), Window: r.win.size(),
	}
	now := time.Now().UnixNano()
	for _, s := range r.servers {
		if s.ejected.Load() > now {
			st.EjectedServers = append(st.EjectedServers, s.addr.String())
		}
	}
	return st
}
