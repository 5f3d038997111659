package lab

import "errors"

// ErrSpace is returned by New when the space is not an IPv4 /16.
var ErrSpace = errors.New("lab space must be an IPv4 /16")

// ErrNotLoopback is returned when a listen address is outside 127.0.0.0/8:
// the lab never serves (or sends) DNS anywhere but loopback.
var ErrNotLoopback = errors.New("lab address must be an IPv4 address in 127.0.0.0/8")

// ErrBadBig is returned by NewBig for a prefix or address count a big
// world cannot have.
var ErrBadBig = errors.New("bad big world")
