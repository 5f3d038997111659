package sweep

import (
	"net/netip"
	"time"
)

// Row is one stored row: one PTR of an address (status ok), or the outcome of
// an address that has no PTR to show (nodata, servfail, refused, timeout) with
// an empty PTR. NXDOMAIN addresses produce no row; they are counted per unit.
type Row struct {
	Scan string
	// Unit is the unit's CIDR, e.g. "198.51.100.0/24".
	Unit       string
	IP         netip.Addr
	PTR        string
	Status     Status
	TTL        uint32
	FCrDNS     FCrDNS
	ResolvedAt time.Time
	// Attempt identifies the delivery of the unit that stored the row; it
	// grows with every attempt of the unit (see the store's superseded
	// table). Zero for rows not stored by a worker.
	Attempt uint64
	// ASN and Country are the routing of IP when the row was resolved
	// (origin AS and country code from the IP-to-ASN table the worker had
	// loaded); 0 and "" when unknown or when no table was loaded.
	ASN     uint32
	Country string
}

// Rows returns the rows of one result of unit u, appended to dst.
func Rows(dst []Row, u Unit, r Result) []Row {
	base := Row{Scan: u.Scan, Unit: u.Prefix.String(), IP: r.IP, Status: r.Status, TTL: r.TTL, ResolvedAt: r.ResolvedAt}
	switch r.Status {
	case StatusNXDomain:
		return dst
	case StatusOK:
		for _, p := range r.PTRs {
			row := base
			row.PTR, row.TTL, row.FCrDNS = p.Name, p.TTL, p.FCrDNS
			dst = append(dst, row)
		}
		return dst
	}
	return append(dst, base)
}

// UnitState is the final state of a unit in the unit log.
type UnitState uint8

// The unit states. The numeric values are stored and must not change.
const (
	UnitDone   UnitState = 1 // every address resolved and every row stored
	UnitFailed UnitState = 2 // deliveries exhausted; kept in the dead-letter stream
	UnitQueued UnitState = 3 // a failed unit queued again by coordinator retry
)

// String returns "done" or "failed".
func (s UnitState) String() string {
	switch s {
	case UnitDone:
		return "done"
	case UnitFailed:
		return "failed"
	case UnitQueued:
		return "queued"
	}
	return "unknown"
}

// UnitRecord is one entry of the per-unit log: what a unit produced, written
// after its rows are stored (done) or when it is dead-lettered (failed).
type UnitRecord struct {
	Scan       string
	Unit       string // the unit's CIDR
	Seq        int
	State      UnitState
	Counts     Counts
	Rows       uint32 // rows stored for the unit
	Worker     string
	Attempt    uint32 // the JetStream delivery count
	Error      string // why a failed unit failed
	StartedAt  time.Time
	FinishedAt time.Time
}

// ScanRecord describes a planned scan.
type ScanRecord struct {
	Name       string
	CIDRs      []string // the requested blocks
	Excludes   []string // user exclusions (the reserved registry is implied unless Options.AllowReserved)
	UnitPrefix int
	Units      int
	Addresses  uint64
	Options    Options
	CreatedAt  time.Time
}
