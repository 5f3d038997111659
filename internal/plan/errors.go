package plan

import "errors"

// Sentinel errors of planning; New wraps them (and sweep.ErrScanName for a bad scan name) with the
// details, so callers tell them apart with errors.Is.
var (
	// ErrUnitPrefix means the unit prefix length is outside 8..32.
	ErrUnitPrefix = errors.New("invalid unit prefix")
	// ErrNoCIDRs means the request names no CIDR to sweep.
	ErrNoCIDRs = errors.New("no CIDRs to sweep")
	// ErrBadPrefix means a requested or excluded prefix is not a canonical
	// IPv4 prefix.
	ErrBadPrefix = errors.New("invalid prefix")
	// ErrAllExcluded means exclusions (the user's, the reserved registry's,
	// or both) removed every requested address.
	ErrAllExcluded = errors.New("everything requested is excluded")
	// ErrTooManyUnits means the unit count does not fit an int on this
	// platform.
	ErrTooManyUnits = errors.New("too many units")
)
