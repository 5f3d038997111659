package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"

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
