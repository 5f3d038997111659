package sweep

import "fmt"

// Status is the outcome of resolving one address. It is a closed set; a DNS
// answer of any kind is a Status, never an error.
type Status uint8

// The outcomes. The numeric values are stored (ClickHouse Enum8) and must not change.
const (
	StatusOK       Status = 1 // one or more PTR records
	StatusNXDomain Status = 2 // the name does not exist
	StatusNoData   Status = 3 // the name exists but has no PTR record
	StatusServFail Status = 4 // SERVFAIL, or another failing rcode
	StatusRefused  Status = 5 // REFUSED
	StatusTimeout  Status = 6 // no valid answer after every retry
)

// Statuses lists every status in stored order.
var Statuses = []Status{StatusOK, StatusNXDomain, StatusNoData, StatusServFail, StatusRefused, StatusTimeout}

// names maps the values of a stored enum to their names; String, Parse and
// the text (un)marshalling of Status and FCrDNS are built on it. It is an
// array indexed by value (exports and imports look a name up per row).
type names[T ~uint8] struct {
	name  [8]string
	valid [8]bool
}

// newNames returns the names of the values in m (each below 8).
func newNames[T ~uint8](m map[T]string) names[T] {
	var ns names[T]
	for v, n := range m {
		ns.name[v], ns.valid[v] = n, true
	}
	return ns
}

// format returns v's name, or kind(v) for a value outside the set.
func (ns *names[T]) format(v T, kind string) string {
	if int(v) < len(ns.name) && ns.valid[v] {
		return ns.name[v]
	}
	return fmt.Sprintf("%s(%d)", kind, uint8(v))
}

// parse returns the value named name; the error names kind and the set.
func (ns *names[T]) parse(name, kind, want string) (T, error) {
	for v, n := range ns.name {
		if ns.valid[v] && n == name {
			return T(v), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want %s)", kind, name, want)
}

// unmarshal parses b into *dst.
func (ns *names[T]) unmarshal(dst *T, b []byte, kind, want string) error {
	v, err := ns.parse(string(b), kind, want)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

const (
	statusWant = "ok, nxdomain, nodata, servfail, refused or timeout"
	fcrdnsWant = "confirmed, mismatch, no_address, error or numeric"
)

var statusNames = newNames(map[Status]string{
	StatusOK: "ok", StatusNXDomain: "nxdomain", StatusNoData: "nodata",
	StatusServFail: "servfail", StatusRefused: "refused", StatusTimeout: "timeout",
})

// String returns the stored name of s: ok, nxdomain, nodata, servfail, refused, timeout.
func (s Status) String() string { return statusNames.format(s, "status") }

// ParseStatus parses a stored status name.
func ParseStatus(name string) (Status, error) { return statusNames.parse(name, "status", statusWant) }

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	return statusNames.unmarshal(s, b, "status", statusWant)
}

// FCrDNS is the outcome of forward-confirming one PTR name: looking up the
// name's A records and checking the address is among them, as sshd does.
type FCrDNS uint8

// The forward-confirmation outcomes. The numeric values are stored and must not change.
const (
	FCrDNSNone      FCrDNS = 0 // not asked for
	FCrDNSConfirmed FCrDNS = 1 // the name's A records include the address
	FCrDNSMismatch  FCrDNS = 2 // the name has A records, none is the address ("does not map back to the address")
	FCrDNSNoAddress FCrDNS = 3 // the name has no A record (NXDOMAIN or NODATA: "getaddrinfo … failed")
	FCrDNSError     FCrDNS = 4 // the lookup failed: SERVFAIL, REFUSED or timeout
	FCrDNSNumeric   FCrDNS = 5 // the PTR name is itself a numeric address, never trusted
)

var fcrdnsNames = newNames(map[FCrDNS]string{
	FCrDNSNone: "", FCrDNSConfirmed: "confirmed", FCrDNSMismatch: "mismatch",
	FCrDNSNoAddress: "no_address", FCrDNSError: "error", FCrDNSNumeric: "numeric",
})

// String returns the stored name of f; FCrDNSNone is "".
func (f FCrDNS) String() string { return fcrdnsNames.format(f, "fcrdns") }

// ParseFCrDNS parses a stored forward-confirmation name ("" is FCrDNSNone).
func ParseFCrDNS(name string) (FCrDNS, error) {
	return fcrdnsNames.parse(name, "fcrdns outcome", fcrdnsWant)
}

// MarshalText implements encoding.TextMarshaler.
func (f FCrDNS) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FCrDNS) UnmarshalText(b []byte) error {
	return fcrdnsNames.unmarshal(f, b, "fcrdns outcome", fcrdnsWant)
}
