package resolve

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// slots reuses the per-goroutine buffers of lookups.
var slots = sync.Pool{New: func() any { return newSlot() }}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// unitRun is the state of one Resolve call.
type unitRun struct {
	r       *Resolver
	opts    sweep.Options
	emitFn  func(sweep.Result)
	fwd     *forwardCache
	mu      sync.Mutex
	emitted uint64 // guarded by mu
}

// block is one /24 (or the whole chunk when smaller) of a chunk, or the
// addresses of one /24 in an address list.
type block struct {
	base     uint32 // its first address (of the /24 with an address list)
	pruned   bool   // answer every unsampled address nxdomain
	via16    bool   // the NXDOMAIN came from the /16 name
	ttl      uint32 // the NXDOMAIN's negative TTL
	probeQ   atomic.Int32
	answered atomic.Int32
	timedOut atomic.Int32
}

// silent reports a block whose queries time out and never get answered:
// its lookups do not load the server, so they take no window slot.
func (b *block) silent() bool { return b.timedOut.Load() > 0 && b.answered.Load() == 0 }

// emit hands res to the caller, adding the block's probe queries not yet
// counted in any result.
func (ur *unitRun) emit(res sweep.Result, b *block) {
	res.Queries += int(b.probeQ.Swap(0))
	ur.mu.Lock()
	defer ur.mu.Unlock()
	ur.emitFn(res)
	ur.emitted++
}

// chunk is one part of a unit (at most a /16, so memory stays bounded)
// being resolved: its addresses base to base+n-1 in blocks of bs (a /24,
// or the whole chunk when smaller).
type chunk struct {
	base   uint32
	n, bs  int
	blocks []block
	done   []atomic.Uint64 // addresses emitted as pruning samples; nil without pruning
	nx16   bool            // the /16 answered NXDOMAIN
	ttl16  uint32          // and its negative TTL
}

// chunk resolves the n addresses (a power of two, at most 65536) from
// base: the probes and samples of pruning first, then every address.
func (ur *unitRun) chunk(ctx context.Context, base uint32, n int) error {
	bs := min(n, 256)
	c := &chunk{base: base, n: n, bs: bs, blocks: make([]block, n/bs)}
	for i := range c.blocks {
		c.blocks[i].base = base + uint32(i*bs)
	}
	if !ur.opts.NoPrune && bs >= pruneMinBlock {
		if err := ur.prune(ctx, c); err != nil {
			return err
		}
	}
	stride, off := uint32(rand.Uint32()|1), rand.Uint32()
	mask := uint32(n - 1)
	return ur.resolveAll(ctx, n, func(i int) (uint32, *block, bool) {
		idx := (uint32(i)*stride + off) & mask
		ip, blk := c.base+idx, &c.blocks[int(idx)/c.bs]
		return ip, blk, ur.settle(ip, blk, c.done, int(idx))
	})
}

// resolveAll resolves and emits the n addresses next gives: on the fast
// path, or with forward confirmation on the slow one. next(i) returns the
// i-th address and its block, or false when it needs no query of its own.
func (ur *unitRun) resolveAll(ctx context.Context, n int, next func(i int) (uint32, *block, bool)) error {
	if !ur.opts.Confirm {
		return ur.feed(ctx, n, next)
	}
	return ur.run(ctx, n, func(ctx context.Context, sl *slot, i int) error {
		ip, blk, ok := next(i)
		if !ok {
			return nil
		}
		return ur.resolveEmit(ctx, sl, addrOf(ip), blk)
	})
}

// settle looks at address ip of block blk, bit in done, before it is
// asked, and reports whether it needs a query: not when it was emitted as
// a pruning sample, nor when its block is pruned (then it is emitted here
// as nxdomain).
func (ur *unitRun) settle(ip uint32, blk *block, done []atomic.Uint64, bit int) bool {
	if done != nil && done[bit/64].Load()&(1<<(bit%64)) != 0 {
		return false
	}
	if blk.pruned {
		ur.r.stats.pruned.Add(1)
		ur.emit(sweep.Result{IP: addrOf(ip), Status: sweep.StatusNXDomain, TTL: blk.ttl, Pruned: true, ResolvedAt: time.Now()}, blk)
		return false
	}
	return true
}

// prune asks the chunk's /16 and /24 reverse names and samples the blocks
// that answered NXDOMAIN, marking the blocks that are pruned.
func (ur *unitRun) prune(ctx context.Context, c *chunk) error {
	r := ur.r
	c.done = make([]atomic.Uint64, (c.n+63)/64)
	a, b := byte(c.base>>24), byte(c.base>>16)
	err := ur.run(ctx, 1, func(ctx context.Context, sl *slot, _ int) error {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
		defer r.win.release()
		var q int
		var err error
		c.nx16, c.ttl16, q, err = r.verdict16(ctx, sl, a, b)
		c.blocks[0].probeQ.Add(int32(q))
		return err
	})
	if err != nil {
		return err
	}
	err = ur.run(ctx, len(c.blocks), func(ctx context.Context, sl *slot, i int) error {
		return ur.probeBlock(ctx, sl, c, i)
	})
	if err != nil {
		return err
	}
	if c.nx16 {
		r.recheck16(c.blocks)
	}
	return nil
}

// recheck16 unprunes the blocks pruned by their /16's NXDOMAIN when a
// sample has since proved it wrong: only the /24s that answered NXDOMAIN
// themselves are trusted.
func (r *Resolver) recheck16(blocks []block) {
	for i := range blocks {
		blk := &blocks[i]
		if blk.via16 && r.prune.disabled16(byte(blk.base>>24), byte(blk.base>>16)) {
			blk.pruned = false
		}
	}
}

// resolveEmit resolves one address in a window slot and emits it.
func (ur *unitRun) resolveEmit(ctx context.Context, sl *slot, ip netip.Addr, blk *block) error {
	r := ur.r
	slotted := !blk.silent()
	if slotted {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
	}
	res, err := ur.resolveOne(ctx, sl, ip, blk, nil)
	if slotted {
		r.win.release()
	}
	if err != nil {
		return err
	}
	ur.emit(res, blk)
	return nil
}

// probeBlock decides whether block i of c is pruned; see probeSet.
func (ur *unitRun) probeBlock(ctx context.Context, sl *slot, c *chunk, i int) error {
	base := c.base + uint32(i*c.bs)
	return ur.probeSet(ctx, sl, probeSet{
		blk: &c.blocks[i], n: c.bs, nx16: c.nx16, ttl16: c.ttl16, done: c.done,
		at: func(j int) (uint32, int) { return base + uint32(j), i*c.bs + j },
	})
}

// probeSet is one /24 block as pruning sees it: n distinct addresses to
// sample from, at(j) giving the j-th and its bit in done, and the verdict
// of its /16.
type probeSet struct {
	blk   *block
	n     int
	at    func(j int) (ip uint32, bit int)
	done  []atomic.Uint64
	nx16  bool
	ttl16 uint32
}

// probeSet decides whether ps's block is pruned: by the /16's NXDOMAIN or
// by asking for the /24 name, then by resolving a few samples (emitted,
// and marked in ps.done) that must all be nxdomain.
func (ur *unitRun) probeSet(ctx context.Context, sl *slot, ps probeSet) error {
	r := ur.r
	blk := ps.blk
	a, b, cc := byte(blk.base>>24), byte(blk.base>>16), byte(blk.base>>8)
	if r.prune.disabled24(a, b, cc) {
		return nil
	}
	nx, ttl, via16 := ps.nx16, ps.ttl16, ps.nx16
	if !nx {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
		var q int
		var err error
		nx, ttl, q, err = r.probe(ctx, sl, itoa(cc)+"."+itoa(b)+"."+itoa(a)+".in-addr.arpa.", zoneKey(addrOf(blk.base)), blk)
		r.win.release()
		blk.probeQ.Add(int32(q))
		if err != nil {
			return err
		}
	}
	if !nx {
		return nil
	}
	wrong, err := ur.sample(ctx, sl, ps)
	if err != nil {
		return err
	}
	if wrong {
		r.stats.pruneDisabled.Add(1)
		r.prune.disable(a, b, cc, via16)
		return nil
	}
	blk.pruned, blk.ttl, blk.via16 = true, ttl, via16
	return nil
}

// sample resolves and emits one address in samplesPer of ps's (at least
// one), marking them in ps.done, and reports whether one of them exists
// (ok or nodata): the server's NXDOMAIN was wrong.
func (ur *unitRun) sample(ctx context.Context, sl *slot, ps probeSet) (wrong bool, err error) {
	r := ur.r
	var picked [256]bool
	for range max(1, ps.n/samplesPer) {
		j := rand.IntN(ps.n)
		for picked[j] {
			j = (j + 1) % ps.n
		}
		picked[j] = true
		ip, bit := ps.at(j)
		ps.done[bit/64].Or(1 << (bit % 64))
		r.stats.sampled.Add(1)
		if err := r.win.acquire(ctx); err != nil {
			return false, err
		}
		res, err := ur.resolveOne(ctx, sl, addrOf(ip), ps.blk, nil)
		r.win.release()
		if err != nil {
			return false, err
		}
		if res.Status == sweep.StatusOK || res.Status == sweep.StatusNoData {
			wrong = true
		}
		ur.emit(res, ps.blk)
	}
	return wrong, nil
}

// run calls f for every i in [0, n) on at most the Resolver's concurrency
// of goroutines, each with its own slot, and returns the first error (after
// which the others stop taking work).
func (ur *unitRun) run(ctx context.Context, n int, f func(ctx context.Context, sl *slot, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	for range min(ur.r.concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl := slots.Get().(*slot)
			defer slots.Put(sl)
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := f(ctx, sl, int(i)); err != nil {
					errOnce.Do(func() { first = err })
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// resolveOne resolves one address of block blk: its PTR records and, when
// asked, the forward confirmation of each name. rs, when not nil, is where
// the fast path left its first query.
func (ur *unitRun) resolveOne(ctx context.Context, sl *slot, ip netip.Addr, blk *block, rs *resume) (sweep.Result, error) {
	r := ur.r
	req := request{ip: ip, qtype: dns.TypePTR, zone: zoneKey(ip), from: rs}
	if rs != nil {
		req.sent = rs.queries
	}
	sl.block = blk
	out, err := r.lookup(ctx, sl, req)
	sl.block = nil
	res := sweep.Result{IP: ip, Queries: out.queries}
	if err != nil {
		return res, err
	}
	res.Status, res.TTL = out.status, out.ttl
	if out.status == sweep.StatusOK {
		res.PTRs = out.ptrs
		if res.PTRs == nil {
			res.PTRs = ptrNames(out.rrs)
		}
		res.TTL = res.PTRs[0].TTL
		if ur.opts.Confirm {
			for i := range res.PTRs {
				f, q, err := r.confirm(ctx, sl, ur.fwd, res.PTRs[i].Name, ip)
				res.Queries += q
				if err != nil {
					return res, err
				}
				res.PTRs[i].FCrDNS = f
			}
		}
	}
	res.ResolvedAt = time.Now()
	return res, nil
}
