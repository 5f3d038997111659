package plan

import (
	"regexp"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func TestGenerateScanName(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 15, 30, 0, time.FixedZone("CET", 3600))
	re := regexp.MustCompile(`^scan-20261122-021530-[0-9a-f]{4}$`)
	for range 20 {
		got := GenerateScanName(now)
		if !re.MatchString(got) {
			t.Errorf("GenerateScanName(%v) = %q, want a match of %s", now, got, re)
		}
		if err := sweep.ValidateScanName(got); err != nil {
			t.Errorf("ValidateScanName(GenerateScanName(%v) = %q) = %v", now, got, err)
		}
	}
}
