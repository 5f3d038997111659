package resolve

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// ResolveAddrs resolves every address of addrs, in any order and any mix
// of networks, and calls emit exactly once per element with its Result:
// an address given twice gets two Results, each of its own. Its queries
// run on the same event-driven fast path as a unit's, so one call with
// thousands of scattered addresses fills the in-flight window. Pruning
// (RFC 8020, unless opts.NoPrune) applies only to the /24s of which addrs
// holds at least 64 distinct addresses (pruneMinBlock), where probing saves
// queries; scattered addresses cost no probe. opts.Confirm confirms every
// PTR name. emit is called as by Resolve (serialized, on the Resolver's
// goroutines, never after ResolveAddrs returns). It returns nil once every
// address is emitted, ctx.Err() when ctx ends first, an error wrapping
// ErrBadAddr before any query when an address is not IPv4, or one wrapping
// ErrSocket when no query can be sent at all. ResolveAddrs and Resolve
// calls may run at once on one Resolver and share its window and limits.
func (r *Resolver) ResolveAddrs(ctx context.Context, addrs []netip.Addr, opts sweep.Options, emit func(sweep.Result)) error {
	l, err := newAddrList(addrs)
	if err != nil {
		return fmt.Errorf("resolve %d addresses: %w", len(addrs), err)
	}
	if len(addrs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.eng.acquire(); err != nil {
		return fmt.Errorf("resolve %d addresses: %w", len(addrs), err)
	}
	defer r.eng.release()
	ur := &unitRun{r: r, opts: opts, emitFn: emit, fwd: newForwardCache()}
	err = ur.list(ctx, l)
	if ur.emitted == uint64(len(addrs)) {
		return nil // complete, even if ctx ended just after the last address
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("resolve %d addresses: %w", len(addrs), err)
	}
	return nil
}

// addrList is an address list being resolved: the addresses sorted (so
// each /24's are together and duplicates adjacent), each with its /24's
// block.
type addrList struct {
	ips    []uint32
	blk    []int32 // blk[i] indexes blocks for ips[i]
	blocks []block
	first  []int32         // per block, the index in ips of its first address
	done   []atomic.Uint64 // by index in ips: emitted as a pruning sample
}

// newAddrList sorts a copy of addrs and finds their /24 blocks. An
// address that is not IPv4 (nor IPv4-mapped IPv6) gives ErrBadAddr.
func newAddrList(addrs []netip.Addr) (*addrList, error) {
	l := &addrList{ips: make([]uint32, len(addrs)), blk: make([]int32, len(addrs))}
	for i, a := range addrs {
		a = a.Unmap()
		if !a.Is4() {
			return nil, fmt.Errorf("%w: address %d is %q", ErrBadAddr, i+1, a)
		}
		l.ips[i] = u32(a)
	}
	slices.Sort(l.ips)
	for i, ip := range l.ips {
		if i == 0 || ip>>8 != l.ips[i-1]>>8 {
			l.blocks = append(l.blocks, block{base: ip &^ 0xFF})
			l.first = append(l.first, int32(i))
		}
		l.blk[i] = int32(len(l.blocks) - 1)
	}
	return l, nil
}

// distinct returns the indexes in ips of the distinct addresses of block
// k (the first of each run of duplicates), appended to out.
func (l *addrList) distinct(k int, out []int32) []int32 {
	end := len(l.ips)
	if k+1 < len(l.first) {
		end = int(l.first[k+1])
	}
	for i := int(l.first[k]); i < end; i++ {
		if i == int(l.first[k]) || l.ips[i] != l.ips[i-1] {
			out = append(out, int32(i))
		}
	}
	return out
}

// list resolves l: the pruning of its dense /24s first, then every
// address in a shuffled order.
func (ur *unitRun) list(ctx context.Context, l *addrList) error {
	if !ur.opts.NoPrune {
		if err := ur.pruneList(ctx, l); err != nil {
			return err
		}
	}
	n := len(l.ips)
	m := 1 << bits.Len(uint(n-1)) // the shuffle walks a power of two
	stride, off := uint32(rand.Uint32()|1), rand.Uint32()
	mask := uint32(m - 1)
	return ur.resolveAll(ctx, m, func(i int) (uint32, *block, bool) {
		idx := int((uint32(i)*stride + off) & mask)
		if idx >= n {
			return 0, nil, false
		}
		ip, blk := l.ips[idx], &l.blocks[l.blk[idx]]
		return ip, blk, ur.settle(ip, blk, l.done, idx)
	})
}

// pruneList probes the blocks of l that hold at least pruneMinBlock
// distinct addresses, as a unit's chunk probes its /24s.
func (ur *unitRun) pruneList(ctx context.Context, l *addrList) error {
	var dense []int
	var buf []int32
	for k := range l.blocks {
		if buf = l.distinct(k, buf[:0]); len(buf) >= pruneMinBlock {
			dense = append(dense, k)
		}
	}
	if len(dense) == 0 {
		return nil
	}
	l.done = make([]atomic.Uint64, (len(l.ips)+63)/64)
	err := ur.run(ctx, len(dense), func(ctx context.Context, sl *slot, i int) error {
		return ur.probeListBlock(ctx, sl, l, dense[i])
	})
	if err != nil {
		return err
	}
	ur.r.recheck16(l.blocks)
	return nil
}

// probeListBlock decides whether block k of l is pruned, asking its /16's
// verdict first (shared by every call for 10 minutes).
func (ur *unitRun) probeListBlock(ctx context.Context, sl *slot, l *addrList, k int) error {
	r := ur.r
	blk := &l.blocks[k]
	if err := r.win.acquire(ctx); err != nil {
		return err
	}
	nx16, ttl16, q, err := r.verdict16(ctx, sl, byte(blk.base>>24), byte(blk.base>>16))
	r.win.release()
	blk.probeQ.Add(int32(q))
	if err != nil {
		return err
	}
	idx := l.distinct(k, make([]int32, 0, 256))
	return ur.probeSet(ctx, sl, probeSet{
		blk: blk, n: len(idx), nx16: nx16, ttl16: ttl16, done: l.done,
		at: func(j int) (uint32, int) { return l.ips[idx[j]], int(idx[j]) },
	})
}
