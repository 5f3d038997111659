// Package telemetry is ptrsweep's observability: Prometheus metrics and the
// health endpoints the coordinator and the worker serve on
// --metrics-listen. It is the only package that imports client_golang; the
// loops never do.
//
// A process builds one Metrics (a private registry holding the Go and
// process collectors and every ptrsweep metric), tells it where its numbers
// live, and serves it with a Server:
//
//	m := telemetry.NewMetrics(telemetry.MetricsConfig{})
//	m.AddResolver(res.Stats)               // ptrsweep_dns_*: read at scrape time
//	m.AddWorker(w.Stats)                   // ptrsweep_units_*, ptrsweep_rows_inserted_total, …
//	m.SetQueue(lagFunc)                    // ptrsweep_queue_pending_units, …
//	srv, _ := telemetry.NewServer(telemetry.ServerConfig{Addr: addr, Metrics: m})
//	srv.AddCheck("nats", natsPing)
//	srv.AddCheck("clickhouse", chPing)
//	if err := srv.Start(ctx); err != nil { … }
//	defer srv.Close()
//
// Most metrics are read from the counters the loops already keep
// (resolve.Stats, worker.Stats, the queue's consumer state) when Prometheus
// scrapes, so the hot path is untouched. Two are pushed through hooks that
// need no Prometheus import on the caller's side: Metrics.AddCounts (answers
// by outcome, once per unit) and Metrics.ObserveInsert (insert latency,
// once per insert).
//
// Every metric is in the namespace ptrsweep; counters end in _total,
// durations in _seconds, sizes in _bytes; label values come from closed sets
// (an outcome, a drop reason) and never hold an address or a DNS name. A
// test lints every metric the registry gathers, and docs/metrics.md lists
// them all.
package telemetry
