package sweep

import "errors"

// ErrScanName means a scan name is empty, too long or has a character
// outside [a-z0-9_-]; ValidateScanName wraps it with the details.
var ErrScanName = errors.New("invalid scan name")
