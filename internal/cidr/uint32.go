package cidr

import (
	"encoding/binary"
	"net/netip"
)

// AddrToUint32 returns an IPv4 address as a big-endian integer, the way
// ClickHouse stores it in a UInt32 (IPv4StringToNum). a must be IPv4 or
// IPv4-mapped IPv6; other addresses panic.
func AddrToUint32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// Uint32ToAddr is the inverse of AddrToUint32.
func Uint32ToAddr(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

// Bounds returns the first and the last address of an IPv4 prefix.
func Bounds(p netip.Prefix) (first, last netip.Addr) {
	p = p.Masked()
	lo := AddrToUint32(p.Addr())
	hi := lo | uint32(uint64(1)<<(32-p.Bits())-1)
	return Uint32ToAddr(lo), Uint32ToAddr(hi)
}
