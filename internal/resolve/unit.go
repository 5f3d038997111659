package resolve

import (
	"context"
	"fmt"
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

// Resolve resolves every address of u.Prefix and calls emit exactly once per
// address with its Result, in any order; emit calls are serialized. emit
// runs on the Resolver's own goroutines (mostly the socket readers, shared
// by every running Resolve call): it must be quick and must neither block
// on nor call into the Resolver. DNS outcomes are Status values. Unless u.Options.NoPrune, the /16 and /24
// reverse names are asked first and the addresses of a /24 that answers
// NXDOMAIN are emitted as nxdomain with Pruned set (see prune.go).
// Addresses are resolved in a shuffled order, interleaved with those of
// other running Resolve calls. Resolve returns nil once every address is
// emitted; ctx.Err() when ctx ends first (having emitted only completed
// addresses); an error wrapping ErrBadUnit for a prefix that is not IPv4;
// or one wrapping ErrSocket when no query can be sent at all. No emit call
// happens after Resolve returns. Many Resolve calls may run at once on one
// Resolver; their queries share its rate limits and in-flight window.
func (r *Resolver) Resolve(ctx context.Context, u sweep.Unit, emit func(sweep.Result)) error {
	if !u.Prefix.IsValid() || !u.Prefix.Addr().Is4() {
		return fmt.Errorf("resolve unit %q: %w: %v", u.ID(), ErrBadUnit, u.Prefix)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.eng.acquire(); err != nil {
		return fmt.Errorf("resolve unit %q: %w", u.ID(), err)
	}
	defer r.eng.release()
	p := u.Prefix.Masked()
	ur := &unitRun{r: r, opts: u.Options, emitFn: emit, fwd: newForwardCache()}
	bits := max(p.Bits(), 16) // chunks of at most a /16 keep memory bounded
	base := u32(p.Addr())
	size := uint64(1) << (32 - bits)
	var failed error
	for k := range uint64(1) << (bits - p.Bits()) {
		if err := ur.chunk(ctx, uint32(uint64(base)+k*size), int(size)); err != nil {
			failed = err
			break
		}
	}
	if ur.emitted == uint64(u.Addresses()) {
		return nil // complete, even if ctx ended just after the last address
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("resolve unit %q: %w", u.ID(), failed)
	}
	return nil
}

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

// chunk resolves the n addresses (a power of two, at most 65536) from
// base: the probes and samples of pruning first, then every address.
func (ur *unitRun) chunk(ctx context.Context, base uint32, n int) error {
	r := ur.r
	bs := min(n, 256)
	blocks := make([]block, n/bs)
	prune := !ur.opts.NoPrune && bs >= pruneMinBlock
	var done []atomic.Uint64 // addresses emitted as samples
	if prune {
		done = make([]atomic.Uint64, (n+63)/64)
		a, b := byte(base>>24), byte(base>>16)
		var nx16 bool
		var ttl16 uint32
		err := ur.run(ctx, 1, func(ctx context.Context, w *slot, _ int) error {
			if err := r.win.acquire(ctx); err != nil {
				return err
			}
			defer r.win.release()
			var q int
			var err error
			nx16, ttl16, q, err = r.verdict16(ctx, w, a, b)
			blocks[0].probeQ.Add(int32(q))
			return err
		})
		if err != nil {
			return err
		}
		err = ur.run(ctx, len(blocks), func(ctx context.Context, w *slot, i int) error {
			return ur.probeBlock(ctx, w, base+uint32(i*bs), bs, &blocks[i], nx16, ttl16, done[i*bs/64:])
		})
		if err != nil {
			return err
		}
		if nx16 && r.prune.disabled16(a, b) {
			// A sample proved the /16's NXDOMAIN wrong: trust only the
			// /24s that answered NXDOMAIN themselves.
			for i := range blocks {
				if blocks[i].via16 {
					blocks[i].pruned = false
				}
			}
		}
	}
	stride, off := uint32(rand.Uint32()|1), rand.Uint32()
	mask := uint32(n - 1)
	if !ur.opts.Confirm {
		order := func(i int) uint32 { return (uint32(i)*stride + off) & mask }
		return ur.fastChunk(ctx, base, n, order, blocks, bs, done)
	}
	return ur.run(ctx, n, func(ctx context.Context, w *slot, i int) error {
		idx := (uint32(i)*stride + off) & mask
		if done != nil && done[idx/64].Load()&(1<<(idx%64)) != 0 {
			return nil
		}
		blk := &blocks[int(idx)/bs]
		ip := addrOf(base + idx)
		if blk.pruned {
			r.stats.pruned.Add(1)
			ur.emit(sweep.Result{IP: ip, Status: sweep.StatusNXDomain, TTL: blk.ttl, Pruned: true, ResolvedAt: time.Now()}, blk)
			return nil
		}
		return ur.resolveEmit(ctx, w, ip, blk)
	})
}

// resolveEmit resolves one address in a window slot and emits it.
func (ur *unitRun) resolveEmit(ctx context.Context, w *slot, ip netip.Addr, blk *block) error {
	r := ur.r
	slot := !blk.silent()
	if slot {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
	}
	res, err := r.resolveOne(ctx, w, ip, ur.opts, ur.fwd, blk, nil)
	if slot {
		r.win.release()
	}
	if err != nil {
		return err
	}
	ur.emit(res, blk)
	return nil
}

// probeBlock decides whether the bs addresses from base are pruned: by the
// /16's NXDOMAIN or by asking for the /24 name, then by resolving a few
// samples (emitted, and marked in done) that must all be nxdomain.
func (ur *unitRun) probeBlock(ctx context.Context, w *slot, base uint32, bs int, blk *block, nx16 bool, ttl16 uint32, done []atomic.Uint64) error {
	r := ur.r
	a, b, c := byte(base>>24), byte(base>>16), byte(base>>8)
	if r.prune.disabled24(a, b, c) {
		return nil
	}
	nx, ttl, via16 := nx16, ttl16, nx16
	if !nx {
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
		var q int
		var err error
		nx, ttl, q, err = r.probe(ctx, w, itoa(c)+"."+itoa(b)+"."+itoa(a)+".in-addr.arpa.", zoneKey(addrOf(base)), blk)
		r.win.release()
		blk.probeQ.Add(int32(q))
		if err != nil {
			return err
		}
	}
	if !nx {
		return nil
	}
	k := max(1, bs/samplesPer)
	var picked [256]bool
	wrong := false
	for range k {
		j := rand.IntN(bs)
		for picked[j] {
			j = (j + 1) % bs
		}
		picked[j] = true
		done[j/64].Or(1 << (j % 64))
		r.stats.sampled.Add(1)
		if err := r.win.acquire(ctx); err != nil {
			return err
		}
		res, err := r.resolveOne(ctx, w, addrOf(base+uint32(j)), ur.opts, ur.fwd, blk, nil)
		r.win.release()
		if err != nil {
			return err
		}
		if res.Status == sweep.StatusOK || res.Status == sweep.StatusNoData {
			wrong = true
		}
		ur.emit(res, blk)
	}
	if wrong {
		r.stats.pruneDisabled.Add(1)
		r.prune.disable(a, b, c, via16)
		return nil
	}
	blk.pruned, blk.ttl, blk.via16 = true, ttl, via16
	return nil
}

// run calls f for every i in [0, n) on at most the Resolver's concurrency
// of goroutines, each with its own slot, and returns the first error (after
// which the others stop taking work).
func (ur *unitRun) run(ctx context.Context, n int, f func(ctx context.Context, w *slot, i int) error) error {
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
			w := slots.Get().(*slot)
			defer slots.Put(w)
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := f(ctx, w, int(i)); err != nil {
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

// resolveOne resolves one address: its PTR records and, when asked, the
// forward confirmation of each name. rs, when not nil, is where the fast
// path left its first query.
func (r *Resolver) resolveOne(ctx context.Context, w *slot, ip netip.Addr, opts sweep.Options, fwd *forwardCache, blk *block, rs *resume) (sweep.Result, error) {
	res := sweep.Result{IP: ip}
	if rs != nil {
		res.Queries = rs.queries
	}
	w.answered = blk
	out, err := r.lookup(ctx, w, "", ip, dns.TypePTR, zoneKey(ip), &res.Queries, rs)
	w.answered = nil
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
		if opts.Confirm {
			for i := range res.PTRs {
				f, err := r.confirm(ctx, w, fwd, res.PTRs[i].Name, ip, &res.Queries)
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
