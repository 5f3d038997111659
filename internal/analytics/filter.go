package analytics

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Filter selects rows by outcome and by forward confirmation. The zero
// Filter selects every row. A Filter is read-only once built and safe for
// concurrent use.
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

// Empty reports whether f selects every row.
func (f Filter) Empty() bool { return len(f.Statuses) == 0 && len(f.FCrDNS) == 0 }

// Match reports whether f selects r.
func (f Filter) Match(r sweep.Row) bool {
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, r.Status) {
		return false
	}
	if len(f.FCrDNS) > 0 && !slices.Contains(f.FCrDNS, r.FCrDNS) {
		return false
	}
	return true
}

// Wrap returns an emit function that passes on to emit only the rows f
// selects.
func (f Filter) Wrap(emit func(sweep.Row) error) func(sweep.Row) error {
	if f.Empty() {
		return emit
	}
	return func(r sweep.Row) error {
		if !f.Match(r) {
			return nil
		}
		return emit(r)
	}
}

// StatusNames returns the statuses as their stored names.
func (f Filter) StatusNames() []string {
	out := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		out[i] = s.String()
	}
	return out
}

// FCrDNSNames returns the forward-confirmation outcomes as their stored
// names (FCrDNSNone is "").
func (f Filter) FCrDNSNames() []string {
	out := make([]string, len(f.FCrDNS))
	for i, s := range f.FCrDNS {
		out[i] = s.String()
	}
	return out
}
