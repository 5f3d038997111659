package cidr

import (
	"fmt"
	"iter"
	"net/netip"
	"strings"
)

// ParseItem parses one item of an address list and appends its prefixes to
// dst: a bare address or a CIDR (one prefix, the rules of ParsePrefix), or
// a range "198.51.100.7-198.51.100.90" of two addresses, both included
// (the minimal CIDRs that cover it, in address order; whitespace around the
// dash is allowed). Errors name the item and wrap one of the sentinel
// errors; dst is then returned unchanged.
func ParseItem(dst []netip.Prefix, item string) ([]netip.Prefix, error) {
	first, last, isRange := strings.Cut(item, "-")
	if !isRange {
		p, err := ParsePrefix(item)
		if err != nil {
			return dst, err
		}
		return append(dst, p), nil
	}
	lo, errLo := ParsePrefix(strings.TrimSpace(first))
	hi, errHi := ParsePrefix(strings.TrimSpace(last))
	if errLo != nil || errHi != nil || lo.Bits() != 32 || hi.Bits() != 32 {
		return dst, &parseError{
			msg:  fmt.Sprintf("%q is not an IPv4 range (want a.b.c.d-e.f.g.h, two addresses)", item),
			kind: ErrSyntax,
		}
	}
	if hi.Addr().Less(lo.Addr()) {
		return dst, &parseError{
			msg:  fmt.Sprintf("%q ends before it starts; did you mean %s-%s?", item, hi.Addr(), lo.Addr()),
			kind: ErrRangeOrder,
		}
	}
	for p := range Range(lo.Addr(), hi.Addr()) {
		dst = append(dst, p)
	}
	return dst, nil
}

// Range returns an iterator over the minimal CIDRs that cover the addresses
// from first to last, both included, in address order. It yields nothing
// when last is before first or either is not IPv4.
func Range(first, last netip.Addr) iter.Seq[netip.Prefix] {
	if !first.Is4() || !last.Is4() || last.Less(first) {
		return func(func(netip.Prefix) bool) {}
	}
	return Set{r: []span{{AddrToUint32(first), AddrToUint32(last)}}}.All()
}
