// Package enrich maps IPv4 addresses to what routing and registry data say
// about them: the routed network (the most specific prefix that contains
// the address), its origin AS number, the AS's name and a country code.
//
// A Table holds that mapping as sorted, non-overlapping address ranges, so
// Lookup is a binary search and nested networks need no tree at query time:
// the Builder flattens nested prefixes with longest-prefix-match semantics
// (45.118.132.0/22 JP around 45.118.132.0/23 SG gives SG inside the /23 and
// JP in the rest of the /22). Tables are built from these file formats, each
// read as a stream:
//
//   - FormatPfx2AS: RouteViews/CAIDA prefix-to-AS files
//     ("prefix<TAB>length<TAB>asn") and the "prefix/length<TAB>asn" files of
//     pyasn (Debian's python3-pyasn ships one), see ReadPfx2AS;
//   - FormatIPtoASN: iptoasn.com's ip2asn-v4.tsv, see ReadIPtoASN;
//   - FormatMMDB: MaxMind GeoLite2/GeoIP2 ASN, Country or City databases
//     (.mmdb), see ReadMMDB;
//   - FormatLocation: the text dump of IPFire's location database
//     ("location dump FILE"; Debian's libloc-database and location packages),
//     see ReadLocationDump.
//
// Only IPv4 is kept; IPv6 networks in a file are counted in Stats.SkippedIPv6
// and otherwise ignored. Every malformed line is an error naming the file,
// the line and what was wrong (a *ParseError wrapping ErrFormat).
//
// The package is pure: it imports the standard library, internal/cidr and
// the MaxMind DB reader only, and does no I/O beyond the files it is given.
package enrich
