package bulk

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// ParseItem parses one input item and appends its prefixes to dst: an
// address, a CIDR or a range (cidr.ParseItem), or an in-addr.arpa name of
// an address or of a /8, /16 or /24 zone (sweep.ParseReverseName), with or
// without its trailing dot, in any case. Errors name the item.
func ParseItem(dst []netip.Prefix, item string) ([]netip.Prefix, error) {
	if isReverseName(item) {
		p, err := sweep.ParseReverseName(item)
		if err != nil {
			return dst, err
		}
		return append(dst, p), nil
	}
	out, err := cidr.ParseItem(dst, item)
	if err != nil && errors.Is(err, cidr.ErrSyntax) && !strings.Contains(item, "-") && !strings.Contains(item, "/") {
		return dst, fmt.Errorf("%q is not an IPv4 address, CIDR, range (a.b.c.d-e.f.g.h) or in-addr.arpa name: %w", item, cidr.ErrSyntax)
	}
	return out, err
}

// isReverseName reports whether item looks like a name under .arpa.
func isReverseName(item string) bool {
	s := strings.TrimSuffix(item, ".")
	return len(s) >= 5 && strings.EqualFold(s[len(s)-5:], ".arpa")
}

// input is the opened input: its text (decompressed), the name errors use,
// and how far reading has got through the file, for the ETA.
type input struct {
	io.Reader
	name   string
	size   int64 // bytes of the file, 0 when unknown (a pipe)
	read   atomic.Int64
	closer io.Closer
}

// Close closes the file, if Run opened one.
func (in *input) Close() error {
	if in.closer == nil {
		return nil
	}
	return in.closer.Close()
}

// Read counts the bytes read from the file itself (compressed, for gzip).
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

// openInput opens path ("" or "-": stdin) and looks at its first bytes:
// gzip (1f 8b) is decompressed on the fly.
func openInput(path string, stdin io.Reader) (*input, error) {
	in := &input{name: "input"}
	raw := stdin
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, inputError(fmt.Errorf("--input: %w", err))
		}
		raw, in.name, in.closer = f, path, f
	} else if raw == nil {
		return nil, configErrorf("no input")
	}
	if f, ok := raw.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			in.size = st.Size()
		}
	}
	br := bufio.NewReaderSize(&countingReader{r: raw, n: &in.read}, 64<<10)
	in.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			in.Close()
			return nil, inputError(fmt.Errorf("%s: starts like gzip but is not: %w", in.name, err))
		}
		in.Reader = zr
	}
	return in, nil
}

// feeder cuts the input into batches and keeps up to InFlight of them
// resolving. It owns the batch goroutines: wait waits for them.
type feeder struct {
	ctx     context.Context // the resolve calls'
	readCtx context.Context // ends the reading early (a failure, a write error)
	res     Resolver
	opts    sweep.Options
	sink    *sink
	size    int
	cur     []netip.Addr
	slots   chan struct{}     // one per batch in flight
	free    chan []netip.Addr // batch buffers to reuse: at most InFlight+1 exist
	wg      sync.WaitGroup
}

func newFeeder(ctx, readCtx context.Context, cfg Config, s *sink) *feeder {
	return &feeder{ctx: ctx, readCtx: readCtx, res: cfg.Resolver, opts: cfg.Options, sink: s, size: cfg.Batch,
		cur:   make([]netip.Addr, 0, cfg.Batch),
		slots: make(chan struct{}, cfg.InFlight), free: make(chan []netip.Addr, cfg.InFlight+1)}
}

// read feeds every line of lines to the engine. A bad or refused line
// stops it with an error naming the line (wrapping ErrInput), after the
// lines before it have been handed out. When reading is stopped (ctx ended,
// a write or engine failure) it returns nil: the cause is reported apart.
func (f *feeder) read(lines *cidr.Lines, exclude, refused cidr.Set) error {
	var ps []netip.Prefix
	for lines.Next() {
		var err error
		if ps, err = ParseItem(ps[:0], lines.Item()); err != nil {
			f.flush()
			return inputError(lines.Errorf(err))
		}
		for _, p := range ps {
			if refused.Overlaps(p) {
				f.flush()
				return inputError(lines.Errorf(refusal(p, exclude, refused)))
			}
		}
		for _, p := range ps {
			if !f.add(p) {
				return nil
			}
		}
	}
	f.flush()
	return lines.Err()
}

// refusal says why p is refused.
func refusal(p netip.Prefix, exclude, refused cidr.Set) error {
	if exclude.Overlaps(p) {
		return fmt.Errorf("%s overlaps the excluded ranges (%s)", p, cidr.NewSet(p).Intersect(exclude))
	}
	return fmt.Errorf("%s overlaps reserved ranges (%s); pass --allow-reserved for special-purpose space", p, cidr.NewSet(p).Intersect(refused))
}

// add hands out the addresses of p, a /24 block at a time: a block never
// straddles two batches. It reports false when reading was stopped.
func (f *feeder) add(p netip.Prefix) bool {
	for blk := range cidr.Subnets(p, max(24, p.Bits())) {
		n := 1 << (32 - blk.Bits())
		if len(f.cur)+n > f.size && !f.flush() {
			return false
		}
		a := blk.Addr()
		for range n {
			f.cur = append(f.cur, a)
			a = a.Next()
		}
	}
	return true
}

// flush starts resolving the current batch once a slot is free. It
// reports false, dropping the batch, when reading was stopped first.
func (f *feeder) flush() bool {
	if len(f.cur) == 0 {
		return true
	}
	select {
	case f.slots <- struct{}{}:
	case <-f.readCtx.Done():
		return false
	}
	batch := f.cur
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := f.res.ResolveAddrs(f.ctx, batch, f.opts, f.sink.emit); err != nil {
			f.sink.fail(fmt.Errorf("resolve %d addresses from %s: %w", len(batch), batch[0], err))
		}
		f.free <- batch[:0]
		<-f.slots
	}()
	select {
	case f.cur = <-f.free:
	default:
		f.cur = make([]netip.Addr, 0, f.size)
	}
	return true
}

// wait waits until every batch handed out is resolved.
func (f *feeder) wait() { f.wg.Wait() }
