package plan

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// GenerateScanName returns a new scan name from the time, in UTC, and a
// random suffix, such as "scan-20261122-021530-3f9a". It is valid for
// sweep.ValidateScanName and safe for concurrent use.
func GenerateScanName(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "scan-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}
