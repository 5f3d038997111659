package resolve

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// maxUDP is the read buffer for UDP answers: a server may send more than the
// EDNS0 size we advertised, and a cut-off packet would not unpack.
const maxUDP = 65535

var udpBufs = sync.Pool{New: func() any { b := make([]byte, maxUDP); return &b }}

// newQuery returns a recursive query for name and qtype, class IN, with a
// random ID and an EDNS0 OPT record advertising udpSize.
func newQuery(name string, qtype uint16, udpSize uint16) *dns.Msg {
	q := new(dns.Msg)
	q.Id = uint16(rand.Uint32())
	q.RecursionDesired = true
	q.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}
	q.SetEdns0(udpSize, false)
	return q
}

// exchange sends q to server once over UDP and, when the valid answer has
// the TC bit, once more over TCP to the same server. Each packet waits on the
// rate limiter first and has its own timeout. It returns the validated
// response and the number of queries sent (1 or 2). A try that got no valid
// answer returns an error wrapping errNoAnswer; a cancelled ctx returns
// ctx.Err(); a socket that cannot be opened returns an error wrapping
// ErrSocket; a name that cannot be packed returns errBadName.
func (r *Resolver) exchange(ctx context.Context, server netip.AddrPort, q *dns.Msg) (*dns.Msg, int, error) {
	wire, err := q.Pack()
	if err != nil {
		// Every name we ask for was unpacked from a packet or built from
		// an address, so it should pack; if not, no server can answer it.
		return nil, 0, fmt.Errorf("%w: pack query %s: %v", errBadName, q.Question[0].Name, err)
	}
	m, err := r.exchangeUDP(ctx, server, wire, q)
	if err != nil || !m.Truncated {
		return m, 1, err
	}
	m, err = r.exchangeTCP(ctx, server, wire, q)
	return m, 2, err
}

// wait blocks until the rate limiter allows one more query.
func (r *Resolver) wait(ctx context.Context) error {
	if r.limiter == nil {
		return ctx.Err()
	}
	if err := r.limiter.Wait(ctx); err != nil {
		// The limiter refuses at once when ctx's deadline comes before
		// the query's turn: no query can go out in time, so wait for the
		// deadline and report it like any cancellation.
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// exchangeUDP sends wire from a fresh connected UDP socket (the kernel then
// drops packets from any other source address or port) and reads until a
// valid response arrives or the try times out. Malformed and mismatched
// packets are discarded and never used.
func (r *Resolver) exchangeUDP(ctx context.Context, server netip.AddrPort, wire []byte, q *dns.Msg) (*dns.Msg, error) {
	if err := r.wait(ctx); err != nil {
		return nil, err
	}
	// Connecting a UDP socket sends nothing and never blocks, so it needs
	// no context; a pre-parsed address skips name resolution.
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, fmt.Errorf("%w to %s: %w", ErrSocket, server, err)
	}
	defer c.Close()
	stop := deadlineOnCancel(ctx, c, time.Now().Add(r.timeout))
	defer stop()

	if _, err := c.Write(wire); err != nil {
		return nil, r.tryFailed(ctx, server, "udp", err)
	}
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	buf := *bp
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, r.tryFailed(ctx, server, "udp", err)
		}
		if m, ok := validate(buf[:n], q, true); ok {
			return m, nil
		}
	}
}

// exchangeTCP repeats a truncated query over a new TCP connection to server.
func (r *Resolver) exchangeTCP(ctx context.Context, server netip.AddrPort, wire []byte, q *dns.Msg) (*dns.Msg, error) {
	if err := r.wait(ctx); err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(tctx, "tcp", server.String())
	if err != nil {
		return nil, r.tryFailed(ctx, server, "tcp", err)
	}
	defer c.Close()
	deadline, _ := tctx.Deadline()
	stop := deadlineOnCancel(ctx, c, deadline)
	defer stop()

	msg := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(msg, uint16(len(wire)))
	copy(msg[2:], wire)
	if _, err := c.Write(msg); err != nil {
		return nil, r.tryFailed(ctx, server, "tcp", err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, r.tryFailed(ctx, server, "tcp", err)
	}
	resp := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return nil, r.tryFailed(ctx, server, "tcp", err)
	}
	m, ok := validate(resp, q, false)
	if !ok {
		return nil, fmt.Errorf("%w from %s over tcp: mismatched or malformed response", errNoAnswer, server)
	}
	return m, nil
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

// validate unpacks wire and reports whether it is a response to q: same ID,
// a response to a standard query, and the same question (name compared
// case-insensitively, type and class). Two cases are let through with
// less: over UDP, a truncated response whose records did not unpack (it
// only sends us to TCP), and an error response (not NOERROR or NXDOMAIN) that carries no
// question and no answer, as some servers send with REFUSED or FORMERR (it
// only sends us to the next server).
func validate(wire []byte, q *dns.Msg, udp bool) (*dns.Msg, bool) {
	m := new(dns.Msg)
	err := m.Unpack(wire)
	if m.Id != q.Id || !m.Response || m.Opcode != dns.OpcodeQuery {
		return nil, false
	}
	if err != nil {
		if udp && m.Truncated && sameQuestion(m, q) {
			m.Answer, m.Ns, m.Extra = nil, nil, nil
			return m, true
		}
		return nil, false
	}
	if len(m.Question) == 0 && !m.Truncated && len(m.Answer) == 0 &&
		m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return m, true
	}
	if !sameQuestion(m, q) {
		return nil, false
	}
	return m, true
}

// sameQuestion reports whether m carries exactly q's question.
func sameQuestion(m, q *dns.Msg) bool {
	if len(m.Question) != 1 {
		return false
	}
	a, b := m.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
