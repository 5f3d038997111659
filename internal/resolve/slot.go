package resolve

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
)

// slot is the per-address state of one worker goroutine: its query and
// answer buffers, its timer and the fast parser's output. It is used by
// one goroutine at a time; the reader writes rbuf only between
// registering and the send on ch.
type slot struct {
	ch    chan struct{}
	qbuf  [dnswire.MaxQueryLen]byte
	q     []byte // the packed query
	qlen  int    // length of its question section
	rbuf  [readBufLen]byte
	n     int
	cut   bool // the answer filled rbuf: it may be cut off
	timer *time.Timer
	qtype uint16
	// The accepted answer: parsed by the fast parser (fast, p) or by
	// miekg/dns (msg); cut means it was too long to read and goes to TCP.
	fast bool
	p    dnswire.Answer
	msg  *dns.Msg
	// block counts the answers and timeouts of the address's /24 block; a
	// timeout in a block that answers is congestion, in one that never
	// does it is a silent server. nil for forward lookups and /16 probes.
	block *block
}

func newSlot() *slot {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &slot{ch: make(chan struct{}, 1), timer: t}
}

// question returns the question section of the packed query.
func (sl *slot) question() []byte { return sl.q[dnswire.HeaderLen : dnswire.HeaderLen+sl.qlen] }

// setID writes a fresh random ID into the packed query.
func (sl *slot) setID(id uint16) { dnswire.SetID(sl.q, id) }

// rcode returns the rcode of the accepted answer.
func (sl *slot) rcode() int {
	if sl.fast {
		return sl.p.Rcode()
	}
	return sl.msg.Rcode
}

// accept checks the answer the reader handed to sl and prepares it for
// the caller: a cut-off packet is accepted (it sends the query to TCP), a
// PTR answer the fast parser understands sets sl.fast, anything else must
// pass validate and sets sl.msg.
func (sl *slot) accept() bool {
	pkt := sl.rbuf[:sl.n]
	sl.fast, sl.msg = false, nil
	if sl.cut {
		return true
	}
	if sl.qtype == dns.TypePTR && sl.p.Parse(pkt, sl.question()) {
		sl.fast = true
		return true
	}
	m, ok := validate(pkt, sl.question(), true)
	sl.msg = m
	return ok
}

// errTry is the outcome of a UDP try that got no valid answer in time.
var errTry = fmt.Errorf("%w over udp", errNoAnswer)

// flight is a UDP query in flight: the server it went to, the socket and
// ID it was sent on, when it was sent and how long its try waits.
type flight struct {
	srv      int
	sock     *udpSock
	id       uint16
	sent     time.Time
	deadline time.Time
}

// exchangeUDP sends the slot's packed query to server i on a fresh ID and
// waits until timeout for a response that passed deliver's checks and
// sl.accept's. A packet that fails accept is counted and the wait goes on.
// It returns the answer (in sl.rbuf[:sl.n]), errTry on timeout, or
// ctx.Err().
func (e *engine) exchangeUDP(ctx context.Context, i int, sl *slot, timeout time.Duration) error {
	sock := e.sock(i)
	sock.mu.Lock()
	id := sock.freeID()
	sl.setID(id)
	sock.pending[id] = sl
	sock.mu.Unlock()
	sent := time.Now()
	if _, err := sock.conn.Write(sl.q); err != nil {
		sock.unregister(id, sl)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errTry
	}
	e.r.stats.sent.Add(1)
	return e.await(ctx, sl, flight{srv: i, sock: sock, id: id, sent: sent, deadline: sent.Add(timeout)})
}

// resumeUDP goes on with the fast path's try f whose answer, now in
// sl.rbuf, the fast parser did not take: it is accepted or counted
// invalid, and then the wait goes on until f's deadline as in exchangeUDP.
func (e *engine) resumeUDP(ctx context.Context, sl *slot, f flight) error {
	sl.setID(f.id)
	if sl.accept() {
		e.r.servers[f.srv].rtt.observe(time.Since(f.sent))
		return nil
	}
	e.r.stats.invalid.Add(1)
	f.sock.mu.Lock()
	if f.sock.fast[f.id] != nil || f.sock.pending[f.id] != nil || !time.Now().Before(f.deadline) {
		f.sock.mu.Unlock() // the ID went to another query meanwhile
		return errTry
	}
	f.sock.pending[f.id] = sl
	f.sock.mu.Unlock()
	return e.await(ctx, sl, f)
}

// await waits for the answer to sl's query f, registered on its socket,
// until its deadline; see exchangeUDP.
func (e *engine) await(ctx context.Context, sl *slot, f flight) error {
	sock, id := f.sock, f.id
	sl.timer.Reset(time.Until(f.deadline))
	defer sl.timer.Stop()
	expired := false
	for {
		select {
		case <-sl.ch:
		case <-sl.timer.C:
			if !sock.unregister(id, sl) {
				<-sl.ch // the reader claimed it just now
				expired = true
				break
			}
			return errTry
		case <-ctx.Done():
			if !sock.unregister(id, sl) {
				<-sl.ch
			}
			return ctx.Err()
		}
		if sl.accept() {
			e.r.servers[f.srv].rtt.observe(time.Since(f.sent))
			return nil
		}
		e.r.stats.invalid.Add(1)
		if expired {
			return errTry
		}
		sock.mu.Lock()
		if sock.fast[id] != nil || sock.pending[id] != nil {
			sock.mu.Unlock()
			return errTry // the ID went to another query meanwhile
		}
		sock.pending[id] = sl // wait on for a valid one
		sock.mu.Unlock()
	}
}

// unregister removes sl's pending ID and reports whether it was still
// pending (false: the reader has claimed it and will signal sl.ch).
func (sock *udpSock) unregister(id uint16, sl *slot) bool {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.pending[id] == sl {
		delete(sock.pending, id)
		return true
	}
	return false
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
		if udp && m.Truncated && dnswire.MatchQuestion(wire, question) {
			m.Answer, m.Ns, m.Extra = nil, nil, nil
			return m, true
		}
		return nil, false
	}
	if len(m.Question) == 0 && !m.Truncated && len(m.Answer) == 0 &&
		m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return m, true
	}
	if len(m.Question) != 1 || !dnswire.MatchQuestion(wire, question) {
		return nil, false
	}
	return m, true
}
