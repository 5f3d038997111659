package bulk

import (
	"errors"
	"fmt"
)

// Sentinel errors of Run. Errors that wrap them are the user's to fix: a
// command exits with status 2 for them.
var (
	// ErrInput means the input cannot be opened, or a line of it is
	// malformed or refused (reserved or excluded space). The error names
	// the input and the line: "input:12: …" or "FILE:12: …".
	ErrInput = errors.New("bad input")
	// ErrConfig means a Config field is out of range or the output file
	// cannot be created.
	ErrConfig = errors.New("bad configuration")
)

// userError is an error for the user to fix: its text is err's, and it
// matches both err's own sentinels and kind (ErrInput or ErrConfig).
type userError struct{ err, kind error }

func (e userError) Error() string   { return e.err.Error() }
func (e userError) Unwrap() []error { return []error{e.err, e.kind} }

func inputError(err error) error { return userError{err, ErrInput} }

func configErrorf(format string, args ...any) error {
	return userError{fmt.Errorf(format, args...), ErrConfig}
}
