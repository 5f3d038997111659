package ingest

import (
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("malformed input")

// ErrUnknownFormat is returned by ParseFormat for a name it does not know.
var ErrUnknownFormat = errors.New("unknown import format")

// LineError is a malformed input line: "file:line: msg". It wraps ErrFormat.
type LineError struct {
	File string
	Line int
	Msg  string
}

// Error returns "file:line: msg".
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Unwrap returns ErrFormat.
func (e *LineError) Unwrap() error { return ErrFormat }
