package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Shuffle is the seed of the query and block orders.
const Shuffle = 0x5eed_b3c4

// Space is the benchmark's synthetic reverse-DNS space: the lab's big
// world (lab.Big, see there for what each address serves) and the orders
// in which dnsperf and the engine are given it. It is immutable and safe
// for concurrent use.
type Space struct {
	*lab.Big
}

// NewSpace returns the space of the first n addresses of prefix (see
// lab.NewBig for what n and prefix must be).
func NewSpace(prefix netip.Prefix, n int) (*Space, error) {
	b, err := lab.NewBig(prefix, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSpace, err)
	}
	return &Space{Big: b}, nil
}

// QueryOrder returns the indices of the space's addresses in the
// benchmark's shuffled order (fixed seed).
func (s *Space) QueryOrder() []uint32 {
	order := make([]uint32, s.Len())
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
	return s.writeOrder(w, "queries", func(buf []byte, a netip.Addr) []byte {
		return append(appendReverse(buf, a), " PTR"...)
	})
}

// WriteNames writes massdns's input: every address's PTR name
// ("7.3.0.10.in-addr.arpa"), once, in QueryOrder.
func (s *Space) WriteNames(w io.Writer) error {
	return s.writeOrder(w, "names", appendReverse)
}

// WriteAddrs writes the address list: every address ("10.0.3.7"), once,
// in QueryOrder.
func (s *Space) WriteAddrs(w io.Writer) error {
	return s.writeOrder(w, "addresses", func(buf []byte, a netip.Addr) []byte { return a.AppendTo(buf) })
}

// writeOrder writes a line per address in QueryOrder, made by line.
func (s *Space) writeOrder(w io.Writer, what string, line func([]byte, netip.Addr) []byte) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	buf := make([]byte, 0, 64)
	for _, i := range s.QueryOrder() {
		buf = append(line(buf[:0], s.Addr(int(i))), '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// appendReverse appends the reverse name of a, without the trailing dot.
func appendReverse(buf []byte, a netip.Addr) []byte {
	buf = sweep.AppendReverseName(buf, a)
	return buf[:len(buf)-1]
}

// WriteMix writes every address once as a shuffled mix of the input forms
// of `worker resolve`: per /24, picked with the same seed as QueryOrder,
// the whole /24 as a CIDR, its four /26s, ranges of 1–64 addresses
// ("10.0.3.7-10.0.3.40"), single addresses, or reverse names; then all
// lines shuffled.
func (s *Space) WriteMix(w io.Writer) error {
	r := rand.New(rand.NewPCG(Shuffle, 3))
	var lines []string
	for _, b := range s.Blocks() {
		base := b.Addr()
		at := func(i int) netip.Addr {
			a := base.As4()
			a[3] = byte(i)
			return netip.AddrFrom4(a)
		}
		switch r.IntN(5) {
		case 0:
			lines = append(lines, b.String())
		case 1:
			for i := 0; i < 256; i += 64 {
				lines = append(lines, netip.PrefixFrom(at(i), 26).String())
			}
		case 2:
			for i := 0; i < 256; {
				n := min(1+r.IntN(64), 256-i)
				lines = append(lines, at(i).String()+"-"+at(i+n-1).String())
				i += n
			}
		case 3:
			for i := range 256 {
				lines = append(lines, at(i).String())
			}
		default:
			for i := range 256 {
				lines = append(lines, string(appendReverse(nil, at(i))))
			}
		}
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	bw := bufio.NewWriterSize(w, 1<<16)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write mix: %w", err)
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
