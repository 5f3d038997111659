// Package cidr is IPv4 prefix arithmetic on net/netip: parsing CIDR lists,
// files and address ranges strictly (files as a stream of lines), the IANA special-purpose registry, normalized address sets
// with subtraction, minimal CIDR covers, and splitting prefixes into blocks.
// It uses only the standard library. Every function is safe for concurrent
// use; Set values are immutable.
package cidr

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// ParseList parses a comma-separated list of IPv4 CIDRs or bare addresses (a
// bare address is a /32), such as "198.51.100.0/24, 203.0.113.7". Whitespace
// around items is allowed; empty items, IPv6 (IPv4-mapped included), host bits
// set after the prefix length and anything else malformed are errors naming
// the item: nothing is silently fixed. A string of only whitespace gives an
// empty list and no error. Duplicates and overlaps are kept as given.
func ParseList(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	out := make([]netip.Prefix, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, &parseError{
				msg:  fmt.Sprintf("item %d of %q is empty; remove the extra comma", i+1, s),
				kind: ErrEmptyItem,
			}
		}
		p, err := ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseFile parses a list of IPv4 CIDRs or bare addresses with one per line,
// such as a blocklist, with the comment and blank-line rules of Lines.
// Errors are prefixed with "name:line: ".
func ParseFile(r io.Reader, name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	lines := NewLines(r, name)
	for lines.Next() {
		p, err := ParsePrefix(lines.Item())
		if err != nil {
			return nil, lines.Errorf(err)
		}
		out = append(out, p)
	}
	return out, lines.Err()
}

// ParsePrefix parses one IPv4 CIDR ("198.51.100.0/24") or bare address
// ("198.51.100.7", a /32) with the strict rules of ParseList. The item must
// not have surrounding whitespace.
func ParsePrefix(item string) (netip.Prefix, error) {
	addrPart, bitsPart, hasSlash := strings.Cut(item, "/")
	a, err := netip.ParseAddr(addrPart)
	if err != nil {
		return netip.Prefix{}, syntaxError(item, hasSlash)
	}
	bits := 32
	if a.Is6() {
		bits = 128
	}
	if hasSlash {
		bits = parseBits(bitsPart)
		if bits < 0 {
			return netip.Prefix{}, syntaxError(item, hasSlash)
		}
	}
	if a.Is4In6() {
		hint := a.Unmap().String()
		if hasSlash && bits >= 96 && bits <= 128 {
			hint = netip.PrefixFrom(a.Unmap(), bits-96).Masked().String()
		}
		return netip.Prefix{}, &parseError{
			msg:  fmt.Sprintf("%q is an IPv4-mapped IPv6 address: write it as plain IPv4 (%s)", item, hint),
			kind: ErrNotIPv4,
		}
	}
	if a.Is6() {
		return netip.Prefix{}, &parseError{
			msg:  fmt.Sprintf("%q is not IPv4: ptrsweep sweeps IPv4 only", item),
			kind: ErrNotIPv4,
		}
	}
	if bits > 32 {
		return netip.Prefix{}, &parseError{
			msg:  fmt.Sprintf("%q has prefix length %d: IPv4 allows 0 to 32", item, bits),
			kind: ErrPrefixLength,
		}
	}
	p := netip.PrefixFrom(a, bits)
	if m := p.Masked(); m != p {
		return netip.Prefix{}, &parseError{
			msg:  fmt.Sprintf("%q has host bits set; did you mean %s?", item, m),
			kind: ErrHostBits,
		}
	}
	return p, nil
}

// Validate reports whether p is a valid, canonical IPv4 prefix: an IPv4
// address (not IPv4-mapped IPv6) with no host bits set. Its errors match
// those of ParsePrefix.
func Validate(p netip.Prefix) error {
	if !p.IsValid() {
		return &parseError{msg: fmt.Sprintf("%q is not a CIDR (want a.b.c.d/n)", p.String()), kind: ErrSyntax}
	}
	_, err := ParsePrefix(p.String())
	return err
}

// parseBits parses a prefix length: 1 to 3 decimal digits without a leading
// zero (except "0" itself). It returns -1 when s is not such a number.
func parseBits(s string) int {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func syntaxError(item string, hasSlash bool) error {
	if hasSlash {
		return &parseError{msg: fmt.Sprintf("%q is not a CIDR (want a.b.c.d/n)", item), kind: ErrSyntax}
	}
	return &parseError{
		msg:  fmt.Sprintf("%q is not an IPv4 address or CIDR (want a.b.c.d or a.b.c.d/n)", item),
		kind: ErrSyntax,
	}
}
