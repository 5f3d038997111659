package store

import (
	"context"
	"testing"
	"time"
)

// TestLogQueries checks that a store opened with log_queries=true has its
// queries recorded in system.query_log, and one without does not.
func TestLogQueries(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		log  bool
		want uint64
	}{{true, 1}, {false, 0}} {
		o := testOptions(t, randomDatabase(t))
		o.LogQueries = tt.log
		s, err := OpenOptions(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = s.DropDatabase(ctx)
			_ = s.Close()
		})
		start := time.Now().Add(-time.Second).Truncate(time.Second)
		marker := "SELECT 'ptrsweep log_queries test " + o.Database + "' AS marker"
		if err := s.Exec(ctx, marker); err != nil {
			t.Fatal(err)
		}
		if err := s.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
			t.Fatal(err)
		}
		var n uint64
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.query_log WHERE type = 2 AND query = ? AND query_start_time >= ? AND client_name LIKE ?", marker, start, "ptrsweep/1 db/"+o.Database+" %").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != tt.want {
			t.Errorf("log_queries=%v: %d finished queries logged, want %d", tt.log, n, tt.want)
		}
	}
}
