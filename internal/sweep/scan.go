package sweep

import "fmt"

// MaxScanName is the longest scan name ValidateScanName accepts.
const MaxScanName = 64

// ValidateScanName reports whether name can name a scan: 1 to 64 characters
// of a-z, 0-9, '-' and '_', starting with a letter or digit. Scan names go
// into NATS subjects and consumer names and into SQL values, so nothing else
// is allowed. The error wraps ErrScanName and says what is wrong.
func ValidateScanName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the scan name is empty; use 1 to %d characters of a-z, 0-9, '-' and '_'", ErrScanName, MaxScanName)
	}
	if len(name) > MaxScanName {
		return fmt.Errorf("%w: scan name %.20q... is %d bytes long; the limit is %d", ErrScanName, name, len(name), MaxScanName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' || c == '_':
			if i == 0 {
				return fmt.Errorf("%w: scan name %q starts with %q; start it with a letter or digit", ErrScanName, name, c)
			}
		default:
			return fmt.Errorf("%w: scan name %q has %q at byte %d; use only a-z, 0-9, '-' and '_'", ErrScanName, name, c, i+1)
		}
	}
	return nil
}
