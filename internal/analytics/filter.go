package analytics

import (
	"fmt"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Filter selects rows by outcome and by forward confirmation, as parsed
// from the command line; the store applies it (store.RowFilter). The
// zero Filter selects every row.
type Filter struct {
	// Statuses are the outcomes to keep; empty keeps every outcome.
	Statuses []sweep.Status
	// FCrDNS are the forward-confirmation outcomes to keep; empty keeps
	// every outcome. FCrDNSNone is spelt "none" on the command line.
	FCrDNS []sweep.FCrDNS
}

// FCrDNSNoneName is how a filter names sweep.FCrDNSNone (not checked).
const FCrDNSNoneName = "none"

// ParseFilter parses comma-separated --status and --fcrdns values, e.g.
// "servfail,timeout" and "mismatch,no_address". Empty strings select
// everything. Errors wrap ErrBadFilter and name the flag and the choices.
func ParseFilter(status, fcrdns string) (Filter, error) {
	var f Filter
	for s := range strings.SplitSeq(status, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := sweep.ParseStatus(strings.ToLower(s))
		if err != nil {
			return Filter{}, fmt.Errorf("%w: --status %q: want a comma-separated list of ok, nxdomain, nodata, servfail, refused, timeout", ErrBadFilter, s)
		}
		f.Statuses = append(f.Statuses, v)
	}
	for s := range strings.SplitSeq(fcrdns, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		s = strings.ToLower(s)
		if s == FCrDNSNoneName {
			f.FCrDNS = append(f.FCrDNS, sweep.FCrDNSNone)
			continue
		}
		v, err := sweep.ParseFCrDNS(s)
		if err != nil {
			return Filter{}, fmt.Errorf("%w: --fcrdns %q: want a comma-separated list of confirmed, mismatch, no_address, error, numeric, none", ErrBadFilter, s)
		}
		f.FCrDNS = append(f.FCrDNS, v)
	}
	return f, nil
}
