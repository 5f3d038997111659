package cidr

import (
	"fmt"
	"iter"
	"net/netip"
)

// SplitCount returns the number of /bits blocks that Split(p, bits) gives:
// 2^(bits-p.Bits()), or 1 when bits <= p.Bits() (p stays whole). It panics
// if p is not an IPv4 prefix or bits is outside 0..32.
func SplitCount(p netip.Prefix, bits int) uint64 {
	checkSplit(p, bits)
	if bits <= p.Bits() {
		return 1
	}
	return uint64(1) << (bits - p.Bits())
}

// SplitAt returns block i, in address order, of Split(p, bits) without
// building the list. It panics if i >= SplitCount(p, bits), if p is not an
// IPv4 prefix or if bits is outside 0..32.
func SplitAt(p netip.Prefix, bits int, i uint64) netip.Prefix {
	n := SplitCount(p, bits)
	if i >= n {
		panic(fmt.Sprintf("cidr: SplitAt(%s, %d, %d): index out of range [0, %d)", p, bits, i, n))
	}
	if bits <= p.Bits() {
		return p.Masked()
	}
	base := uint64(AddrToUint32(p.Masked().Addr()))
	return netip.PrefixFrom(Uint32ToAddr(uint32(base+i<<(32-bits))), bits)
}

// Split returns p cut into /bits blocks in address order; when bits <=
// p.Bits(), p stays whole. It builds the whole list: use SplitCount with
// SplitAt or Subnets when the count can be large (0.0.0.0/0 at /32 is 2^32
// blocks). It panics if p is not an IPv4 prefix or bits is outside 0..32.
func Split(p netip.Prefix, bits int) []netip.Prefix {
	out := make([]netip.Prefix, 0, SplitCount(p, bits))
	for q := range Subnets(p, bits) {
		out = append(out, q)
	}
	return out
}

// Subnets returns an iterator over the blocks of Split(p, bits) without
// building the list. It panics if p is not an IPv4 prefix or bits is outside
// 0..32.
func Subnets(p netip.Prefix, bits int) iter.Seq[netip.Prefix] {
	n := SplitCount(p, bits)
	bits = max(bits, p.Bits())
	base := uint64(AddrToUint32(p.Masked().Addr()))
	return func(yield func(netip.Prefix) bool) {
		for i := uint64(0); i < n; i++ {
			if !yield(netip.PrefixFrom(Uint32ToAddr(uint32(base+i<<(32-bits))), bits)) {
				return
			}
		}
	}
}

func checkSplit(p netip.Prefix, bits int) {
	if !p.IsValid() || !p.Addr().Is4() {
		panic(fmt.Sprintf("cidr: split %s: not an IPv4 prefix", p))
	}
	if bits < 0 || bits > 32 {
		panic(fmt.Sprintf("cidr: split %s into /%d: bits out of range 0..32", p, bits))
	}
}
