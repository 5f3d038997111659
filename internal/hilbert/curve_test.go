package hilbert

import (
	"math/rand/v2"
	"testing"
)

func TestD2XYOrder1(t *testing.T) {
	want := [][2]uint32{{0, 0}, {0, 1}, {1, 1}, {1, 0}}
	for d, w := range want {
		if x, y := D2XY(1, uint32(d)); x != w[0] || y != w[1] {
			t.Errorf("D2XY(1, %d) = (%d, %d), want (%d, %d)", d, x, y, w[0], w[1])
		}
	}
}

// TestD2XYOrder2 checks the 4×4 curve against the first four rows and
// columns of xkcd 195, read with y downwards.
func TestD2XYOrder2(t *testing.T) {
	grid := [4][4]uint32{
		{0, 1, 14, 15},
		{3, 2, 13, 12},
		{4, 7, 8, 11},
		{5, 6, 9, 10},
	}
	for y, row := range grid {
		for x, d := range row {
			if gx, gy := D2XY(2, d); gx != uint32(x) || gy != uint32(y) {
				t.Errorf("D2XY(2, %d) = (%d, %d), want (%d, %d)", d, gx, gy, x, y)
			}
			if got := XY2D(2, uint32(x), uint32(y)); got != d {
				t.Errorf("XY2D(2, %d, %d) = %d, want %d", x, y, got, d)
			}
		}
	}
}

// TestBijection walks every cell of orders 0 to 8: D2XY is one to one onto
// the grid, XY2D inverts it and consecutive cells share an edge.
func TestBijection(t *testing.T) {
	for order := 0; order <= 8; order++ {
		side := uint32(1) << order
		seen := make([]bool, side*side)
		var px, py uint32
		for d := uint32(0); d < side*side; d++ {
			x, y := D2XY(order, d)
			if x >= side || y >= side {
				t.Fatalf("D2XY(%d, %d) = (%d, %d), outside %d×%d", order, d, x, y, side, side)
			}
			if seen[y*side+x] {
				t.Fatalf("D2XY(%d, %d) = (%d, %d), already taken", order, d, x, y)
			}
			seen[y*side+x] = true
			if got := XY2D(order, x, y); got != d {
				t.Fatalf("XY2D(%d, %d, %d) = %d, want %d", order, x, y, got, d)
			}
			if d > 0 && dist(x, y, px, py) != 1 {
				t.Fatalf("order %d: cells %d (%d, %d) and %d (%d, %d) are not neighbours", order, d-1, px, py, d, x, y)
			}
			px, py = x, y
		}
	}
}

// TestFullMapAdjacency checks every pair of consecutive /24s of the whole
// space: neighbouring pixels on the 4096×4096 map.
func TestFullMapAdjacency(t *testing.T) {
	px, py := D2XY(12, 0)
	for d := uint32(1); d < 1<<24; d++ {
		x, y := D2XY(12, d)
		if dist(x, y, px, py) != 1 {
			t.Fatalf("/24s %d (%d, %d) and %d (%d, %d) are not neighbours", d-1, px, py, d, x, y)
		}
		px, py = x, y
	}
}

// TestLargeOrders samples orders 12 and 16: XY2D inverts D2XY, and the
// curve of order n halved is the curve of order n-1.
func TestLargeOrders(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ends := []uint32{0, 1, 2, 3, 1<<24 - 1, 1<<32 - 1}
	for _, order := range []int{12, 16} {
		for i := 0; i < 100000; i++ {
			d := r.Uint32() >> (32 - 2*order)
			if i < len(ends) {
				d = min(ends[i], uint32(uint64(1)<<(2*order)-1))
			}
			x, y := D2XY(order, d)
			if got := XY2D(order, x, y); got != d {
				t.Fatalf("XY2D(%d, D2XY(%d, %d) = (%d, %d)) = %d", order, order, d, x, y, got)
			}
			hx, hy := D2XY(order-1, d>>2)
			if x>>1 != hx || y>>1 != hy {
				t.Fatalf("D2XY(%d, %d) = (%d, %d), halved (%d, %d); D2XY(%d, %d) = (%d, %d)", order, d, x, y, x>>1, y>>1, order-1, d>>2, hx, hy)
			}
		}
	}
}

func TestCurvePanics(t *testing.T) {
	for _, f := range []func(){
		func() { D2XY(-1, 0) },
		func() { D2XY(17, 0) },
		func() { D2XY(2, 16) },
		func() { XY2D(2, 4, 0) },
		func() { XY2D(2, 0, 4) },
		func() { XY2D(17, 0, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for an argument outside the curve")
				}
			}()
			f()
		}()
	}
}

func dist(x, y, px, py uint32) uint32 {
	d := func(a, b uint32) uint32 {
		if a > b {
			return a - b
		}
		return b - a
	}
	return d(x, px) + d(y, py)
}

// TestD2XYTable checks the byte-table walk against the level-by-level
// definition: every cell of orders 0 to 10, samples of the larger ones.
func TestD2XYTable(t *testing.T) {
	for _, order := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
		for d := uint32(0); d < 1<<(2*order); d++ {
			x, y := D2XY(order, d)
			if wx, wy := d2xyLevels(order, d); x != wx || y != wy {
				t.Fatalf("D2XY(%d, %d) = (%d, %d), level by level (%d, %d)", order, d, x, y, wx, wy)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, order := range []int{11, 12, 13, 14, 15, 16} {
		for i := 0; i < 100000; i++ {
			d := r.Uint32() >> (32 - 2*order)
			x, y := D2XY(order, d)
			if wx, wy := d2xyLevels(order, d); x != wx || y != wy {
				t.Fatalf("D2XY(%d, %d) = (%d, %d), level by level (%d, %d)", order, d, x, y, wx, wy)
			}
		}
	}
}
