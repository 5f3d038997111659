package hilbert

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/netip"
	"slices"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Mode chooses what colours a pixel.
type Mode uint8

// The modes.
const (
	// ModeDensity colours by addresses with a PTR per /24 (0 to 256).
	ModeDensity Mode = 1
	// ModeOutcome colours by the outcome class of each /24.
	ModeOutcome Mode = 2
)

// String returns "density" or "outcome".
func (m Mode) String() string {
	switch m {
	case ModeDensity:
		return "density"
	case ModeOutcome:
		return "outcome"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ParseMode parses "density" or "outcome".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeDensity, ModeOutcome} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown map mode %q (want density or outcome)", s)
}

// Cell is what the map shows of one /24.
type Cell struct {
	// Net is the /24's number: its first address >> 8, below 2^24.
	Net uint32
	// PTRs is the number of its addresses with at least one PTR, 0 to 256.
	PTRs uint16
	// Outcome is its outcome class, such as its most frequent outcome;
	// ModeOutcome needs a valid status, ModeDensity ignores it.
	Outcome sweep.Status
}

// The colour scale, fixed so maps compare across scans and days:
//
//   - no data (no cell for any /24 of the pixel): black #000000
//   - highlighted (the pixel holds a /24 of the current query): magenta #ff00ff
//   - density: level = ceil(mean PTRs of the pixel's cells / 2), 0 to 128;
//     level 0 (scanned, no PTR) is #303040, level L above 0 is the viridis
//     scale at L/128, linear between its nine stops (#440154 #472d7b #3b528b
//     #2c728e #21918c #28ae80 #5ec962 #addc30 #fde725): one PTR is #440456,
//     64 PTRs #3b528b, 128 #21918c, 192 #5ec962, a full /24 #fde725
//   - outcome: ok #2ca02c green, nxdomain #3b4a6b slate, nodata #1f77b4
//     blue, servfail #d62728 red, refused #ff7f0e orange, timeout #9467bd
//     purple; a pixel of several /24s takes their most frequent class (on a
//     tie the one listed first)
//
// Images carry no legend; the page draws one from these colours.
var (
	noDataColor    = color.RGBA{0x00, 0x00, 0x00, 0xff}
	highlightColor = color.RGBA{0xff, 0x00, 0xff, 0xff}
)

const (
	idxNoData    = 0
	idxHighlight = 1
	idxOutcome   = 2 // + status - 1
	idxDensity   = 8 // + level
	maxLevel     = 128
)

var outcomeColors = map[sweep.Status]color.RGBA{
	sweep.StatusOK:       {0x2c, 0xa0, 0x2c, 0xff},
	sweep.StatusNXDomain: {0x3b, 0x4a, 0x6b, 0xff},
	sweep.StatusNoData:   {0x1f, 0x77, 0xb4, 0xff},
	sweep.StatusServFail: {0xd6, 0x27, 0x28, 0xff},
	sweep.StatusRefused:  {0xff, 0x7f, 0x0e, 0xff},
	sweep.StatusTimeout:  {0x94, 0x67, 0xbd, 0xff},
}

// viridis holds nine evenly spaced stops of the viridis colour scale.
var viridis = [...]color.RGBA{
	{0x44, 0x01, 0x54, 0xff}, {0x47, 0x2d, 0x7b, 0xff}, {0x3b, 0x52, 0x8b, 0xff},
	{0x2c, 0x72, 0x8e, 0xff}, {0x21, 0x91, 0x8c, 0xff}, {0x28, 0xae, 0x80, 0xff},
	{0x5e, 0xc9, 0x62, 0xff}, {0xad, 0xdc, 0x30, 0xff}, {0xfd, 0xe7, 0x25, 0xff},
}

// palette is the fixed palette of every image: see the indexes above.
var palette = func() color.Palette {
	p := make(color.Palette, idxDensity+maxLevel+1)
	p[idxNoData], p[idxHighlight] = noDataColor, highlightColor
	for _, s := range sweep.Statuses {
		p[idxOutcome+int(s)-1] = outcomeColors[s]
	}
	for level := 0; level <= maxLevel; level++ {
		p[idxDensity+level] = levelColor(level)
	}
	return p
}()

// levelColor returns the density colour of a level from 0 to 128: level L
// above 0 is viridis at L/128, linear between its nine stops.
func levelColor(level int) color.RGBA {
	if level == 0 {
		return color.RGBA{0x30, 0x30, 0x40, 0xff}
	}
	num := level * (len(viridis) - 1) // position in 1/128ths of a segment
	seg, rem := num/maxLevel, num%maxLevel
	if seg == len(viridis)-1 {
		return viridis[seg]
	}
	a, b := viridis[seg], viridis[seg+1]
	mix := func(x, y uint8) uint8 {
		return uint8((int(x)*(maxLevel-rem) + int(y)*rem + maxLevel/2) / maxLevel)
	}
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// DensityColor returns the colour of a pixel whose cells have a mean of
// ptrs addresses with a PTR (0 to 256).
func DensityColor(ptrs int) color.RGBA {
	return levelColor((min(max(ptrs, 0), 256) + 1) / 2)
}

// Swatch is one colour of the scale and what it means, for a legend.
type Swatch struct {
	Label string `json:"label"`
	// Color is "#rrggbb".
	Color string `json:"color"`
}

// Legend returns the colours of mode m in the order a legend lists them:
// no data, then the scale (density: 0, 1, 64, 128, 192 and 256 PTRs of a
// /24; outcome: each class), then the highlight.
func Legend(m Mode) []Swatch {
	sw := func(label string, c color.RGBA) Swatch {
		return Swatch{label, fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)}
	}
	out := []Swatch{sw("no data", noDataColor)}
	if m == ModeOutcome {
		for _, s := range sweep.Statuses {
			out = append(out, sw(s.String(), outcomeColors[s]))
		}
	} else {
		for _, n := range []int{0, 1, 64, 128, 192, 256} {
			out = append(out, sw(fmt.Sprintf("%d PTRs per /24", n), DensityColor(n)))
		}
	}
	return append(out, sw("matches the query", highlightColor))
}

// OutcomeColor returns the colour of an outcome class, and false for an
// invalid status.
func OutcomeColor(s sweep.Status) (color.RGBA, bool) {
	c, ok := outcomeColors[s]
	return c, ok
}

// Render draws view v in mode m from cells, one per /24 in any order (cells
// outside the view are skipped), and colours every pixel that holds a /24
// numbered in highlight (/24 numbers, like Cell.Net) in the highlight
// colour. A cell with Net ≥ 2^24, more than 256 PTRs, a /24 given twice, or
// (in ModeOutcome) an invalid outcome is an error, and so is a highlight
// number ≥ 2^24. The image uses the fixed palette described above; cells is
// not modified.
func Render(v View, m Mode, cells []Cell, highlight []uint32) (*image.Paletted, error) {
	if m != ModeDensity && m != ModeOutcome {
		return nil, fmt.Errorf("render %s: unknown mode %d", v, m)
	}
	if v.size == (image.Point{}) {
		return nil, fmt.Errorf("render: the zero View; make one with NewView or Full")
	}
	img := image.NewPaletted(v.Bounds(), palette)
	sorted := true
	for i, c := range cells {
		if c.Net>>24 != 0 {
			return nil, fmt.Errorf("render %s: cell number %d is not a /24 number (want below 2^24)", v, c.Net)
		}
		if c.PTRs > 256 {
			return nil, fmt.Errorf("render %s: cell %s has %d PTRs; a /24 has at most 256 addresses", v, net24(c.Net), c.PTRs)
		}
		if m == ModeOutcome && (c.Outcome < sweep.StatusOK || c.Outcome > sweep.StatusTimeout) {
			return nil, fmt.Errorf("render %s: cell %s has outcome %s; ModeOutcome needs ok, nxdomain, nodata, servfail, refused or timeout", v, net24(c.Net), c.Outcome)
		}
		if i > 0 && c.Net < cells[i-1].Net {
			sorted = false
		}
	}
	in := cells
	if !sorted {
		in = slices.Clone(cells)
		slices.SortFunc(in, byNet)
	}
	// The view's /24s are the numbers lo to hi; a pixel is a run of them.
	lo := addrNum(v.prefix.Addr()) >> 8
	hi := lo + (1<<(FullBits-v.prefix.Bits()) - 1)
	i, _ := slices.BinarySearchFunc(in, lo, func(c Cell, n uint32) int { return cmp.Compare(c.Net, n) })
	shift := FullBits - v.pixelBits
	order := v.pixelBits / 2
	for i < len(in) && in[i].Net <= hi {
		px := in[i].Net >> shift
		var sum, n int
		var counts [sweep.StatusTimeout + 1]int
		for ; i < len(in) && in[i].Net>>shift == px; i++ {
			if n > 0 && in[i].Net == in[i-1].Net {
				return nil, fmt.Errorf("render %s: cell %s given twice", v, net24(in[i].Net))
			}
			sum += int(in[i].PTRs)
			if m == ModeOutcome {
				counts[in[i].Outcome]++
			}
			n++
		}
		idx := uint8(idxDensity + (sum+2*n-1)/(2*n))
		if m == ModeOutcome {
			best := sweep.Statuses[0]
			for _, s := range sweep.Statuses {
				if counts[s] > counts[best] {
					best = s
				}
			}
			idx = uint8(idxOutcome + int(best) - 1)
		}
		x, y := D2XY(order, px)
		img.Pix[(int(y)-v.origin.Y)*img.Stride+int(x)-v.origin.X] = idx
	}
	for _, h := range highlight {
		if h>>24 != 0 {
			return nil, fmt.Errorf("render %s: highlight number %d is not a /24 number (want below 2^24)", v, h)
		}
		if pt, ok := v.Pixel(h); ok {
			img.Pix[pt.Y*img.Stride+pt.X] = idxHighlight
		}
	}
	return img, nil
}

func byNet(a, b Cell) int { return cmp.Compare(a.Net, b.Net) }

func net24(n uint32) netip.Prefix { return netip.PrefixFrom(numAddr(n<<8), 24) }

// EncodePNG writes img as PNG with fast compression.
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("encode map PNG: %w", err)
	}
	return nil
}
