package dnswire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Answer is what Parse read from an answer to a PTR query: its rcode, the
// PTR names of the question name (or of its CNAME's target) in canonical
// form, their TTLs, and the negative-caching TTL of its SOA. Its buffers
// are reused from one Parse to the next, so a Name is valid only until the
// next Parse. An Answer is used by one goroutine at a time; the zero value
// is ready.
type Answer struct {
	rcode  int
	names  []byte   // the canonical PTR names back to back
	ends   []int    // ends[i] is the end of the i-th name in names
	ttls   []uint32 // ttls[i] is the i-th name's TTL
	negTTL uint32   // min(SOA TTL, SOA MINIMUM) of the first SOA in authority
	hasSOA bool
}

// Rcode returns the answer's rcode: dns.RcodeSuccess or dns.RcodeNameError
// after a successful Parse.
func (a *Answer) Rcode() int { return a.rcode }

// NegTTL returns the negative-caching TTL: the smaller of the TTL and the
// MINIMUM field of the first SOA record in the authority section, or 0
// without one.
func (a *Answer) NegTTL() uint32 { return a.negTTL }

// Len returns the number of distinct PTR names.
func (a *Answer) Len() int { return len(a.ends) }

// Name returns the i-th PTR name in canonical form: lower-cased, without
// the trailing dot, odd bytes escaped as miekg/dns writes them (the form
// of sweep.CanonicalName), the root as ".". The bytes are valid until the
// next Parse.
func (a *Answer) Name(i int) []byte {
	start := 0
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.names[start:a.ends[i]]
}

// TTL returns the TTL of the i-th PTR name (the first of a repeated name).
func (a *Answer) TTL(i int) uint32 { return a.ttls[i] }

func (a *Answer) reset() {
	a.rcode, a.names, a.ends, a.ttls, a.negTTL, a.hasSOA = 0, a.names[:0], a.ends[:0], a.ttls[:0], 0, false
}

// sections of a message, by record index.
const (
	secAnswer = iota
	secAuthority
	secAdditional
)

// Parse parses a UDP or TCP answer pkt to the PTR question q (the query's
// question section) into a and reports whether it could. It takes NOERROR
// and NXDOMAIN answers whose records are PTRs (those owned by the
// question name kept, others ignored), SOAs and an OPT without options,
// in sections that hold exactly the counted records, a referral's NS
// records in authority and glue in additional (ignored), and one CNAME
// from the question name to another name (RFC 2317) when the answer is
// complete without another query: NXDOMAIN, or PTRs owned by the target
// and none by the question name. Any other answer gives false and is left
// to miekg/dns: TC, another rcode, other CNAMEs or any other record type,
// EDNS options or an extended rcode, and anything malformed. It allocates
// only when a's buffers grow.
func (a *Answer) Parse(pkt []byte, q []byte) bool {
	a.reset()
	if len(pkt) < HeaderLen {
		return false
	}
	f := flags(pkt)
	if f&flagQR == 0 || f&flagOpcode != 0 || f&flagTC != 0 {
		return false
	}
	a.rcode = int(f & flagRcode)
	if a.rcode != dns.RcodeSuccess && a.rcode != dns.RcodeNameError {
		return false
	}
	if !MatchQuestion(pkt, q) {
		return false
	}
	an := int(binary.BigEndian.Uint16(pkt[6:]))
	ns := int(binary.BigEndian.Uint16(pkt[8:]))
	ar := int(binary.BigEndian.Uint16(pkt[10:]))
	off := HeaderLen + len(q)
	answers := off
	st := parseState{cname: -1}
	for i := 0; i < an+ns+ar; i++ {
		section := secAnswer
		if i >= an+ns {
			section = secAdditional
		} else if i >= an {
			section = secAuthority
		}
		var ok bool
		if off, ok = a.record(pkt, q, off, section, &st); !ok {
			return false
		}
	}
	if st.cname >= 0 {
		return a.followCNAME(pkt, q, answers, an, st.cname)
	}
	return true
}

// parseState is what Parse carries from one record to the next.
type parseState struct {
	opts  int // OPT records seen
	cname int // offset of the CNAME's target, -1: none
}

// record parses the record at off in section and returns the offset after
// it; false refuses the whole answer.
func (a *Answer) record(pkt []byte, q []byte, off, section int, st *parseState) (int, bool) {
	ownerOff := off
	end, ok := skipName(pkt, off)
	if !ok || end+10 > len(pkt) {
		return 0, false
	}
	rtype := binary.BigEndian.Uint16(pkt[end:])
	class := binary.BigEndian.Uint16(pkt[end+2:])
	ttl := binary.BigEndian.Uint32(pkt[end+4:])
	rdlen := int(binary.BigEndian.Uint16(pkt[end+8:]))
	rd := end + 10
	off = rd + rdlen
	if off > len(pkt) {
		return 0, false
	}
	switch rtype {
	case dns.TypePTR:
		// Names in rdata may point only inside the message up to the
		// rdata's end, as miekg/dns reads them.
		if !nameFills(pkt[:off], rd) {
			return 0, false
		}
		if section != secAnswer || class != dns.ClassINET || !ownerIs(pkt, ownerOff, q) {
			return off, true
		}
		return off, a.addName(pkt[:off], rd, ttl)
	case dns.TypeCNAME:
		if !nameFills(pkt[:off], rd) || section != secAnswer || class != dns.ClassINET || st.cname >= 0 || !ownerIs(pkt, ownerOff, q) {
			return 0, false
		}
		st.cname = rd
	case dns.TypeNS:
		// A referral's NS records in authority: ignored, as lookups do.
		return off, nameFills(pkt[:off], rd) && section == secAuthority
	case dns.TypeA, dns.TypeAAAA:
		// A referral's glue in additional: ignored.
		return off, section == secAdditional && (rtype != dns.TypeA || rdlen == 4) && (rtype != dns.TypeAAAA || rdlen == 16)
	case dns.TypeSOA:
		mname, ok := skipName(pkt[:off], rd)
		if !ok {
			return 0, false
		}
		rname, ok := skipName(pkt[:off], mname)
		if !ok || rname+20 != off {
			return 0, false
		}
		if section == secAuthority && !a.hasSOA {
			a.hasSOA = true
			a.negTTL = min(ttl, binary.BigEndian.Uint32(pkt[rname+16:]))
		}
	case dns.TypeOPT:
		// Only one OPT, in the additional section, at the root, with no
		// extended rcode and no options.
		if st.opts++; st.opts > 1 || section != secAdditional || pkt[ownerOff] != 0 || rdlen != 0 || ttl>>24 != 0 {
			return 0, false
		}
	default:
		return 0, false
	}
	return off, true
}

// nameFills reports whether a valid name starts at off and ends exactly at
// the end of pkt (the record's rdata).
func nameFills(pkt []byte, off int) bool {
	end, ok := skipName(pkt, off)
	return ok && end == len(pkt)
}

// followCNAME completes Parse for an answer with one CNAME of the question
// name whose target is at off: it keeps the PTRs owned by the target
// instead, and accepts only an answer that needs no further query.
func (a *Answer) followCNAME(pkt []byte, q []byte, answers, an, off int) bool {
	var buf [maxNameWire + 4]byte
	target, ok := appendWire(buf[:0], pkt, off)
	if !ok || len(a.ends) > 0 || ownerIs(pkt, off, q) {
		return false // PTRs of both names, or a loop: miekg/dns decides
	}
	if a.rcode == dns.RcodeNameError {
		return true
	}
	off = answers
	for range an {
		ownerOff := off
		end, _ := skipName(pkt, off) // checked by Parse
		rtype := binary.BigEndian.Uint16(pkt[end:])
		class := binary.BigEndian.Uint16(pkt[end+2:])
		ttl := binary.BigEndian.Uint32(pkt[end+4:])
		rd := end + 10
		off = rd + int(binary.BigEndian.Uint16(pkt[end+8:]))
		if rtype == dns.TypePTR && class == dns.ClassINET && ownerIs(pkt, ownerOff, target) {
			if !a.addName(pkt[:off], rd, ttl) {
				return false
			}
		}
	}
	return len(a.ends) > 0 // else the caller asks for the target
}

// addName decodes the name at off into a as a canonical PTR name, keeping
// a repeated name once with its first TTL.
func (a *Answer) addName(pkt []byte, off int, ttl uint32) bool {
	start := len(a.names)
	var ok bool
	a.names, ok = appendName(a.names, pkt, off)
	if !ok {
		a.names = a.names[:start]
		return false
	}
	n := a.names[start:]
	for i := range a.ends {
		if string(a.Name(i)) == string(n) {
			a.names = a.names[:start]
			return true
		}
	}
	a.ends = append(a.ends, len(a.names))
	a.ttls = append(a.ttls, ttl)
	return true
}
