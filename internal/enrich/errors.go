package enrich

import (
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error about malformed input data: a bad
// line, a bad field, ranges out of order, a prefix given twice with
// different data.
var ErrFormat = errors.New("malformed IP-to-ASN data")

// ErrUnknownFormat is returned by ParseFormat and LoadFile for a format name
// that is not one of the Format constants, and by DetectFormat when a file's
// content matches no format.
var ErrUnknownFormat = errors.New("unknown IP-to-ASN file format")

// ParseError is a malformed line of an input file. Its text is
// "file:line: what was wrong"; it wraps ErrFormat.
type ParseError struct {
	// File is the name the reader was given (usually the path).
	File string
	// Line is the 1-based line number; 0 when the error concerns the whole
	// file (e.g. an unreadable MaxMind DB).
	Line int
	// Msg says what was wrong and what was expected.
	Msg string
}

// Error returns "file:line: msg" (or "file: msg" without a line).
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns ErrFormat.
func (e *ParseError) Unwrap() error { return ErrFormat }

func parseErr(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
