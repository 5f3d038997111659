package resolve

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// confirm forward-confirms one PTR name of ip: a numeric name is never
// trusted nor looked up, the root has no address; otherwise the name's A records (CNAMEs followed)
// decide confirmed, mismatch, no_address or error. Lookups are shared
// through fwd; it returns the queries it sent itself (none for a name
// another address looked up).
func (r *Resolver) confirm(ctx context.Context, sl *slot, fwd *forwardCache, name string, ip netip.Addr) (sweep.FCrDNS, int, error) {
	if numericName(name) {
		return sweep.FCrDNSNumeric, 0, nil
	}
	if name == "." {
		return sweep.FCrDNSNoAddress, 0, nil // the root is no host name
	}
	sent := 0
	out, err := fwd.lookup(ctx, name, func(ctx context.Context) (outcome, error) {
		out, err := r.lookup(ctx, sl, request{name: dns.Fqdn(name), qtype: dns.TypeA})
		sent = out.queries
		return out, err
	})
	if err != nil {
		return sweep.FCrDNSNone, sent, err
	}
	return fcrdns(out, ip), sent, nil
}

// fcrdns reads the outcome of a name's A lookup for address ip.
func fcrdns(out outcome, ip netip.Addr) sweep.FCrDNS {
	switch out.status {
	case sweep.StatusOK:
		for _, rr := range out.rrs {
			a, ok := rr.(*dns.A)
			if !ok {
				continue
			}
			if addr, ok := netip.AddrFromSlice(a.A); ok && addr.Unmap() == ip {
				return sweep.FCrDNSConfirmed
			}
		}
		return sweep.FCrDNSMismatch
	case sweep.StatusNXDomain, sweep.StatusNoData:
		return sweep.FCrDNSNoAddress
	}
	return sweep.FCrDNSError
}

// forwardCache shares forward lookups among the addresses of one Resolve
// call: the first caller for a name looks it up, later callers wait for and
// reuse its outcome. It is safe for concurrent use and lives as long as the
// Resolve call.
type forwardCache struct {
	mu sync.Mutex
	m  map[string]*forwardEntry
}

// forwardEntry is one name's lookup; out and err are set before done closes.
type forwardEntry struct {
	done chan struct{}
	out  outcome
	err  error
}

func newForwardCache() *forwardCache {
	return &forwardCache{m: make(map[string]*forwardEntry)}
}

// lookup returns the outcome for name, calling do only when no other caller
// has started the same lookup.
func (c *forwardCache) lookup(ctx context.Context, name string, do func(context.Context) (outcome, error)) (outcome, error) {
	c.mu.Lock()
	e, found := c.m[name]
	if !found {
		e = &forwardEntry{done: make(chan struct{})}
		c.m[name] = e
	}
	c.mu.Unlock()
	if found {
		select {
		case <-e.done:
			return e.out, e.err
		case <-ctx.Done():
			return outcome{}, ctx.Err()
		}
	}
	e.out, e.err = do(ctx)
	close(e.done)
	return e.out, e.err
}

// numericName reports whether a canonical PTR name is itself an address:
// anything netip.ParseAddr accepts, or an IPv4 address in the classic
// inet_aton forms getaddrinfo accepts as numeric (1 to 4 dot-separated
// parts, each decimal, octal with a leading 0, or hex with 0x), such as
// "192.0.2.1", "192.000.002.001", "3221225985" or "0xc0.0.2.1".
func numericName(name string) bool {
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	parts := strings.Split(name, ".")
	if len(parts) > 4 {
		return false
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32)
		if err != nil || p[0] == '+' || strings.Contains(p, "_") || hasBase(p, 'b') || hasBase(p, 'o') {
			return false
		}
		// The last part fills the remaining bytes; each other part is one byte.
		limit := uint64(255)
		if i == len(parts)-1 {
			limit = 1<<(8*(5-len(parts))) - 1
		}
		if v > limit {
			return false
		}
	}
	return true
}

// hasBase reports whether p starts with the Go base prefix "0"+c in either
// case, a form strconv accepts and inet_aton does not.
func hasBase(p string, c byte) bool {
	return len(p) > 1 && p[0] == '0' && (p[1] == c || p[1] == c-('a'-'A'))
}
