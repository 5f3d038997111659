package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Shuffle is the seed of the query and block orders.
const Shuffle = 0x5eed_b3c4

// TTL is the TTL of every record of the generated zones.
const TTL = 3600

// Space is the benchmark's synthetic reverse-DNS space: the first N
// addresses of an IPv4 prefix (see the package documentation for what
// each address serves). It is immutable and safe for concurrent use.
type Space struct {
	base uint32
	n    int
}

// NewSpace returns the space of the first n addresses of prefix; n must be
// a positive multiple of 256 no larger than the prefix, whose length must
// be between 8 and 24.
func NewSpace(prefix netip.Prefix, n int) (*Space, error) {
	if !prefix.IsValid() || !prefix.Addr().Is4() || prefix.Bits() < 8 || prefix.Bits() > 24 {
		return nil, fmt.Errorf("space %s: %w: want an IPv4 prefix of length 8 to 24", prefix, ErrBadSpace)
	}
	prefix = prefix.Masked()
	size := 1 << (32 - prefix.Bits())
	if n <= 0 || n%256 != 0 || n > size {
		return nil, fmt.Errorf("space %s, %d addresses: %w: want a positive multiple of 256 up to %d", prefix, n, ErrBadSpace, size)
	}
	a := prefix.Addr().As4()
	return &Space{base: uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8, n: n}, nil
}

// Len returns the number of addresses.
func (s *Space) Len() int { return s.n }

// Addr returns the i-th address, 0 ≤ i < Len.
func (s *Space) Addr(i int) netip.Addr { return u2a(s.base + uint32(i)) }

// Index returns the index of ip in the space, or false when it is outside.
func (s *Space) Index(ip netip.Addr) (int, bool) {
	if !ip.Is4() {
		return 0, false
	}
	v := a2u(ip)
	if v < s.base || v-s.base >= uint32(s.n) {
		return 0, false
	}
	return int(v - s.base), true
}

// Blocks returns the space's /24s.
func (s *Space) Blocks() []netip.Prefix {
	out := make([]netip.Prefix, 0, s.n/256)
	for i := 0; i < s.n; i += 256 {
		out = append(out, netip.PrefixFrom(s.Addr(i), 24))
	}
	return out
}

// CIDRs returns the fewest prefixes that cover exactly the space.
func (s *Space) CIDRs() []netip.Prefix {
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
		out = append(out, netip.PrefixFrom(u2a(uint32(lo)), bits))
		lo += uint64(1) << (32 - bits)
	}
	return out
}

// Empty reports whether ip's /24 is empty (its name answers NXDOMAIN).
func Empty(ip netip.Addr) bool { return ip.As4()[2]%16 == 15 }

// Expect returns the PTR names of ip (lower case, without the trailing
// dot), or nil when its name answers NXDOMAIN. It does not check that ip
// is in a space.
func Expect(ip netip.Addr) []string {
	if !ip.Is4() || Empty(ip) {
		return nil
	}
	a := ip.As4()
	h := splitmix64(uint64(a2u(ip))) % 100
	if h >= 75 {
		return nil
	}
	first := fmt.Sprintf("h-%d-%d-%d-%d.r%d.bench.example", a[0], a[1], a[2], a[3], a[1])
	if h < 70 {
		return []string{first}
	}
	return []string{first, fmt.Sprintf("alias-%d.c%d.b%d.a%d.bench.example", a[3], a[2], a[1], a[0])}
}

// Stats counts what a space serves.
type Stats struct {
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
func (st Stats) PTRs() int { return st.OnePTR + 2*st.TwoPTRs }

// Stats returns the counts of the space.
func (s *Space) Stats() Stats {
	st := Stats{Addresses: s.n}
	for i := 0; i < s.n; i++ {
		ip := s.Addr(i)
		if i%256 == 0 && Empty(ip) {
			st.EmptyBlocks++
		}
		switch len(Expect(ip)) {
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

// WriteZones writes one RFC 1035 zone file per /16 of the space
// (B.A.in-addr.arpa) into dir, created if missing, and returns them in
// address order.
func (s *Space) WriteZones(dir string) ([]lab.ZoneFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write zones: %w", err)
	}
	var out []lab.ZoneFile
	for i := 0; i < s.n; {
		a := s.Addr(i).As4()
		zone := fmt.Sprintf("%d.%d.in-addr.arpa.", a[1], a[0])
		end := min(s.n, i+(65536-int(a[2])*256))
		path := filepath.Join(dir, zone+"zone")
		if err := s.writeZone(path, zone, i, end); err != nil {
			return nil, fmt.Errorf("write zone %s: %w", zone, err)
		}
		out = append(out, lab.ZoneFile{Zone: zone, Path: path})
		i = end
	}
	return out, nil
}

func (s *Space) writeZone(path, zone string, from, to int) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL %d\n", zone, TTL)
	fmt.Fprintf(w, "@ IN SOA ns.bench.example. hostmaster.bench.example. 1 3600 600 86400 300\n")
	fmt.Fprintf(w, "@ IN NS ns.bench.example.\n")
	buf := make([]byte, 0, 128)
	for i := from; i < to; i++ {
		ip := s.Addr(i)
		a := ip.As4()
		for _, p := range Expect(ip) {
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
	return w.Flush()
}

// QueryOrder returns the indices of the space's addresses in the
// benchmark's shuffled order (fixed seed).
func (s *Space) QueryOrder() []uint32 {
	order := make([]uint32, s.n)
	for i := range order {
		order[i] = uint32(i)
	}
	r := rand.New(rand.NewPCG(Shuffle, 1))
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}

// WriteQueries writes dnsperf's input: every address's PTR name
// ("7.3.0.10.in-addr.arpa PTR"), once, in QueryOrder.
func (s *Space) WriteQueries(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	buf := make([]byte, 0, 64)
	for _, i := range s.QueryOrder() {
		a := s.Addr(int(i)).As4()
		buf = buf[:0]
		for k := 3; k >= 0; k-- {
			buf = strconv.AppendUint(buf, uint64(a[k]), 10)
			buf = append(buf, '.')
		}
		buf = append(buf, "in-addr.arpa PTR\n"...)
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write queries: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write queries: %w", err)
	}
	return nil
}

// WriteBlocks writes the engine's input: the space's /24s, one per line,
// in an order shuffled with the same seed as QueryOrder.
func (s *Space) WriteBlocks(w io.Writer) error {
	blocks := s.Blocks()
	r := rand.New(rand.NewPCG(Shuffle, 2))
	r.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	bw := bufio.NewWriter(w)
	for _, b := range blocks {
		fmt.Fprintln(bw, b)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write blocks: %w", err)
	}
	return nil
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func a2u(ip netip.Addr) uint32 {
	a := ip.As4()
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func u2a(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
