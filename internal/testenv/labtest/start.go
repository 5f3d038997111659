package labtest

import (
	"context"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// Start serves the default lab (lab.DefaultSpace) on a free loopback port
// for one test and closes it when the test ends.
func Start(t testing.TB) (*lab.Lab, *lab.Server) {
	t.Helper()
	l, err := lab.New(lab.DefaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.Start(context.Background(), l, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return l, srv
}
