// Package fleet finds fleets in PTR names: names that share a template once
// their numbers and embedded addresses are abstracted away
// (scan-30.security.ipip.net and scan-7.security.ipip.net are both
// scan-#.security.ipip.net), with the addresses, netblocks, ASNs and
// countries behind each template, and a mark on names that look like
// scanners.
//
// The package is pure (standard library only) and backs `coordinator
// fleets`: feed every (ip, ptr, asn, country, netblock) row to an
// Aggregator, then print Aggregator.Fleets.
package fleet

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// IPToken replaces an embedded address in a template.
const IPToken = "{ip}"

// DigitToken replaces a run of decimal digits in a template.
const DigitToken = "#"

// Template returns the template of a PTR name of the address addr:
//
//  1. Every occurrence of addr written in one of the usual spellings is
//     replaced by "{ip}": its octets in order or reversed (the reverse is
//     how in-addr.arpa and many ISPs write it), separated by '.', '-' or
//     '_' ("1-2-3-4", "ip-1-2-3-4", "4.3.2.1"), zero-padded to three digits
//     with or without separators ("001002003004", "001-002-003-004"), or as
//     eight hex digits ("0102030a", either case). A spelling counts only
//     where it is not part of a longer number: no decimal digit (for hex
//     spellings, no hex digit) directly before or after it. Numbers that
//     merely look like an address but are not addr, or its reverse, are
//     left to step 2.
//  2. Every remaining run of ASCII digits becomes "#".
//
// Letters are kept as they are (stored names are already lower-case). With
// an invalid or non-IPv4 addr only step 2 applies. Template is safe for
// concurrent use.
func Template(name string, addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is4() && mayContain(name, addr) {
		name = replaceAddr(name, addr)
	}
	return replaceDigits(name)
}

// spelling is one way of writing an address, and whether it is hex.
type spelling struct {
	s   string
	hex bool
}

// spellings returns the spellings of a and its reverse, longest first, so
// that a padded form is replaced before an unpadded one it contains.
func spellings(a netip.Addr) []spelling {
	b := a.As4()
	orders := [][4]byte{b, {b[3], b[2], b[1], b[0]}}
	if b == orders[1] {
		orders = orders[:1] // a palindrome such as 1.2.2.1
	}
	out := make([]spelling, 0, 16)
	for _, o := range orders {
		for _, sep := range []string{".", "-", "_"} {
			out = append(out,
				spelling{s: join(o, sep, pad3)},
				spelling{s: join(o, sep, strconv.Itoa)})
		}
		out = append(out, spelling{s: join(o, "", pad3)}, spelling{s: join(o, "", hex2), hex: true})
	}
	slices.SortStableFunc(out, func(x, y spelling) int { return len(y.s) - len(x.s) })
	return out
}

// join writes the four octets with f, separated by sep.
func join(o [4]byte, sep string, f func(int) string) string {
	return f(int(o[0])) + sep + f(int(o[1])) + sep + f(int(o[2])) + sep + f(int(o[3]))
}

func pad3(v int) string {
	return string([]byte{byte('0' + v/100), byte('0' + v/10%10), byte('0' + v%10)})
}

func hex2(v int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>4], digits[v&15]})
}

// mayContain is a quick test that rules out most names: every spelling of
// a or its reverse contains the first octet in decimal (possibly padded,
// which contains the unpadded digits) or in hex.
func mayContain(name string, a netip.Addr) bool {
	first := int(a.As4()[0])
	return strings.Contains(name, strconv.Itoa(first)) || strings.Contains(asciiLower(name), hex2(first))
}

// replaceAddr replaces every bounded occurrence of a spelling of a.
func replaceAddr(name string, a netip.Addr) string {
	for _, sp := range spellings(a) {
		hay := name
		if sp.hex {
			hay = asciiLower(name) // hex digits may be upper-case
		}
		if !strings.Contains(hay, sp.s) {
			continue
		}
		var sb strings.Builder
		last := 0
		for i := 0; i <= len(hay)-len(sp.s); {
			j := strings.Index(hay[i:], sp.s)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(sp.s)
			adjacent := isDigit
			if sp.hex {
				adjacent = isHex
			}
			if (start > 0 && adjacent(hay[start-1])) || (end < len(hay) && adjacent(hay[end])) {
				i = start + 1
				continue
			}
			sb.WriteString(name[last:start])
			sb.WriteString(IPToken)
			last, i = end, end
		}
		if last > 0 {
			sb.WriteString(name[last:])
			name = sb.String()
		}
	}
	return name
}

// replaceDigits replaces every run of ASCII digits by DigitToken.
func replaceDigits(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	inRun := false
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if !inRun {
				sb.WriteString(DigitToken)
			}
			inRun = true
			continue
		}
		inRun = false
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
