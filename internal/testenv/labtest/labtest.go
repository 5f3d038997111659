// Package labtest is a small reference client for the DNS lab: it resolves
// one address the plain way (one query, TCP when the UDP answer is
// truncated, CNAMEs followed within the answer) and classifies the answer as
// ptrsweep must, so tests can compare a server's answers with Lab.Expect
// and Lab.ExpectRecursive. It is for tests: simple, not fast.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Client queries one server. The zero value is not usable: set Addr. A
// Client is a value and safe for concurrent use.
type Client struct {
	// Addr is the server's "host:port"; it must be in 127.0.0.0/8.
	Addr string
	// Timeout bounds each query; 0 means 2 s.
	Timeout time.Duration
	// UDPSize is the EDNS0 UDP payload size offered; 0 means no EDNS0.
	UDPSize uint16
	// RecursionDesired sets the RD bit (for a recursive resolver).
	RecursionDesired bool
	// TCP sends every query over TCP instead of UDP first.
	TCP bool
}

// ErrTimeout is returned by Exchange when the server did not answer.
var ErrTimeout = errors.New("no answer")

// Exchange sends one query for name and qtype over UDP and repeats it over
// TCP when the answer is truncated (or over TCP only, if c.TCP). A query without an answer gives an error
// wrapping ErrTimeout.
func (c Client) Exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if err := lab.CheckLoopback(c.Addr); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = c.RecursionDesired
	if c.UDPSize > 0 {
		m.SetEdns0(c.UDPSize, false)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	if c.TCP {
		return c.exchange(ctx, m, "tcp", timeout)
	}
	r, err := c.exchange(ctx, m, "udp", timeout)
	if err == nil && r.Truncated {
		r, err = c.exchange(ctx, m, "tcp", timeout)
	}
	return r, err
}

func (c Client) exchange(ctx context.Context, m *dns.Msg, network string, timeout time.Duration) (*dns.Msg, error) {
	cl := &dns.Client{Net: network, Timeout: timeout, UDPSize: dns.MaxMsgSize}
	r, _, err := cl.ExchangeContext(ctx, m, c.Addr)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%s %s over %s: %w", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], network, ErrTimeout)
		}
		return nil, fmt.Errorf("%s %s over %s: %w", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], network, err)
	}
	return r, nil
}

// Lookup resolves the PTRs of ip and, with confirm, forward-confirms each
// name. Timeouts are a status, not an error.
func (c Client) Lookup(ctx context.Context, ip netip.Addr, confirm bool) (lab.Expected, error) {
	r, err := c.Exchange(ctx, sweep.ReverseName(ip), dns.TypePTR)
	if errors.Is(err, ErrTimeout) {
		return lab.Expected{Status: sweep.StatusTimeout}, nil
	}
	if err != nil {
		return lab.Expected{}, err
	}
	e := lab.Expected{Status: Classify(r)}
	if cnameLoop(r) {
		e.Status = sweep.StatusServFail
	}
	switch e.Status {
	case sweep.StatusNXDomain, sweep.StatusNoData:
		e.TTL = NegativeTTL(r)
	case sweep.StatusOK:
		for _, rr := range r.Answer {
			if p, ok := rr.(*dns.PTR); ok {
				if len(e.PTRs) == 0 {
					e.TTL = p.Hdr.Ttl
				}
				e.PTRs = append(e.PTRs, sweep.PTR{Name: sweep.CanonicalName(p.Ptr), TTL: p.Hdr.Ttl})
			}
		}
	}
	slices.SortFunc(e.PTRs, func(x, y sweep.PTR) int { return strings.Compare(x.Name, y.Name) })
	if confirm {
		for i := range e.PTRs {
			e.PTRs[i].FCrDNS = c.Confirm(ctx, ip, e.PTRs[i].Name)
		}
	}
	return e, nil
}

// cnameLoop reports whether the answer's CNAME chain from the question
// name comes back to a name it passed.
func cnameLoop(r *dns.Msg) bool {
	if len(r.Question) == 0 {
		return false
	}
	next := map[string]string{}
	for _, rr := range r.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			next[strings.ToLower(c.Hdr.Name)] = strings.ToLower(c.Target)
		}
	}
	seen := map[string]bool{}
	for n := strings.ToLower(r.Question[0].Name); ; {
		if seen[n] {
			return true
		}
		seen[n] = true
		t, ok := next[n]
		if !ok {
			return false
		}
		n = t
	}
}

// Confirm returns the forward-confirmation outcome of PTR name (canonical
// form) of ip.
func (c Client) Confirm(ctx context.Context, ip netip.Addr, name string) sweep.FCrDNS {
	if _, err := netip.ParseAddr(name); err == nil {
		return sweep.FCrDNSNumeric
	}
	if name == "." {
		return sweep.FCrDNSNoAddress // the root is no host name
	}
	r, err := c.Exchange(ctx, dns.Fqdn(name), dns.TypeA)
	if err != nil {
		return sweep.FCrDNSError
	}
	switch r.Rcode {
	case dns.RcodeNameError:
		return sweep.FCrDNSNoAddress
	case dns.RcodeSuccess:
	default:
		return sweep.FCrDNSError
	}
	found := false
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			found = true
			if addr, ok := netip.AddrFromSlice(a.A.To4()); ok && addr == ip {
				return sweep.FCrDNSConfirmed
			}
		}
	}
	if found {
		return sweep.FCrDNSMismatch
	}
	return sweep.FCrDNSNoAddress
}

// Classify returns the status of a PTR answer: ok when the answer holds a
// PTR, nodata for NOERROR without one, and the rcode's status otherwise.
func Classify(r *dns.Msg) sweep.Status {
	switch r.Rcode {
	case dns.RcodeSuccess:
		for _, rr := range r.Answer {
			if _, ok := rr.(*dns.PTR); ok {
				return sweep.StatusOK
			}
		}
		return sweep.StatusNoData
	case dns.RcodeNameError:
		return sweep.StatusNXDomain
	case dns.RcodeRefused:
		return sweep.StatusRefused
	}
	return sweep.StatusServFail
}

// NegativeTTL returns the negative-caching TTL of a response (RFC 2308): the
// smaller of the authority SOA's TTL and minimum, or 0 without a SOA.
func NegativeTTL(r *dns.Msg) uint32 {
	for _, rr := range r.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return min(soa.Hdr.Ttl, soa.Minttl)
		}
	}
	return 0
}
