package analytics

import (
	"net/netip"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
)

// Enricher says which routed network, AS and country an address belongs
// to (an *enrich.Table is one). Lookup reports false for an address it has
// no data for.
type Enricher interface {
	Lookup(a netip.Addr) (enrich.Info, bool)
}

// ASNamer names ASes, also those no looked-up address is routed by now
// (the ASNs stored with rows resolved under older routing).
// *enrich.Table and the store's AddressRoutes are ASNamers.
type ASNamer interface {
	ASName(asn uint32) string
}

// asName returns e's name of asn, "" when e cannot name ASes.
func asName(e Enricher, asn uint32) string {
	if n, ok := e.(ASNamer); ok && asn != 0 {
		return n.ASName(asn)
	}
	return ""
}

// fallbackBits is the netblock size used without routing data.
const fallbackBits = 24

// Describe returns what e knows about a: its Info, with the address's /24
// as the netblock when e is nil or has no range for a (ASN 0, no country).
func Describe(e Enricher, a netip.Addr) enrich.Info {
	if e != nil {
		if info, ok := e.Lookup(a); ok && info.Net.IsValid() {
			return info
		}
	}
	p, _ := a.Unmap().Prefix(fallbackBits)
	return enrich.Info{Net: p}
}
