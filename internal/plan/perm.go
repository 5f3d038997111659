package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// feistelRounds is the number of rounds of the permutation. Changing it, the
// round function or the key derivation changes the unit order of every scan.
const feistelRounds = 6

// permutation is a keyed pseudo-random permutation of [0, n): a Feistel
// network over the k-bit integers (2^k the smallest power of two >= n) with
// cycle-walking to stay below n. The two halves may differ in width by one
// bit; each round swaps them, so every round is a bijection. It is not
// cryptographic: it spreads units, it does not hide them.
type permutation struct {
	n      uint64
	lw, rw uint // widths of the left and right halves at the start
	keys   [feistelRounds]uint64
}

// newPermutation returns the permutation of [0, n) for the key. n must be at
// least 1.
func newPermutation(n uint64, key string) permutation {
	k := uint(0)
	if n > 1 {
		k = uint(bits.Len64(n - 1))
	}
	p := permutation{n: n, lw: (k + 1) / 2, rw: k / 2}
	h := sha256.Sum256([]byte("ptrsweep plan v1\x00" + key))
	for i := range p.keys {
		p.keys[i] = mix(binary.BigEndian.Uint64(h[8*(i%4):]) + uint64(i)*0x9e3779b97f4a7c15)
	}
	return p
}

// at returns the image of i, which must be below n.
func (p *permutation) at(i uint64) uint64 {
	x := p.encrypt(i)
	for x >= p.n {
		x = p.encrypt(x)
	}
	return x
}

// encrypt is the Feistel network on k-bit integers.
func (p *permutation) encrypt(x uint64) uint64 {
	a, b := p.lw, p.rw
	l, r := x>>b, x&mask(b)
	for _, key := range p.keys {
		// (l: a bits, r: b bits) -> (r: b bits, l^F(r): a bits)
		l, r = r, (l^mix(key^r))&mask(a)
		a, b = b, a
	}
	return l<<b | r
}

func mask(w uint) uint64 { return uint64(1)<<w - 1 }

// mix is the splitmix64 finalizer: a fast bijective 64-bit mixer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
