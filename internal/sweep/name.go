package sweep

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Stored names follow one form, so names compare by their bytes:
//
//   - no trailing dot; the root itself is "."
//   - ASCII letters A–Z lower-cased; every other byte kept as it is
//   - DNS presentation escaping as github.com/miekg/dns writes it (RFC 1035
//     §5.1): a space as "\ ", any other byte outside 0x21–0x7E as \DDD
//     (decimal), and the characters . ( ) ; @ " ' \ inside a label escaped
//     with a backslash. Knot and dig write a space as \032; the resolver
//     normalises every answer to the form above.
//
// CanonicalName applies the first two rules to a name already in that
// presentation form (as miekg/dns unpacks it).

// CanonicalName returns name without its trailing dot and with ASCII letters
// lower-cased. Escapes are kept as they are: "\065" stays "\065", a label's
// escaped dot ("\.") is not a separator.
func CanonicalName(name string) string {
	if name == "." || name == "" {
		return name
	}
	if strings.HasSuffix(name, ".") && !escapedAt(name, len(name)-1) {
		name = name[:len(name)-1]
	}
	upper := false
	for i := 0; i < len(name) && !upper; i++ {
		upper = 'A' <= name[i] && name[i] <= 'Z'
	}
	if !upper {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// escapedAt reports whether the byte at i is escaped by an odd run of
// backslashes before it.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// SplitLabels splits a presentation-form name into its labels at unescaped
// dots. A trailing dot is ignored; the root name gives no labels.
func SplitLabels(name string) []string {
	if name == "" || name == "." {
		return nil
	}
	var labels []string
	start := 0
	for _, d := range labelDots(nil, name) {
		labels = append(labels, name[start:d])
		start = d + 1
	}
	if start < len(name) {
		labels = append(labels, name[start:])
	}
	return labels
}

// labelDots appends to dots the index of each dot of name that separates
// labels (not escaped).
func labelDots(dots []int, name string) []int {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++ // skip the escaped byte; \DDD digits are never dots
		case '.':
			dots = append(dots, i)
		}
	}
	return dots
}

// ReverseLabels returns name with its labels in reverse order, joined by dots:
// "scan-30.security.ipip.net" gives "net.ipip.security.scan-30". It is the
// stored sort key that turns a suffix search into a prefix range. The root
// (".") reverses to "".
func ReverseLabels(name string) string {
	if name == "" || name == "." {
		return ""
	}
	var buf [256]byte
	return string(AppendReverseLabels(buf[:0], name))
}

// AppendReverseLabels appends ReverseLabels(name) to dst without
// allocating (inserts compute it for every row).
func AppendReverseLabels(dst []byte, name string) []byte {
	if name == "" || name == "." {
		return dst
	}
	var buf [128]int // a name has at most 128 labels on the wire
	dots := labelDots(buf[:0], name)
	n := len(dots)
	end := len(name)
	if n > 0 && dots[n-1] == len(name)-1 { // a trailing dot
		end = len(name) - 1
		n--
	}
	for k := n - 1; k >= 0; k-- {
		dst = append(dst, name[dots[k]+1:end]...)
		dst = append(dst, '.')
		end = dots[k]
	}
	return append(dst, name[:end]...)
}

// ReverseName returns the in-addr.arpa name of an IPv4 address, with the
// trailing dot: 198.51.100.7 gives "7.100.51.198.in-addr.arpa.".
func ReverseName(ip netip.Addr) string {
	var b [32]byte
	return string(AppendReverseName(b[:0], ip))
}

// AppendReverseName appends ReverseName(ip) to b.
func AppendReverseName(b []byte, ip netip.Addr) []byte {
	a := ip.As4()
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, uint64(a[i]), 10)
		b = append(b, '.')
	}
	return append(b, "in-addr.arpa."...)
}

// ParseReverseName parses an in-addr.arpa name, with or without its
// trailing dot, in any case: "7.100.51.198.in-addr.arpa" gives the address
// 198.51.100.7 as a /32. A name with fewer labels names a reverse zone:
// "100.51.198.in-addr.arpa." gives 198.51.100.0/24, "51.198.in-addr.arpa"
// 198.51.0.0/16, "198.in-addr.arpa" 198.0.0.0/8. Each label is a decimal
// octet without leading zeros. Anything else (ip6.arpa, RFC 2317
// classless names such as "0/25.100.51.198.in-addr.arpa", more than four
// octets) is an error naming the name and wrapping ErrReverseName.
func ParseReverseName(name string) (netip.Prefix, error) {
	const suffix = ".in-addr.arpa"
	n := strings.TrimSuffix(name, ".")
	if len(n) <= len(suffix) || !strings.EqualFold(n[len(n)-len(suffix):], suffix) {
		return netip.Prefix{}, fmt.Errorf("%q is not an in-addr.arpa name with 1 to 4 octets (want d.c.b.a.in-addr.arpa): %w", name, ErrReverseName)
	}
	labels := strings.Split(n[:len(n)-len(suffix)], ".")
	if len(labels) > 4 {
		return netip.Prefix{}, fmt.Errorf("%q has %d octets; an IPv4 reverse name has at most 4: %w", name, len(labels), ErrReverseName)
	}
	var a [4]byte
	for i, l := range labels {
		v, ok := parseOctet(l)
		if !ok {
			return netip.Prefix{}, fmt.Errorf("%q: label %q is not an octet 0-255 without leading zeros (RFC 2317 classless names are zones, not addresses): %w", name, l, ErrReverseName)
		}
		a[len(labels)-1-i] = v
	}
	return netip.PrefixFrom(netip.AddrFrom4(a), 8*len(labels)), nil
}

// parseOctet parses a decimal 0-255 without a leading zero ("0" itself is fine).
func parseOctet(s string) (byte, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return byte(v), v <= 255
}

// ReverseZone returns the in-addr.arpa name of the zone that holds a prefix
// of 8, 16 or 24 bits: 198.51.100.0/24 gives "100.51.198.in-addr.arpa.".
func ReverseZone(p netip.Prefix) (string, error) {
	a := p.Masked().Addr().As4()
	switch p.Bits() {
	case 8:
		return fmt.Sprintf("%d.in-addr.arpa.", a[0]), nil
	case 16:
		return fmt.Sprintf("%d.%d.in-addr.arpa.", a[1], a[0]), nil
	case 24:
		return fmt.Sprintf("%d.%d.%d.in-addr.arpa.", a[2], a[1], a[0]), nil
	}
	return "", fmt.Errorf("reverse zone of %s: prefix length must be 8, 16 or 24", p)
}

// CheckName reports whether name is well-formed presentation text for
// SplitLabels and ReverseLabels: every backslash escapes a byte or starts
// a \DDD escape with DDD ≤ 255, no label is empty (except the root), and no
// label is longer than 63 bytes on the wire.
func CheckName(name string) error {
	if name == "" || name == "." {
		return nil
	}
	wire := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '\\':
			if i+1 >= len(name) {
				return fmt.Errorf("name %q ends in a lone backslash (escape it as \\\\)", name)
			}
			if isDigit(name[i+1]) {
				if i+3 >= len(name) || !isDigit(name[i+2]) || !isDigit(name[i+3]) {
					return fmt.Errorf("name %q has a bad \\DDD escape (want three decimal digits)", name)
				}
				if v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0'); v > 255 {
					return fmt.Errorf("name %q has \\%s, above \\255", name, name[i+1:i+4])
				}
				i += 3
			} else {
				i++
			}
			wire++
		case c == '.':
			if wire == 0 && !(i == len(name)-1 && i > 0) {
				return fmt.Errorf("name %q has an empty label", name)
			}
			wire = 0
			continue
		default:
			wire++
		}
		if wire > 63 {
			return fmt.Errorf("name %q has a label longer than 63 bytes", name)
		}
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
