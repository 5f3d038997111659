package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// The metrics read from sources at scrape time. Names are written out whole
// so that the naming test and docs/metrics.md can find every one.

// counterStat is one counter read from a source's stats of type S.
type counterStat[S any] struct {
	desc *prometheus.Desc
	get  func(S) uint64
}

// dropReasons is the closed set of the reason label of
// ptrsweep_dns_dropped_packets_total.
var dropReasons = []string{"invalid", "unmatched"}

var resolverCounters = []counterStat[resolve.Stats]{
	{prometheus.NewDesc("ptrsweep_dns_queries_total",
		"DNS queries sent, UDP and TCP: probes, retries and forward-confirmation lookups included.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Queries }},
	{prometheus.NewDesc("ptrsweep_dns_answers_total",
		"Valid DNS answers received, of any rcode.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Answers }},
	{prometheus.NewDesc("ptrsweep_dns_timeouts_total",
		"DNS tries that got no valid answer in time.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Timeouts }},
	{prometheus.NewDesc("ptrsweep_dns_retries_total",
		"DNS tries after a lookup's first.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Retries }},
	{prometheus.NewDesc("ptrsweep_dns_tcp_queries_total",
		"DNS queries repeated over TCP after a truncated UDP answer.", nil, nil),
		func(s resolve.Stats) uint64 { return s.TCP }},
	{prometheus.NewDesc("ptrsweep_dns_prune_probes_total",
		"Empty-zone probes sent (RFC 8020): queries for /16 and /24 reverse names.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Probes }},
	{prometheus.NewDesc("ptrsweep_dns_pruned_addresses_total",
		"Addresses answered nxdomain by pruning, without a query of their own.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Pruned }},
	{prometheus.NewDesc("ptrsweep_dns_prune_samples_total",
		"Addresses of pruned zones queried anyway to check the server's NXDOMAIN.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Sampled }},
	{prometheus.NewDesc("ptrsweep_dns_prune_disabled_zones_total",
		"Zones whose NXDOMAIN a sample proved wrong; pruning is off for them.", nil, nil),
		func(s resolve.Stats) uint64 { return s.PruneDisabled }},
	{prometheus.NewDesc("ptrsweep_dns_server_ejections_total",
		"Times a DNS server was ejected for failing every try in a long run.", nil, nil),
		func(s resolve.Stats) uint64 { return s.Ejected }},
}

var (
	descDNSDropped = prometheus.NewDesc("ptrsweep_dns_dropped_packets_total",
		"DNS packets dropped, by reason: invalid (malformed, not a response, wrong question) or unmatched (no query waiting for the ID: late or spoofed).",
		[]string{"reason"}, nil)
	descDNSEjected = prometheus.NewDesc("ptrsweep_dns_ejected_servers",
		"DNS servers ejected right now.", nil, nil)
	descDNSWindow = prometheus.NewDesc("ptrsweep_dns_window",
		"Adaptive in-flight window: addresses the engine lets be in flight at once.", nil, nil)
)

func resolverDescs() []*prometheus.Desc {
	ds := []*prometheus.Desc{descDNSDropped, descDNSEjected, descDNSWindow}
	for _, c := range resolverCounters {
		ds = append(ds, c.desc)
	}
	return ds
}

// collectResolvers emits the sums over every resolver source, or nothing
// when there is none.
func (m *Metrics) collectResolvers(ch chan<- prometheus.Metric) {
	srcs, _, _ := m.snapshot()
	if len(srcs) == 0 {
		return
	}
	var (
		sums               = make([]uint64, len(resolverCounters))
		invalid, unmatched uint64
		ejected, window    int
	)
	for _, f := range srcs {
		s := f()
		for i, c := range resolverCounters {
			sums[i] += c.get(s)
		}
		invalid += s.Invalid
		unmatched += s.Unmatched
		ejected += len(s.EjectedServers)
		window += s.Window
	}
	for i, c := range resolverCounters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(sums[i]))
	}
	ch <- prometheus.MustNewConstMetric(descDNSDropped, prometheus.CounterValue, float64(invalid), dropReasons[0])
	ch <- prometheus.MustNewConstMetric(descDNSDropped, prometheus.CounterValue, float64(unmatched), dropReasons[1])
	ch <- prometheus.MustNewConstMetric(descDNSEjected, prometheus.GaugeValue, float64(ejected))
	ch <- prometheus.MustNewConstMetric(descDNSWindow, prometheus.GaugeValue, float64(window))
}

var workerCounters = []counterStat[*worker.Stats]{
	{prometheus.NewDesc("ptrsweep_units_done_total",
		"Units resolved, stored and acknowledged.", nil, nil),
		func(s *worker.Stats) uint64 { return s.UnitsAcked.Load() }},
	{prometheus.NewDesc("ptrsweep_units_retried_total",
		"Units handed back to the queue for another delivery (nak): a failed try, or a shutdown.", nil, nil),
		func(s *worker.Stats) uint64 { return s.UnitsNakked.Load() }},
	{prometheus.NewDesc("ptrsweep_units_failed_total",
		"Units given up on and moved to the dead-letter stream.", nil, nil),
		func(s *worker.Stats) uint64 { return s.UnitsDead.Load() }},
	{prometheus.NewDesc("ptrsweep_batches_inserted_total",
		"Batches of rows and unit records stored in ClickHouse.", nil, nil),
		func(s *worker.Stats) uint64 { return s.Flushes.Load() }},
	{prometheus.NewDesc("ptrsweep_insert_errors_total",
		"Failed inserts into ClickHouse (each is retried with backoff).", nil, nil),
		func(s *worker.Stats) uint64 { return s.FlushErrors.Load() }},
	{prometheus.NewDesc("ptrsweep_rows_inserted_total",
		"Result rows stored in ClickHouse.", nil, nil),
		func(s *worker.Stats) uint64 { return s.Rows.Load() }},
}

func workerDescs() []*prometheus.Desc {
	ds := make([]*prometheus.Desc, 0, len(workerCounters))
	for _, c := range workerCounters {
		ds = append(ds, c.desc)
	}
	return ds
}

// collectWorkers emits the sums over every worker source that returns
// stats, or nothing when none does.
func (m *Metrics) collectWorkers(ch chan<- prometheus.Metric) {
	_, srcs, _ := m.snapshot()
	sums := make([]uint64, len(workerCounters))
	found := false
	for _, f := range srcs {
		s := f()
		if s == nil {
			continue
		}
		found = true
		for i, c := range workerCounters {
			sums[i] += c.get(s)
		}
	}
	if !found {
		return
	}
	for i, c := range workerCounters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(sums[i]))
	}
}

var (
	descQueuePending = prometheus.NewDesc("ptrsweep_queue_pending_units",
		"Units in the work queue waiting for a delivery.", nil, nil)
	descQueueAckPending = prometheus.NewDesc("ptrsweep_queue_ack_pending_units",
		"Units delivered to a worker and not yet acknowledged.", nil, nil)
	descQueueErrors = prometheus.NewDesc("ptrsweep_queue_status_errors_total",
		"Scrapes whose read of the queue's state failed; the queue gauges are missing from those scrapes.", nil, nil)
)

// collectQueue reads the queue's lag within the queue timeout. On failure
// it logs, counts the error and emits no gauge: a stale or made-up value
// would be worse than a gap. The error counter is always emitted, after the
// read, so a scrape shows its own failure.
func (m *Metrics) collectQueue(ch chan<- prometheus.Metric) {
	_, _, f := m.snapshot()
	defer func() {
		ch <- prometheus.MustNewConstMetric(descQueueErrors, prometheus.CounterValue, float64(m.queueErrors.Load()))
	}()
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.qto)
	defer cancel()
	lag, err := f(ctx)
	if err != nil {
		m.queueErrors.Add(1)
		m.log.Warn("metrics: read queue state", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descQueuePending, prometheus.GaugeValue, float64(lag.Pending))
	ch <- prometheus.MustNewConstMetric(descQueueAckPending, prometheus.GaugeValue, float64(lag.AckPending))
}
