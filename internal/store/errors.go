package store

import "errors"

// ErrInvalidDSN is wrapped by every ParseDSN error.
var ErrInvalidDSN = errors.New("invalid ClickHouse DSN")

// ErrUnreachable is wrapped by Open when no connection to ClickHouse can be
// made (refused, timed out, name not resolved).
var ErrUnreachable = errors.New("clickhouse unreachable")

// ErrScanNotFound is returned by Store.Scan when no scan has the name.
var ErrScanNotFound = errors.New("scan not found")

// ErrEmptySuffix is returned by Store.Search when the suffix is empty after
// normalisation (blank, or only dots).
var ErrEmptySuffix = errors.New("empty search suffix")

// ErrBadSuffix is returned by Store.Search when the suffix is not a
// well-formed name (see sweep.CheckName).
var ErrBadSuffix = errors.New("malformed search suffix")

// ErrPermanent is matched by insert errors that retrying cannot fix: the
// table does not match the schema (unknown table or column, wrong type),
// the data is refused, or the user may not write. See Permanent.
var ErrPermanent = errors.New("permanent clickhouse error")

// ErrOldSchema is returned by Open when the database was created by an
// older ptrsweep whose tables cannot be migrated in place.
var ErrOldSchema = errors.New("database created by an older ptrsweep")

// ErrOverloaded is matched by insert errors by which the server asks its
// clients to slow down: too many parts (inserts outrun merges), the memory
// limit, too many simultaneous queries. They are transient; a writer should
// insert less often (see Overloaded).
var ErrOverloaded = errors.New("clickhouse overloaded")

// ErrLimitExceeded is matched (see LimitExceeded) by read errors by which
// ClickHouse stopped a query at a bound of Limits: it ran too long or read
// too many rows. Retrying the same query does not help; narrowing it does.
var ErrLimitExceeded = errors.New("clickhouse query limit exceeded")
