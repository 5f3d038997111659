package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/telemetry"
)

// A process wires its sources and checks, starts the server and closes it
// on the way out.
func Example() {
	logger := slog.New(slog.DiscardHandler)
	m := telemetry.NewMetrics(telemetry.MetricsConfig{Logger: logger})
	m.AddResolver(func() resolve.Stats { return resolve.Stats{Queries: 3, Answers: 3, Window: 64} })
	m.SetQueue(func(context.Context) (telemetry.QueueLag, error) { return telemetry.QueueLag{Pending: 10}, nil })
	m.AddCounts(sweep.Counts{OK: 2, NXDomain: 1, PTRs: 2})
	m.ObserveInsert(25 * time.Millisecond)

	srv, err := telemetry.NewServer(telemetry.ServerConfig{Addr: "127.0.0.1:0", Metrics: m, Logger: logger})
	if err != nil {
		fmt.Println(err)
		return
	}
	var clickhouseUp atomic.Bool
	_ = srv.AddCheck("nats", func(context.Context) error { return nil })
	_ = srv.AddCheck("clickhouse", func(context.Context) error {
		if !clickhouseUp.Load() {
			return errors.New("dial 127.0.0.1:9000: connection refused")
		}
		return nil
	})
	if err := srv.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	show := func(path string) {
		resp, err := client.Get("http://" + srv.Addr().String() + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("GET %s %d\n%s", path, resp.StatusCode, body)
	}
	show("/healthz")
	show("/readyz")
	clickhouseUp.Store(true)
	show("/readyz")
	// Output:
	// GET /healthz 200
	// ok
	// GET /readyz 503
	// [-]clickhouse failed
	// [+]nats ok
	// not ready: clickhouse
	// GET /readyz 200
	// ok
}
