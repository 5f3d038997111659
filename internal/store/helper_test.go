package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// testOptions are the options of the server tests use: the DSN in
// PTRSWEEP_TEST_CLICKHOUSE, or the local server on the default port, with
// the database replaced.
func testOptions(t testing.TB, database string) Options {
	t.Helper()
	dsn := os.Getenv("PTRSWEEP_TEST_CLICKHOUSE")
	if dsn == "" {
		dsn = "clickhouse://127.0.0.1:9000"
	}
	o, err := ParseDSN(dsn)
	if err != nil {
		t.Fatalf("PTRSWEEP_TEST_CLICKHOUSE: %v", err)
	}
	o.Database = database
	return o
}

// randomDatabase returns a fresh test database name.
func randomDatabase(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "ptrsweep_test_" + hex.EncodeToString(b[:])
}

// openTest opens a store on a fresh database ptrsweep_test_<random> that is
// dropped when the test ends. Without a server it skips, or fails under CI=true.
func openTest(t testing.TB) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenOptions(ctx, testOptions(t, randomDatabase(t)))
	if errors.Is(err, ErrUnreachable) {
		testenv.Require(t, "ClickHouse for integration tests (set PTRSWEEP_TEST_CLICKHOUSE or start one)", err)
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DropDatabase(ctx); err != nil {
			t.Errorf("DropDatabase: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
