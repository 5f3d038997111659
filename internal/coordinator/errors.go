package coordinator

import "errors"

// ErrUnitsFailed reports a finished scan with failed units.
var ErrUnitsFailed = errors.New("scan finished with failed units")

// ErrPlanMismatch reports a publish or sweep of an existing scan with
// planning flags (or a plan) other than those it was planned with: its
// cursor would point into a different sequence of units.
var ErrPlanMismatch = errors.New("scan planned differently")
