// Package resolve holds all of ptrsweep's DNS code: a PTR resolver that
// turns a unit's addresses into sweep.Results, with retries across
// resolvers, TCP fallback, CNAME (RFC 2317) chains, forward confirmation and
// a hard query-rate limit. It is the only importer of github.com/miekg/dns
// and golang.org/x/time/rate.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout     = time.Second
	DefaultRetries     = 2
	DefaultConcurrency = 256
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
	// all servers together, retries, TCP repeats and forward lookups
	// included. 0 means unlimited.
	QPS float64
	// Timeout is how long one try waits for a valid answer (default 1s).
	Timeout time.Duration
	// Retries is the number of extra tries after the first, each on the
	// next server in the list (default 2; a negative value means none).
	Retries int
	// Concurrency is the number of addresses the Resolver resolves at once,
	// across all its Resolve calls (default 256). It bounds the queries in
	// flight: a local server's socket buffer drops beyond a few hundred.
	Concurrency int
	// UDPSize is the EDNS0 UDP buffer size advertised (default 1232, at
	// least 512).
	UDPSize uint16
}

// Resolver resolves the PTR records of a unit's addresses. It is safe for
// concurrent use by many goroutines; all its Resolve calls share one rate
// limiter. It holds no long-lived sockets and needs no Close.
type Resolver struct {
	servers     []netip.AddrPort
	timeout     time.Duration
	retries     int
	concurrency int
	udpSize     uint16
	limiter     *rate.Limiter // nil: unlimited
	inflight    chan struct{} // one token per address being resolved
	next        atomic.Uint64 // round-robin start of the next lookup
}

// New validates cfg and returns a Resolver. A bad server gives an error
// wrapping ErrBadServer that names it; a bad field one wrapping ErrBadConfig.
func New(cfg Config) (*Resolver, error) {
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("new resolver: %w", ErrNoServers)
	}
	servers := make([]netip.AddrPort, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		ap, err := checkServer(s)
		if err != nil {
			return nil, fmt.Errorf("new resolver: %w", err)
		}
		servers = append(servers, ap)
	}
	switch {
	case cfg.QPS < 0 || math.IsNaN(cfg.QPS) || math.IsInf(cfg.QPS, 0):
		return nil, fmt.Errorf("new resolver: %w: QPS %v must be a finite number >= 0", ErrBadConfig, cfg.QPS)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("new resolver: %w: Timeout %v must be >= 0", ErrBadConfig, cfg.Timeout)
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("new resolver: %w: Concurrency %d must be >= 0", ErrBadConfig, cfg.Concurrency)
	case cfg.UDPSize != 0 && cfg.UDPSize < 512:
		return nil, fmt.Errorf("new resolver: %w: UDPSize %d must be >= 512", ErrBadConfig, cfg.UDPSize)
	}
	r := &Resolver{
		servers:     servers,
		timeout:     orDefault(cfg.Timeout, DefaultTimeout),
		retries:     orDefault(cfg.Retries, DefaultRetries),
		concurrency: orDefault(cfg.Concurrency, DefaultConcurrency),
		udpSize:     orDefault(cfg.UDPSize, DefaultUDPSize),
	}
	if r.retries < 0 {
		r.retries = 0
	}
	r.inflight = make(chan struct{}, r.concurrency)
	if cfg.QPS > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(cfg.QPS), max(1, int(cfg.QPS/100)))
	}
	return r, nil
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
// address with its Result, in any order; emit calls are serialized. DNS
// outcomes are Status values. Resolve returns nil once every address is
// emitted; ctx.Err() when ctx ends first (having emitted only completed
// addresses); an error wrapping ErrBadUnit for a prefix that is not IPv4;
// or one wrapping ErrSocket when no query can be sent at all. No emit call
// happens after Resolve returns. Many Resolve calls may run at once on one
// Resolver; their queries share its rate limit.
func (r *Resolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	if !u.Prefix.IsValid() || !u.Prefix.Addr().Is4() {
		return fmt.Errorf("resolve unit %q: %w: %v", u.ID(), ErrBadUnit, u.Prefix)
	}
	base := u.Prefix.Masked().Addr().As4()
	first := uint64(base[0])<<24 | uint64(base[1])<<16 | uint64(base[2])<<8 | uint64(base[3])
	n := uint64(1) << (32 - u.Prefix.Bits())

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Uint64
		emitMu  sync.Mutex
		emitted uint64 // guarded by emitMu
		errOnce sync.Once
		failed  error
		wg      sync.WaitGroup
		fwd     = newForwardCache()
	)
	workers := min(uint64(r.concurrency), n)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= n || wctx.Err() != nil {
					return
				}
				v := uint32(first + i)
				ip := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
				select {
				case r.inflight <- struct{}{}:
				case <-wctx.Done():
					return
				}
				res, err := r.resolveOne(wctx, ip, u.Options, fwd)
				<-r.inflight
				if err != nil {
					errOnce.Do(func() { failed = err })
					cancel()
					return
				}
				emitMu.Lock()
				emit(res)
				emitted++
				emitMu.Unlock()
			}
		}()
	}
	wg.Wait()
	if emitted == n {
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

// resolveOne resolves one address: its PTR records and, when asked, the
// forward confirmation of each name.
func (r *Resolver) resolveOne(ctx context.Context, ip netip.Addr, opts sweep.Options, fwd *forwardCache) (sweep.Result, error) {
	res := sweep.Result{IP: ip}
	out, err := r.lookup(ctx, sweep.ReverseName(ip), dns.TypePTR, &res.Queries)
	if err != nil {
		return res, err
	}
	res.Status, res.TTL = out.status, out.ttl
	if out.status == sweep.StatusOK {
		res.PTRs = ptrNames(out.rrs)
		res.TTL = res.PTRs[0].TTL
		if opts.Confirm {
			for i := range res.PTRs {
				f, err := r.confirm(ctx, fwd, res.PTRs[i].Name, ip, &res.Queries)
				if err != nil {
					return res, err
				}
				res.PTRs[i].FCrDNS = f
			}
		}
	}
	res.ResolvedAt = time.Now()
	return res, nil
}

// ptrNames returns the canonical PTR names of rrs, each once, keeping the
// first TTL of a repeated name.
func ptrNames(rrs []dns.RR) []sweep.PTR {
	out := make([]sweep.PTR, 0, len(rrs))
	seen := make(map[string]struct{}, len(rrs))
	for _, rr := range rrs {
		p, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		name := sweep.CanonicalName(p.Ptr)
		if _, dup := seen[name]; dup {
			continue
		}
		seen[name] = struct{}{}
		out = append(out, sweep.PTR{Name: name, TTL: p.Hdr.Ttl})
	}
	return out
}

// outcome is the result of looking up one name and type.
type outcome struct {
	status sweep.Status
	rrs    []dns.RR // the records of the asked type on the CNAME chain (ok)
	ttl    uint32   // the SOA minimum (nxdomain, nodata), when present
}

// lookup resolves name and qtype, following the CNAME chain that starts at
// name through the answer and, when an answer ends the chain at a name
// without records, by asking for that name (at most maxHops CNAMEs in all).
// Only records owned by a name on the chain are used. A loop or an overlong
// chain is servfail. It adds the queries sent to *queries.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16, queries *int) (outcome, error) {
	seen := map[string]bool{strings.ToLower(name): true}
	hops := 0
	cur := name
	for {
		m, st, err := r.query(ctx, cur, qtype, queries)
		if err != nil {
			return outcome{}, err
		}
		if m == nil {
			return outcome{status: st}, nil
		}
		asked := cur
		var rrs []dns.RR
		for {
			next := ""
			for _, rr := range m.Answer {
				h := rr.Header()
				if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, cur) {
					continue
				}
				if h.Rrtype == qtype {
					rrs = append(rrs, rr)
				} else if c, ok := rr.(*dns.CNAME); ok && next == "" {
					next = c.Target
				}
			}
			if next == "" {
				break
			}
			hops++
			key := strings.ToLower(next)
			if hops > maxHops || seen[key] {
				return outcome{status: sweep.StatusServFail}, nil
			}
			seen[key] = true
			cur = next
		}
		switch {
		case m.Rcode == dns.RcodeNameError:
			return outcome{status: sweep.StatusNXDomain, ttl: negativeTTL(m)}, nil
		case len(rrs) > 0:
			return outcome{status: sweep.StatusOK, rrs: rrs}, nil
		case cur == asked:
			return outcome{status: sweep.StatusNoData, ttl: negativeTTL(m)}, nil
		}
		// The chain left this answer without records: ask for its end.
	}
}

// query asks the servers for name and qtype, starting at the next server in
// round-robin order and moving to the next one after each failed try. It
// returns the first valid NOERROR or NXDOMAIN response, or, when every try
// failed, a nil message and the status: servfail if any server answered
// with a failing rcode, else refused if any refused, else timeout.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16, queries *int) (*dns.Msg, sweep.Status, error) {
	n := uint64(len(r.servers))
	start := r.next.Add(1) - 1
	fail := sweep.StatusTimeout
	for try := range uint64(r.retries + 1) {
		server := r.servers[(start+try)%n]
		m, sent, err := r.exchange(ctx, server, newQuery(name, qtype, r.udpSize))
		*queries += sent
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			if isTryFailure(err) {
				continue
			}
			if errors.Is(err, errBadName) {
				return nil, sweep.StatusServFail, nil
			}
			return nil, 0, err
		}
		switch m.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return m, 0, nil
		case dns.RcodeRefused:
			if fail == sweep.StatusTimeout {
				fail = sweep.StatusRefused
			}
		default:
			fail = sweep.StatusServFail
		}
	}
	return nil, fail, nil
}

// negativeTTL returns the negative-caching TTL of a NXDOMAIN or NODATA
// response: the smaller of the SOA record's TTL and its MINIMUM field, or 0
// without an SOA in the authority section.
func negativeTTL(m *dns.Msg) uint32 {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 0
}
