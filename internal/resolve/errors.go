package resolve

import "errors"

// Errors returned by this package. DNS outcomes (NXDOMAIN, SERVFAIL, REFUSED,
// timeouts) are never errors: they are sweep.Status values in a Result.
var (
	// ErrNoServers means a configuration or a resolv.conf names no resolver.
	ErrNoServers = errors.New("no DNS servers")
	// ErrBadServer means a server is not a "host:port" with an IP-literal host
	// and a port in 1–65535. The error names the bad item.
	ErrBadServer = errors.New("bad DNS server")
	// ErrBadConfig means a Config field is out of range.
	ErrBadConfig = errors.New("bad resolver config")
	// ErrBadUnit means a unit's prefix is not a valid IPv4 prefix.
	ErrBadUnit = errors.New("bad unit prefix")
	// ErrBadAddr means an address given to ResolveAddrs is not IPv4. The
	// error names the address and its position.
	ErrBadAddr = errors.New("not an IPv4 address")
	// ErrSocket means a local socket could not be opened, so no query could
	// be sent at all (for example, out of file descriptors, or an IPv6
	// server on a host without IPv6).
	ErrSocket = errors.New("open DNS socket")
)

// Internal errors of one query, never returned by Resolve.
var (
	// errNoAnswer: no valid response arrived before the try's deadline
	// (nothing, or only mismatched or malformed packets).
	errNoAnswer = errors.New("no valid answer")
)
