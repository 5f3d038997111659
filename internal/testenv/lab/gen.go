package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// gen fills a Lab's nodes and expectations, one address at a time.
type gen struct {
	l   *Lab
	ip  netip.Addr
	rev string // canonical reverse name of ip
	e   *Expected
}

// mix is a fixed 32-bit hash (a murmur3 finaliser) of v.
func mix(v uint32) uint32 {
	v ^= v >> 16
	v *= 0x85ebca6b
	v ^= v >> 13
	v *= 0xc2b2ae35
	v ^= v >> 16
	return v
}

// dashed returns "a-b-c-d" for ip.
func dashed(a [4]byte) string { return fmt.Sprintf("%d-%d-%d-%d", a[0], a[1], a[2], a[3]) }

// address generates the records and the expectation of address c.d.
func (g *gen) address(c, d byte) {
	s := g.l.space.Addr().As4()
	a := [4]byte{s[0], s[1], c, d}
	g.ip = netip.AddrFrom4(a)
	g.rev = strings.TrimSuffix(sweep.ReverseName(g.ip), ".")
	g.e = &g.l.expect[int(c)<<8|int(d)]
	*g.e = Expected{Status: sweep.StatusNXDomain, TTL: NegativeTTL}
	h := mix(uint32(c)<<8 | uint32(d))
	id := dashed(a)

	switch classOf(c) {
	case ClassDense:
		g.ptr(g.rev, g.hashed("h-"+id, "dense", 0))
	case ClassSparse:
		if d == 1 || h%32 == 0 {
			g.ptr(g.rev, g.hashed("h-"+id, "sparse", 0))
		}
	case ClassEmpty:
	case ClassMulti:
		n := 2 + int(h%4)
		for i := 0; i < n; i++ {
			g.ptr(g.rev, g.hashed(fmt.Sprintf("m%d-%s", i, id), "multi", i))
		}
	case ClassLarge:
		if d%8 == 0 {
			for i := 0; i < 40; i++ {
				label := fmt.Sprintf("ptr-%02d-%s", i, strings.Repeat("x", 45))
				g.ptr(g.rev, g.confirmed(label+".h-"+id+".large."+zoneLab+"."))
			}
		} else {
			g.ptr(g.rev, g.confirmed("h-"+id+".large."+zoneLab+"."))
		}
	case ClassRFC2317:
		g.rfc2317(d, id)
	case ClassServFail:
		*g.e = Expected{Status: sweep.StatusServFail}
	case ClassRefused:
		*g.e = Expected{Status: sweep.StatusRefused}
	case ClassSilent:
		*g.e = Expected{Status: sweep.StatusTimeout}
	case ClassNoData:
		g.l.nodeFor(g.rev).txt = true
		*g.e = Expected{Status: sweep.StatusNoData, TTL: NegativeTTL}
	case ClassOdd:
		g.odd(c, d, a)
	case ClassFleet:
		g.fleet(c, d)
	}
	slices.SortFunc(g.e.PTRs, func(x, y sweep.PTR) int { return strings.Compare(x.Name, y.Name) })
}

// fwd is a PTR name to serve and its forward-zone treatment.
type fwd struct {
	served  string // presentation form, fully qualified
	outcome sweep.FCrDNS
	nodata  bool // for FCrDNSNoAddress: the name exists with a TXT record
}

// confirmed is a name whose A record is the address.
func (g *gen) confirmed(served string) fwd {
	return fwd{served: served, outcome: sweep.FCrDNSConfirmed}
}

// hashed picks the forward outcome of name LABEL.KIND.lab.example by a hash
// of the address and i; error names live in broken.example instead.
func (g *gen) hashed(label, kind string, i int) fwd {
	a := g.ip.As4()
	h := mix(uint32(a[2])<<16|uint32(a[3])<<8|uint32(i)^0x5bd1e995) % 20
	name := label + "." + kind + "." + zoneLab + "."
	switch {
	case h < 14:
		return fwd{served: name, outcome: sweep.FCrDNSConfirmed}
	case h < 16:
		return fwd{served: name, outcome: sweep.FCrDNSMismatch}
	case h == 16:
		return fwd{served: name, outcome: sweep.FCrDNSNoAddress}
	case h == 17:
		return fwd{served: name, outcome: sweep.FCrDNSNoAddress, nodata: true}
	}
	return fwd{served: label + "." + kind + "." + zoneBroken + ".", outcome: sweep.FCrDNSError}
}

// ptr serves f as a PTR of owner (a canonical name in the reverse zone),
// records the forward side and adds it to the expectation.
func (g *gen) ptr(owner string, f fwd) {
	n := g.l.nodeFor(owner)
	n.ptrs = append(n.ptrs, f.served)
	name := canonical(f.served)
	switch f.outcome {
	case sweep.FCrDNSConfirmed:
		fn := g.l.nodeFor(name)
		fn.a = append(fn.a, g.ip)
	case sweep.FCrDNSMismatch:
		a := g.ip.As4()
		a[3] ^= 0x80
		fn := g.l.nodeFor(name)
		fn.a = append(fn.a, netip.AddrFrom4(a))
	case sweep.FCrDNSNoAddress:
		if f.nodata {
			g.l.nodeFor(name).txt = true
		}
	}
	g.e.Status = sweep.StatusOK
	g.e.TTL = TTL
	g.e.PTRs = append(g.e.PTRs, sweep.PTR{Name: name, TTL: TTL, FCrDNS: f.outcome})
}

// rfc2317 generates a classless-delegation address (RFC 2317).
func (g *gen) rfc2317(d byte, id string) {
	lo := d &^ 63
	block := fmt.Sprintf("%d-%d.%s", lo, lo+63, strings.TrimPrefix(g.rev, fmt.Sprintf("%d.", d)))
	target := fmt.Sprintf("%d.%s", d, block)
	owner := g.l.nodeFor(g.rev)
	owner.cname, owner.cnameKey = target+".", target
	switch d % 8 {
	case 5:
		hop := fmt.Sprintf("%d.hop.%s", d, block)
		t := g.l.nodeFor(target)
		t.cname, t.cnameKey = hop+".", hop
		g.ptr(hop, g.confirmed("h-"+id+".rfc2317."+zoneLab+"."))
	case 6:
		g.l.nodeFor(target).txt = true
		*g.e = Expected{Status: sweep.StatusNoData, TTL: NegativeTTL}
	case 7:
		// The target does not exist: nxdomain, the default expectation.
	default:
		g.ptr(target, g.confirmed("h-"+id+".rfc2317."+zoneLab+"."))
	}
}

// odd generates the names that exercise presentation escaping and limits.
func (g *gen) odd(c, d byte, a [4]byte) {
	tag := fmt.Sprintf("%d-%d", c, d)
	sfx := ".odd." + zoneLab + "."
	switch d % 16 {
	case 8:
		// A PTR pointing at the root: stored as ".", never looked up.
		g.ptr(g.rev, fwd{served: ".", outcome: sweep.FCrDNSNoAddress})
		return
	case 9:
		// A CNAME loop in the reverse zone: servfail.
		loop := fmt.Sprintf("%d.loop.%s", d, strings.TrimPrefix(g.rev, fmt.Sprintf("%d.", d)))
		owner, hop := g.l.nodeFor(g.rev), g.l.nodeFor(loop)
		owner.cname, owner.cnameKey = loop+".", loop
		hop.cname, hop.cnameKey = g.rev+".", g.rev
		*g.e = Expected{Status: sweep.StatusServFail}
		return
	}
	switch d % 8 {
	case 0:
		g.ptr(g.rev, g.confirmed(fmt.Sprintf("Host-%s.MiXeD.Lab.Example.", tag)))
	case 1:
		g.ptr(g.rev, g.confirmed(`sp\ ace-`+tag+sfx))
	case 2:
		g.ptr(g.rev, g.confirmed(`dot\.in-label-`+tag+sfx))
	case 3:
		g.ptr(g.rev, g.confirmed(`q\"uo\\te\;\(p\)\@\'-`+tag+sfx))
	case 4:
		g.ptr(g.rev, g.confirmed(`bin\128\255\001\031\127-`+tag+sfx))
	case 5:
		// 63+1+63+1+63+1+44+1+16 = 253 characters, 255 bytes on the wire.
		first := "long-" + tag + "-"
		first += strings.Repeat("a", 63-len(first))
		name := first + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
			strings.Repeat("d", 44) + ".long." + zoneLab + "."
		g.ptr(g.rev, g.confirmed(name))
	case 6:
		g.ptr(g.rev, fwd{served: fmt.Sprintf("%d.%d.%d.%d.", a[0], a[1], a[2], a[3]), outcome: sweep.FCrDNSNumeric})
	case 7:
		// Same wire length as case 5, every byte of the long labels escaped.
		first := "esc-" + tag + "-"
		var b strings.Builder
		b.WriteString(first)
		for i := len(first); i < 63; i++ {
			fmt.Fprintf(&b, `\%03d`, 128+i)
		}
		for _, n := range []int{63, 63, 44} {
			b.WriteByte('.')
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, `\%03d`, 1+(i*7)%31)
			}
		}
		b.WriteString(".long." + zoneLab + ".")
		g.ptr(g.rev, g.confirmed(b.String()))
	}
}

// fleet generates the scanner fleet and its decoys.
func (g *gen) fleet(c, d byte) {
	n := 1 + int(c/16)*32 + int(d/8)
	switch {
	case d%8 == 1:
		g.ptr(g.rev, g.confirmed(fmt.Sprintf("scan-%d.security.%s.", n, zoneFleet)))
	case d%8 == 2:
		g.ptr(g.rev, g.confirmed(fmt.Sprintf("x-%d.notsecurity.%s.", n, zoneFleet)))
	case c/16 == 0 && d == 3:
		g.ptr(g.rev, g.confirmed("security."+zoneFleet+"."))
	case c/16 == 0 && d == 4:
		g.ptr(g.rev, g.confirmed("scan-1.security."+zoneFleet+"."+zoneEvil+"."))
	case c/16 == 0 && d == 5:
		g.ptr(g.rev, g.confirmed("x.notsecurity."+zoneFleet+"."))
	}
}
