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

var statusNames = map[Status]string{
	StatusOK: "ok", StatusNXDomain: "nxdomain", StatusNoData: "nodata",
	StatusServFail: "servfail", StatusRefused: "refused", StatusTimeout: "timeout",
}

// String returns the stored name of s: ok, nxdomain, nodata, servfail, refused, timeout.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus parses a stored status name.
func ParseStatus(name string) (Status, error) {
	for s, n := range statusNames {
		if n == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want ok, nxdomain, nodata, servfail, refused or timeout)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
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

var fcrdnsNames = map[FCrDNS]string{
	FCrDNSNone: "", FCrDNSConfirmed: "confirmed", FCrDNSMismatch: "mismatch",
	FCrDNSNoAddress: "no_address", FCrDNSError: "error", FCrDNSNumeric: "numeric",
}

// String returns the stored name of f; FCrDNSNone is "".
func (f FCrDNS) String() string {
	if n, ok := fcrdnsNames[f]; ok {
		return n
	}
	return fmt.Sprintf("fcrdns(%d)", uint8(f))
}

// ParseFCrDNS parses a stored forward-confirmation name ("" is FCrDNSNone).
func ParseFCrDNS(name string) (FCrDNS, error) {
	for f, n := range fcrdnsNames {
		if n == name {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown fcrdns outcome %q (want confirmed, mismatch, no_address, error or numeric)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (f FCrDNS) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FCrDNS) UnmarshalText(b []byte) error {
	v, err := ParseFCrDNS(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}
