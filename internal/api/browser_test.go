package api_test

import "testing"

func testBrowser(t *testing.T, f *fixture) { t.Skip("not yet") }
