package testenv

import (
	"os"
	"testing"
)

// CI reports whether the environment variable CI is "true", as CI systems
// set it: there a missing dependency is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// Require ends the test when err (a missing dependency: a binary, a
// server) is not nil: under CI=true the test fails, otherwise it is skipped
// with the reason and how to make it run. what names the dependency and
// how to get it ("knotd (apt-get install knot)"). It does nothing when err
// is nil.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if CI() {
		t.Fatalf("%s is missing: %v (CI=true: a missing dependency fails)", what, err)
	}
	t.Skipf("%s is missing: %v; set CI=true to make this a failure", what, err)
}
