package coordinator

import "errors"

// ErrUnitsFailed reports a finished scan with failed units.
var ErrUnitsFailed = errors.New("scan finished with failed units")

// ErrPlanMismatch reports a publish or sweep of an existing scan with
// planning flags (or a plan) other than those it was planned with: its
// cursor would point into a different sequence of units.
var ErrPlanMismatch = errors.New("scan planned differently")

// ErrNoASNVersion is returned by ASNLoad when neither the file nor the
// caller gives the table's date.
var ErrNoASNVersion = errors.New("the file does not state its date: give --version YYYY-MM-DD")

// ErrScanExists is returned by Import when the scan name is taken.
var ErrScanExists = errors.New("scan exists")
