package sweep

import "errors"

// ErrScanName means a scan name is empty, too long or has a character
// outside [a-z0-9_-]; ValidateScanName wraps it with the details.
var ErrScanName = errors.New("invalid scan name")

// ErrReverseName means a name given as an address is not an IPv4
// in-addr.arpa name of 1 to 4 decimal octets.
var ErrReverseName = errors.New("not an IPv4 reverse name")
