package enrich

import (
	"cmp"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"sort"
	"sync"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

// Info is what a table says about an address.
type Info struct {
	// Net is the routed network: the most specific prefix of the source
	// data that contains the address. For iptoasn.com ranges that are not
	// one CIDR block it is the CIDR block of the range's decomposition that
	// contains the address (see ReadIPtoASN).
	Net netip.Prefix
	// ASN is the origin AS number; 0 when the source names none.
	ASN uint32
	// ASName is the AS's name from the source, "" when it has none.
	ASName string
	// Country is an upper-case two-letter code (ISO 3166-1 alpha-2, or a
	// registry code such as EU); "" when the source has none.
	Country string
}

// Range is a run of consecutive addresses with the same Info.
type Range struct {
	// First and Last are the range's first and last address (inclusive).
	First, Last netip.Addr
	Info
}

// entry is a Range in 24 bytes: tables hold about 1.3 million of them.
type entry struct {
	first, last uint32
	net         uint32
	asn         uint32
	bits        uint8
	cc          [2]byte
}

// Table maps IPv4 addresses to Info through sorted, non-overlapping ranges.
// A Table is immutable once built and safe for concurrent use. Build one
// with a Builder (from prefixes) or a RangeAppender (from stored ranges).
type Table struct {
	entries []entry
	names   map[uint32]string
	// index[b] is the first entry whose last address is in /16 bucket b
	// or above (index[65536] = len(entries)); built on the first lookup,
	// it bounds the binary search to one bucket's entries.
	indexOnce sync.Once
	index     []uint32
}

// bucketIndex builds t.index.
func (t *Table) bucketIndex() {
	idx := make([]uint32, 1<<16+1)
	i := 0
	for b := range 1 << 16 {
		for i < len(t.entries) && t.entries[i].last>>16 < uint32(b) {
			i++
		}
		idx[b] = uint32(i)
	}
	idx[1<<16] = uint32(len(t.entries))
	t.index = idx
}

// Len returns the number of ranges.
func (t *Table) Len() int { return len(t.entries) }

// Lookup returns the Info of the range containing a, and false when no range
// contains it (the address is not routed in the source data) or a is not
// IPv4 (an IPv4-mapped IPv6 address counts as IPv4).
func (t *Table) Lookup(a netip.Addr) (Info, bool) {
	i, ok := t.find(a)
	if !ok {
		return Info{}, false
	}
	return t.info(t.entries[i]), true
}

// Route returns the origin AS and the country code of the range containing
// a, as Lookup does but without building an Info and without allocating:
// for hot paths such as the rows a worker stores. ok is false when no
// range contains a.
func (t *Table) Route(a netip.Addr) (asn uint32, country string, ok bool) {
	i, ok := t.find(a)
	if !ok {
		return 0, "", false
	}
	e := t.entries[i]
	return e.asn, ccString(e.cc), true
}

// find returns the index of the entry containing a.
func (t *Table) find(a netip.Addr) (int, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	u := cidr.AddrToUint32(a)
	t.indexOnce.Do(t.bucketIndex)
	// the first entry whose last address is >= u: at or after the first
	// one reaching u's bucket, at or before the first reaching the next
	lo, hi := int(t.index[u>>16]), int(t.index[u>>16+1])
	i := lo + sort.Search(hi-lo, func(i int) bool { return t.entries[lo+i].last >= u })
	if i == len(t.entries) || t.entries[i].first > u {
		return 0, false
	}
	return i, true
}

// ccNames holds every code of two upper-case letters as a string, so that
// Route does not allocate one per call.
var ccNames = func() (out [26][26]string) {
	for i := range 26 {
		for j := range 26 {
			out[i][j] = string([]byte{'A' + byte(i), 'A' + byte(j)})
		}
	}
	return out
}()

// ccString returns a stored country code as a string, "" for none.
func ccString(cc [2]byte) string {
	switch {
	case cc[0] == 0:
		return ""
	case cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z':
		return ccNames[cc[0]-'A'][cc[1]-'A']
	}
	return string(cc[:])
}

// At returns the i-th range in address order, 0 <= i < Len().
func (t *Table) At(i int) Range {
	e := t.entries[i]
	return Range{First: cidr.Uint32ToAddr(e.first), Last: cidr.Uint32ToAddr(e.last), Info: t.info(e)}
}

// All yields every range in address order.
func (t *Table) All() iter.Seq[Range] {
	return func(yield func(Range) bool) {
		for i := range t.entries {
			if !yield(t.At(i)) {
				return
			}
		}
	}
}

// ASName returns the name of the AS, "" when the table has none.
func (t *Table) ASName(asn uint32) string { return t.names[asn] }

// ASNames returns how many AS names the table holds.
func (t *Table) ASNames() int { return len(t.names) }

func (t *Table) info(e entry) Info {
	in := Info{Net: netip.PrefixFrom(cidr.Uint32ToAddr(e.net), int(e.bits)), ASN: e.asn}
	if e.asn != 0 {
		in.ASName = t.names[e.asn]
	}
	in.Country = ccString(e.cc)
	return in
}

// network is one prefix added to a Builder, with where it came from.
type network struct {
	start uint32
	bits  uint8
	cc    [2]byte
	asn   uint32
	src   uint16 // index into Builder.files
	line  uint32
}

func (n network) end() uint32 { return n.start | uint32(uint64(1)<<(32-n.bits)-1) }

// Builder collects possibly nested networks and AS names and flattens them
// into a Table with longest-prefix-match semantics. The zero value is ready
// to use. A Builder is not safe for concurrent use.
type Builder struct {
	nets  []network
	names map[uint32]string
	files []string
	file  uint16
}

// source makes name the file that the following Add calls come from.
func (b *Builder) source(name string) {
	for i, f := range b.files {
		if f == name {
			b.file = uint16(i)
			return
		}
	}
	b.files = append(b.files, name)
	b.file = uint16(len(b.files) - 1)
}

// Add records a network, its origin AS (0 for none) and country ("" for
// none). line is the input line it came from (for error messages; 0 if
// none). p must be a masked IPv4 prefix and country empty or two ASCII
// letters or digits; Add upper-cases it.
func (b *Builder) Add(p netip.Prefix, asn uint32, country string, line int) error {
	if !p.IsValid() || !p.Addr().Is4() || p.Masked() != p {
		return fmt.Errorf("%w: %v is not a masked IPv4 prefix", ErrFormat, p)
	}
	cc, err := countryCode(country)
	if err != nil {
		return err
	}
	if len(b.files) == 0 {
		b.source("")
	}
	b.nets = append(b.nets, network{start: cidr.AddrToUint32(p.Addr()), bits: uint8(p.Bits()), cc: cc, asn: asn, src: b.file, line: uint32(line)})
	return nil
}

// SetName records the name of an AS. The first non-empty name given for an
// AS wins; later ones are ignored.
func (b *Builder) SetName(asn uint32, name string) {
	if name == "" {
		return
	}
	if b.names == nil {
		b.names = make(map[uint32]string)
	}
	if _, ok := b.names[asn]; !ok {
		b.names[asn] = name
	}
}

// Networks returns the number of networks added so far.
func (b *Builder) Networks() int { return len(b.nets) }

// Table flattens the networks into a Table: every address gets the Info of
// the most specific network containing it. The same prefix given twice with
// different AS or country is an error naming both lines (given twice with
// the same data, it counts once). The Builder must not be used afterwards.
func (b *Builder) Table() (*Table, error) {
	nets := b.nets
	b.nets = nil
	slices.SortFunc(nets, func(x, y network) int {
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmp.Compare(x.bits, y.bits) // a parent before its children
	})
	// drop exact duplicates; a conflicting duplicate is an error
	k := 0
	for i, n := range nets {
		if i > 0 && n.start == nets[k-1].start && n.bits == nets[k-1].bits {
			p := nets[k-1]
			if p.asn != n.asn || p.cc != n.cc {
				return nil, parseErr(b.files[n.src], int(n.line), "prefix %s given again with AS%d %q, first at %s:%d with AS%d %q: keep one",
					netip.PrefixFrom(cidr.Uint32ToAddr(n.start), int(n.bits)), n.asn, cc(n.cc), b.files[p.src], p.line, p.asn, cc(p.cc))
			}
			continue
		}
		nets[k] = n
		k++
	}
	nets = nets[:k]
	t := &Table{entries: make([]entry, 0, len(nets)+len(nets)/4), names: b.names}
	if t.names == nil {
		t.names = map[uint32]string{}
	}
	emit := func(first, last uint64, n network) {
		if first <= last {
			t.entries = append(t.entries, entry{first: uint32(first), last: uint32(last), net: n.start, bits: n.bits, asn: n.asn, cc: n.cc})
		}
	}
	var (
		stack []network // open networks, each inside the one below it
		cur   uint64    // the first address not yet emitted
	)
	for _, n := range nets {
		for len(stack) > 0 && uint64(stack[len(stack)-1].end()) < uint64(n.start) {
			top := stack[len(stack)-1]
			emit(cur, uint64(top.end()), top)
			cur = max(cur, uint64(top.end())+1)
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && uint64(n.start) > cur {
			emit(cur, uint64(n.start)-1, stack[len(stack)-1])
		}
		cur = uint64(n.start)
		stack = append(stack, n)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		emit(cur, uint64(top.end()), top)
		cur = max(cur, uint64(top.end())+1)
		stack = stack[:len(stack)-1]
	}
	t.entries = slices.Clip(t.entries)
	return t, nil
}

// RangeAppender builds a Table from ranges that are already flat, such as a
// table stored by internal/store: each range must start after the previous
// one ends. It is not safe for concurrent use.
type RangeAppender struct {
	t    *Table
	last uint64 // one past the previous range's last address
}

// NewRangeAppender returns a RangeAppender; n is the expected number of
// ranges (a capacity hint).
func NewRangeAppender(n int) *RangeAppender {
	return &RangeAppender{t: &Table{entries: make([]entry, 0, n), names: map[uint32]string{}}}
}

// Append adds the next range. It fails when the range is not IPv4, is
// empty, overlaps or precedes the previous range, when its network does not
// contain it, or when its country is malformed. A non-empty ASName becomes
// the AS's name (the first one given wins).
func (a *RangeAppender) Append(r Range) error {
	f, l := r.First.Unmap(), r.Last.Unmap()
	if !f.Is4() || !l.Is4() || !r.Net.IsValid() || !r.Net.Addr().Is4() {
		return fmt.Errorf("%w: range %v-%v (network %v) is not IPv4", ErrFormat, r.First, r.Last, r.Net)
	}
	first, last := cidr.AddrToUint32(f), cidr.AddrToUint32(l)
	if first > last || uint64(first) < a.last {
		return fmt.Errorf("%w: range %v-%v is empty or does not follow the previous range: ranges must be sorted and must not overlap", ErrFormat, f, l)
	}
	if !r.Net.Contains(f) || !r.Net.Contains(l) {
		return fmt.Errorf("%w: range %v-%v is not inside its network %v", ErrFormat, f, l, r.Net)
	}
	c, err := countryCode(r.Country)
	if err != nil {
		return err
	}
	n := r.Net.Masked()
	a.t.entries = append(a.t.entries, entry{first: first, last: last, net: cidr.AddrToUint32(n.Addr()), bits: uint8(n.Bits()), asn: r.ASN, cc: c})
	if r.ASName != "" && r.ASN != 0 {
		if _, ok := a.t.names[r.ASN]; !ok {
			a.t.names[r.ASN] = r.ASName
		}
	}
	a.last = uint64(last) + 1
	return nil
}

// Table returns the built table. The RangeAppender must not be used
// afterwards.
func (a *RangeAppender) Table() *Table {
	t := a.t
	t.entries = slices.Clip(t.entries)
	a.t = nil
	return t
}

// Merge combines two tables address by address: where primary has a range,
// its network and AS win, and its country unless it has none, in which case
// secondary's country is used; where only secondary has a range, secondary's
// Info is used. AS names come from primary, then secondary. Use it to join a
// MaxMind ASN database (primary) with a Country database (secondary), or
// pfx2as data with countries from another source.
func Merge(primary, secondary *Table) *Table {
	out := &Table{entries: make([]entry, 0, len(primary.entries)+len(secondary.entries)), names: make(map[uint32]string, len(primary.names)+len(secondary.names))}
	for k, v := range secondary.names {
		out.names[k] = v
	}
	for k, v := range primary.names {
		out.names[k] = v
	}
	p, s := primary.entries, secondary.entries
	var cur uint64 // first address not yet emitted
	i, j := 0, 0
	emit := func(e entry, first, last uint64) {
		e.first, e.last = uint32(first), uint32(last)
		if n := len(out.entries); n > 0 {
			// join with the previous piece when nothing but the split differs
			pe := &out.entries[n-1]
			if uint64(pe.last)+1 == first && pe.net == e.net && pe.bits == e.bits && pe.asn == e.asn && pe.cc == e.cc {
				pe.last = e.last
				return
			}
		}
		out.entries = append(out.entries, e)
	}
	for cur <= 0xFFFFFFFF && (i < len(p) || j < len(s)) {
		for i < len(p) && uint64(p[i].last) < cur {
			i++
		}
		for j < len(s) && uint64(s[j].last) < cur {
			j++
		}
		inP := i < len(p) && uint64(p[i].first) <= cur
		inS := j < len(s) && uint64(s[j].first) <= cur
		switch {
		case inP:
			end := uint64(p[i].last)
			e := p[i]
			if inS {
				end = min(end, uint64(s[j].last))
				if e.cc[0] == 0 {
					e.cc = s[j].cc
				}
			} else if j < len(s) {
				end = min(end, uint64(s[j].first)-1)
			}
			emit(e, cur, end)
			cur = end + 1
		case inS:
			end := uint64(s[j].last)
			if i < len(p) {
				end = min(end, uint64(p[i].first)-1)
			}
			emit(s[j], cur, end)
			cur = end + 1
		default:
			next := uint64(1) << 32
			if i < len(p) {
				next = uint64(p[i].first)
			}
			if j < len(s) {
				next = min(next, uint64(s[j].first))
			}
			cur = next
		}
	}
	out.entries = slices.Clip(out.entries)
	return out
}

// countryCode checks and upper-cases a country code.
func countryCode(s string) ([2]byte, error) {
	var c [2]byte
	if s == "" {
		return c, nil
	}
	if len(s) != 2 || !alnum(s[0]) || !alnum(s[1]) {
		return c, fmt.Errorf("%w: country %q: want two letters (ISO 3166-1 alpha-2) or nothing", ErrFormat, s)
	}
	c[0], c[1] = upper(s[0]), upper(s[1])
	return c, nil
}

func cc(c [2]byte) string {
	if c[0] == 0 {
		return ""
	}
	return string(c[:])
}

func alnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}
