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
