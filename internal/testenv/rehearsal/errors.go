package rehearsal

import "errors"

// ErrMismatch is returned by Run when the stored data differ from the truth.
var ErrMismatch = errors.New("stored data differ from the truth")

// ErrConfig is returned by Run for a Config it cannot run (a bad CIDR, a
// missing binary, …).
var ErrConfig = errors.New("bad rehearsal configuration")
