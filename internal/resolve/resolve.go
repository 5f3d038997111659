// Package resolve holds all of ptrsweep's DNS code: a PTR resolver that
// turns a unit's addresses into sweep.Results, with retries across
// resolvers, TCP fallback, CNAME (RFC 2317) chains, forward confirmation and
// hard query-rate limits, over a multiplexed UDP engine with an adaptive
// in-flight window and empty-zone pruning (RFC 8020). It is the only importer of github.com/miekg/dns
// and golang.org/x/time/rate.
package resolve

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

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

// outcome is the result of looking up one name and type.
type outcome struct {
	status sweep.Status
	rrs    []dns.RR    // the records of the asked type on the CNAME chain (ok, slow path)
	ptrs   []sweep.PTR // the canonical PTRs (ok, fast path)
	ttl    uint32      // the SOA minimum (nxdomain, nodata), when present
}

// lookup resolves name and qtype, following the CNAME chain that starts at
// name through the answer and, when an answer ends the chain at a name
// without records, by asking for that name (at most maxHops CNAMEs in all).
// Only records owned by a name on the chain are used. A loop or an overlong
// chain is servfail. ip, when valid, is the address whose reverse name is
// name (its query is packed without miekg/dns; name may then be empty). zone is the /16 rate-limit
// key (0: none). It adds the queries sent to *queries. rs, when not nil,
// is where the fast path left the first query (see query).
func (r *Resolver) lookup(ctx context.Context, w *slot, name string, ip netip.Addr, qtype uint16, zone uint32, queries *int, rs *resume) (outcome, error) {
	var seen map[string]bool
	hops := 0
	cur := name
	for {
		st, err := r.query(ctx, w, cur, ip, qtype, zone, queries, rs)
		rs = nil
		if err != nil {
			return outcome{}, err
		}
		if st != 0 {
			return outcome{status: st}, nil
		}
		if w.fast {
			return w.p.outcome(), nil
		}
		if ip.IsValid() && name == "" {
			name = sweep.ReverseName(ip)
			cur = name
		}
		ip = netip.Addr{}
		m := w.msg
		if seen == nil {
			seen = map[string]bool{strings.ToLower(name): true}
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

// outcome turns a fast-parsed answer into an outcome.
func (p *parsed) outcome() outcome {
	switch {
	case p.rcode == dns.RcodeNameError:
		return outcome{status: sweep.StatusNXDomain, ttl: p.negTTL}
	case len(p.ends) == 0:
		return outcome{status: sweep.StatusNoData, ttl: p.negTTL}
	}
	out := outcome{status: sweep.StatusOK, ptrs: make([]sweep.PTR, len(p.ends))}
	for i := range p.ends {
		out.ptrs[i] = sweep.PTR{Name: string(p.name(i)), TTL: p.ttls[i]}
	}
	return out
}

// query asks the servers for name and qtype, starting at the next server in
// round-robin order (skipping ejected ones) and moving to the next one
// after each failed try. On the first valid NOERROR or NXDOMAIN response it
// returns status 0 with the answer in w (w.fast and w.p, or w.msg). When
// every try failed it returns servfail if any server answered with a
// failing rcode, else refused if any refused, else timeout. rs, when not
// nil, goes on where the fast path left the query: from its round-robin
// start and try, first with the answer it handed over (rs.have).
func (r *Resolver) query(ctx context.Context, w *slot, name string, ip netip.Addr, qtype uint16, zone uint32, queries *int, rs *resume) (sweep.Status, error) {
	if ip.IsValid() {
		w.q, w.qlen = packPTRQuery(w.qbuf[:], 0, ip, r.udpSize)
	} else {
		var err error
		if w.q, w.qlen, err = packQuery(w.qbuf[:], 0, name, qtype, r.udpSize); err != nil {
			// Every name we ask for was unpacked from a packet or built
			// from an address, so it should pack; if not, no server can
			// answer it.
			return sweep.StatusServFail, nil
		}
	}
	w.qtype = qtype
	start, first := r.next.Add(1)-1, 0
	if rs != nil {
		start, first = rs.start, rs.try
	}
	fail := sweep.StatusTimeout
	tries := r.retries + 1
	for try := first; try < tries; try++ {
		i := r.pick(start + uint64(try))
		resumed := rs != nil && rs.have && try == first
		if resumed {
			i = rs.srv
		}
		srv := r.servers[i]
		timeout := r.timeout
		if try < tries-1 {
			timeout = min(srv.rtt.rto(r.timeout)<<try, r.timeout)
		}
		var err error
		if resumed {
			err = r.eng.resumeUDP(ctx, i, rs.sock, rs.id, w, rs.sent, rs.deadline)
		} else {
			if try > 0 {
				r.stats.retries.Add(1)
			}
			if err := r.wait(ctx, srv, zone); err != nil {
				return 0, err
			}
			*queries++
			err = r.eng.exchangeUDP(ctx, i, w, timeout)
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			r.stats.timeouts.Add(1)
			r.failed(i)
			if w.answered != nil {
				w.answered.timedOut.Add(1)
			}
			r.win.timedOut(w.answered != nil && w.answered.answered.Load() > 0)
			continue
		}
		r.stats.answers.Add(1)
		srv.fails.Store(0)
		r.win.answered()
		if w.answered != nil {
			w.answered.answered.Add(1)
		}
		if w.cut || (!w.fast && w.msg.Truncated) {
			if err := r.wait(ctx, srv, zone); err != nil {
				return 0, err
			}
			*queries++
			r.stats.tcp.Add(1)
			r.stats.sent.Add(1)
			var p *parsed
			if w.qtype == dns.TypePTR {
				p = &w.p
			}
			m, err := r.exchangeTCP(ctx, srv.addr, w.q, w.question(), p)
			if err != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				if errors.Is(err, ErrSocket) {
					return 0, err // no query can be made here: not the server's fault
				}
				continue
			}
			w.msg, w.fast = m, m == nil
		}
		rcode := w.p.rcode
		if !w.fast {
			rcode = w.msg.Rcode
		}
		switch rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return 0, nil
		case dns.RcodeRefused:
			if fail == sweep.StatusTimeout {
				fail = sweep.StatusRefused
			}
		default:
			fail = sweep.StatusServFail
		}
	}
	return fail, nil
}

// pick returns the index of the server for round-robin position k: the
// first server from there that is not ejected, or k's own when all are.
func (r *Resolver) pick(k uint64) int {
	n := uint64(len(r.servers))
	if !r.anyEjected.Load() {
		return int(k % n)
	}
	now := time.Now().UnixNano()
	for j := range n {
		if i := (k + j) % n; r.servers[i].ejected.Load() <= now {
			return int(i)
		}
	}
	return int(k % n)
}

// failed records a try of server i that got no valid answer and ejects
// the server after ejectAfter in a row, when another server is usable.
func (r *Resolver) failed(i int) {
	srv := r.servers[i]
	if srv.fails.Add(1) < ejectAfter || len(r.servers) < 2 {
		return
	}
	now := time.Now().UnixNano()
	usable := 0
	for j, s := range r.servers {
		if j != i && s.ejected.Load() <= now {
			usable++
		}
	}
	if usable == 0 {
		return
	}
	srv.fails.Store(0)
	srv.ejected.Store(now + int64(ejectFor))
	r.anyEjected.Store(true)
	r.stats.ejected.Add(1)
	slog.Warn("resolve: DNS server ejected", "server", srv.addr.String(), "failed_tries", ejectAfter, "for", ejectFor)
}
