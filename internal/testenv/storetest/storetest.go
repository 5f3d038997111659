// Package storetest gives integration tests a ClickHouse database of their
// own. It is imported by tests only.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

// DSN returns the DSN of a fresh database ptrsweep_test_<random> on the
// server in PTRSWEEP_TEST_CLICKHOUSE (default clickhouse://127.0.0.1:9000),
// creates it with the schema, and drops it when the test ends. Without a
// server the test is skipped, or fails under CI=true.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PTRSWEEP_TEST_CLICKHOUSE")
	if base == "" {
		base = "clickhouse://127.0.0.1:9000"
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	db := "ptrsweep_test_" + hex.EncodeToString(b[:])
	// Replace the path (database) of the DSN, keeping any ?params.
	rest, params, _ := strings.Cut(base, "?")
	scheme, hostpart, ok := strings.Cut(rest, "://")
	if !ok {
		t.Fatalf("PTRSWEEP_TEST_CLICKHOUSE %q: want clickhouse://host:port", base)
	}
	hostpart, _, _ = strings.Cut(hostpart, "/")
	dsn := scheme + "://" + hostpart + "/" + db
	if params != "" {
		dsn += "?" + params
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		if errors.Is(err, store.ErrUnreachable) {
			testenv.Require(t, "ClickHouse for integration tests (run make clickhouse or set PTRSWEEP_TEST_CLICKHOUSE)", err)
		}
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := st.DropDatabase(ctx); err != nil {
			t.Errorf("drop test database %s: %v", db, err)
		}
		st.Close()
	})
	return dsn
}
