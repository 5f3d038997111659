package queue

import "errors"

// ErrUnreachable reports that the first connection to the NATS server
// failed. The error it wraps names the (redacted) URL and what to start.
var ErrUnreachable = errors.New("nats unreachable")

// ErrJetStream reports that the NATS server answered but JetStream could not
// be set up (not enabled, or the streams exist with incompatible settings).
var ErrJetStream = errors.New("jetstream setup failed")

// ErrInvalidUnit reports a unit that cannot be published: an invalid scan
// name, or a prefix that is not a valid, masked IPv4 prefix.
var ErrInvalidUnit = errors.New("invalid unit")

// ErrBadMessage reports a work message whose body does not decode into a
// valid unit. Such messages are moved to the dead-letter stream.
var ErrBadMessage = errors.New("bad unit message")
