// Package plan turns a sweep request into a deterministic, shuffled sequence
// of work units. A Plan never materializes its units: the whole IPv4 space at
// /24 is about 14.5 million of them. It keeps the target's CIDR cover with
// cumulative unit counts and computes unit i on demand through a keyed
// permutation, so the order is the same every time a scan is planned from
// the same request and differs between scan names.
package plan

import (
	"fmt"
	"iter"
	"math"
	"net/netip"
	"sort"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Unit prefix lengths New accepts.
const (
	MinUnitPrefix = 8
	MaxUnitPrefix = 32
)

// Request is what a user asks to sweep.
type Request struct {
	// Scan names the scan; see sweep.ValidateScanName.
	Scan string
	// CIDRs are the blocks to sweep; they may overlap.
	CIDRs []netip.Prefix
	// Exclude are blocks never to sweep (the user's blocklist).
	Exclude []netip.Prefix
	// UnitPrefix is the prefix length of a unit, 8 to 32: 24 makes units of
	// 256 addresses. Parts of the target that are smaller stay whole.
	UnitPrefix int
	// Options travel with every unit. Options.AllowReserved sweeps the IANA
	// special-purpose ranges and multicast (cidr.Reserved) too; by default
	// they are excluded (and workers refuse units that overlap them).
	Options sweep.Options
}

// Plan is a planned scan: the target addresses and their units in shuffled
// order. It is immutable after New and safe for concurrent use.
type Plan struct {
	req       Request
	requested cidr.Set
	target    cidr.Set
	blocks    []block
	units     uint64
	perm      permutation
}

// block is one prefix of the target's minimal CIDR cover, cut into units of
// bits (UnitPrefix, or the block's own length if that is longer).
type block struct {
	prefix netip.Prefix
	bits   int
	start  uint64 // units in the blocks before this one
}

// New validates req and plans it. The target is the union of req.CIDRs minus
// req.Exclude minus the reserved ranges (unless req.Options.AllowReserved). The
// units are the target's minimal CIDR cover with each prefix shorter than
// req.UnitPrefix split into /UnitPrefix blocks, so they hold every target
// address exactly once. New copies req's slices.
func New(req Request) (*Plan, error) {
	if err := sweep.ValidateScanName(req.Scan); err != nil {
		return nil, err
	}
	if req.UnitPrefix < MinUnitPrefix || req.UnitPrefix > MaxUnitPrefix {
		return nil, fmt.Errorf("%w: /%d; want a prefix length from %d to %d (24 makes units of 256 addresses)",
			ErrUnitPrefix, req.UnitPrefix, MinUnitPrefix, MaxUnitPrefix)
	}
	if len(req.CIDRs) == 0 {
		return nil, fmt.Errorf("%w: give at least one CIDR (0.0.0.0/0 for all of IPv4)", ErrNoCIDRs)
	}
	for _, p := range req.CIDRs {
		if err := cidr.Validate(p); err != nil {
			return nil, fmt.Errorf("%w: CIDR to sweep: %w", ErrBadPrefix, err)
		}
	}
	for _, p := range req.Exclude {
		if err := cidr.Validate(p); err != nil {
			return nil, fmt.Errorf("%w: exclusion: %w", ErrBadPrefix, err)
		}
	}
	req.CIDRs = append([]netip.Prefix(nil), req.CIDRs...)
	req.Exclude = append([]netip.Prefix(nil), req.Exclude...)

	requested := cidr.NewSet(req.CIDRs...)
	target := requested.Subtract(cidr.NewSet(req.Exclude...))
	userLeft := target
	if !req.Options.AllowReserved {
		target = target.Subtract(cidr.ReservedSet())
	}
	if target.Empty() {
		if userLeft.Empty() {
			return nil, fmt.Errorf("%w: all %d requested addresses are in the exclusions", ErrAllExcluded, requested.Size())
		}
		what := fmt.Sprintf("all %d requested addresses", userLeft.Size())
		if userLeft.Size() != requested.Size() {
			what = fmt.Sprintf("the %d requested addresses outside the exclusions", userLeft.Size())
		}
		return nil, fmt.Errorf("%w: %s are in reserved or special-purpose ranges (IANA registry); "+
			"pass --allow-reserved to sweep them", ErrAllExcluded, what)
	}

	p := &Plan{req: req, requested: requested, target: target}
	for pfx := range target.All() {
		bits := max(req.UnitPrefix, pfx.Bits())
		p.blocks = append(p.blocks, block{prefix: pfx, bits: bits, start: p.units})
		p.units += cidr.SplitCount(pfx, bits)
	}
	if p.units > math.MaxInt {
		return nil, fmt.Errorf("%w: %d units do not fit this platform's int; use a shorter unit prefix than /%d",
			ErrTooManyUnits, p.units, req.UnitPrefix)
	}
	p.perm = newPermutation(p.units, req.Scan)
	return p, nil
}

// Len returns the number of units.
func (p *Plan) Len() int { return int(p.units) }

// Unit returns the unit at position i of the scan's shuffled order, with Seq
// i and Total Len. It takes constant time and memory (a permutation step and
// a binary search over the cover). It panics if i is outside [0, Len).
func (p *Plan) Unit(i int) sweep.Unit {
	if i < 0 || uint64(i) >= p.units {
		panic(fmt.Sprintf("plan: Unit(%d) out of range [0, %d)", i, p.units))
	}
	j := p.perm.at(uint64(i))
	k := sort.Search(len(p.blocks), func(k int) bool { return p.blocks[k].start > j }) - 1
	b := p.blocks[k]
	return sweep.Unit{
		Scan:    p.req.Scan,
		Prefix:  cidr.SplitAt(b.prefix, b.bits, j-b.start),
		Seq:     i,
		Total:   int(p.units),
		Options: p.req.Options,
	}
}

// All returns an iterator over the units in shuffled order, Unit(0) first.
func (p *Plan) All() iter.Seq[sweep.Unit] {
	return func(yield func(sweep.Unit) bool) {
		for i := range p.Len() {
			if !yield(p.Unit(i)) {
				return
			}
		}
	}
}

// Addresses returns the number of addresses the units hold.
func (p *Plan) Addresses() uint64 { return p.target.Size() }

// Excluded returns the number of requested addresses that exclusions (the
// user's and, unless allowed, the reserved ranges) removed.
func (p *Plan) Excluded() uint64 { return p.requested.Size() - p.target.Size() }

// Target returns the set of addresses the units hold.
func (p *Plan) Target() cidr.Set { return p.target }

// Record returns the scan's record with every field filled but CreatedAt,
// which the caller sets when it stores the scan.
func (p *Plan) Record() sweep.ScanRecord {
	return sweep.ScanRecord{
		Name:       p.req.Scan,
		CIDRs:      prefixStrings(p.req.CIDRs),
		Excludes:   prefixStrings(p.req.Exclude),
		UnitPrefix: p.req.UnitPrefix,
		Units:      p.Len(),
		Addresses:  p.Addresses(),
		Options:    p.req.Options,
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
