package analytics

import "errors"

// ErrBadFilter is wrapped by ParseFilter's errors: an unknown status or
// forward-confirmation outcome.
var ErrBadFilter = errors.New("bad filter")

// ErrBadGroup is wrapped by ParseGroup's error for an unknown grouping.
var ErrBadGroup = errors.New("bad grouping")

// ErrBadTarget is wrapped by ParseTarget's errors: not an IPv4 address or
// CIDR.
var ErrBadTarget = errors.New("bad lookup target")
