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

// block is one /24 (or the whole chunk when smaller) of a chunk.
type block struct {
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
	if !ur.opts.NoPrune && bs >= pruneMinBlock {
		if err := ur.prune(ctx, c); err != nil {
			return err
		}
	}
	stride, off := uint32(rand.Uint32()|1), rand.Uint32()
	mask := uint32(n - 1)
	if !ur.opts.Confirm {
		return ur.feed(ctx, n, func(i int) (uint32, *block, bool) {
			return ur.settle(c, (uint32(i)*stride+off)&mask)
		})
	}
	return ur.run(ctx, n, func(ctx context.Context, sl *slot, i int) error {
		ip, blk, ok := ur.settle(c, (uint32(i)*stride+off)&mask)
		if !ok {
			return nil
		}
		return ur.resolveEmit(ctx, sl, addrOf(ip), blk)
	})
}

// settle looks at the chunk's address idx before it is asked: a sample
// already emitted or an address of a pruned block (emitted here as
// nxdomain) gives false; else it returns the address and its block.
func (ur *unitRun) settle(c *chunk, idx uint32) (uint32, *block, bool) {
	if c.done != nil && c.done[idx/64].Load()&(1<<(idx%64)) != 0 {
		return 0, nil, false
	}
	blk := &c.blocks[int(idx)/c.bs]
	if blk.pruned {
		ur.r.stats.pruned.Add(1)
		ur.emit(sweep.Result{IP: addrOf(c.base + idx), Status: sweep.StatusNXDomain, TTL: blk.ttl, Pruned: true, ResolvedAt: time.Now()}, blk)
		return 0, nil, false
	}
	return c.base + idx, blk, true
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
	if c.nx16 && r.prune.disabled16(a, b) {
		// A sample proved the /16's NXDOMAIN wrong: trust only the /24s
		// that answered NXDOMAIN themselves.
		for i := range c.blocks {
			if c.blocks[i].via16 {
				c.blocks[i].pruned = false
			}
		}
	}
	return nil
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

// probeBlock decides whether block i of c is pruned: by the /16's
// NXDOMAIN or by asking for the /24 name, then by resolving a few samples
// (emitted, and marked in c.done) that must all be nxdomain.
func (ur *unitRun) probeBlock(ctx context.Context, sl *slot, c *chunk, i int) error {
	r := ur.r
	base, blk := c.base+uint32(i*c.bs), &c.blocks[i]
	a, b, cc := byte(base>>24), byte(base>>16), byte(base>>8)
	if r.prune.disabled24(a, b, cc) {
		return nil
	}
	nx, ttl, via16 := c.nx16, c.ttl16, c.nx16
	if !nx {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
		var q int
		var err error
		nx, ttl, q, err = r.probe(ctx, sl, itoa(cc)+"."+itoa(b)+"."+itoa(a)+".in-addr.arpa.", zoneKey(addrOf(base)), blk)
		r.win.release()
		blk.probeQ.Add(int32(q))
		if err != nil {
			return err
		}
	}
	if !nx {
		return nil
	}
	wrong, err := ur.sample(ctx, sl, base, blk, c.done[i*c.bs/64:], c.bs)
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

// sample resolves and emits one address in samplesPer of the bs addresses
// from base (at least one), marking them in done, and reports whether one
// of them exists (ok or nodata): the server's NXDOMAIN was wrong.
func (ur *unitRun) sample(ctx context.Context, sl *slot, base uint32, blk *block, done []atomic.Uint64, bs int) (wrong bool, err error) {
	r := ur.r
	var picked [256]bool
	for range max(1, bs/samplesPer) {
		j := rand.IntN(bs)
		for picked[j] {
			j = (j + 1) % bs
		}
		picked[j] = true
		done[j/64].Or(1 << (j % 64))
		r.stats.sampled.Add(1)
		if err := r.win.acquire(ctx); err != nil {
			return false, err
		}
		res, err := ur.resolveOne(ctx, sl, addrOf(base+uint32(j)), blk, nil)
		r.win.release()
		if err != nil {
			return false, err
		}
		if res.Status == sweep.StatusOK || res.Status == sweep.StatusNoData {
			wrong = true
		}
		ur.emit(res, blk)
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
