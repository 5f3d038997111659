package lab

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
)

// Big is the lab's big, uniform world, the one `make bench` serves with
// Knot: the first N addresses of an IPv4 prefix (by default 1,048,576 of
// 10.0.0.0/12). Where a Lab has a class per /24 and keeps its records in
// memory, a Big world is a pure function of the address (BigExpect), so
// its truth is never stored:
//
//   - A /24 whose third octet c has c%16 == 15 is empty (BigEmpty): nothing
//     below c.b.a.in-addr.arpa exists, so the /24's name answers NXDOMAIN
//     and a pruning resolver (RFC 8020) skips its 256 addresses.
//   - Every other address is picked by h = mix(address) % 100, the lab's
//     one hash: h < 70 one PTR, h-A-B-C-D.rB.bench.example; 70 ≤ h < 75
//     two PTRs, that name and alias-D.cC.bB.aA.bench.example; h ≥ 75 none
//     (the address's name answers NXDOMAIN).
//
// It is immutable and safe for concurrent use.
type Big struct {
	base uint32
	n    int
}

// NewBig returns the big world of the first n addresses of prefix; n must
// be a positive multiple of 256 no larger than the prefix, whose length
// must be between 8 and 24.
func NewBig(prefix netip.Prefix, n int) (*Big, error) {
	if !prefix.IsValid() || !prefix.Addr().Is4() || prefix.Bits() < 8 || prefix.Bits() > 24 {
		return nil, fmt.Errorf("big world %s: %w: want an IPv4 prefix of length 8 to 24", prefix, ErrBadBig)
	}
	prefix = prefix.Masked()
	size := 1 << (32 - prefix.Bits())
	if n <= 0 || n%256 != 0 || n > size {
		return nil, fmt.Errorf("big world %s, %d addresses: %w: want a positive multiple of 256 up to %d", prefix, n, ErrBadBig, size)
	}
	a := prefix.Addr().As4()
	return &Big{base: uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8, n: n}, nil
}

// Len returns the number of addresses.
func (s *Big) Len() int { return s.n }

// Addr returns the i-th address, 0 ≤ i < Len.
func (s *Big) Addr(i int) netip.Addr { return cidr.Uint32ToAddr(s.base + uint32(i)) }

// Index returns the index of ip in the world, or false when it is outside.
func (s *Big) Index(ip netip.Addr) (int, bool) {
	if !ip.Is4() {
		return 0, false
	}
	v := cidr.AddrToUint32(ip)
	if v < s.base || v-s.base >= uint32(s.n) {
		return 0, false
	}
	return int(v - s.base), true
}

// Blocks returns the world's /24s.
func (s *Big) Blocks() []netip.Prefix {
	out := make([]netip.Prefix, 0, s.n/256)
	for i := 0; i < s.n; i += 256 {
		out = append(out, netip.PrefixFrom(s.Addr(i), 24))
	}
	return out
}

// CIDRs returns the fewest prefixes that cover exactly the world.
func (s *Big) CIDRs() []netip.Prefix {
	var out []netip.Prefix
	lo, hi := uint64(s.base), uint64(s.base)+uint64(s.n)
	for lo < hi {
		bits := 32
		for bits > 0 {
			size := uint64(1) << (32 - (bits - 1))
			if lo%size != 0 || lo+size > hi {
				break
			}
			bits--
		}
		out = append(out, netip.PrefixFrom(cidr.Uint32ToAddr(uint32(lo)), bits))
		lo += uint64(1) << (32 - bits)
	}
	return out
}

// BigEmpty reports whether ip's /24 is empty in a big world (its name
// answers NXDOMAIN).
func BigEmpty(ip netip.Addr) bool { return ip.As4()[2]%16 == 15 }

// BigExpect returns the PTR names of ip in a big world (lower case,
// without the trailing dot), or nil when its name answers NXDOMAIN. It
// does not check that ip is in a given world.
func BigExpect(ip netip.Addr) []string {
	if !ip.Is4() || BigEmpty(ip) {
		return nil
	}
	a := ip.As4()
	h := mix(cidr.AddrToUint32(ip)) % 100
	if h >= 75 {
		return nil
	}
	first := fmt.Sprintf("h-%d-%d-%d-%d.r%d.bench.example", a[0], a[1], a[2], a[3], a[1])
	if h < 70 {
		return []string{first}
	}
	return []string{first, fmt.Sprintf("alias-%d.c%d.b%d.a%d.bench.example", a[3], a[2], a[1], a[0])}
}

// BigStats counts what a big world serves.
type BigStats struct {
	// Addresses is the number of addresses.
	Addresses int
	// OnePTR and TwoPTRs count the addresses with one and two PTRs.
	OnePTR, TwoPTRs int
	// NXDomain counts the addresses whose name answers NXDOMAIN, the empty
	// /24s' included.
	NXDomain int
	// EmptyBlocks counts the empty /24s.
	EmptyBlocks int
}

// PTRs returns the number of (address, PTR) pairs.
func (st BigStats) PTRs() int { return st.OnePTR + 2*st.TwoPTRs }

// Stats returns the counts of the world.
func (s *Big) Stats() BigStats {
	st := BigStats{Addresses: s.n}
	for i := 0; i < s.n; i++ {
		ip := s.Addr(i)
		if i%256 == 0 && BigEmpty(ip) {
			st.EmptyBlocks++
		}
		switch len(BigExpect(ip)) {
		case 0:
			st.NXDomain++
		case 1:
			st.OnePTR++
		case 2:
			st.TwoPTRs++
		}
	}
	return st
}

// WriteZones writes one RFC 1035 zone file per /16 of the world
// (B.A.in-addr.arpa) into dir, created if missing, and returns them in
// address order.
func (s *Big) WriteZones(dir string) ([]ZoneFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write zones: %w", err)
	}
	var out []ZoneFile
	for i := 0; i < s.n; {
		a := s.Addr(i).As4()
		zone := fmt.Sprintf("%d.%d.in-addr.arpa.", a[1], a[0])
		end := min(s.n, i+(65536-int(a[2])*256))
		path := filepath.Join(dir, zone+"zone")
		if err := s.writeZone(path, zone, i, end); err != nil {
			return nil, fmt.Errorf("write zone %s: %w", zone, err)
		}
		out = append(out, ZoneFile{Zone: zone, Path: path})
		i = end
	}
	return out, nil
}

func (s *Big) writeZone(path, zone string, from, to int) error {
	return writeFile(path, func(w *bufio.Writer) error { return s.fillZone(w, zone, from, to) })
}

func (s *Big) fillZone(w *bufio.Writer, zone string, from, to int) error {
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL %d\n", zone, TTL)
	fmt.Fprintf(w, "@ IN SOA ns.bench.example. hostmaster.bench.example. 1 3600 600 86400 300\n")
	fmt.Fprintf(w, "@ IN NS ns.bench.example.\n")
	buf := make([]byte, 0, 128)
	for i := from; i < to; i++ {
		ip := s.Addr(i)
		a := ip.As4()
		for _, p := range BigExpect(ip) {
			buf = strconv.AppendUint(buf[:0], uint64(a[3]), 10)
			buf = append(buf, '.')
			buf = strconv.AppendUint(buf, uint64(a[2]), 10)
			buf = append(buf, " PTR "...)
			buf = append(buf, p...)
			buf = append(buf, ".\n"...)
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}
