// Package sweep holds ptrsweep's shared vocabulary: work units, per-address
// results, outcome statuses and the rules for stored names. It uses only the
// standard library so every other package can depend on it.
package sweep

import (
	"fmt"
	"net/netip"
	"time"
)

// Options are the scan options chosen when a scan is planned. They travel with
// every unit of the scan so every worker does the same work.
type Options struct {
	// Confirm asks for forward confirmation (FCrDNS) of every PTR name.
	Confirm bool `json:"confirm,omitempty"`
	// NoPrune turns off empty-zone pruning (RFC 8020) for the scan.
	NoPrune bool `json:"no_prune,omitempty"`
	// AllowReserved is set when the scan was planned with --allow-reserved:
	// without it, a worker refuses a unit that overlaps the IANA
	// special-purpose ranges.
	AllowReserved bool `json:"allow_reserved,omitempty"`
}

// Unit is one work unit: a CIDR block of one scan. Units are values; they are
// safe to copy and share.
type Unit struct {
	// Scan names the scan the unit belongs to.
	Scan string `json:"scan"`
	// Prefix is the block of addresses to resolve.
	Prefix netip.Prefix `json:"cidr"`
	// Seq is the unit's position in the scan's shuffled order, from 0.
	Seq int `json:"seq"`
	// Total is the number of units in the scan.
	Total int `json:"total"`
	// Options are the scan's options.
	Options Options `json:"options"`
}

// ID returns the unit's identity within all scans: "scan/cidr". It is used as
// the JetStream message ID and the unit key in the store.
func (u Unit) ID() string { return u.Scan + "/" + u.Prefix.String() }

// Addresses returns the number of addresses in the unit.
func (u Unit) Addresses() int { return 1 << (32 - u.Prefix.Bits()) }

// PTR is one PTR record of an address.
type PTR struct {
	// Name is the canonical name (see CanonicalName).
	Name string `json:"ptr"`
	// TTL is the record's TTL in seconds.
	TTL uint32 `json:"ttl"`
	// FCrDNS is the forward-confirmation outcome; FCrDNSNone unless asked for.
	FCrDNS FCrDNS `json:"fcrdns,omitempty"`
}

// Result is the outcome of resolving one address.
type Result struct {
	IP     netip.Addr
	Status Status
	// TTL is the TTL of the answer: the first PTR's TTL for ok, the SOA
	// minimum for nxdomain/nodata where known, 0 otherwise.
	TTL uint32
	// PTRs holds every PTR of the address when Status is StatusOK.
	PTRs []PTR
	// Pruned reports that the address was not queried because an enclosing
	// reverse zone answered NXDOMAIN (RFC 8020); Status is then nxdomain.
	Pruned bool
	// Queries is the number of DNS queries sent for the address, retries and
	// forward confirmations included.
	Queries    int
	ResolvedAt time.Time
}

// Counts are per-outcome address counts of a unit.
type Counts struct {
	OK       uint32 `json:"ok"`
	NXDomain uint32 `json:"nxdomain"`
	NoData   uint32 `json:"nodata"`
	ServFail uint32 `json:"servfail"`
	Refused  uint32 `json:"refused"`
	Timeout  uint32 `json:"timeout"`
	// PTRs is the number of PTR records found (rows with status ok).
	PTRs uint32 `json:"ptrs"`
	// Pruned is the number of addresses answered by pruning, included in NXDomain.
	Pruned uint32 `json:"pruned"`
	// Queries is the number of DNS queries sent, retries included.
	Queries uint64 `json:"queries"`
}

// Add counts one result.
func (c *Counts) Add(r Result) {
	switch r.Status {
	case StatusOK:
		c.OK++
		c.PTRs += uint32(len(r.PTRs))
	case StatusNXDomain:
		c.NXDomain++
	case StatusNoData:
		c.NoData++
	case StatusServFail:
		c.ServFail++
	case StatusRefused:
		c.Refused++
	case StatusTimeout:
		c.Timeout++
	}
	if r.Pruned {
		c.Pruned++
	}
	c.Queries += uint64(r.Queries)
}

// Addresses returns the number of addresses counted.
func (c Counts) Addresses() uint64 {
	return uint64(c.OK) + uint64(c.NXDomain) + uint64(c.NoData) + uint64(c.ServFail) + uint64(c.Refused) + uint64(c.Timeout)
}

// Merge adds o to c.
func (c *Counts) Merge(o Counts) {
	c.OK += o.OK
	c.NXDomain += o.NXDomain
	c.NoData += o.NoData
	c.ServFail += o.ServFail
	c.Refused += o.Refused
	c.Timeout += o.Timeout
	c.PTRs += o.PTRs
	c.Pruned += o.Pruned
	c.Queries += o.Queries
}

// String formats the outcome counts as the "outcomes:" line of summaries
// and status reports print them: "ok=3 nxdomain=250 nodata=0 servfail=1
// refused=0 timeout=2 (pruned 200)".
func (c Counts) String() string {
	return fmt.Sprintf("ok=%d nxdomain=%d nodata=%d servfail=%d refused=%d timeout=%d (pruned %d)",
		c.OK, c.NXDomain, c.NoData, c.ServFail, c.Refused, c.Timeout, c.Pruned)
}
