package sweep

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateScanName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
		text string // the error must say this
	}{
		{"a", true, ""},
		{"0", true, ""},
		{"scan-20261122-021530-3f9a", true, ""},
		{"my_scan-2", true, ""},
		{strings.Repeat("x", 64), true, ""},
		{"", false, "empty"},
		{strings.Repeat("x", 65), false, "65 bytes long"},
		{"-scan", false, "starts with '-'"},
		{"_scan", false, "starts with '_'"},
		{"Scan", false, `'S' at byte 1`},
		{"scan.1", false, `'.' at byte 5`},
		{"scan*", false, `'*' at byte 5`},
		{"scan>", false, `'>'`},
		{"scan 1", false, `' '`},
		{"scan'1", false, `'\''`},
		{"scän", false, `"scän"`},
	}
	for _, tt := range tests {
		err := ValidateScanName(tt.name)
		if tt.ok {
			if err != nil {
				t.Errorf("ValidateScanName(%q) = %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrScanName) {
			t.Errorf("ValidateScanName(%q) = %v, want %v", tt.name, err, ErrScanName)
			continue
		}
		if !strings.Contains(err.Error(), tt.text) {
			t.Errorf("ValidateScanName(%q) = %q, want it to say %q", tt.name, err, tt.text)
		}
	}
}
