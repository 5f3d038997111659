package resolve

import (
	"time"

	"golang.org/x/net/ipv4"

	"github.com/ptrsweep/ptrsweep/internal/resolve/dnswire"
)

// sendBatch is the most queries the feeder writes at once (sendmmsg):
// those it can take window slots for without waiting.
const sendBatch = 16

// sendBuf is one goroutine's batch of queries to write: the queries and
// the copies of their packets it writes (a written fastQuery may complete
// and be reused before the write returns). With GSO, the packets of one
// length are copied one after the other into seg and go out as one
// message whose control message (oob) cuts it into datagrams; upto[k] is
// the number of queries in messages 0..k.
type sendBuf struct {
	batch []*fastQuery
	wbufs [sendBatch][dnswire.MaxPTRQueryLen]byte
	msgs  [sendBatch]ipv4.Message
	bufs  [sendBatch][1][]byte
	seg   [sendBatch * dnswire.MaxPTRQueryLen]byte
	oob   [sendBatch][]byte
	upto  [sendBatch]int
}

func newSendBuf() *sendBuf {
	sb := new(sendBuf)
	sb.init()
	return sb
}

func (sb *sendBuf) init() {
	for j := range sb.msgs {
		sb.msgs[j].Buffers = sb.bufs[j][:]
		if gsoPlatform {
			sb.oob[j] = make([]byte, gsoCmsgLen)
		}
	}
}

// packEach makes one message of each query of b; it returns the number
// of messages.
func (sb *sendBuf) packEach(b []*fastQuery) int {
	for k, fq := range b {
		sb.msgs[k].Buffers[0] = sb.wbufs[k][:copy(sb.wbufs[k][:], fq.q[:fq.qn])]
		sb.msgs[k].OOB = nil
		sb.upto[k] = k + 1
	}
	return len(b)
}

// packSegments makes one message of each run of queries of one length in
// b (sorted by length): a segmented one (GSO) of a run of several. It
// returns the number of messages.
func (sb *sendBuf) packSegments(b []*fastQuery) int {
	k, off := 0, 0
	for lo := 0; lo < len(b); k++ {
		n := b[lo].qn
		hi, start := lo, off
		for hi < len(b) && b[hi].qn == n {
			off += copy(sb.seg[off:], b[hi].q[:n])
			hi++
		}
		sb.msgs[k].Buffers[0] = sb.seg[start:off]
		sb.msgs[k].OOB = nil
		if hi-lo > 1 {
			putSegmentCmsg(sb.oob[k], n)
			sb.msgs[k].OOB = sb.oob[k]
		}
		sb.upto[k] = hi
		lo = hi
	}
	return k
}

// unsegment cuts messages m to msgs (from packSegments, not yet written)
// into one message a query, from the copies already made (the queries
// themselves may be another's by now); it returns the number of messages.
func (sb *sendBuf) unsegment(m, msgs int) int {
	var pkts [sendBatch][]byte
	np, prev := 0, 0
	if m > 0 {
		prev = sb.upto[m-1]
	}
	first := prev
	for k := m; k < msgs; k++ {
		buf := sb.msgs[k].Buffers[0]
		size := len(buf) / (sb.upto[k] - prev)
		for off := 0; off < len(buf); off += size {
			pkts[np] = buf[off : off+size]
			np++
		}
		prev = sb.upto[k]
	}
	for j := range np {
		sb.msgs[j].Buffers[0] = pkts[j]
		sb.msgs[j].OOB = nil
		sb.upto[j] = first + j + 1
	}
	return np
}

// sortByLen orders b (at most sendBatch queries) by packet length.
func sortByLen(b []*fastQuery) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j].qn < b[j-1].qn; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
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
// them: with GSO, each run of one packet length as one send. From then on
// each belongs to the reader or the timer; one that could not be written
// is expired at once. A socket whose segmented send the kernel refuses
// sends each query on its own from then on.
func (e *engine) sendFast(sb *sendBuf, s *udpSock, b []*fastQuery) {
	gso := s.pc != nil && s.gso.Load() && len(b) > 1
	if gso {
		sortByLen(b)
	}
	ids := make([]uint16, 0, sendBatch)
	s.mu.Lock()
	now := time.Now()
	for _, fq := range b {
		id := s.freeID()
		fq.sock, fq.id = s, id
		fq.q[0], fq.q[1] = byte(id>>8), byte(id)
		fq.sent, fq.deadline = now, now.Add(fq.rto)
		s.fast[id] = fq
		fq.pos = len(s.live)
		s.live = append(s.live, fq)
		ids = append(ids, id)
	}
	// copied before the reader or the timer can take a query
	var msgs int
	if gso {
		msgs = sb.packSegments(b)
	} else {
		msgs = sb.packEach(b)
	}
	s.mu.Unlock()
	sent, m, seg := 0, 0, 0 // queries and messages written, queries of those segmented
	for m < msgs {
		var n int
		var err error
		if s.pc != nil {
			n, err = s.pc.WriteBatch(sb.msgs[m:msgs], 0)
		} else {
			_, err = s.conn.Write(sb.msgs[m].Buffers[0])
			n = 1
		}
		if err != nil && gso {
			// refused (an old kernel, a device without segmentation):
			// the rest one by one, and never again on this socket
			s.gso.Store(false)
			gso = false
			msgs, m = sb.unsegment(m, msgs), 0
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		for k := m; k < m+n; k++ {
			if sb.msgs[k].OOB != nil { // only ever from packSegments
				seg += sb.upto[k]
				if k > 0 {
					seg -= sb.upto[k-1]
				}
			}
		}
		m += n
		sent = sb.upto[m-1]
	}
	e.r.stats.sent.Add(uint64(sent))
	e.r.stats.segmented.Add(uint64(seg))
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
