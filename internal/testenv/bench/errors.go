package bench

import "errors"

// ErrBadSpace is returned for a space or address count the generator
// cannot use.
var ErrBadSpace = errors.New("bad benchmark space")

// ErrNoSummary is returned when a tool's output lacks the summary line or
// figures the harness reads.
var ErrNoSummary = errors.New("no summary in the tool's output")
