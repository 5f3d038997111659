package hilbert

import (
	"fmt"
	"image"
	"net/netip"
)

// FullBits is the pixel granularity of the full map: one pixel a /24.
const FullBits = 24

// View is a rectangle of the map: the block Prefix drawn with one pixel per
// prefix of length PixelBits. It is a crop of the map of the whole space at
// that granularity, so a zoomed view looks like the same part of the full
// map, enlarged. A View is a comparable value, safe to copy and to use as a
// map key.
type View struct {
	prefix    netip.Prefix
	pixelBits int
	// origin is the top-left cell of the view on the whole-space map of
	// order pixelBits/2; size is its width and height.
	origin image.Point
	size   image.Point
}

// Full is the whole space at one pixel a /24: 4096×4096.
func Full() View {
	v, _ := NewView(netip.PrefixFrom(netip.IPv4Unspecified(), 0), FullBits)
	return v
}

// NewView returns the view of block p at one pixel per prefix of length
// pixelBits. pixelBits must be even (a pixel is then a square of the curve),
// at most 24 (values are per /24) and at least p.Bits(); the view may hold at
// most MaxPixels pixels. A view of a prefix with an even length is a square,
// with an odd length a rectangle twice as wide or tall as high or wide.
// Examples: 0.0.0.0/0 at 24 is 4096×4096, 10.0.0.0/8 at 24 is 256×256,
// 0.0.0.0/0 at 16 is 256×256 (a pixel a /16), 10.0.0.0/9 at 24 is 256×128
// or 128×256.
func NewView(p netip.Prefix, pixelBits int) (View, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return View{}, fmt.Errorf("map view %s: want an IPv4 CIDR such as 10.0.0.0/8", p)
	}
	if p.Masked() != p {
		return View{}, fmt.Errorf("map view %s: host bits set; did you mean %s?", p, p.Masked())
	}
	switch {
	case pixelBits%2 != 0 || pixelBits < 0 || pixelBits > FullBits:
		return View{}, fmt.Errorf("map view %s: pixel size /%d: want an even prefix length from 0 to %d", p, pixelBits, FullBits)
	case pixelBits < p.Bits():
		return View{}, fmt.Errorf("map view %s: pixel size /%d is larger than the block; use /%d or longer", p, pixelBits, p.Bits())
	}
	v := View{prefix: p, pixelBits: pixelBits}
	order := pixelBits / 2
	k := pixelBits - p.Bits() // bits of a pixel's index within the view
	first := v.firstIndex()
	side := uint32(1) << (k / 2)
	x, y := D2XY(order, first)
	x0, y0, x1, y1 := x&^(side-1), y&^(side-1), x|(side-1), y|(side-1)
	if k%2 == 1 {
		// Two squares of side 2^(k/2): the second half starts 2^(k-1) on.
		x, y := D2XY(order, first+1<<(k-1))
		x0, y0 = min(x0, x&^(side-1)), min(y0, y&^(side-1))
		x1, y1 = max(x1, x|(side-1)), max(y1, y|(side-1))
	}
	v.origin = image.Pt(int(x0), int(y0))
	v.size = image.Pt(int(x1-x0+1), int(y1-y0+1))
	return v, nil
}

// firstIndex returns the index of the view's first pixel on the
// whole-space curve of order pixelBits/2.
func (v View) firstIndex() uint32 {
	return addrNum(v.prefix.Addr()) >> (32 - v.pixelBits) // a shift by 32 is 0 in Go
}

// Prefix returns the block the view shows.
func (v View) Prefix() netip.Prefix { return v.prefix }

// PixelBits returns the prefix length of one pixel.
func (v View) PixelBits() int { return v.pixelBits }

// Bounds returns the image rectangle of the view: (0,0) to (width,height).
func (v View) Bounds() image.Rectangle { return image.Rectangle{Max: v.size} }

// String returns "PREFIX@/BITS", such as "10.0.0.0/8@/24".
func (v View) String() string { return fmt.Sprintf("%s@/%d", v.prefix, v.pixelBits) }

// Pixel returns the pixel of the /24 numbered n (its first address >> 8),
// and false when the /24 is outside the view or n ≥ 2^24.
func (v View) Pixel(n uint32) (image.Point, bool) {
	if n>>24 != 0 || !v.prefix.Contains(numAddr(n<<8)) {
		return image.Point{}, false
	}
	x, y := D2XY(v.pixelBits/2, n>>(FullBits-v.pixelBits))
	return image.Pt(int(x)-v.origin.X, int(y)-v.origin.Y), true
}

// Block returns the prefix of length PixelBits shown at pixel pt, and false
// when pt is outside the view or (for a rectangle's other half) outside the
// block. A page turns a click on the map into "ip in 'BLOCK'" with it.
func (v View) Block(pt image.Point) (netip.Prefix, bool) {
	if !pt.In(v.Bounds()) {
		return netip.Prefix{}, false
	}
	d := XY2D(v.pixelBits/2, uint32(pt.X+v.origin.X), uint32(pt.Y+v.origin.Y))
	a := numAddr(d << (32 - v.pixelBits)) // a shift by 32 is 0 in Go
	if !v.prefix.Contains(a) {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, v.pixelBits), true
}

func addrNum(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func numAddr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
