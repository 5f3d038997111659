package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/cli"
)

// FuzzPlanFlags feeds arbitrary planning flags to the planner: it never
// panics, and every refusal is a usage error (exit 2) of one line.
func FuzzPlanFlags(f *testing.F) {
	f.Add("198.51.100.0/22", "198.51.101.0/24", 24, "s1", false)
	f.Add("0.0.0.0/0", "", 8, "", false)
	f.Add("10.0.0.0/8", "10.1.0.0/16,10.2.3.4", 32, "x-y_z", true)
	f.Add("198.51.100.7/22", "2001:db8::/32", 40, "Bad Name", false)
	f.Add(",", " ,", -1, strings.Repeat("a", 65), true)
	f.Fuzz(func(t *testing.T, cidrs, exclude string, unitPrefix int, scan string, allowReserved bool) {
		if unitPrefix >= 8 && unitPrefix < 14 && strings.Contains(cidrs, "/0") {
			return // a legitimate plan of millions of units; nothing to learn here
		}
		pf := planFlags{cidrs: cidrs, exclude: exclude, unitPrefix: unitPrefix, scan: scan, allowReserved: allowReserved}
		p, err := pf.plan(io.Discard)
		if err != nil {
			var ue cli.UsageError
			if !errors.As(err, &ue) || cli.ExitCode(err) != 2 {
				t.Errorf("plan(%+v) = %v, want a usage error", pf, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("plan(%+v): error of several lines: %q", pf, err)
			}
			return
		}
		if p.Len() == 0 || p.Addresses() == 0 {
			t.Errorf("plan(%+v) planned nothing without an error", pf)
		}
	})
}
