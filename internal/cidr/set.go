package cidr

import (
	"cmp"
	"iter"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// Set is a set of IPv4 addresses kept as sorted, non-overlapping,
// non-adjacent ranges. It can hold the whole space 0.0.0.0/0 (2^32
// addresses). The zero value is the empty set. A Set is immutable: every
// operation returns a new Set, so Sets are safe to share and to use
// concurrently.
type Set struct {
	r []span // sorted by lo, r[i].hi+1 < r[i+1].lo
}

// span is the inclusive range of addresses lo..hi, as integers.
type span struct{ lo, hi uint32 }

// NewSet returns the set of addresses covered by ps. Host bits of a prefix
// are ignored (10.1.2.3/8 covers 10.0.0.0/8); prefixes that are not valid
// IPv4 prefixes (IPv6, IPv4-mapped IPv6, the zero Prefix) are ignored, so
// validate user input with ParseList or Validate first.
func NewSet(ps ...netip.Prefix) Set {
	r := make([]span, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() || !p.Addr().Is4() {
			continue
		}
		r = append(r, prefixSpan(p))
	}
	return Set{r: normalize(r)}
}

// Merge returns the minimal list of CIDRs that covers exactly the given
// addresses, sorted by address: 198.51.100.0 and 198.51.100.1 give
// 198.51.100.0/31. Duplicates are fine; addresses that are not IPv4 are
// ignored.
func Merge(addrs []netip.Addr) []netip.Prefix {
	r := make([]span, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			u := AddrToUint32(a)
			r = append(r, span{u, u})
		}
	}
	return Set{r: normalize(r)}.Prefixes()
}

// normalize sorts r and merges overlapping and adjacent spans, in place.
func normalize(r []span) []span {
	if len(r) == 0 {
		return nil
	}
	slices.SortFunc(r, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	out := r[:1]
	for _, s := range r[1:] {
		last := &out[len(out)-1]
		if uint64(s.lo) <= uint64(last.hi)+1 {
			last.hi = max(last.hi, s.hi)
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// Union returns the addresses in s or o.
func (s Set) Union(o Set) Set {
	r := make([]span, 0, len(s.r)+len(o.r))
	r = append(append(r, s.r...), o.r...)
	return Set{r: normalize(r)}
}

// Subtract returns the addresses in s that are not in o.
func (s Set) Subtract(o Set) Set {
	var out []span
	j := 0
	for _, a := range s.r {
		lo, hi := uint64(a.lo), uint64(a.hi)
		for j < len(o.r) && uint64(o.r[j].hi) < lo {
			j++
		}
		// o.r[j:] may overlap a; o.r[j] may also overlap the next span of s,
		// so j only moves past spans that end before a starts.
		for k := j; k < len(o.r) && uint64(o.r[k].lo) <= hi; k++ {
			b := o.r[k]
			if uint64(b.lo) > lo {
				out = append(out, span{uint32(lo), b.lo - 1})
			}
			lo = uint64(b.hi) + 1
			if lo > hi {
				break
			}
		}
		if lo <= hi {
			out = append(out, span{uint32(lo), uint32(hi)})
		}
	}
	return Set{r: out}
}

// Intersect returns the addresses in both s and o.
func (s Set) Intersect(o Set) Set {
	return s.Subtract(s.Subtract(o))
}

// Contains reports whether a is in s. It is false for any address that is
// not IPv4.
func (s Set) Contains(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	u := AddrToUint32(a)
	i, _ := slices.BinarySearchFunc(s.r, u, func(sp span, u uint32) int {
		switch {
		case sp.hi < u:
			return -1
		case sp.lo > u:
			return 1
		}
		return 0
	})
	return i < len(s.r) && s.r[i].lo <= u && u <= s.r[i].hi
}

// Overlaps reports whether any address of p is in s. It is false for a
// prefix that is not IPv4.
func (s Set) Overlaps(p netip.Prefix) bool {
	if !p.IsValid() || !p.Addr().Is4() {
		return false
	}
	ps := prefixSpan(p)
	// The first span that does not end before p starts.
	i, _ := slices.BinarySearchFunc(s.r, ps.lo, func(sp span, u uint32) int {
		if sp.hi < u {
			return -1
		}
		return 1
	})
	return i < len(s.r) && s.r[i].lo <= ps.hi
}

// Size returns the number of addresses in s, up to 2^32.
func (s Set) Size() uint64 {
	var n uint64
	for _, sp := range s.r {
		n += uint64(sp.hi) - uint64(sp.lo) + 1
	}
	return n
}

// Empty reports whether s has no addresses.
func (s Set) Empty() bool { return len(s.r) == 0 }

// Equal reports whether s and o hold the same addresses.
func (s Set) Equal(o Set) bool { return slices.Equal(s.r, o.r) }

// Prefixes returns the minimal list of CIDRs that covers exactly s, sorted by
// address. Each is the largest aligned block inside s that holds it.
func (s Set) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for p := range s.All() {
		out = append(out, p)
	}
	return out
}

// All returns an iterator over the CIDRs of Prefixes, without building the
// list.
func (s Set) All() iter.Seq[netip.Prefix] {
	return func(yield func(netip.Prefix) bool) {
		for _, sp := range s.r {
			lo, hi := uint64(sp.lo), uint64(sp.hi)
			for lo <= hi {
				// The largest block aligned at lo (2^32 at lo == 0) that ends
				// at or before hi.
				size := 32
				if lo != 0 {
					size = bits.TrailingZeros64(lo)
				}
				for lo+(uint64(1)<<size)-1 > hi {
					size--
				}
				if !yield(netip.PrefixFrom(Uint32ToAddr(uint32(lo)), 32-size)) {
					return
				}
				lo += uint64(1) << size
			}
		}
	}
}

// String returns the CIDRs of s, comma-separated, in the form ParseList
// reads; the empty set is "".
func (s Set) String() string {
	var b strings.Builder
	for p := range s.All() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// prefixSpan returns the range of an IPv4 prefix.
func prefixSpan(p netip.Prefix) span {
	lo := AddrToUint32(p.Masked().Addr())
	return span{lo, lo | uint32(uint64(1)<<(32-p.Bits())-1)}
}
