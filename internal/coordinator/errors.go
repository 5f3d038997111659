package coordinator

import "errors"

// ErrUnitsFailed reports a finished scan with failed units.
var ErrUnitsFailed = errors.New("scan finished with failed units")
