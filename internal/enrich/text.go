package enrich

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

// Stats counts what a reader saw. Add the counts of several files with Add.
type Stats struct {
	// Lines is the number of lines read (0 for a MaxMind DB).
	Lines int
	// Networks is the number of IPv4 networks (prefixes) added to the Builder.
	Networks int
	// SkippedIPv6 is the number of IPv6 networks or ranges ignored.
	SkippedIPv6 int
	// Unrouted is the number of ranges the source marks as not routed
	// (iptoasn.com rows with AS 0); they are not added.
	Unrouted int
	// Names is the number of AS names read.
	Names int
	// Date is the date of the data when the file says it (a location dump's
	// "Generated:" line, a pyasn file's RIB name, a MaxMind DB's build
	// time), in UTC; zero when the file does not say.
	Date time.Time
}

// Add adds o's counts to s and keeps the later of the two dates.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Networks += o.Networks
	s.SkippedIPv6 += o.SkippedIPv6
	s.Unrouted += o.Unrouted
	s.Names += o.Names
	if o.Date.After(s.Date) {
		s.Date = o.Date
	}
}

// maxLine bounds one input line; the longest real lines (AS names) are far
// shorter.
const maxLine = 64 << 10

// lines calls fn for every line of r with its 1-based number, without the
// line ending. A UTF-8 byte order mark at the start is dropped.
func lines(r io.Reader, name string, st *Stats, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		st.Lines++
		l := sc.Bytes()
		if n == 1 {
			l = bytes.TrimPrefix(l, []byte("\uFEFF"))
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if err := fn(n, l); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return parseErr(name, n+1, "line longer than %d bytes: is this a text file of the expected format?", maxLine)
		}
		return fmt.Errorf("%s:%d: read: %w", name, n+1, err)
	}
	return nil
}

// parseASN parses an AS number in asplain form, with an optional "AS"
// prefix.
func parseASN(b []byte) (uint32, bool) {
	if len(b) > 2 && (b[0] == 'A' || b[0] == 'a') && (b[1] == 'S' || b[1] == 's') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 0xFFFFFFFF {
		return 0, false
	}
	return uint32(v), true
}

// originASN reads the origin field of a pfx2as line. Multi-origin prefixes
// ("123_456") and AS sets ("123,456", "{123,456}", and combinations such as
// "123_{456,789}") yield the first AS number listed.
func originASN(b []byte) (uint32, bool) {
	end := bytes.IndexAny(b, "_,")
	first := b
	if end >= 0 {
		first = b[:end]
		// the rest must be AS numbers too
		for _, part := range bytes.FieldsFunc(b[end:], func(r rune) bool { return r == '_' || r == ',' }) {
			if _, ok := parseASN(bytes.Trim(part, "{}")); !ok {
				return 0, false
			}
		}
	}
	return parseASN(bytes.Trim(first, "{}"))
}

// ribDate finds a yyyymmdd date in a pyasn or RouteViews file name.
var ribDate = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))(?:[^0-9]|$)`)

// DateFromName returns the first yyyymmdd date in a file name such as
// routeviews-rv2-20240101-1200.pfx2as.gz or ipasn_20140513.dat.gz, and
// false when it has none.
func DateFromName(name string) (time.Time, bool) {
	m := ribDate.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", m[1])
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// ReadPfx2AS reads a prefix-to-AS file into b. Each line is either
// RouteViews/CAIDA's "prefix<TAB>length<TAB>origin" or pyasn's
// "prefix/length<TAB>origin" (fields may also be separated by spaces).
// Lines starting with ';' or '#' are comments; in pyasn's header the
// "Original file" comment gives Stats.Date. An origin is an AS number, or
// several: multi-origin prefixes ("3356_174") and AS sets ("{3356,174}")
// map to the first AS number listed, which is the documented rule of this
// package (the table keeps one origin per network). IPv6 prefixes are
// counted and skipped. name labels errors.
func ReadPfx2AS(r io.Reader, name string, b *Builder) (Stats, error) {
	var st Stats
	b.source(name)
	err := lines(r, name, &st, func(n int, l []byte) error {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			return nil
		}
		if l[0] == ';' || l[0] == '#' {
			if st.Date.IsZero() && bytes.Contains(l, []byte("Original file")) {
				if d, ok := DateFromName(string(l)); ok {
					st.Date = d
				}
			}
			return nil
		}
		f := bytes.Fields(l)
		var pfx string
		var origin []byte
		switch len(f) {
		case 2:
			pfx, origin = string(f[0]), f[1]
		case 3:
			pfx, origin = string(f[0])+"/"+string(f[1]), f[2]
		default:
			return parseErr(name, n, "want \"prefix<TAB>length<TAB>asn\" or \"prefix/length<TAB>asn\", got %d fields", len(f))
		}
		p, err := cidr.ParsePrefix(pfx)
		if errors.Is(err, cidr.ErrNotIPv4) {
			st.SkippedIPv6++
			return nil
		}
		if err != nil {
			return parseErr(name, n, "prefix: %v", err)
		}
		asn, ok := originASN(origin)
		if !ok {
			return parseErr(name, n, "origin %q: want an AS number, \"a_b\" (multi-origin) or \"{a,b}\" (AS set)", origin)
		}
		if err := b.Add(p, asn, "", n); err != nil {
			return parseErr(name, n, "%v", err)
		}
		st.Networks++
		return nil
	})
	return st, err
}

// ReadIPtoASN reads iptoasn.com's ip2asn-v4.tsv (or ip2asn-combined.tsv)
// into b: "range_start<TAB>range_end<TAB>AS_number<TAB>country_code<TAB>
// AS_description". Rows with AS number 0 ("Not routed") are counted in
// Stats.Unrouted and not added; a country of "None" or "Unknown" means
// none. Ranges must be sorted and must not overlap, as iptoasn.com writes
// them. A range that is not one CIDR block is split into the fewest CIDR
// blocks, and each becomes a network of the table (Info.Net). IPv6 rows are
// counted and skipped. The file has no date.
func ReadIPtoASN(r io.Reader, name string, b *Builder) (Stats, error) {
	var st Stats
	b.source(name)
	var next uint64 // the lowest address the next range may start at
	prevLine := 0
	err := lines(r, name, &st, func(n int, l []byte) error {
		if len(bytes.TrimSpace(l)) == 0 {
			return nil
		}
		f := bytes.SplitN(l, []byte("\t"), 5)
		if len(f) != 5 {
			return parseErr(name, n, "want 5 tab-separated fields (range_start, range_end, AS_number, country_code, AS_description), got %d", len(f))
		}
		first, err1 := netip.ParseAddr(string(f[0]))
		last, err2 := netip.ParseAddr(string(f[1]))
		if err1 != nil || err2 != nil {
			return parseErr(name, n, "range %q-%q: want two IP addresses", f[0], f[1])
		}
		if first.Is6() || last.Is6() {
			if first.Is4() != last.Is4() {
				return parseErr(name, n, "range %s-%s mixes IPv4 and IPv6", first, last)
			}
			st.SkippedIPv6++
			return nil
		}
		lo, hi := cidr.AddrToUint32(first), cidr.AddrToUint32(last)
		if lo > hi {
			return parseErr(name, n, "range %s-%s ends before it starts", first, last)
		}
		if uint64(lo) < next {
			return parseErr(name, n, "range %s-%s overlaps or precedes the range on line %d: want sorted, non-overlapping ranges", first, last, prevLine)
		}
		next, prevLine = uint64(hi)+1, n
		asn, ok := parseASN(f[2])
		if !ok {
			return parseErr(name, n, "AS number %q: want a number", f[2])
		}
		if asn == 0 {
			st.Unrouted++
			return nil
		}
		country := string(f[3])
		if country == "None" || country == "Unknown" {
			country = ""
		}
		if _, err := countryCode(country); err != nil {
			return parseErr(name, n, "%v", err)
		}
		if desc := string(bytes.TrimSpace(f[4])); desc != "" {
			b.SetName(asn, desc)
			st.Names++
		}
		for p := range rangePrefixes(lo, hi) {
			if err := b.Add(p, asn, country, n); err != nil {
				return parseErr(name, n, "%v", err)
			}
			st.Networks++
		}
		return nil
	})
	return st, err
}

// rangePrefixes yields the fewest CIDR blocks covering lo..hi in order.
func rangePrefixes(lo, hi uint32) func(func(netip.Prefix) bool) {
	return func(yield func(netip.Prefix) bool) {
		cur, end := uint64(lo), uint64(hi)
		for cur <= end {
			bits := 32
			for bits > 0 {
				size := uint64(1) << (32 - (bits - 1))
				if cur%size != 0 || cur+size-1 > end {
					break
				}
				bits--
			}
			if !yield(netip.PrefixFrom(cidr.Uint32ToAddr(uint32(cur)), bits)) {
				return
			}
			cur += uint64(1) << (32 - bits)
		}
	}
}

// Keys of the location dump. Flags are read and ignored: the table has no
// place for them.
var locationFlags = map[string]bool{
	"is-anycast": true, "is-satellite-provider": true, "is-anonymous-proxy": true, "drop": true,
}

// ReadLocationDump reads the text dump of IPFire's location database
// ("location dump FILE", libloc) into b. The dump is blocks separated by
// blank lines: "aut-num: AS<n>" with "name: …" names an AS; "net: <prefix>"
// with optional "country: CC" and "aut-num: <n>" describes a network.
// Networks nest, and the Table built from b answers with the most specific
// one (libloc's own lookup rule; a nested network does not inherit its
// parent's AS or country). Flag lines (is-anycast, is-satellite-provider,
// is-anonymous-proxy, drop) are ignored; any other key is an error, as is a
// line that is not "key: value". The "# Generated:" header gives
// Stats.Date. IPv6 networks are counted and skipped.
func ReadLocationDump(r io.Reader, name string, b *Builder) (Stats, error) {
	var st Stats
	b.source(name)
	type block struct {
		kind    string // "net" or "aut-num"; "" between blocks
		start   int    // line of the first key
		prefix  netip.Prefix
		v6      bool
		asn     uint32
		country string
		asName  string
		hasName bool
		hasASN  bool
		hasCC   bool
	}
	var blk block
	countries := make(map[string]string)
	finish := func() error {
		switch blk.kind {
		case "net":
			if blk.v6 {
				st.SkippedIPv6++
				break
			}
			if err := b.Add(blk.prefix, blk.asn, blk.country, blk.start); err != nil {
				return parseErr(name, blk.start, "%v", err)
			}
			st.Networks++
		case "aut-num":
			if !blk.hasName {
				return parseErr(name, blk.start, "aut-num block without a \"name:\" line")
			}
			b.SetName(blk.asn, blk.asName)
			st.Names++
		}
		blk = block{}
		return nil
	}
	err := lines(r, name, &st, func(n int, l []byte) error {
		if len(bytes.TrimSpace(l)) == 0 {
			return finish()
		}
		if l[0] == '#' {
			if v, ok := bytes.CutPrefix(l, []byte("# Generated:")); ok {
				if d, err := time.Parse(time.RFC1123, string(bytes.TrimSpace(v))); err == nil {
					st.Date = d.UTC()
				}
			}
			return nil
		}
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			return parseErr(name, n, "want \"key: value\", got %q", truncate(l))
		}
		val := bytes.TrimSpace(v)
		key := internKey(k)
		switch {
		case blk.kind == "" && key == "net":
			blk = block{kind: "net", start: n}
			p, err := cidr.ParsePrefix(string(val))
			if errors.Is(err, cidr.ErrNotIPv4) {
				blk.v6 = true
				return nil
			}
			if err != nil {
				return parseErr(name, n, "net: %v", err)
			}
			blk.prefix = p
		case blk.kind == "" && key == "aut-num":
			asn, ok := parseASN(val)
			if !ok {
				return parseErr(name, n, "aut-num %q: want AS<number>", val)
			}
			blk = block{kind: "aut-num", start: n, asn: asn}
		case blk.kind == "":
			return parseErr(name, n, "%q line outside a block: a block starts with \"net:\" or \"aut-num:\"", key)
		case key == "net":
			return parseErr(name, n, "second \"net:\" in the block of line %d: want a blank line between blocks", blk.start)
		case blk.kind == "net" && key == "country":
			if blk.hasCC {
				return parseErr(name, n, "second \"country:\" in the block of line %d", blk.start)
			}
			if !blk.v6 {
				if _, err := countryCode(string(val)); err != nil {
					return parseErr(name, n, "%v", err)
				}
			}
			blk.country, blk.hasCC = intern(countries, val), true
		case blk.kind == "net" && key == "aut-num":
			if blk.hasASN {
				return parseErr(name, n, "second \"aut-num:\" in the block of line %d", blk.start)
			}
			asn, ok := parseASN(val)
			if !ok {
				return parseErr(name, n, "aut-num %q: want an AS number", val)
			}
			blk.asn, blk.hasASN = asn, true
		case blk.kind == "net" && locationFlags[key]:
		case blk.kind == "aut-num" && key == "name":
			if blk.hasName {
				return parseErr(name, n, "second \"name:\" in the block of line %d", blk.start)
			}
			blk.asName, blk.hasName = string(val), true
		case key == "aut-num":
			return parseErr(name, n, "second \"aut-num:\" in the block of line %d: want a blank line between blocks", blk.start)
		default:
			return parseErr(name, n, "unknown key %q in a %q block", key, blk.kind)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	return st, finish()
}

// internKey returns the known keys of a location dump without allocating.
func internKey(k []byte) string {
	switch string(k) {
	case "net":
		return "net"
	case "country":
		return "country"
	case "aut-num":
		return "aut-num"
	case "name":
		return "name"
	case "is-anycast":
		return "is-anycast"
	case "is-satellite-provider":
		return "is-satellite-provider"
	case "is-anonymous-proxy":
		return "is-anonymous-proxy"
	case "drop":
		return "drop"
	}
	return string(k)
}

// intern returns b as a string, sharing one copy per distinct value.
func intern(m map[string]string, b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	m[s] = s
	return s
}

// truncate shortens a line for an error message.
func truncate(l []byte) string {
	if len(l) > 80 {
		return string(l[:80]) + "…"
	}
	return string(l)
}
