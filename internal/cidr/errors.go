package cidr

import "errors"

// Sentinel errors of parsing. Every parse error wraps exactly one of them, so
// callers can tell the kinds apart with errors.Is; the error text names the
// bad item and says what to write instead.
var (
	// ErrSyntax means an item is not an IPv4 address or a.b.c.d/n CIDR.
	ErrSyntax = errors.New("not an IPv4 address or CIDR")
	// ErrEmptyItem means a comma-separated list has an empty item.
	ErrEmptyItem = errors.New("empty item")
	// ErrNotIPv4 means an item is an IPv6 address or prefix, including an
	// IPv4-mapped IPv6 one (::ffff:a.b.c.d).
	ErrNotIPv4 = errors.New("not IPv4")
	// ErrHostBits means a CIDR has bits set after its prefix length.
	ErrHostBits = errors.New("host bits set")
	// ErrPrefixLength means a CIDR's prefix length is outside 0..32.
	ErrPrefixLength = errors.New("prefix length out of range")
	// ErrRangeOrder means an address range ends before it starts.
	ErrRangeOrder = errors.New("range ends before it starts")
)

// parseError is an error whose text is a complete, user-facing sentence and
// which unwraps to one of the sentinel errors.
type parseError struct {
	msg  string
	kind error
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.kind }
