package lab

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// MaxUDPSize is the largest UDP answer the in-process server sends (the
// DNS flag day 2020 value, Knot's default). Clients that offer more get
// this much; clients without EDNS get 512 bytes.
const MaxUDPSize = 1232

// maxChain bounds the CNAME hops the server follows within its zones.
const maxChain = 8

// Answer returns the lab's authoritative response to req as received over
// UDP (udp true) or TCP, and false when the query must be dropped (the
// silent class). It is safe for concurrent use.
func (l *Lab) Answer(req *dns.Msg, udp bool) (*dns.Msg, bool) {
	return answer(req, udp, l.fill)
}

// answer checks req, lets fill write the answer to its question, and sizes
// the response for the transport; false means drop the query.
func answer(req *dns.Msg, udp bool, fill func(*dns.Msg, dns.Question) bool) (*dns.Msg, bool) {
	resp := new(dns.Msg)
	if req.Opcode != dns.OpcodeQuery {
		resp.SetRcode(req, dns.RcodeNotImplemented)
		return resp, true
	}
	if len(req.Question) != 1 {
		resp.SetRcode(req, dns.RcodeFormatError)
		return resp, true
	}
	resp.SetReply(req)
	opt := req.IsEdns0()
	size := dns.MinMsgSize
	if opt != nil {
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), MaxUDPSize)
		if opt.Version() != 0 {
			resp.SetEdns0(MaxUDPSize, false)
			resp.Rcode = dns.RcodeBadVers
			return resp, true
		}
	}
	if !fill(resp, req.Question[0]) {
		return nil, false
	}
	if opt != nil {
		resp.SetEdns0(MaxUDPSize, false)
	}
	if udp {
		resp.Truncate(size)
	}
	resp.Compress = true
	return resp, true
}

// fill writes the answer to q into resp; false means drop the query.
func (l *Lab) fill(resp *dns.Msg, q dns.Question) bool {
	key := sweep.CanonicalName(q.Name)
	z := l.zoneOf(key)
	if z == nil || (q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY) {
		resp.Rcode = dns.RcodeRefused
		return true
	}
	if z.broken {
		resp.Rcode = dns.RcodeServerFailure
		return true
	}
	if z.reverse {
		switch l.failing(key, z) {
		case ClassServFail:
			resp.Rcode = dns.RcodeServerFailure
			return true
		case ClassRefused:
			resp.Rcode = dns.RcodeRefused
			return true
		case ClassSilent:
			return false
		}
	}
	resp.Authoritative = true
	owner := q.Name
	for hop := 0; ; hop++ {
		n := l.nodes[key]
		if n == nil {
			resp.Rcode = dns.RcodeNameError
			resp.Ns = append(resp.Ns, z.soa)
			return true
		}
		if n.cname != "" && q.Qtype != dns.TypeCNAME {
			resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: hdr(owner, dns.TypeCNAME, TTL), Target: n.cname})
			if hop+1 >= maxChain || l.zoneOf(n.cnameKey) != z {
				return true
			}
			owner, key = n.cname, n.cnameKey
			continue
		}
		before := len(resp.Answer)
		resp.Answer = n.appendRRs(resp.Answer, owner, q.Qtype)
		if len(resp.Answer) == before {
			resp.Ns = append(resp.Ns, z.soa)
		}
		return true
	}
}

// failing returns the class of the reverse /24 that holds key when it is
// one of servfail, refused and silent, and 0 otherwise.
func (l *Lab) failing(key string, z *zone) Class {
	if len(key) <= len(z.key) {
		return 0
	}
	rest := key[:len(key)-len(z.key)-1]
	label := rest[strings.LastIndexByte(rest, '.')+1:]
	c, err := strconv.Atoi(label)
	if err != nil || c < 0 || c > 255 || strconv.Itoa(c) != label {
		return 0
	}
	switch cl := classOf(byte(c)); cl {
	case ClassServFail, ClassRefused, ClassSilent:
		return cl
	}
	return 0
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// appendRRs appends the node's records of type t, owned by owner, to rrs.
func (n *node) appendRRs(rrs []dns.RR, owner string, t uint16) []dns.RR {
	anyType := t == dns.TypeANY
	if n.apex != nil && (anyType || t == dns.TypeSOA) {
		soa := *n.apex.soa
		soa.Hdr.Name = owner
		rrs = append(rrs, &soa)
	}
	if n.apex != nil && (anyType || t == dns.TypeNS) {
		ns := *n.apex.ns
		ns.Hdr.Name = owner
		rrs = append(rrs, &ns)
	}
	if n.cname != "" && (anyType || t == dns.TypeCNAME) {
		rrs = append(rrs, &dns.CNAME{Hdr: hdr(owner, dns.TypeCNAME, TTL), Target: n.cname})
	}
	if anyType || t == dns.TypePTR {
		for _, p := range n.ptrs {
			rrs = append(rrs, &dns.PTR{Hdr: hdr(owner, dns.TypePTR, TTL), Ptr: p})
		}
	}
	if anyType || t == dns.TypeA {
		for _, a := range n.a {
			rrs = append(rrs, &dns.A{Hdr: hdr(owner, dns.TypeA, TTL), A: a.AsSlice()})
		}
	}
	if n.txt && (anyType || t == dns.TypeTXT) {
		rrs = append(rrs, &dns.TXT{Hdr: hdr(owner, dns.TypeTXT, TTL), Txt: []string{"no PTR here"}})
	}
	return rrs
}
