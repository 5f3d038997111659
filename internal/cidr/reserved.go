package cidr

import "net/netip"

// reserved is the IANA IPv4 Special-Purpose Address Registry
// (https://www.iana.org/assignments/iana-ipv4-special-registry/, RFC 6890),
// plus multicast from the IANA IPv4 Multicast Address Space Registry
// (RFC 5771). None of it is swept unless the user asks for it.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "This network" (RFC 791 §3.2)
	netip.MustParsePrefix("10.0.0.0/8"),         // Private-Use (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),      // Shared Address Space (RFC 6598)
	netip.MustParsePrefix("127.0.0.0/8"),        // Loopback (RFC 1122 §3.2.1.3)
	netip.MustParsePrefix("169.254.0.0/16"),     // Link Local (RFC 3927)
	netip.MustParsePrefix("172.16.0.0/12"),      // Private-Use (RFC 1918)
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF Protocol Assignments (RFC 6890 §2.1)
	netip.MustParsePrefix("192.0.2.0/24"),       // Documentation, TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.31.196.0/24"),    // AS112-v4 (RFC 7535)
	netip.MustParsePrefix("192.52.193.0/24"),    // AMT (RFC 7450)
	netip.MustParsePrefix("192.88.99.0/24"),     // Deprecated 6to4 Relay Anycast (RFC 7526)
	netip.MustParsePrefix("192.168.0.0/16"),     // Private-Use (RFC 1918)
	netip.MustParsePrefix("192.175.48.0/24"),    // Direct Delegation AS112 Service (RFC 7534)
	netip.MustParsePrefix("198.18.0.0/15"),      // Benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"),    // Documentation, TEST-NET-2 (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),     // Documentation, TEST-NET-3 (RFC 5737)
	netip.MustParsePrefix("224.0.0.0/4"),        // Multicast (RFC 5771; multicast registry)
	netip.MustParsePrefix("240.0.0.0/4"),        // Reserved (RFC 1112 §4)
	netip.MustParsePrefix("255.255.255.255/32"), // Limited Broadcast (RFC 8190, RFC 919 §7)
}

// Reserved returns the IPv4 ranges that are never swept unless asked for:
// every entry of the IANA IPv4 Special-Purpose Address Registry, and
// multicast (224.0.0.0/4). The slice is a fresh copy the caller may modify.
func Reserved() []netip.Prefix {
	return append([]netip.Prefix(nil), reserved...)
}

// reservedSet is Reserved as a Set.
var reservedSet = NewSet(reserved...)

// ReservedSet returns Reserved as a Set.
func ReservedSet() Set { return reservedSet }
