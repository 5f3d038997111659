package hilbert

import (
	"testing"
)

// FuzzView checks any view against any /24: NewView accepts exactly the
// documented views, a /24 inside the view has a pixel inside the bounds
// whose block holds it, and one outside has none.
func FuzzView(f *testing.F) {
	f.Add(uint32(0x0a000000), uint8(8), uint8(24), uint32(0x0a0102))
	f.Add(uint32(0), uint8(0), uint8(16), uint32(0xffffff))
	f.Add(uint32(0xc6120000), uint8(15), uint8(22), uint32(0xc61301))
	f.Fuzz(func(t *testing.T, addr uint32, bits, pixelBits uint8, n uint32) {
		p, err := numAddr(addr).Prefix(int(bits % 33))
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewView(p, int(pixelBits%30))
		valid := int(pixelBits%30)%2 == 0 && int(pixelBits%30) <= FullBits && int(pixelBits%30) >= p.Bits()
		if (err == nil) != valid {
			t.Fatalf("NewView(%s, %d) error = %v, want valid = %v", p, pixelBits%30, err, valid)
		}
		if err != nil {
			return
		}
		n &= 1<<24 - 1
		pt, ok := v.Pixel(n)
		if in := p.Contains(numAddr(n << 8)); ok != in {
			t.Fatalf("%s: Pixel(%s) ok = %v, want %v", v, net24(n), ok, in)
		}
		if !ok {
			return
		}
		if !pt.In(v.Bounds()) {
			t.Fatalf("%s: Pixel(%s) = %v outside %v", v, net24(n), pt, v.Bounds())
		}
		blk, ok := v.Block(pt)
		if !ok || !blk.Contains(numAddr(n<<8)) || blk.Bits() != v.PixelBits() {
			t.Fatalf("%s: Block(Pixel(%s) = %v) = %s, %v", v, net24(n), pt, blk, ok)
		}
	})
}
