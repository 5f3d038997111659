package resolve

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
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
	readBatch = 16
	// readBufLen is the largest UDP answer read in full; a longer one is
	// treated as truncated and repeated over TCP.
	readBufLen = 4096
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
	gso     atomic.Bool  // sends may carry several queries (UDP_SEGMENT)
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

	// The send queue; see sendq.go.
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
				us.gso.Store(e.r.gso)
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
	var p dnswire.Answer
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
func (sock *udpSock) deliver(pkt []byte, st *counters) *fastQuery {
	if len(pkt) < dnswire.HeaderLen {
		st.invalid.Add(1)
		return nil
	}
	id := dnswire.ID(pkt)
	cut := len(pkt) == readBufLen
	sock.mu.Lock()
	if fq := sock.fast[id]; fq != nil {
		if !dnswire.Responds(pkt, fq.question()) {
			sock.mu.Unlock()
			st.invalid.Add(1)
			return nil
		}
		sock.removeFast(fq)
		sock.mu.Unlock()
		return fq
	}
	sl := sock.pending[id]
	if sl == nil {
		sock.mu.Unlock()
		st.unmatched.Add(1)
		return nil
	}
	if !dnswire.Responds(pkt, sl.question()) {
		sock.mu.Unlock()
		st.invalid.Add(1)
		return nil
	}
	delete(sock.pending, id)
	sock.mu.Unlock()
	sl.n = copy(sl.rbuf[:], pkt)
	sl.cut = cut
	sl.ch <- struct{}{}
	return nil
}

// freeID returns a random ID used by no query on sock. sock.mu is held.
func (sock *udpSock) freeID() uint16 {
	for {
		id := uint16(rand.Uint32())
		if sock.fast[id] == nil && (len(sock.pending) == 0 || sock.pending[id] == nil) {
			return id
		}
	}
}

// removeFast takes fq off sock. sock.mu is held.
func (sock *udpSock) removeFast(fq *fastQuery) {
	sock.fast[fq.id] = nil
	last := len(sock.live) - 1
	moved := sock.live[last]
	sock.live[fq.pos] = moved
	moved.pos = fq.pos
	sock.live[last] = nil
	sock.live = sock.live[:last]
}

// expire takes the queries past their deadline or whose run ended off s
// and appends them to out.
func (sock *udpSock) expire(now time.Time, out []*fastQuery) []*fastQuery {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	for i := 0; i < len(sock.live); {
		fq := sock.live[i]
		if now.Before(fq.deadline) && fq.run.ctx.Err() == nil {
			i++
			continue
		}
		sock.removeFast(fq)
		out = append(out, fq)
	}
	return out
}
