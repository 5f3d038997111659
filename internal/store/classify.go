package store

import (
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// permanentCodes are the ClickHouse exception codes (src/Common/ErrorCodes.cpp,
// the same numbers on 18.16 and current releases) that retrying an INSERT
// cannot fix: the table does not match what ptrsweep writes, the data is
// refused, or the user may not write. Every other error is transient:
// connection and socket errors, timeouts (159 TIMEOUT_EXCEEDED, 209
// SOCKET_TIMEOUT, 210 NETWORK_ERROR), 202 TOO_MANY_SIMULTANEOUS_QUERIES, 241
// MEMORY_LIMIT_EXCEEDED, 242 TABLE_IS_READ_ONLY (a replica without
// ZooKeeper), 243 NOT_ENOUGH_SPACE, 252 TOO_MANY_PARTS, quota and
// cancellation codes, and codes not listed here: a transient error holds a
// worker's units and retries, never losing them, while a permanent one
// dead-letters them.
var permanentCodes = map[int32]string{
	6:   "CANNOT_PARSE_TEXT",
	7:   "INCORRECT_NUMBER_OF_COLUMNS",
	8:   "THERE_IS_NO_COLUMN",
	10:  "NOT_FOUND_COLUMN_IN_BLOCK",
	16:  "NO_SUCH_COLUMN_IN_TABLE",
	19:  "SIZE_OF_FIXED_STRING_DOESNT_MATCH",
	20:  "NUMBER_OF_COLUMNS_DOESNT_MATCH",
	26:  "CANNOT_PARSE_QUOTED_STRING",
	27:  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
	36:  "BAD_ARGUMENTS",
	38:  "CANNOT_PARSE_DATE",
	41:  "CANNOT_PARSE_DATETIME",
	43:  "ILLEGAL_TYPE_OF_ARGUMENT",
	44:  "ILLEGAL_COLUMN",
	47:  "UNKNOWN_IDENTIFIER",
	50:  "UNKNOWN_TYPE",
	53:  "TYPE_MISMATCH",
	60:  "UNKNOWN_TABLE",
	62:  "SYNTAX_ERROR",
	69:  "ARGUMENT_OUT_OF_BOUND",
	70:  "CANNOT_CONVERT_TYPE",
	72:  "CANNOT_PARSE_NUMBER",
	81:  "UNKNOWN_DATABASE",
	117: "INCORRECT_DATA",
	122: "INCOMPATIBLE_COLUMNS",
	131: "TOO_LARGE_STRING_SIZE",
	164: "READONLY",
	192: "UNKNOWN_USER",
	193: "WRONG_PASSWORD",
	194: "REQUIRED_PASSWORD",
	195: "IP_ADDRESS_NOT_ALLOWED",
	291: "DATABASE_ACCESS_DENIED",
	349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
	386: "NO_COMMON_TYPE",
	469: "VIOLATED_CONSTRAINT",
	497: "ACCESS_DENIED",
	516: "AUTHENTICATION_FAILED",
}

// overloadCodes are the transient exception codes by which the server asks
// for fewer, larger inserts or less concurrency.
var overloadCodes = map[int32]string{
	202: "TOO_MANY_SIMULTANEOUS_QUERIES",
	241: "MEMORY_LIMIT_EXCEEDED",
	252: "TOO_MANY_PARTS",
}

// Overloaded reports whether err says the server is overloaded by writes
// (TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES): a
// transient error after which a writer should flush less often.
func Overloaded(err error) bool { return hasCode(err, ErrOverloaded, overloadCodes) }

// Permanent reports whether err is a ClickHouse error that retrying cannot
// fix: a schema mismatch (unknown table or column, wrong type, wrong number
// of columns), data the server refuses (cannot parse, bad data, a violated
// constraint), or missing permissions (readonly user, access denied). Errors
// of the store's own inserts that matched ErrPermanent are permanent too.
// Every other error, ClickHouse exception or not, is transient: connection
// errors, timeouts, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED,
// TOO_MANY_SIMULTANEOUS_QUERIES. See permanentCodes for the list.
func Permanent(err error) bool { return hasCode(err, ErrPermanent, permanentCodes) }

// hasCode reports whether err matches sentinel or is a ClickHouse exception
// with one of codes.
func hasCode(err, sentinel error, codes map[int32]string) bool {
	if errors.Is(err, sentinel) {
		return true
	}
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	_, ok := codes[ex.Code]
	return ok
}

// permanentError marks an error that retrying cannot fix. It matches
// ErrPermanent and has a Permanent method, so users of the store can tell
// without importing it (errors.As with interface{ Permanent() bool }).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

func (e *permanentError) Unwrap() error { return e.err }

func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent reports true: the error is permanent.
func (e *permanentError) Permanent() bool { return true }

// overloadedError marks a transient error by which the server asks for
// fewer inserts. It matches ErrOverloaded.
type overloadedError struct{ err error }

func (e *overloadedError) Error() string { return e.err.Error() }

func (e *overloadedError) Unwrap() error { return e.err }

func (e *overloadedError) Is(target error) bool { return target == ErrOverloaded }

// classify marks err permanent when Permanent says so, or overloaded when
// Overloaded does, with the exception's name; other errors are returned
// unchanged.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if name, ok := permanentCodes[ex.Code]; ok {
			return &permanentError{err: fmt.Errorf("%w (ClickHouse %s: permanent, not retried)", err, name)}
		}
		if name, ok := overloadCodes[ex.Code]; ok {
			return &overloadedError{err: fmt.Errorf("%w (ClickHouse %s: transient, retried)", err, name)}
		}
	}
	return err
}
