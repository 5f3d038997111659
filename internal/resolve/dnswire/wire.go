// Package dnswire is the DNS wire codec of ptrsweep's hot path: it packs
// queries, checks that a response answers the question asked, and parses
// the usual answers to a PTR query (NOERROR with PTRs, NXDOMAIN, NODATA,
// one RFC 2317 CNAME) without allocating, except for the PTR names it
// keeps.
//
// Anything unusual (a truncated answer, another rcode, other record types,
// EDNS options, more CNAMEs) is refused by Answer.Parse and left to
// github.com/miekg/dns, which stays the reference: the fuzz tests check
// that whenever this package accepts a packet, miekg/dns accepts it too
// and reads the same outcome. The package is pure: no sockets, no clocks,
// no goroutines; every function is safe for concurrent use on distinct
// buffers.
package dnswire

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/miekg/dns"
)

// ErrBadName means a query name does not pack (an empty label, a label
// over 63 bytes, a name over 255 bytes): no server can answer it.
var ErrBadName = errors.New("query name does not pack")

const (
	// HeaderLen is the length of a DNS message header; a query's question
	// section starts there.
	HeaderLen = 12
	optLen    = 11 // an OPT record with no options
	// MaxQueryLen bounds a query packed by PackQuery: header, a 255-byte
	// name, type and class, and the OPT record.
	MaxQueryLen = HeaderLen + 255 + 4 + optLen
	// MaxPTRQueryLen is the longest query PackPTRQuery writes.
	MaxPTRQueryLen = HeaderLen + 4*4 + len(arpaSuffix) + 4 + optLen
	// maxNameWire is the longest name on the wire, root byte included.
	maxNameWire = 255
	// maxPointers bounds the compression pointers followed in one name
	// (as miekg/dns does).
	maxPointers = (maxNameWire+1)/2 - 2
	arpaSuffix  = "\x07in-addr\x04arpa\x00"
)

// Header flag bits of the second 16-bit word.
const (
	flagQR     = 1 << 15
	flagOpcode = 0xF << 11
	flagTC     = 1 << 9
	flagRD     = 1 << 8
	flagRcode  = 0xF
)

// PackPTRQuery writes the PTR query for the IPv4 address ip with ID id and
// an EDNS0 OPT record advertising udpSize into buf (at least
// MaxPTRQueryLen bytes) and returns the packet and the length of its
// question section (name, type and class, from HeaderLen on). It does not
// allocate.
func PackPTRQuery(buf []byte, id uint16, ip netip.Addr, udpSize uint16) ([]byte, int) {
	a := ip.As4()
	putHeader(buf, id)
	off := HeaderLen
	for i := 3; i >= 0; i-- {
		off = putDecimalLabel(buf, off, a[i])
	}
	off += copy(buf[off:], arpaSuffix)
	binary.BigEndian.PutUint16(buf[off:], dns.TypePTR)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	qlen := off - HeaderLen
	return buf[:putOPT(buf, off, udpSize)], qlen
}

// PackQuery writes a query for a presentation-form name and qtype into buf
// (at least MaxQueryLen bytes), like PackPTRQuery. A name that does not
// pack gives ErrBadName.
func PackQuery(buf []byte, id uint16, name string, qtype uint16, udpSize uint16) ([]byte, int, error) {
	putHeader(buf, id)
	off, err := dns.PackDomainName(dns.Fqdn(name), buf[:HeaderLen+maxNameWire], HeaderLen, nil, false)
	if err != nil {
		return nil, 0, ErrBadName
	}
	binary.BigEndian.PutUint16(buf[off:], qtype)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	qlen := off - HeaderLen
	return buf[:putOPT(buf, off, udpSize)], qlen, nil
}

// putHeader writes a query header: id, RD, one question, one additional.
func putHeader(buf []byte, id uint16) {
	binary.BigEndian.PutUint16(buf[0:], id)
	binary.BigEndian.PutUint16(buf[2:], flagRD)
	binary.BigEndian.PutUint16(buf[4:], 1)
	binary.BigEndian.PutUint32(buf[6:], 0)
	binary.BigEndian.PutUint16(buf[10:], 1)
}

// putOPT writes an OPT record advertising udpSize at off and returns the
// new offset.
func putOPT(buf []byte, off int, udpSize uint16) int {
	buf[off] = 0 // root owner
	binary.BigEndian.PutUint16(buf[off+1:], dns.TypeOPT)
	binary.BigEndian.PutUint16(buf[off+3:], udpSize)
	binary.BigEndian.PutUint32(buf[off+5:], 0) // extended rcode, version 0, no DO
	binary.BigEndian.PutUint16(buf[off+9:], 0) // no options
	return off + optLen
}

// putDecimalLabel writes v as a decimal label at off.
func putDecimalLabel(buf []byte, off int, v byte) int {
	switch {
	case v >= 100:
		buf[off], buf[off+1], buf[off+2], buf[off+3] = 3, '0'+v/100, '0'+v/10%10, '0'+v%10
		return off + 4
	case v >= 10:
		buf[off], buf[off+1], buf[off+2] = 2, '0'+v/10, '0'+v%10
		return off + 3
	}
	buf[off], buf[off+1] = 1, '0'+v
	return off + 2
}

// SetID writes id into the header of the packed message pkt.
func SetID(pkt []byte, id uint16) { pkt[0], pkt[1] = byte(id>>8), byte(id) }

// ID returns the ID of a message of at least HeaderLen bytes.
func ID(pkt []byte) uint16 { return binary.BigEndian.Uint16(pkt) }

// flags returns the flag word of a message of at least HeaderLen bytes.
func flags(pkt []byte) uint16 { return binary.BigEndian.Uint16(pkt[2:]) }

// Truncated reports whether a message of at least HeaderLen bytes has TC
// set.
func Truncated(pkt []byte) bool { return flags(pkt)&flagTC != 0 }

// Responds reports whether pkt (at least HeaderLen bytes, its ID already
// matched) answers the query whose question section is q: a response to a
// standard query that carries exactly q (see MatchQuestion), or an error
// response without question and answer (see errorWithoutQuestion).
func Responds(pkt []byte, q []byte) bool {
	f := flags(pkt)
	if f&flagQR == 0 || f&flagOpcode != 0 {
		return false
	}
	return MatchQuestion(pkt, q) || errorWithoutQuestion(pkt)
}

// errorWithoutQuestion reports a response of at least HeaderLen bytes with
// neither question nor answer and a failing rcode (not NOERROR, not
// NXDOMAIN, not truncated), as some servers send with REFUSED or FORMERR:
// it only sends the query on to the next server.
func errorWithoutQuestion(pkt []byte) bool {
	f := flags(pkt)
	rc := f & flagRcode
	return pkt[4] == 0 && pkt[5] == 0 && pkt[6] == 0 && pkt[7] == 0 &&
		f&flagTC == 0 && rc != dns.RcodeSuccess && rc != dns.RcodeNameError
}

// lower folds an ASCII letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// MatchQuestion reports whether the response pkt carries exactly the
// question q (a query's question section: name, type, class), comparing
// the name case-insensitively. A compressed name never matches.
func MatchQuestion(pkt []byte, q []byte) bool {
	if len(pkt) < HeaderLen+len(q) || binary.BigEndian.Uint16(pkt[4:]) != 1 {
		return false
	}
	r := pkt[HeaderLen : HeaderLen+len(q)]
	for i := 0; i < len(q); {
		// Walk label by label so length bytes are compared exactly.
		n := int(q[i])
		if r[i] != q[i] {
			return false
		}
		i++
		if n == 0 {
			// type and class
			return r[i] == q[i] && r[i+1] == q[i+1] && r[i+2] == q[i+2] && r[i+3] == q[i+3]
		}
		for j := i; j < i+n; j++ {
			if lower(r[j]) != lower(q[j]) {
				return false
			}
		}
		i += n
	}
	return false
}
