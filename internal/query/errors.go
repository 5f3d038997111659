package query

import (
	"errors"
	"fmt"
)

// ErrBadQuery is matched (errors.Is) by every error of Parse and Compile: the
// query, not the server, is at fault.
var ErrBadQuery = errors.New("bad query")

// Error is a query error at a position: what was expected there, what was
// found, and why a value was refused. It matches ErrBadQuery and unwraps to
// Cause when there is one.
type Error struct {
	// Pos is the 1-based byte position in the query (Pos-1 is the byte
	// offset); len(query)+1 means the end of the query.
	Pos int
	// Expected says what should be at Pos, such as "a quoted value after '='".
	Expected string
	// Found describes what is at Pos, such as "end of query"; it may be empty.
	Found string
	// Cause is the reason a value was refused; it may be nil.
	Cause error
}

// Error returns "at POS: expected EXPECTED[, found FOUND][: CAUSE]".
func (e *Error) Error() string {
	s := fmt.Sprintf("at %d: expected %s", e.Pos, e.Expected)
	if e.Found != "" {
		s += ", found " + e.Found
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns ErrBadQuery and Cause (when set).
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrBadQuery, e.Cause}
	}
	return []error{ErrBadQuery}
}
