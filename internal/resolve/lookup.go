package resolve

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// outcome is the result of looking up one name and type.
type outcome struct {
	status sweep.Status
	rrs    []dns.RR    // the records of the asked type on the CNAME chain (ok, slow path)
	ptrs   []sweep.PTR // the canonical PTRs (ok, fast path)
	ttl    uint32      // the SOA minimum (nxdomain, nodata), when present
	// queries is the number of queries the lookup sent.
	queries int
}

// maxHops is the longest CNAME chain followed, counting every CNAME in
// answers and across queries.
const maxHops = 8

// request is one lookup in progress: what is asked, the /16 rate-limit
// key, where the fast path left its first query, and the queries sent
// for it so far (query adds its own).
type request struct {
	name  string     // presentation form; empty when ip is valid and nothing was asked yet
	ip    netip.Addr // when valid, the address whose reverse name is asked (packed without miekg/dns)
	qtype uint16
	zone  uint32  // the /16 rate-limit key; 0: none
	from  *resume // where the fast path left the first query, or nil
	sent  int
}

// lookup resolves req's name and type, following the CNAME chain that
// starts there through the answer and, when an answer ends the chain at a
// name without records, by asking for that name (at most maxHops CNAMEs
// in all). Only records owned by a name on the chain are used. A loop or
// an overlong chain is servfail. The outcome counts every query sent for
// req, those before the call included.
func (r *Resolver) lookup(ctx context.Context, sl *slot, req request) (outcome, error) {
	var ch chain
	for {
		st, err := r.query(ctx, sl, &req)
		req.from = nil
		if err != nil {
			return outcome{queries: req.sent}, err
		}
		if st != 0 {
			return outcome{status: st, queries: req.sent}, nil
		}
		if sl.fast {
			out := answerOutcome(&sl.p)
			out.queries = req.sent
			return out, nil
		}
		if req.ip.IsValid() {
			if req.name == "" {
				req.name = sweep.ReverseName(req.ip)
			}
			req.ip = netip.Addr{}
		}
		m := sl.msg
		rrs, end, ok := ch.follow(m, req.name, req.qtype)
		switch {
		case !ok:
			return outcome{status: sweep.StatusServFail, queries: req.sent}, nil
		case m.Rcode == dns.RcodeNameError:
			return outcome{status: sweep.StatusNXDomain, ttl: negativeTTL(m), queries: req.sent}, nil
		case len(rrs) > 0:
			return outcome{status: sweep.StatusOK, rrs: rrs, queries: req.sent}, nil
		case end == req.name:
			return outcome{status: sweep.StatusNoData, ttl: negativeTTL(m), queries: req.sent}, nil
		}
		// The chain left this answer without records: ask for its end.
		req.name = end
	}
}

// chain is the CNAME chain of one lookup, across its answers.
type chain struct {
	seen map[string]bool // the names on it, lower-cased
	hops int
}

// follow reads the answer m to a query for name: it returns the records
// of qtype owned by names on the chain from name, and the chain's last
// name in m. ok is false for a loop or a chain over maxHops.
func (ch *chain) follow(m *dns.Msg, name string, qtype uint16) (rrs []dns.RR, end string, ok bool) {
	if ch.seen == nil {
		ch.seen = map[string]bool{strings.ToLower(name): true}
	}
	cur := name
	for {
		next := ""
		for _, rr := range m.Answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, cur) {
				continue
			}
			if h.Rrtype == qtype {
				rrs = append(rrs, rr)
			} else if c, isC := rr.(*dns.CNAME); isC && next == "" {
				next = c.Target
			}
		}
		if next == "" {
			return rrs, cur, true
		}
		ch.hops++
		key := strings.ToLower(next)
		if ch.hops > maxHops || ch.seen[key] {
			return nil, "", false
		}
		ch.seen[key] = true
		cur = next
	}
}

// answerOutcome turns a fast-parsed answer into an outcome.
func answerOutcome(a *dnswire.Answer) outcome {
	switch {
	case a.Rcode() == dns.RcodeNameError:
		return outcome{status: sweep.StatusNXDomain, ttl: a.NegTTL()}
	case a.Len() == 0:
		return outcome{status: sweep.StatusNoData, ttl: a.NegTTL()}
	}
	out := outcome{status: sweep.StatusOK, ptrs: make([]sweep.PTR, a.Len())}
	for i := range out.ptrs {
		out.ptrs[i] = sweep.PTR{Name: string(a.Name(i)), TTL: a.TTL(i)}
	}
	return out
}

// query asks the servers for req, starting at the next server in
// round-robin order (skipping ejected ones) and moving to the next one
// after each failed try. On the first valid NOERROR or NXDOMAIN response it
// returns status 0 with the answer in sl (sl.fast and sl.p, or sl.msg).
// When every try failed it returns servfail if any server answered with a
// failing rcode, else refused if any refused, else timeout. With req.from
// it goes on where the fast path left the query: from its round-robin
// start and try, first with the answer it handed over (from.have).
func (r *Resolver) query(ctx context.Context, sl *slot, req *request) (sweep.Status, error) {
	if !r.pack(sl, req) {
		// Every name we ask for was unpacked from a packet or built from
		// an address, so it should pack; if not, no server can answer it.
		return sweep.StatusServFail, nil
	}
	rs := req.from
	start, first := r.next.Add(1)-1, 0
	if rs != nil {
		start, first = rs.start, rs.try
	}
	fail := sweep.StatusTimeout
	for n := first; n <= r.retries; n++ {
		i := r.pick(start + uint64(n))
		resumed := rs != nil && rs.have && n == first
		if resumed {
			i = rs.at.srv
		}
		ok, err := r.try(ctx, sl, req, i, n, resumed)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		switch sl.rcode() {
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

// pack packs req's query into sl; false means the name does not pack.
func (r *Resolver) pack(sl *slot, req *request) bool {
	sl.qtype = req.qtype
	if req.ip.IsValid() {
		sl.q, sl.qlen = dnswire.PackPTRQuery(sl.qbuf[:], 0, req.ip, r.udpSize)
		return true
	}
	var err error
	sl.q, sl.qlen, err = dnswire.PackQuery(sl.qbuf[:], 0, req.name, req.qtype, r.udpSize)
	return err == nil
}

// try makes try n of req's query on server i (resumed: the fast path's
// try, whose answer is in sl) and reports whether a valid answer is in sl.
// An error (ctx's, or no socket) ends the lookup.
func (r *Resolver) try(ctx context.Context, sl *slot, req *request, i, n int, resumed bool) (bool, error) {
	srv := r.servers[i]
	var err error
	if resumed {
		err = r.eng.resumeUDP(ctx, sl, req.from.at)
	} else {
		if n > 0 {
			r.stats.retries.Add(1)
		}
		if err := r.wait(ctx, srv, req.zone); err != nil {
			return false, err
		}
		req.sent++
		timeout := r.timeout
		if n < r.retries {
			timeout = min(srv.rtt.rto(r.timeout)<<n, r.timeout)
		}
		err = r.eng.exchangeUDP(ctx, i, sl, timeout)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		r.stats.timeouts.Add(1)
		r.failed(i)
		if sl.block != nil {
			sl.block.timedOut.Add(1)
		}
		r.win.timedOut(sl.block != nil && sl.block.answered.Load() > 0)
		return false, nil
	}
	r.stats.answers.Add(1)
	srv.fails.Store(0)
	r.win.answered()
	if sl.block != nil {
		sl.block.answered.Add(1)
	}
	if sl.cut || (!sl.fast && sl.msg.Truncated) {
		return r.repeatTCP(ctx, sl, req, srv)
	}
	return true, nil
}

// repeatTCP repeats sl's truncated query to srv over TCP and reports
// whether a valid answer is in sl; only ctx's end or a missing socket is
// an error.
func (r *Resolver) repeatTCP(ctx context.Context, sl *slot, req *request, srv *server) (bool, error) {
	if err := r.wait(ctx, srv, req.zone); err != nil {
		return false, err
	}
	req.sent++
	r.stats.tcp.Add(1)
	r.stats.sent.Add(1)
	var p *dnswire.Answer
	if sl.qtype == dns.TypePTR {
		p = &sl.p
	}
	m, err := r.exchangeTCP(ctx, srv.addr, sl.q, sl.question(), p)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if errors.Is(err, ErrSocket) {
			return false, err // no query can be made here: not the server's fault
		}
		return false, nil
	}
	sl.msg, sl.fast = m, m == nil
	return true, nil
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
