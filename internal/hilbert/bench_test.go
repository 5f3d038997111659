package hilbert

import (
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func BenchmarkD2XY(b *testing.B) {
	var s uint32
	for i := 0; b.Loop(); i++ {
		x, y := D2XY(12, uint32(i)&(1<<24-1))
		s += x + y
	}
	_ = s
}

// syntheticCells returns a cell for every /24 of p, sorted, with densities
// that vary by /20 and a little by /24, as a swept space does.
func syntheticCells(p netip.Prefix) []Cell {
	r := rand.New(rand.NewPCG(7, 8))
	first := addrNum(p.Addr()) >> 8
	n := uint32(1) << (24 - p.Bits())
	cells := make([]Cell, n)
	var base int
	for i := range cells {
		if i%16 == 0 {
			base = []int{0, 0, 0, 3, 40, 250, 256}[r.IntN(7)]
		}
		ptrs := min(max(base+r.IntN(9)-4, 0), 256)
		cells[i] = Cell{Net: first + uint32(i), PTRs: uint16(ptrs), Outcome: sweep.Statuses[r.IntN(len(sweep.Statuses))]}
	}
	return cells
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

func benchRender(b *testing.B, v View, cells []Cell, encode bool) {
	hl := []uint32{cells[0].Net, cells[len(cells)/2].Net}
	var size countWriter
	for b.Loop() {
		img, err := Render(v, ModeDensity, cells, hl)
		if err != nil {
			b.Fatal(err)
		}
		if encode {
			size = 0
			if err := EncodePNG(&size, img); err != nil {
				b.Fatal(err)
			}
		}
	}
	if encode {
		b.ReportMetric(float64(size), "png-bytes")
	}
}

// BenchmarkRenderFull draws the whole space, every /24 with a cell
// (4096×4096 pixels, 16.8M cells), without and with PNG encoding.
func BenchmarkRenderFull(b *testing.B) {
	cells := syntheticCells(netip.MustParsePrefix("0.0.0.0/0"))
	b.Run("render", func(b *testing.B) { benchRender(b, Full(), cells, false) })
	b.Run("png", func(b *testing.B) { benchRender(b, Full(), cells, true) })
}

// BenchmarkRenderSlash8 draws one /8 at one pixel a /24 (256×256 pixels,
// 65,536 cells), without and with PNG encoding.
func BenchmarkRenderSlash8(b *testing.B) {
	p := netip.MustParsePrefix("139.0.0.0/8")
	v, err := NewView(p, 24)
	if err != nil {
		b.Fatal(err)
	}
	cells := syntheticCells(p)
	b.Run("render", func(b *testing.B) { benchRender(b, v, cells, false) })
	b.Run("png", func(b *testing.B) { benchRender(b, v, cells, true) })
}
