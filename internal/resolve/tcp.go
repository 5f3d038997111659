package resolve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
)

// tcpIdleMax is the number of idle TCP connections kept per server.
const tcpIdleMax = 4

// tcpPool keeps a few idle TCP connections per server for the answers that
// arrive truncated over UDP, so each does not pay a new handshake: a DNS
// TCP connection carries any number of queries, one after the other
// (RFC 7766). A connection goes back to the pool only after a complete,
// matching exchange, so nothing stale waits on it. The zero value is
// ready; it is safe for concurrent use.
type tcpPool struct {
	mu   sync.Mutex
	idle map[netip.AddrPort][]net.Conn
}

// get returns an idle connection to server, or nil.
func (p *tcpPool) get(server netip.AddrPort) net.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[server]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	p.idle[server] = cs[:len(cs)-1]
	return c
}

// put returns a healthy connection to the pool, or closes it when the pool
// is full.
func (p *tcpPool) put(server netip.AddrPort, c net.Conn) {
	_ = c.SetDeadline(time.Time{})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = make(map[netip.AddrPort][]net.Conn)
	}
	if len(p.idle[server]) >= tcpIdleMax {
		c.Close()
		return
	}
	p.idle[server] = append(p.idle[server], c)
}

// closeAll closes every idle connection.
func (p *tcpPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, cs := range p.idle {
		for _, c := range cs {
			c.Close()
		}
		delete(p.idle, s)
	}
}

// exchangeTCP repeats a truncated query (wire, whose question section is
// question) over TCP to server, on a pooled connection when one is idle
// (a pooled connection the server has closed meanwhile is replaced by a new
// one). With p (a PTR query), an answer the fast parser takes is parsed
// into p and the returned message is nil.
func (r *Resolver) exchangeTCP(ctx context.Context, server netip.AddrPort, wire, question []byte, p *dnswire.Answer) (*dns.Msg, error) {
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
		if err == nil && len(resp) >= dnswire.HeaderLen && dnswire.ID(resp) == dnswire.ID(wire) {
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
	if p != nil && p.Parse(resp, question) {
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
