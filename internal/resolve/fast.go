package resolve

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// The fast path resolves the addresses of a chunk without a goroutine,
// channel or timer per query. The Resolve call's own goroutine (the
// feeder) takes a window slot, packs the address's PTR query into a
// fastQuery, registers it on a server socket in a table indexed by ID and
// writes it. The socket's reader matches the answer by ID and question
// (deliver), parses it with the fast parser and, for a plain PTR,
// NXDOMAIN or NODATA answer, completes the address inline: stats, window,
// emit. One timer goroutine per engine scans the sockets' live queries
// every tickEvery and expires those past their deadline or whose Resolve
// call ended.
//
// Everything else leaves the fast path for the slow one, a goroutine
// with a slot that goes on where the fast path stopped (see resume): an
// answer the fast parser does not take (TC or a cut-off packet, a CNAME,
// another rcode, EDNS options; miekg/dns decides), a try that timed out
// (the retry goes to the next server), and forward confirmation (the
// whole chunk takes the slow path). Those goroutines hold the address's
// window slot, so their number stays bounded by the window.

// tickEvery is the period of the timer's scans: the granularity of
// retransmit timeouts and of cancellation of queries in flight.
const tickEvery = 10 * time.Millisecond

// sendBatch is the most queries the feeder writes at once (sendmmsg):
// those it can take window slots for without waiting.
const sendBatch = 16

// maxPTRQueryLen is the longest packed PTR query of an IPv4 address.
const maxPTRQueryLen = headerLen + 4*4 + len("\x07in-addr\x04arpa\x00") + 4 + optLen

// fastRun is one chunk's fast-path run: its context, the goroutines and
// queries it waits for and its first error.
type fastRun struct {
	ur     *unitRun
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per address in flight
	sem    chan struct{}  // bounds the addresses of silent blocks (no window slot)
	once   sync.Once
	err    error
	sb     sendBuf      // the feeder's
	queued []*fastQuery // prepared for the engine's queue
}

// sendBuf is one goroutine's batch of queries to write: the queries and
// the copies of their packets it writes (a written fastQuery may complete
// and be reused before the write returns).
type sendBuf struct {
	batch []*fastQuery
	wbufs [sendBatch][maxPTRQueryLen]byte
	msgs  [sendBatch]ipv4.Message
	bufs  [sendBatch][1][]byte
}

func newSendBuf() *sendBuf {
	sb := new(sendBuf)
	sb.init()
	return sb
}

func (sb *sendBuf) init() {
	for j := range sb.msgs {
		sb.msgs[j].Buffers = sb.bufs[j][:]
	}
}

// fail records the run's first error and stops it.
func (fr *fastRun) fail(err error) {
	fr.once.Do(func() { fr.err = err })
	fr.cancel()
}

// fastQuery is one address's query in flight on the fast path. It is
// owned by the feeder until registered on a socket, then by whoever
// removes it from the socket's table under the socket's lock: the reader
// (an answer) or the timer (expiry, cancellation).
type fastQuery struct {
	run      *fastRun
	blk      *block
	ip       uint32
	silent   bool // holds a run.sem token instead of a window slot
	q        [maxPTRQueryLen]byte
	qn, qlen int // lengths of the packed query and its question section
	start    uint64
	srv      int
	sock     *udpSock
	id       uint16
	pos      int // index in sock.live
	rto      time.Duration
	sent     time.Time
	deadline time.Time
}

var fastQueries = sync.Pool{New: func() any { return new(fastQuery) }}

// question returns the question section of the packed query.
func (fq *fastQuery) question() []byte { return fq.q[headerLen : headerLen+fq.qlen] }

// resume is where the fast path left a query for the slow path: the
// round-robin start, the try to go on with and the queries sent so far.
// With have, the answer to try (sent on sock under id, to server srv)
// is in the slot's rbuf and is looked at first.
type resume struct {
	start    uint64
	try      int
	queries  int
	have     bool
	srv      int
	sock     *udpSock
	id       uint16
	sent     time.Time
	deadline time.Time
}

// fastChunk resolves the n addresses base+order(i) of a chunk on the fast
// path; see chunk.
func (ur *unitRun) fastChunk(ctx context.Context, base uint32, n int, order func(int) uint32, blocks []block, bs int, done []atomic.Uint64) error {
	r := ur.r
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fr := &fastRun{ur: ur, ctx: ctx, cancel: cancel, sem: make(chan struct{}, r.concurrency)}
	fr.sb.init()
	batchMax := sendBatch
	direct := r.limited()
	if direct {
		batchMax = 1 // a query never waits for the rate limits of another
	}
feed:
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		idx := order(i)
		if done != nil && done[idx/64].Load()&(1<<(idx%64)) != 0 {
			continue
		}
		blk := &blocks[int(idx)/bs]
		if blk.pruned {
			r.stats.pruned.Add(1)
			ur.emit(sweep.Result{IP: addrOf(base + idx), Status: sweep.StatusNXDomain, TTL: blk.ttl, Pruned: true, ResolvedAt: time.Now()}, blk)
			continue
		}
		silent := blk.silent()
		if !direct && !silent {
			// The engine's queue: sent by whoever frees a window slot.
			fr.queued = append(fr.queued, r.eng.prepareQueued(fr, base+idx, blk))
			if len(fr.queued) >= sendBatch && !r.eng.enqueue(fr) {
				break
			}
			continue
		}
		if !fr.take(silent) {
			// Send what is ready before waiting for a slot.
			r.eng.flush(fr)
			if silent {
				select {
				case fr.sem <- struct{}{}:
				case <-ctx.Done():
					break feed
				}
			} else if err := r.win.acquire(ctx); err != nil {
				break
			}
		}
		if err := r.eng.prepare(fr, base+idx, blk, silent); err != nil {
			fr.fail(err)
			break
		}
		if len(fr.sb.batch) >= batchMax {
			r.eng.flush(fr)
		}
	}
	r.eng.flush(fr)
	r.eng.enqueue(fr)
	fr.wg.Wait()
	return fr.err
}

// take takes a window slot (or a silent token) without waiting.
func (fr *fastRun) take(silent bool) bool {
	if silent {
		select {
		case fr.sem <- struct{}{}:
			return true
		default:
			return false
		}
	}
	return fr.ur.r.win.tryAcquire()
}

// release gives back the window slot or silent token fq holds.
func (fr *fastRun) release(silent bool) {
	if silent {
		<-fr.sem
		return
	}
	fr.ur.r.win.release()
}

// prepare packs the first try of ip's PTR query into the feeder's batch
// once the rate limits allow it; the feeder holds a window slot (or a
// silent token) for it, which the query now owns. It returns an error
// only when the rate limits end with ctx, having released the slot.
func (e *engine) prepare(fr *fastRun, ip uint32, blk *block, silent bool) error {
	r := e.r
	start := r.next.Add(1) - 1
	i := r.pick(start)
	srv := r.servers[i]
	if err := r.wait(fr.ctx, srv, zoneKey(addrOf(ip))); err != nil {
		fr.release(silent)
		return err
	}
	fq := fastQueries.Get().(*fastQuery)
	fq.run, fq.blk, fq.ip, fq.silent, fq.start, fq.srv = fr, blk, ip, silent, start, i
	fq.rto = r.timeout
	if r.retries > 0 {
		fq.rto = min(srv.rtt.rto(r.timeout), r.timeout)
	}
	q, qlen := packPTRQuery(fq.q[:], 0, addrOf(ip), r.udpSize)
	fq.qn, fq.qlen = len(q), qlen
	fr.wg.Add(1)
	fr.sb.batch = append(fr.sb.batch, fq)
	return nil
}

// prepareQueued packs the first try of ip's PTR query for the engine's
// queue, without a window slot yet (no rate limit is set).
func (e *engine) prepareQueued(fr *fastRun, ip uint32, blk *block) *fastQuery {
	r := e.r
	start := r.next.Add(1) - 1
	i := r.pick(start)
	srv := r.servers[i]
	fq := fastQueries.Get().(*fastQuery)
	fq.run, fq.blk, fq.ip, fq.start, fq.srv = fr, blk, ip, start, i
	fq.rto = r.timeout
	if r.retries > 0 {
		fq.rto = min(srv.rtt.rto(r.timeout), r.timeout)
	}
	q, qlen := packPTRQuery(fq.q[:], 0, addrOf(ip), r.udpSize)
	fq.qn, fq.qlen = len(q), qlen
	fr.wg.Add(1)
	return fq
}

// flush sends the feeder's batch.
func (e *engine) flush(fr *fastRun) { e.flushBuf(&fr.sb) }

// flushBuf sends sb's batch, the queries of each server on one of its
// sockets.
func (e *engine) flushBuf(sb *sendBuf) {
	b := sb.batch
	for len(b) > 0 {
		i, k := b[0].srv, 0
		for j := range b {
			if b[j].srv == i {
				b[k], b[j] = b[j], b[k]
				k++
			}
		}
		e.sendFast(sb, e.sock(i), b[:k])
		b = b[k:]
	}
	clear(sb.batch)
	sb.batch = sb.batch[:0]
}

// The engine's queue holds prepared queries (of every running Resolve
// call, in order) that wait for a window slot. Whoever frees slots sends
// from it: a reader after each batch of answers, the timer on each tick
// and a feeder after adding to it, so in the steady state the reader that
// completes answers writes the next queries and no goroutine is woken per
// query. Feeders wait while it holds qhigh queries.

// enqueue moves the feeder's prepared queries to the engine's queue,
// waiting while it is full, and sends what the window allows. It returns
// false when the run ended while waiting (the queries are dropped).
func (e *engine) enqueue(fr *fastRun) bool {
	for len(fr.queued) > 0 {
		e.qmu.Lock()
		if len(e.queue)-e.qhead >= e.qhigh {
			if e.space == nil {
				e.space = make(chan struct{})
			}
			ch := e.space
			e.qmu.Unlock()
			e.pump(&fr.sb)
			select {
			case <-ch:
				continue
			case <-fr.ctx.Done():
			}
			for i, fq := range fr.queued {
				*fq = fastQuery{}
				fastQueries.Put(fq)
				fr.queued[i] = nil
				fr.wg.Done()
			}
			fr.queued = fr.queued[:0]
			return false
		}
		e.queue = append(e.queue, fr.queued...)
		e.qmu.Unlock()
		clear(fr.queued)
		fr.queued = fr.queued[:0]
	}
	e.pump(&fr.sb)
	return true
}

// pump sends queued queries while window slots are free, dropping those
// whose run ended, using sb's buffers.
func (e *engine) pump(sb *sendBuf) {
	win := e.r.win
	for {
		e.qmu.Lock()
		for len(sb.batch) < sendBatch && e.qhead < len(e.queue) {
			fq := e.queue[e.qhead]
			if fq.run.ctx.Err() != nil {
				e.queue[e.qhead] = nil
				e.qhead++
				fr := fq.run
				*fq = fastQuery{}
				fastQueries.Put(fq)
				fr.wg.Done()
				continue
			}
			if !win.tryAcquire() {
				break
			}
			e.queue[e.qhead] = nil
			e.qhead++
			sb.batch = append(sb.batch, fq)
		}
		e.compactQueue()
		e.qmu.Unlock()
		n := len(sb.batch)
		if n == 0 {
			return
		}
		e.flushBuf(sb)
		if n < sendBatch {
			return
		}
	}
}

// compactQueue reclaims the queue's sent head and wakes waiting feeders
// when it is low. e.qmu is held.
func (e *engine) compactQueue() {
	switch {
	case e.qhead == len(e.queue):
		e.queue, e.qhead = e.queue[:0], 0
	case e.qhead >= 1024 && e.qhead*2 >= len(e.queue):
		n := copy(e.queue, e.queue[e.qhead:])
		clear(e.queue[n:])
		e.queue, e.qhead = e.queue[:n], 0
	}
	if e.space != nil && len(e.queue)-e.qhead <= e.qhigh/2 {
		close(e.space)
		e.space = nil
	}
}

// sendFast registers the queries b (at most sendBatch) on s and writes
// them. From then on each belongs to the reader or the timer; one that
// could not be written is expired at once.
func (e *engine) sendFast(sb *sendBuf, s *udpSock, b []*fastQuery) {
	ids := make([]uint16, 0, sendBatch)
	s.mu.Lock()
	now := time.Now()
	for j, fq := range b {
		id := s.freeID()
		fq.sock, fq.id = s, id
		fq.q[0], fq.q[1] = byte(id>>8), byte(id)
		fq.sent, fq.deadline = now, now.Add(fq.rto)
		s.fast[id] = fq
		fq.pos = len(s.live)
		s.live = append(s.live, fq)
		sb.msgs[j].Buffers[0] = sb.wbufs[j][:copy(sb.wbufs[j][:], fq.q[:fq.qn])]
		ids = append(ids, id)
	}
	s.mu.Unlock()
	sent := 0
	for sent < len(b) {
		var n int
		var err error
		if s.pc != nil {
			n, err = s.pc.WriteBatch(sb.msgs[sent:len(b)], 0)
		} else {
			_, err = s.conn.Write(sb.msgs[sent].Buffers[0])
			n = 1
		}
		if err != nil || n <= 0 {
			break
		}
		sent += n
	}
	e.r.stats.sent.Add(uint64(sent))
	for j := sent; j < len(b); j++ {
		fq := b[j]
		s.mu.Lock()
		owned := s.fast[ids[j]] == fq
		if owned {
			s.removeFast(fq)
		}
		s.mu.Unlock()
		if owned {
			e.expireFast(fq)
		}
	}
}

// removeFast takes fq off s. s.mu is held.
func (s *udpSock) removeFast(fq *fastQuery) {
	s.fast[fq.id] = nil
	last := len(s.live) - 1
	moved := s.live[last]
	s.live[fq.pos] = moved
	moved.pos = fq.pos
	s.live[last] = nil
	s.live = s.live[:last]
}

// completeFast completes fq with its answer pkt (already matched by
// deliver): inline for a plain answer the fast parser takes, else on the
// slow path. p is the reader's scratch.
func (e *engine) completeFast(fq *fastQuery, pkt []byte, cut bool, p *parsed) {
	if pktFlags(pkt)&flagTC != 0 {
		// Matched by deliver and truncated: it only sends the query to
		// TCP, whatever its records, so miekg/dns need not read them.
		cut = true
	}
	if cut || !parseFast(pkt, fq.question(), p) {
		e.handoff(fq, pkt, cut)
		return
	}
	r := e.r
	now := time.Now()
	srv := r.servers[fq.srv]
	srv.rtt.observe(now.Sub(fq.sent))
	r.stats.answers.Add(1)
	srv.fails.Store(0)
	r.win.answered()
	fq.blk.answered.Add(1)
	out := p.outcome()
	res := sweep.Result{IP: addrOf(fq.ip), Status: out.status, TTL: out.ttl, Queries: 1, ResolvedAt: now}
	if out.status == sweep.StatusOK {
		res.PTRs = out.ptrs
		res.TTL = res.PTRs[0].TTL
	}
	fr, blk := fq.run, fq.blk
	fr.release(fq.silent)
	*fq = fastQuery{}
	fastQueries.Put(fq)
	fr.ur.emit(res, blk)
	fr.wg.Done()
}

// expireFast handles fq after the timer (or a failed write) took it off
// its socket: a cancelled run drops it; otherwise its try timed out and
// the slow path goes on with the next one.
func (e *engine) expireFast(fq *fastQuery) {
	fr := fq.run
	if fr.ctx.Err() != nil {
		fr.release(fq.silent)
		*fq = fastQuery{}
		fastQueries.Put(fq)
		fr.wg.Done()
		return
	}
	r := e.r
	r.stats.timeouts.Add(1)
	r.failed(fq.srv)
	fq.blk.timedOut.Add(1)
	r.win.timedOut(fq.blk.answered.Load() > 0)
	e.handoff(fq, nil, false)
}

// handoff moves fq to the slow path: a goroutine of fq's run that goes on
// with the answer pkt (nil: the first try timed out) and emits the
// address.
func (e *engine) handoff(fq *fastQuery, pkt []byte, cut bool) {
	r := e.r
	w := slots.Get().(*slot)
	rs := resume{start: fq.start, try: 1, queries: 1}
	if pkt != nil {
		w.n, w.cut = copy(w.rbuf[:], pkt), cut
		rs = resume{start: fq.start, queries: 1, have: true, srv: fq.srv, sock: fq.sock, id: fq.id, sent: fq.sent, deadline: fq.deadline}
	}
	fr, blk, ip, silent := fq.run, fq.blk, addrOf(fq.ip), fq.silent
	*fq = fastQuery{}
	fastQueries.Put(fq)
	go func() {
		defer fr.wg.Done()
		defer slots.Put(w)
		res, err := r.resolveOne(fr.ctx, w, ip, fr.ur.opts, fr.ur.fwd, blk, &rs)
		fr.release(silent)
		if err != nil {
			fr.fail(err)
			return
		}
		fr.ur.emit(res, blk)
	}()
}

// tick is the engine's timer loop; it ends when stop closes.
func (e *engine) tick(stop chan struct{}) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	var expired []*fastQuery
	sb := newSendBuf()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now()
		for _, s := range e.all {
			expired = s.expire(now, expired[:0])
			for i, fq := range expired {
				e.expireFast(fq)
				expired[i] = nil
			}
		}
		e.pump(sb) // drops the queries of ended runs too
	}
}

// expire takes the queries past their deadline or whose run ended off s
// and appends them to out.
func (s *udpSock) expire(now time.Time, out []*fastQuery) []*fastQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < len(s.live); {
		fq := s.live[i]
		if now.Before(fq.deadline) && fq.run.ctx.Err() == nil {
			i++
			continue
		}
		s.removeFast(fq)
		out = append(out, fq)
	}
	return out
}
