package telemetry

import "errors"

// ErrInvalidCheck reports a readiness check that cannot be registered: a
// nil function, or a name that is not 1–32 characters of a–z, 0–9, '-' and
// '_' (names appear in /readyz output and must hold no secret or address).
var ErrInvalidCheck = errors.New("invalid readiness check")

// ErrNoMetrics reports a ServerConfig without Metrics.
var ErrNoMetrics = errors.New("telemetry server needs Metrics")

// ErrStarted reports a second Start (or Serve) of one Server.
var ErrStarted = errors.New("telemetry server already started")

// ErrBadAddr reports a listen address that is not host:port with an IP
// address or an empty host ("127.0.0.1:9464", ":9464"). Host names are
// refused: listening must not depend on DNS.
var ErrBadAddr = errors.New("bad metrics listen address")

// ErrClosed reports a Start (or Serve) after Close.
var ErrClosed = errors.New("telemetry server closed")
