// Package hilbert draws the IPv4 address space on a Hilbert curve, in the
// tradition of xkcd's "Map of the Internet" (comic 195) and ipv4-heatmap: the
// curve keeps numerically close addresses close on the page, so a prefix is
// always a square or a half square. At full zoom one pixel is a /24 and the
// whole space is 4096×4096; a /8 is 256×256.
//
// The orientation is xkcd's: x grows to the right and y downwards; 0.0.0.0/2
// is the top-left quarter, then the bottom-left, the bottom-right and the
// top-right (where 224.0.0.0/4, multicast, sits).
//
// The package uses only the standard library and package sweep; its
// functions are safe for concurrent use.
package hilbert

import "fmt"

// MaxOrder is the largest curve order: 2^16×2^16 cells, one per IPv4 address.
const MaxOrder = 16

// checkOrder panics unless 0 ≤ order ≤ MaxOrder.
func checkOrder(order int) {
	if order < 0 || order > MaxOrder {
		panic(fmt.Sprintf("hilbert: order %d outside 0..%d", order, MaxOrder))
	}
}

// D2XY returns the cell (x, y) at distance d along the Hilbert curve of the
// given order, which fills a 2^order × 2^order grid. It panics when order is
// outside 0..MaxOrder or d ≥ 4^order.
//
// The curve of order n is the curve of order n-1 refined: the cell of d at
// order n, halved, is the cell of d/4 at order n-1. So the cell of a /24 on
// the full map (order 12), scaled down, is the cell of its /16 on a map of
// /16s (order 8).
func D2XY(order int, d uint32) (x, y uint32) {
	checkOrder(order)
	if order < MaxOrder && d>>(2*order) != 0 {
		panic(fmt.Sprintf("hilbert: distance %d outside a curve of order %d", d, order))
	}
	// Walk d a byte (four levels) at a time from the top, on the curve of
	// the next order that is a multiple of 4. Its first 4^order cells are
	// the curve of this order, transposed when the orders differ by an odd
	// number (the first quarter of a curve is its parent transposed).
	m := (order + 3) &^ 3
	state := uint8(0)
	for shift := 2*m - 8; shift >= 0; shift -= 8 {
		e := byteTable[state][uint8(d>>shift)]
		x = x<<4 | uint32(e.x)
		y = y<<4 | uint32(e.y)
		state = e.next
	}
	if (m-order)%2 == 1 {
		x, y = y, x
	}
	return x, y
}

// d2xyLevels is D2XY computed one level at a time, from the lowest bits up
// (the classic formulation); it builds byteTable.
func d2xyLevels(order int, d uint32) (x, y uint32) {
	t := d
	for s := uint32(1); s < 1<<order; s <<= 1 {
		rx := 1 & (t >> 1)
		ry := 1 & (t ^ rx)
		x, y = rotate(s, x, y, rx, ry)
		x += s * rx
		y += s * ry
		t >>= 2
	}
	return x, y
}

// symmetry is one of the eight symmetries of a square of side n: optionally
// swap x and y, then optionally mirror x (x → n-1-x) and y.
type symmetry struct{ swap, flipX, flipY bool }

func (s symmetry) apply(n, x, y uint32) (uint32, uint32) {
	if s.swap {
		x, y = y, x
	}
	if s.flipX {
		x = n - 1 - x
	}
	if s.flipY {
		y = n - 1 - y
	}
	return x, y
}

// symmetries lists the eight symmetries; index 0 is the identity.
var symmetries = func() (out [8]symmetry) {
	for i := range out {
		out[i] = symmetry{i&1 != 0, i&2 != 0, i&4 != 0}
	}
	return out
}()

// byteEntry is the cell of one byte of d within a 16×16 block, given the
// orientation (state) of the block, and the orientation of that cell.
type byteEntry struct{ x, y, next uint8 }

// byteTable[state][b]: state indexes symmetries.
var byteTable = buildByteTable()

// buildByteTable derives the table from d2xyLevels: a cell of the curve is
// drawn as the whole curve under a symmetry, found by how the curve walks
// the cell's four quarters one level down.
func buildByteTable() (t [8][256]byteEntry) {
	// which returns the symmetry that maps the curve's first four cells
	// (order 1) onto quarters, the cells 0..3 of a 2×2 block.
	which := func(quarters [4][2]uint32) uint8 {
		for i, s := range symmetries {
			ok := true
			for k := uint32(0); k < 4; k++ {
				x, y := d2xyLevels(1, k)
				if sx, sy := s.apply(2, x, y); sx != quarters[k][0] || sy != quarters[k][1] {
					ok = false
				}
			}
			if ok {
				return uint8(i)
			}
		}
		panic("hilbert: a cell's quarters match no symmetry")
	}
	// compose returns the symmetry "apply b, then a".
	compose := func(a, b uint8) uint8 {
		var q [4][2]uint32
		for k := uint32(0); k < 4; k++ {
			x, y := d2xyLevels(1, k)
			x, y = symmetries[b].apply(2, x, y)
			q[k][0], q[k][1] = symmetries[a].apply(2, x, y)
		}
		return which(q)
	}
	for state := range t {
		for b := uint32(0); b < 256; b++ {
			cx, cy := d2xyLevels(4, b)
			var q [4][2]uint32
			for k := uint32(0); k < 4; k++ {
				x, y := d2xyLevels(5, 4*b+k)
				q[k][0], q[k][1] = x-2*cx, y-2*cy
			}
			x, y := symmetries[state].apply(16, cx, cy)
			t[state][b] = byteEntry{uint8(x), uint8(y), compose(uint8(state), which(q))}
		}
	}
	return t
}

// XY2D returns the distance along the Hilbert curve of the given order of
// cell (x, y); it is the inverse of D2XY. It panics when order is outside
// 0..MaxOrder or x or y ≥ 2^order.
func XY2D(order int, x, y uint32) uint32 {
	checkOrder(order)
	if order < MaxOrder && (x>>order != 0 || y>>order != 0) {
		panic(fmt.Sprintf("hilbert: cell (%d, %d) outside a curve of order %d", x, y, order))
	}
	var d uint32
	for s := uint32(1) << order >> 1; s > 0; s >>= 1 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		x, y = rotate(s, x, y, rx, ry)
	}
	return d
}

// rotate turns the quadrant of side s as the curve needs. Coordinates are
// taken modulo 2s, so callers may pass the whole position.
func rotate(s, x, y, rx, ry uint32) (uint32, uint32) {
	if ry == 0 {
		if rx == 1 {
			x = s - 1 - x
			y = s - 1 - y
		}
		x, y = y, x
	}
	return x, y
}
