package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/time/rate"
)

// The engine multiplexes the queries of every Resolve call of a Resolver
// over a few long-lived UDP sockets per server. Each socket is connected
// to its server, so the kernel drops packets from any other address or
// port; one reader goroutine per socket reads answers in batches
// (recvmmsg through x/net/ipv4 ReadBatch), matches them to the waiting
// query by ID and checks the question before handing the packet over:
// a fast-path query (fast.go) is completed inline by the reader, which
// then sends queued queries into the freed window slots; a slow-path one
// (a goroutine with a slot: probes, retries, CNAME chains, TCP, forward
// confirmation) is woken. Everything else is dropped and counted. One
// timer goroutine expires the fast path's queries.
//
// Lifecycle: the sockets are opened by the first Resolve call that starts
// while none is running and closed, their readers and the timer waited
// for, when the last running Resolve call returns. A Resolver therefore
// needs no Close.

const (
	// DefaultSockets is the number of UDP sockets per server.
	DefaultSockets = 2
	readBatch      = 16
	// readBufLen is the largest UDP answer read in full; a longer one is
	// treated as truncated and repeated over TCP.
	readBufLen = 4096
)

// server is one resolver with its limits and health.
type server struct {
	addr    netip.AddrPort
	limiter *rate.Limiter // nil: unlimited
	rtt     rttEstimator
	fails   atomic.Int64 // consecutive tries without a valid answer
	ejected atomic.Int64 // unix nanoseconds until which it is skipped
	next    atomic.Uint32
}

// Ejection: a server that fails this many tries in a row while another
// server is usable is skipped for ejectFor.
const (
	ejectAfter = 200
	ejectFor   = 10 * time.Second
)

// udpSock is one connected UDP socket and the queries waiting on it:
// those of the slow path (pending, a goroutine waiting on its slot) and
// those of the fast path (fast, indexed by ID, and live, for the timer's
// scans). An ID is in at most one of them.
type udpSock struct {
	conn    *net.UDPConn
	pc      *ipv4.PacketConn
	srv     int // server index
	mu      sync.Mutex
	pending map[uint16]*slot
	fast    []*fastQuery // by ID; len 65536
	live    []*fastQuery // the non-nil entries of fast, in any order
}

// engine owns the sockets and the timer of the fast path; see above.
type engine struct {
	r     *Resolver
	mu    sync.Mutex
	refs  int
	socks [][]*udpSock // by server index
	all   []*udpSock
	stop  chan struct{} // closed to stop the timer
	wg    sync.WaitGroup

	// The send queue; see fast.go.
	qmu   sync.Mutex
	queue []*fastQuery // waiting from qhead on
	qhead int
	qhigh int
	space chan struct{} // closed when the queue is low again; nil: no waiter
}

// acquire opens the sockets if no Resolve call is running.
func (e *engine) acquire() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.refs > 0 {
		e.refs++
		return nil
	}
	socks := make([][]*udpSock, len(e.r.servers))
	for i, s := range e.r.servers {
		for range e.r.sockets {
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.addr))
			if err != nil {
				closeAll(socks)
				return fmt.Errorf("%w to %s: %w", ErrSocket, s.addr, err)
			}
			_ = c.SetReadBuffer(1 << 20)
			us := &udpSock{conn: c, srv: i, pending: make(map[uint16]*slot, 16), fast: make([]*fastQuery, 1<<16)}
			if s.addr.Addr().Unmap().Is4() {
				us.pc = ipv4.NewPacketConn(c)
			}
			socks[i] = append(socks[i], us)
		}
	}
	e.socks = socks
	e.all = e.all[:0]
	for _, ss := range socks {
		for _, s := range ss {
			e.all = append(e.all, s)
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				e.read(s)
			}()
		}
	}
	e.stop = make(chan struct{})
	e.qhigh = max(2*e.r.concurrency, 2*sendBatch)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.tick(e.stop)
	}()
	e.refs = 1
	return nil
}

// release closes the sockets when the last Resolve call returns.
func (e *engine) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.refs--; e.refs > 0 {
		return
	}
	closeAll(e.socks)
	close(e.stop)
	e.wg.Wait()
	e.socks, e.all = nil, nil
	e.r.tcp.closeAll()
}

func closeAll(socks [][]*udpSock) {
	for _, ss := range socks {
		for _, s := range ss {
			s.conn.Close()
		}
	}
}

// sock returns a socket of server i; e.mu need not be held while a
// Resolve call holds a reference.
func (e *engine) sock(i int) *udpSock {
	ss := e.socks[i]
	return ss[int(e.r.servers[i].next.Add(1))%len(ss)]
}

// read is a socket's reader loop; it ends when the socket is closed.
func (e *engine) read(s *udpSock) {
	st := &e.r.stats
	var p parsed
	sb := newSendBuf()
	if s.pc == nil { // IPv6: one packet per read
		buf := make([]byte, readBufLen)
		for {
			n, err := s.conn.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // ICMP errors of a connected socket: tries time out
			}
			if fq := s.deliver(buf[:n], st); fq != nil {
				e.completeFast(fq, buf[:n], n == len(buf), &p)
			}
			e.pump(sb)
		}
	}
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, readBufLen)}
	}
	for {
		n, err := s.pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if n <= 0 {
				continue
			}
		}
		for i := range n {
			m := &msgs[i]
			pkt := m.Buffers[0][:m.N]
			if fq := s.deliver(pkt, st); fq != nil {
				e.completeFast(fq, pkt, m.N == readBufLen, &p)
			}
		}
		e.pump(sb)
	}
}

// deliver hands pkt to the query waiting for its ID when it is a response
// to that query's question (or an error response without a question):
// a slow-path query is woken with the packet in its slot; a fast-path
// query is removed from the socket and returned for the caller to
// complete. Anything else is dropped and counted.
func (s *udpSock) deliver(pkt []byte, st *counters) *fastQuery {
	if len(pkt) < headerLen {
		st.invalid.Add(1)
		return nil
	}
	id := pktID(pkt)
	flags := pktFlags(pkt)
	cut := len(pkt) == readBufLen
	s.mu.Lock()
	if fq := s.fast[id]; fq != nil {
		if flags&flagQR == 0 || flags&flagOpcode != 0 || !(matchQuestion(pkt, fq.question()) || errorWithoutQuestion(pkt)) {
			s.mu.Unlock()
			st.invalid.Add(1)
			return nil
		}
		s.removeFast(fq)
		s.mu.Unlock()
		return fq
	}
	w := s.pending[id]
	if w == nil {
		s.mu.Unlock()
		st.unmatched.Add(1)
		return nil
	}
	if flags&flagQR == 0 || flags&flagOpcode != 0 || !(matchQuestion(pkt, w.question()) || errorWithoutQuestion(pkt)) {
		s.mu.Unlock()
		st.invalid.Add(1)
		return nil
	}
	delete(s.pending, id)
	s.mu.Unlock()
	w.n = copy(w.rbuf[:], pkt)
	w.cut = cut
	w.ch <- struct{}{}
	return nil
}

// freeID returns a random ID used by no query on s. s.mu is held.
func (s *udpSock) freeID() uint16 {
	for {
		id := uint16(rand.Uint32())
		if s.fast[id] == nil && (len(s.pending) == 0 || s.pending[id] == nil) {
			return id
		}
	}
}

// errorWithoutQuestion reports a response with neither question nor
// answer and a failing rcode, as some servers send with REFUSED or
// FORMERR: it only sends the query on to the next server.
func errorWithoutQuestion(pkt []byte) bool {
	rc := pktRcode(pkt)
	return pkt[4] == 0 && pkt[5] == 0 && pkt[6] == 0 && pkt[7] == 0 &&
		pktFlags(pkt)&flagTC == 0 && rc != 0 && rc != 3
}

// slot is the per-address state of one worker goroutine: its query and
// answer buffers, its timer and the fast parser's output. It is used by
// one goroutine at a time; the reader writes rbuf only between
// registering and the send on ch.
type slot struct {
	ch    chan struct{}
	qbuf  [maxQueryLen]byte
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
	p    parsed
	msg  *dns.Msg
	// answered counts the answers of the address's /24 block; a timeout
	// in a block that answers is congestion, in one that never does it is
	// a silent server. nil for forward lookups.
	answered *block
}

func newSlot() *slot {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &slot{ch: make(chan struct{}, 1), timer: t}
}

// question returns the question section of the packed query.
func (w *slot) question() []byte { return w.q[headerLen : headerLen+w.qlen] }

// setID writes a fresh random ID into the packed query.
func (w *slot) setID(id uint16) { w.q[0], w.q[1] = byte(id>>8), byte(id) }

// errTry is the outcome of a UDP try that got no valid answer in time.
var errTry = fmt.Errorf("%w over udp", errNoAnswer)

// exchangeUDP sends the slot's packed query to server i on a fresh ID and
// waits until timeout for a response that passed deliver's checks and
// w.accept's. A packet that fails accept is counted and the wait goes on. It
// returns the answer (in w.rbuf[:w.n]), errTry on timeout, or ctx.Err().
func (e *engine) exchangeUDP(ctx context.Context, i int, w *slot, timeout time.Duration) error {
	s := e.sock(i)
	s.mu.Lock()
	id := s.freeID()
	w.setID(id)
	s.pending[id] = w
	s.mu.Unlock()
	sent := time.Now()
	if _, err := s.conn.Write(w.q); err != nil {
		s.unregister(id, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errTry
	}
	e.r.stats.sent.Add(1)
	return e.await(ctx, i, s, id, w, sent, sent.Add(timeout))
}

// resumeUDP goes on with a fast-path try on socket s under id whose
// answer, now in w.rbuf, the fast parser did not take: it is accepted or
// counted invalid, and then the wait goes on until deadline as in
// exchangeUDP.
func (e *engine) resumeUDP(ctx context.Context, i int, s *udpSock, id uint16, w *slot, sent, deadline time.Time) error {
	w.setID(id)
	if w.accept() {
		e.r.servers[i].rtt.observe(time.Since(sent))
		return nil
	}
	e.r.stats.invalid.Add(1)
	s.mu.Lock()
	if s.fast[id] != nil || s.pending[id] != nil || !time.Now().Before(deadline) {
		s.mu.Unlock() // the ID went to another query meanwhile
		return errTry
	}
	s.pending[id] = w
	s.mu.Unlock()
	return e.await(ctx, i, s, id, w, sent, deadline)
}

// await waits for the answer to w's query, registered on s under id and
// sent at sent, until deadline; see exchangeUDP.
func (e *engine) await(ctx context.Context, i int, s *udpSock, id uint16, w *slot, sent, deadline time.Time) error {
	w.timer.Reset(time.Until(deadline))
	defer w.timer.Stop()
	expired := false
	for {
		select {
		case <-w.ch:
		case <-w.timer.C:
			if !s.unregister(id, w) {
				<-w.ch // the reader claimed it just now
				expired = true
				break
			}
			return errTry
		case <-ctx.Done():
			if !s.unregister(id, w) {
				<-w.ch
			}
			return ctx.Err()
		}
		if w.accept() {
			e.r.servers[i].rtt.observe(time.Since(sent))
			return nil
		}
		e.r.stats.invalid.Add(1)
		if expired {
			return errTry
		}
		s.mu.Lock()
		if s.fast[id] != nil || s.pending[id] != nil {
			s.mu.Unlock()
			return errTry // the ID went to another query meanwhile
		}
		s.pending[id] = w // wait on for a valid one
		s.mu.Unlock()
	}
}

// unregister removes w's pending ID and reports whether it was still
// pending (false: the reader has claimed it and will signal w.ch).
func (s *udpSock) unregister(id uint16, w *slot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[id] == w {
		delete(s.pending, id)
		return true
	}
	return false
}
