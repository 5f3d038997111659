package sweep

import "errors"

// ErrReverseName means a name given as an address is not an IPv4
// in-addr.arpa name of 1 to 4 decimal octets.
var ErrReverseName = errors.New("not an IPv4 reverse name")
