package resolve

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// The hot path packs PTR queries and parses the usual answers (NOERROR
// with PTRs, NXDOMAIN, NODATA) without github.com/miekg/dns and without
// allocating, except for the PTR names it returns. Anything unusual (a
// CNAME, TC, an unexpected record type or rcode, EDNS options) is left to
// miekg/dns, which stays the reference: the fuzz test checks that whenever
// the fast parser accepts a packet, miekg/dns accepts it too and the
// outcome is the same.

const (
	headerLen = 12
	optLen    = 11 // an OPT record with no options
	// maxQueryLen bounds a packed query: header, a 255-byte name, type and
	// class, and the OPT record.
	maxQueryLen = headerLen + 255 + 4 + optLen
	// maxNameWire is the longest name on the wire, root byte included.
	maxNameWire = 255
	// maxPointers bounds the compression pointers followed in one name
	// (as miekg/dns does).
	maxPointers = (maxNameWire+1)/2 - 2
)

// Header flag bits of the second 16-bit word.
const (
	flagQR     = 1 << 15
	flagOpcode = 0xF << 11
	flagTC     = 1 << 9
	flagRD     = 1 << 8
	flagRcode  = 0xF
)

// packPTRQuery writes the PTR query for ip with ID id and an EDNS0 OPT
// record advertising udpSize into buf (at least maxQueryLen bytes) and
// returns the packet and the length of its question section (name, type
// and class, starting at offset 12). It does not allocate.
func packPTRQuery(buf []byte, id uint16, ip netip.Addr, udpSize uint16) ([]byte, int) {
	a := ip.As4()
	putHeader(buf, id)
	off := headerLen
	for i := 3; i >= 0; i-- {
		off = putDecimalLabel(buf, off, a[i])
	}
	off += copy(buf[off:], "\x07in-addr\x04arpa\x00")
	binary.BigEndian.PutUint16(buf[off:], dns.TypePTR)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	qlen := off - headerLen
	return buf[:putOPT(buf, off, udpSize)], qlen
}

// packQuery writes a query for a presentation-form name and qtype into buf
// (at least maxQueryLen bytes), like packPTRQuery. A name that does not
// pack gives errBadName.
func packQuery(buf []byte, id uint16, name string, qtype uint16, udpSize uint16) ([]byte, int, error) {
	putHeader(buf, id)
	off, err := dns.PackDomainName(dns.Fqdn(name), buf[:headerLen+maxNameWire], headerLen, nil, false)
	if err != nil {
		return nil, 0, errBadName
	}
	binary.BigEndian.PutUint16(buf[off:], qtype)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	qlen := off - headerLen
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

// lower folds an ASCII letter to lower case.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// matchQuestion reports whether the response pkt carries exactly the
// question q (the query's question section: name, type, class), comparing
// the name case-insensitively. A compressed name never matches.
func matchQuestion(pkt []byte, q []byte) bool {
	if len(pkt) < headerLen+len(q) || binary.BigEndian.Uint16(pkt[4:]) != 1 {
		return false
	}
	r := pkt[headerLen : headerLen+len(q)]
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

// header fields of a packet of at least headerLen bytes.
func pktID(pkt []byte) uint16    { return binary.BigEndian.Uint16(pkt) }
func pktFlags(pkt []byte) uint16 { return binary.BigEndian.Uint16(pkt[2:]) }
func pktRcode(pkt []byte) int    { return int(pktFlags(pkt) & flagRcode) }

// parsed is what the fast parser read from an answer. names holds the
// canonical PTR names back to back; ends[i] is the end of the i-th name
// and ttls[i] its TTL. It is reused between answers.
type parsed struct {
	rcode  int
	names  []byte
	ends   []int
	ttls   []uint32
	negTTL uint32 // min(SOA TTL, SOA MINIMUM) of the first SOA in authority
	hasSOA bool
}

func (p *parsed) reset() {
	p.rcode, p.names, p.ends, p.ttls, p.negTTL, p.hasSOA = 0, p.names[:0], p.ends[:0], p.ttls[:0], 0, false
}

// name returns the i-th PTR name's bytes.
func (p *parsed) name(i int) []byte {
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.names[start:p.ends[i]]
}

// parseFast parses a validated UDP answer to the PTR question q (the
// query's question section). It handles NOERROR and NXDOMAIN answers whose
// records are PTRs (those owned by the question name kept, others
// ignored), SOAs and an OPT without options, in sections that hold exactly
// the counted records, a referral's NS records in authority and glue in
// additional (ignored), and one CNAME from the question name to another
// name (RFC 2317) when the answer is complete as lookup sees it: NXDOMAIN,
// or PTRs owned by the target and none by the question name. Any other
// answer returns false and is left to miekg/dns: TC, another rcode, other
// CNAMEs or any other record type, EDNS options or an extended rcode, and
// anything malformed. It reuses p and allocates only when p's buffers grow.
func parseFast(pkt []byte, q []byte, p *parsed) bool {
	p.reset()
	if len(pkt) < headerLen {
		return false
	}
	flags := pktFlags(pkt)
	if flags&flagQR == 0 || flags&flagOpcode != 0 || flags&flagTC != 0 {
		return false
	}
	p.rcode = int(flags & flagRcode)
	if p.rcode != dns.RcodeSuccess && p.rcode != dns.RcodeNameError {
		return false
	}
	if !matchQuestion(pkt, q) {
		return false
	}
	an := int(binary.BigEndian.Uint16(pkt[6:]))
	ns := int(binary.BigEndian.Uint16(pkt[8:]))
	ar := int(binary.BigEndian.Uint16(pkt[10:]))
	off := headerLen + len(q)
	answers := off
	opts := 0
	cname := -1 // offset of the CNAME's target
	for i := 0; i < an+ns+ar; i++ {
		ownerOff := off
		end, ok := skipName(pkt, off)
		if !ok || end+10 > len(pkt) {
			return false
		}
		rtype := binary.BigEndian.Uint16(pkt[end:])
		class := binary.BigEndian.Uint16(pkt[end+2:])
		ttl := binary.BigEndian.Uint32(pkt[end+4:])
		rdlen := int(binary.BigEndian.Uint16(pkt[end+8:]))
		rd := end + 10
		off = rd + rdlen
		if off > len(pkt) {
			return false
		}
		section := 0 // answer
		if i >= an+ns {
			section = 2
		} else if i >= an {
			section = 1
		}
		switch rtype {
		case dns.TypePTR:
			// Names in rdata may point only inside the message up to
			// the rdata's end, as miekg/dns reads them.
			nameEnd, ok := skipName(pkt[:off], rd)
			if !ok || nameEnd != off {
				return false
			}
			if section != 0 || class != dns.ClassINET || !ownerIs(pkt, ownerOff, q) {
				continue
			}
			if !p.addName(pkt[:off], rd, ttl) {
				return false
			}
		case dns.TypeCNAME:
			nameEnd, ok := skipName(pkt[:off], rd)
			if !ok || nameEnd != off || section != 0 || class != dns.ClassINET || cname >= 0 || !ownerIs(pkt, ownerOff, q) {
				return false
			}
			cname = rd
		case dns.TypeNS:
			// A referral's NS records in authority: ignored, as lookup does.
			nameEnd, ok := skipName(pkt[:off], rd)
			if !ok || nameEnd != off || section != 1 {
				return false
			}
		case dns.TypeA, dns.TypeAAAA:
			// A referral's glue in additional: ignored.
			if section != 2 || (rtype == dns.TypeA && rdlen != 4) || (rtype == dns.TypeAAAA && rdlen != 16) {
				return false
			}
		case dns.TypeSOA:
			mname, ok := skipName(pkt[:off], rd)
			if !ok {
				return false
			}
			rname, ok := skipName(pkt[:off], mname)
			if !ok || rname+20 != off {
				return false
			}
			if section == 1 && !p.hasSOA {
				p.hasSOA = true
				p.negTTL = min(ttl, binary.BigEndian.Uint32(pkt[rname+16:]))
			}
		case dns.TypeOPT:
			// Only one OPT, in the additional section, at the root, with
			// no extended rcode and no options.
			if opts++; opts > 1 || section != 2 || pkt[ownerOff] != 0 || rdlen != 0 || ttl>>24 != 0 {
				return false
			}
		default:
			return false
		}
	}
	if cname >= 0 {
		return p.followCNAME(pkt, q, answers, an, cname)
	}
	return true
}

// followCNAME completes parseFast for an answer with one CNAME of the
// question name whose target is at off: it keeps the PTRs owned by the
// target instead, and accepts only an answer lookup would end with.
func (p *parsed) followCNAME(pkt []byte, q []byte, answers, an, off int) bool {
	var buf [maxNameWire + 4]byte
	target, ok := appendWire(buf[:0], pkt, off)
	if !ok || len(p.ends) > 0 || ownerIs(pkt, off, q) {
		return false // PTRs of both names, or a loop: miekg/dns decides
	}
	if p.rcode == dns.RcodeNameError {
		return true
	}
	off = answers
	for range an {
		ownerOff := off
		end, _ := skipName(pkt, off) // checked by parseFast
		rtype := binary.BigEndian.Uint16(pkt[end:])
		class := binary.BigEndian.Uint16(pkt[end+2:])
		ttl := binary.BigEndian.Uint32(pkt[end+4:])
		rd := end + 10
		off = rd + int(binary.BigEndian.Uint16(pkt[end+8:]))
		if rtype == dns.TypePTR && class == dns.ClassINET && ownerIs(pkt, ownerOff, target) {
			if !p.addName(pkt[:off], rd, ttl) {
				return false
			}
		}
	}
	return len(p.ends) > 0 // else lookup asks for the target
}

// appendWire appends the name at off in uncompressed wire form.
func appendWire(dst []byte, pkt []byte, off int) ([]byte, bool) {
	ptrs := 0
	for {
		if off >= len(pkt) {
			return dst, false
		}
		c := int(pkt[off])
		switch c & 0xC0 {
		case 0x00:
			if off+1+c > len(pkt) || len(dst)+1+c > maxNameWire {
				return dst, false
			}
			dst = append(dst, pkt[off:off+1+c]...)
			if c == 0 {
				return dst, true
			}
			off += 1 + c
		case 0xC0:
			if off+1 >= len(pkt) {
				return dst, false
			}
			if ptrs++; ptrs > maxPointers {
				return dst, false
			}
			off = (c&0x3F)<<8 | int(pkt[off+1])
		default:
			return dst, false
		}
	}
}

// addName decodes the name at off into p as a canonical PTR name (see
// sweep.CanonicalName), keeping a repeated name once with its first TTL.
func (p *parsed) addName(pkt []byte, off int, ttl uint32) bool {
	start := len(p.names)
	var ok bool
	p.names, ok = appendName(p.names, pkt, off)
	if !ok {
		p.names = p.names[:start]
		return false
	}
	n := p.names[start:]
	for i := range p.ends {
		if string(p.name(i)) == string(n) {
			p.names = p.names[:start]
			return true
		}
	}
	p.ends = append(p.ends, len(p.names))
	p.ttls = append(p.ttls, ttl)
	return true
}

// skipName returns the offset after the (possibly compressed) name at off,
// checking it as appendName does.
func skipName(pkt []byte, off int) (int, bool) {
	end, budget, ptrs := -1, maxNameWire, 0
	for {
		if off >= len(pkt) {
			return 0, false
		}
		c := int(pkt[off])
		off++
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off
				}
				return end, true
			}
			if off+c > len(pkt) {
				return 0, false
			}
			if budget -= c + 1; budget <= 0 {
				return 0, false
			}
			off += c
		case 0xC0:
			if off >= len(pkt) {
				return 0, false
			}
			if end < 0 {
				end = off + 1
			}
			if ptrs++; ptrs > maxPointers {
				return 0, false
			}
			off = (c&0x3F)<<8 | int(pkt[off])
		default:
			return 0, false
		}
	}
}

// appendName appends the name at off in canonical presentation form: as
// miekg/dns writes it (special bytes backslash-escaped, bytes outside
// 0x20–0x7E as \DDD), ASCII letters lower-cased, no trailing dot, the root
// as ".".
func appendName(dst []byte, pkt []byte, off int) ([]byte, bool) {
	start, budget, ptrs := len(dst), maxNameWire, 0
	for {
		if off >= len(pkt) {
			return dst, false
		}
		c := int(pkt[off])
		off++
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if len(dst) == start {
					return append(dst, '.'), true
				}
				return dst, true
			}
			if off+c > len(pkt) {
				return dst, false
			}
			if budget -= c + 1; budget <= 0 {
				return dst, false
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			for _, b := range pkt[off : off+c] {
				switch {
				case b == '.' || b == ' ' || b == '\'' || b == '@' || b == ';' || b == '(' || b == ')' || b == '"' || b == '\\':
					dst = append(dst, '\\', b)
				case b < ' ' || b > '~':
					dst = append(dst, '\\', '0'+b/100, '0'+b/10%10, '0'+b%10)
				default:
					dst = append(dst, lower(b))
				}
			}
			off += c
		case 0xC0:
			if off >= len(pkt) {
				return dst, false
			}
			if ptrs++; ptrs > maxPointers {
				return dst, false
			}
			off = (c&0x3F)<<8 | int(pkt[off])
		default:
			return dst, false
		}
	}
}

// ownerIs reports whether the name at off in pkt is the question name of q
// (uncompressed wire form), ignoring ASCII case.
func ownerIs(pkt []byte, off int, q []byte) bool {
	qi, ptrs := 0, 0
	for {
		if off >= len(pkt) {
			return false
		}
		c := int(pkt[off])
		switch c & 0xC0 {
		case 0x00:
			if qi >= len(q) || int(q[qi]) != c || off+1+c > len(pkt) {
				return false
			}
			if c == 0 {
				return true
			}
			for j := 0; j < c; j++ {
				if lower(pkt[off+1+j]) != lower(q[qi+1+j]) {
					return false
				}
			}
			off += 1 + c
			qi += 1 + c
		case 0xC0:
			if off+1 >= len(pkt) {
				return false
			}
			if ptrs++; ptrs > maxPointers {
				return false
			}
			off = (c&0x3F)<<8 | int(pkt[off+1])
		default:
			return false
		}
	}
}
