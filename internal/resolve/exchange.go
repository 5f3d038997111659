package resolve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// wait blocks until every rate limit allows one more query to srv: the
// Resolver's, the server's and, for a reverse query, its /16 zone's.
func (r *Resolver) wait(ctx context.Context, srv *server, zone uint32) error {
	for _, l := range [...]*rate.Limiter{r.limiter, srv.limiter, r.zones.get(zone)} {
		if l == nil {
			continue
		}
		if err := l.Wait(ctx); err != nil {
			// The limiter refuses at once when ctx's deadline comes
			// before the query's turn: no query can go out in time, so
			// wait for the deadline and report it like any cancellation.
			<-ctx.Done()
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// limited reports whether any rate limit is set.
func (r *Resolver) limited() bool {
	if r.limiter != nil || r.zones != nil {
		return true
	}
	for _, s := range r.servers {
		if s.limiter != nil {
			return true
		}
	}
	return false
}

// accept checks the answer the reader handed to w and prepares it for
// the caller: a cut-off packet is accepted (it sends the query to TCP), a
// PTR answer the fast parser understands sets w.fast, anything else must
// pass validate and sets w.msg.
func (w *slot) accept() bool {
	pkt := w.rbuf[:w.n]
	w.fast, w.msg = false, nil
	if w.cut {
		return true
	}
	if w.qtype == dns.TypePTR && parseFast(pkt, w.question(), &w.p) {
		w.fast = true
		return true
	}
	m, ok := validate(pkt, w.question(), true)
	w.msg = m
	return ok
}

// exchangeTCP repeats a truncated query (wire, whose question section is
// question) over TCP to server, on a pooled connection when one is idle
// (a pooled connection the server has closed meanwhile is replaced by a new
// one). With p (a PTR query), an answer the fast parser takes is parsed
// into p and the returned message is nil.
func (r *Resolver) exchangeTCP(ctx context.Context, server netip.AddrPort, wire, question []byte, p *parsed) (*dns.Msg, error) {
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var resp []byte
	for {
		c := r.tcp.get(server)
		pooled := c != nil
		if c == nil {
			var d net.Dialer
			var err error
			if c, err = d.DialContext(tctx, "tcp", server.String()); err != nil {
				if localExhaustion(err) {
					return nil, fmt.Errorf("%w: tcp to %s: %w", ErrSocket, server, err)
				}
				return nil, r.tryFailed(ctx, server, "tcp", err)
			}
		}
		var err error
		resp, err = tcpRoundTrip(tctx, c, wire)
		if err == nil && len(resp) >= headerLen && pktID(resp) == pktID(wire) {
			r.tcp.put(server, c)
			break
		}
		c.Close()
		if err == nil {
			return nil, fmt.Errorf("%w from %s over tcp: mismatched response", errNoAnswer, server)
		}
		if pooled && tctx.Err() == nil {
			continue // the server closed the idle connection: dial anew
		}
		return nil, r.tryFailed(ctx, server, "tcp", err)
	}
	if p != nil && parseFast(resp, question, p) {
		return nil, nil
	}
	m, ok := validate(resp, question, false)
	if !ok {
		return nil, fmt.Errorf("%w from %s over tcp: mismatched or malformed response", errNoAnswer, server)
	}
	return m, nil
}

// localExhaustion reports whether err means this machine is out of sockets
// or memory for them (EMFILE, ENFILE, ENOBUFS, ENOMEM): no query can be
// made, which is an error of the worker, not an outcome of the address.
func localExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// tcpRoundTrip writes one length-prefixed DNS message on c and reads one
// back, within ctx's deadline (and at once when ctx is cancelled).
func tcpRoundTrip(ctx context.Context, c net.Conn, wire []byte) ([]byte, error) {
	deadline, _ := ctx.Deadline()
	stop := deadlineOnCancel(ctx, c, deadline)
	defer stop()
	msg := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(msg, uint16(len(wire)))
	copy(msg[2:], wire)
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	resp := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// tryFailed turns a network error of one try into ctx.Err() when the caller
// gave up, or into an errNoAnswer try failure.
func (r *Resolver) tryFailed(ctx context.Context, server netip.AddrPort, proto string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w from %s over %s: %v", errNoAnswer, server, proto, err)
}

// deadlineOnCancel sets c's deadline and moves it to now when ctx is
// cancelled, so a blocked read returns at once. The returned func stops the
// watch.
func deadlineOnCancel(ctx context.Context, c net.Conn, deadline time.Time) (stop func() bool) {
	_ = c.SetDeadline(deadline)
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
}

// validate unpacks wire (whose ID is already matched) and reports whether
// it is a response to the query with the question section question: a
// response to a standard query with the same question (name compared
// case-insensitively, type and class). Two cases are let through with
// less: over UDP, a truncated response whose records did not unpack (it
// only sends us to TCP), and an error response (not NOERROR or NXDOMAIN)
// that carries no question and no answer, as some servers send with
// REFUSED or FORMERR (it only sends us to the next server).
func validate(wire []byte, question []byte, udp bool) (*dns.Msg, bool) {
	m := new(dns.Msg)
	err := m.Unpack(wire)
	if !m.Response || m.Opcode != dns.OpcodeQuery {
		return nil, false
	}
	if err != nil {
		if udp && m.Truncated && matchQuestion(wire, question) {
			m.Answer, m.Ns, m.Extra = nil, nil, nil
			return m, true
		}
		return nil, false
	}
	if len(m.Question) == 0 && !m.Truncated && len(m.Answer) == 0 &&
		m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return m, true
	}
	if len(m.Question) != 1 || !matchQuestion(wire, question) {
		return nil, false
	}
	return m, true
}
