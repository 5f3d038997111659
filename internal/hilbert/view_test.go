package hilbert

import (
	"image"
	"net/netip"
	"strings"
	"testing"
)

func TestViewSizes(t *testing.T) {
	tests := []struct {
		prefix string
		bits   int
		w, h   int
		origin image.Point // on the whole-space map at the same granularity; (-1,-1): not checked
	}{
		{"0.0.0.0/0", 24, 4096, 4096, image.Pt(0, 0)},
		{"0.0.0.0/0", 16, 256, 256, image.Pt(0, 0)},
		{"0.0.0.0/0", 0, 1, 1, image.Pt(0, 0)},
		{"0.0.0.0/1", 24, 2048, 4096, image.Pt(0, 0)}, // the left half: top-left and bottom-left quarters
		{"128.0.0.0/1", 24, 2048, 4096, image.Pt(2048, 0)},
		{"64.0.0.0/2", 24, 2048, 2048, image.Pt(0, 2048)},     // bottom-left
		{"128.0.0.0/2", 24, 2048, 2048, image.Pt(2048, 2048)}, // bottom-right
		{"192.0.0.0/2", 24, 2048, 2048, image.Pt(2048, 0)},    // top-right
		{"0.0.0.0/8", 24, 256, 256, image.Pt(0, 0)},
		{"255.0.0.0/8", 24, 256, 256, image.Pt(3840, 0)}, // the top-right corner, as in xkcd 195
		{"10.0.0.0/8", 8, 1, 1, image.Pt(3, 3)},          // d 10 on xkcd's 4×4 (the first 16 /8s)
		{"10.0.0.0/8", 24, 256, 256, image.Pt(768, 768)}, // the same, 256 pixels a cell
		{"5.0.0.0/8", 24, 256, 256, image.Pt(0, 768)},    // d 5: row 3, column 0
		{"14.0.0.0/8", 24, 256, 256, image.Pt(512, 0)},   // d 14: row 0, column 2
		{"10.0.0.0/9", 24, 0, 0, image.Pt(-1, -1)},       // 256×128 or 128×256
		{"198.18.0.0/15", 24, 0, 0, image.Pt(-1, -1)},    // 16×32 or 32×16
		{"198.51.100.0/24", 24, 1, 1, image.Pt(-1, -1)},
	}
	for _, tt := range tests {
		v, err := NewView(netip.MustParsePrefix(tt.prefix), tt.bits)
		if err != nil {
			t.Errorf("NewView(%s, %d): %v", tt.prefix, tt.bits, err)
			continue
		}
		b := v.Bounds()
		if tt.w == 0 { // an odd prefix: a rectangle of two squares, either way round
			k := tt.bits - v.Prefix().Bits()
			long, short := max(b.Dx(), b.Dy()), min(b.Dx(), b.Dy())
			if long != 1<<(k/2+1) || short != 1<<(k/2) {
				t.Errorf("NewView(%s, %d) = %d×%d, want %d×%d either way round", tt.prefix, tt.bits, b.Dx(), b.Dy(), 1<<(k/2+1), 1<<(k/2))
			}
			continue
		}
		if b.Dx() != tt.w || b.Dy() != tt.h || (tt.origin.X >= 0 && v.origin != tt.origin) {
			t.Errorf("NewView(%s, %d) = %d×%d at %v, want %d×%d at %v", tt.prefix, tt.bits, b.Dx(), b.Dy(), v.origin, tt.w, tt.h, tt.origin)
		}
	}
	if f := Full(); f.Bounds() != image.Rect(0, 0, 4096, 4096) || f.String() != "0.0.0.0/0@/24" {
		t.Errorf("Full() = %s %v, want 0.0.0.0/0@/24 4096×4096", f, f.Bounds())
	}
}

// TestViewCrops walks every pixel block of views of each kind: each block of
// the prefix has one pixel, inside the bounds, where the full map at the
// same granularity has it (shifted by the view's origin); Block inverts
// Pixel; a pixel of a half-square view that holds no block says so.
func TestViewCrops(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		bits   int
	}{
		{"10.0.0.0/8", 24}, {"10.128.0.0/9", 24}, {"172.16.0.0/12", 24}, {"0.0.0.0/0", 16},
		{"0.0.0.0/1", 14}, {"192.168.0.0/16", 24}, {"203.0.113.0/24", 24}, {"0.0.0.0/0", 0},
	} {
		p := netip.MustParsePrefix(tt.prefix)
		v, err := NewView(p, tt.bits)
		if err != nil {
			t.Fatalf("NewView(%s, %d): %v", p, tt.bits, err)
		}
		full, err := NewView(netip.MustParsePrefix("0.0.0.0/0"), tt.bits)
		if err != nil {
			t.Fatal(err)
		}
		b := v.Bounds()
		seen := make(map[image.Point]bool)
		shift := FullBits - tt.bits
		first := addrNum(p.Addr()) >> 8
		blocks := uint32(1) << (tt.bits - p.Bits())
		for i := uint32(0); i < blocks; i++ {
			n := first + i<<shift // the first /24 of the block
			pt, ok := v.Pixel(n)
			if !ok || !pt.In(b) || seen[pt] {
				t.Fatalf("%s: Pixel(%s) = %v, %v: outside %v or taken", v, net24(n), pt, ok, b)
			}
			seen[pt] = true
			if fp, _ := full.Pixel(n); fp != pt.Add(v.origin) {
				t.Fatalf("%s: Pixel(%s) = %v, the full map has it at %v (origin %v)", v, net24(n), pt, fp, v.origin)
			}
			// every /24 of the block is on the same pixel
			if last, _ := v.Pixel(n + 1<<shift - 1); last != pt {
				t.Fatalf("%s: the last /24 of block %s is at %v, its first at %v", v, net24(n), last, pt)
			}
			blk, ok := v.Block(pt)
			if want := netip.PrefixFrom(numAddr(n<<8), tt.bits); !ok || blk != want {
				t.Fatalf("%s: Block(%v) = %s, %v; want %s", v, pt, blk, ok, want)
			}
		}
		if len(seen) != b.Dx()*b.Dy() {
			t.Errorf("%s: %d blocks fill %d of %d pixels", v, blocks, len(seen), b.Dx()*b.Dy())
		}
		for _, out := range []image.Point{{-1, 0}, {0, -1}, b.Max, {b.Max.X, 0}} {
			if blk, ok := v.Block(out); ok {
				t.Errorf("%s: Block(%v) = %s outside the bounds %v", v, out, blk, b)
			}
		}
	}
	v, _ := NewView(netip.MustParsePrefix("10.0.0.0/8"), 24)
	for _, n := range []uint32{0x0b0000, 0x09ffff, 1 << 24} {
		if pt, ok := v.Pixel(n); ok {
			t.Errorf("%s: Pixel(%d) = %v, want outside the view", v, n, pt)
		}
	}
}

func TestViewErrors(t *testing.T) {
	tests := []struct {
		prefix netip.Prefix
		bits   int
		want   string
	}{
		{netip.MustParsePrefix("10.0.0.0/8"), 23, "pixel size /23: want an even prefix length from 0 to 24"},
		{netip.MustParsePrefix("10.0.0.0/8"), 26, "pixel size /26: want an even prefix length from 0 to 24"},
		{netip.MustParsePrefix("10.0.0.0/8"), -2, "pixel size /-2"},
		{netip.MustParsePrefix("10.0.0.0/8"), 6, "pixel size /6 is larger than the block; use /8 or longer"},
		{netip.MustParsePrefix("10.0.0.0/28"), 24, "pixel size /24 is larger than the block; use /28 or longer"},
		{netip.MustParsePrefix("10.1.0.0/8"), 24, "host bits set; did you mean 10.0.0.0/8?"},
		{netip.MustParsePrefix("2001:db8::/32"), 24, "want an IPv4 CIDR"},
		{netip.Prefix{}, 24, "want an IPv4 CIDR"},
	}
	for _, tt := range tests {
		_, err := NewView(tt.prefix, tt.bits)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewView(%s, %d) error = %v, want one containing %q", tt.prefix, tt.bits, err, tt.want)
		}
	}
}
