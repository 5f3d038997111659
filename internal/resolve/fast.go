package resolve

import (
	"context"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
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
	q        [dnswire.MaxPTRQueryLen]byte
	qn, qlen int // lengths of the packed query and its question section
	start    uint64
	pos      int // index in sock.live
	rto      time.Duration
	flight   // set when registered on a socket (srv before)
}

var fastQueries = sync.Pool{New: func() any { return new(fastQuery) }}

// question returns the question section of the packed query.
func (fq *fastQuery) question() []byte { return fq.q[dnswire.HeaderLen : dnswire.HeaderLen+fq.qlen] }

// resume is where the fast path left a query for the slow path: the
// round-robin start, the try to go on with and the queries sent so far.
// With have, the answer to that try (the query at) is in the slot's rbuf
// and is looked at first.
type resume struct {
	start   uint64
	try     int
	queries int
	have    bool
	at      flight
}

// feed resolves n addresses on the fast path, in the order next gives
// them: next(i) returns the i-th address and its block, or false when the
// unit logic settled it without a query.
func (ur *unitRun) feed(ctx context.Context, n int, next func(i int) (uint32, *block, bool)) error {
	r := ur.r
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fr := &fastRun{ur: ur, ctx: ctx, cancel: cancel, sem: make(chan struct{}, r.concurrency)}
	fr.sb.init()
	direct := r.limited() // a query never waits for the rate limits of another
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		ip, blk, ok := next(i)
		if !ok {
			continue
		}
		silent := blk.silent()
		if !direct && !silent {
			// The engine's queue: sent by whoever frees a window slot.
			fr.queued = append(fr.queued, r.eng.prepareQueued(fr, ip, blk))
			if len(fr.queued) >= sendBatch && !r.eng.enqueue(fr) {
				break
			}
			continue
		}
		if !fr.sendDirect(ip, blk, silent, direct) {
			break
		}
	}
	r.eng.flush(fr)
	r.eng.enqueue(fr)
	fr.wg.Wait()
	return fr.err
}

// sendDirect sends ip's query from the feeder itself, once it has a window
// slot (or a silent token) and the rate limits allow; direct (rate limits
// are set) sends it at once instead of batching. False ends the feed.
func (fr *fastRun) sendDirect(ip uint32, blk *block, silent, direct bool) bool {
	e := &fr.ur.r.eng
	if !fr.take(silent) {
		// Send what is ready before waiting for a slot.
		e.flush(fr)
		if silent {
			select {
			case fr.sem <- struct{}{}:
			case <-fr.ctx.Done():
				return false
			}
		} else if err := fr.ur.r.win.acquire(fr.ctx); err != nil {
			return false
		}
	}
	if err := e.prepare(fr, ip, blk, silent); err != nil {
		fr.fail(err)
		return false
	}
	if direct || len(fr.sb.batch) >= sendBatch {
		e.flush(fr)
	}
	return true
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
	q, qlen := dnswire.PackPTRQuery(fq.q[:], 0, addrOf(ip), r.udpSize)
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
	q, qlen := dnswire.PackPTRQuery(fq.q[:], 0, addrOf(ip), r.udpSize)
	fq.qn, fq.qlen = len(q), qlen
	fr.wg.Add(1)
	return fq
}

// completeFast completes fq with its answer pkt (already matched by
// deliver): inline for a plain answer the fast parser takes, else on the
// slow path. p is the reader's scratch.
func (e *engine) completeFast(fq *fastQuery, pkt []byte, cut bool, p *dnswire.Answer) {
	if dnswire.Truncated(pkt) {
		// Matched by deliver and truncated: it only sends the query to
		// TCP, whatever its records, so miekg/dns need not read them.
		cut = true
	}
	if cut || !p.Parse(pkt, fq.question()) {
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
	out := answerOutcome(p)
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
	sl := slots.Get().(*slot)
	rs := resume{start: fq.start, try: 1, queries: 1}
	if pkt != nil {
		sl.n, sl.cut = copy(sl.rbuf[:], pkt), cut
		rs = resume{start: fq.start, queries: 1, have: true, at: fq.flight}
	}
	fr, blk, ip, silent := fq.run, fq.blk, addrOf(fq.ip), fq.silent
	*fq = fastQuery{}
	fastQueries.Put(fq)
	go func() {
		defer fr.wg.Done()
		defer slots.Put(sl)
		res, err := fr.ur.resolveOne(fr.ctx, sl, ip, blk, &rs)
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
