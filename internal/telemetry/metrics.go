package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ptrsweep/ptrsweep/internal/resolve"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// DefaultQueueTimeout bounds one scrape-time read of the queue's state.
const DefaultQueueTimeout = 2 * time.Second

// MetricsConfig configures NewMetrics. The zero value is ready to use.
type MetricsConfig struct {
	// QueueTimeout bounds each scrape-time call of the queue function
	// (SetQueue). Default DefaultQueueTimeout.
	QueueTimeout time.Duration
	// Logger receives scrape-time errors. Default slog.Default().
	Logger *slog.Logger
}

// QueueLag is the state of the work queue's consumer that says how far the
// workers are behind: what KEDA's nats-jetstream scaler scales on.
type QueueLag struct {
	// Pending is the number of units waiting for a delivery (the
	// consumer's num_pending, or a scan's queued units).
	Pending uint64
	// AckPending is the number of units delivered to a worker and not yet
	// acknowledged (the consumer's num_ack_pending).
	AckPending uint64
}

// QueueFunc reads the queue's lag. It is called at scrape time with a
// context bounded by MetricsConfig.QueueTimeout and must be safe for
// concurrent use.
type QueueFunc func(ctx context.Context) (QueueLag, error)

// Metrics holds every ptrsweep metric of one process on a private registry
// (with the Go runtime, process and build-info collectors). Create it with
// NewMetrics; its methods are safe for concurrent use, and the sources it is
// given (AddResolver, AddWorker, SetQueue) are read only when Prometheus
// scrapes. It owns no goroutine.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	qto time.Duration

	mu        sync.Mutex
	resolvers []func() resolve.Stats
	workers   []func() *worker.Stats
	queue     QueueFunc

	outcomes    *prometheus.CounterVec
	outcome     map[sweep.Status]prometheus.Counter // read-only after NewMetrics
	ptrs        prometheus.Counter
	insert      prometheus.Histogram
	queueErrors atomic.Uint64
}

// statusUnknown is the outcome label of a Status outside sweep.Statuses (a
// bug upstream; counted, not dropped).
const statusUnknown = "unknown"

// insertBuckets are the insert-latency buckets in seconds: a batch of 10k
// to 100k rows takes tens of milliseconds on a local ClickHouse and seconds
// on a busy remote one.
var insertBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics returns a Metrics whose registry holds the Go, process and
// build-info collectors and every ptrsweep metric. Metrics read from
// sources appear once a source is added; the hook metrics (outcomes,
// PTRs, insert latency) are always present, at zero until fed.
func NewMetrics(cfg MetricsConfig) *Metrics {
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = DefaultQueueTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: cfg.Logger,
		qto: cfg.QueueTimeout,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ptrsweep_addresses_total",
			Help: "Addresses resolved, by outcome (status: ok, nxdomain, nodata, servfail, refused, timeout).",
		}, []string{"status"}),
		outcome: make(map[sweep.Status]prometheus.Counter, len(sweep.Statuses)),
		ptrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ptrsweep_ptr_records_total",
			Help: "PTR records found (an address with status ok has one or more).",
		}),
		insert: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ptrsweep_insert_duration_seconds",
			Help:    "Duration of one insert of a batch of rows into ClickHouse, failed tries included.",
			Buckets: insertBuckets,
		}),
	}
	for _, s := range sweep.Statuses {
		m.outcome[s] = m.outcomes.WithLabelValues(s.String())
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.outcomes, m.ptrs, m.insert,
		&funcCollector{descs: resolverDescs(), collect: m.collectResolvers},
		&funcCollector{descs: workerDescs(), collect: m.collectWorkers},
		&funcCollector{descs: []*prometheus.Desc{descQueuePending, descQueueAckPending, descQueueErrors}, collect: m.collectQueue},
	)
	return m
}

// Handler returns the /metrics handler: the registry in the Prometheus
// text or protobuf format, with promhttp's own request metrics. A failing
// collector does not fail the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg,
		EnableOpenMetrics: true,
	}))
}

// AddResolver adds a source of DNS engine counters, such as a
// *resolve.Resolver's Stats method. The ptrsweep_dns_* metrics are the sums
// over every source added; f is called at each scrape and must be safe for
// concurrent use.
func (m *Metrics) AddResolver(f func() resolve.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resolvers = append(m.resolvers, f)
}

// AddWorker adds a source of worker totals, such as a *worker.Worker's
// Stats method. The ptrsweep_units_*, ptrsweep_rows_inserted_total and
// ptrsweep_batches_* metrics are the sums over every source; a source
// returning nil (a worker not built yet) is skipped.
func (m *Metrics) AddWorker(f func() *worker.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.workers = append(m.workers, f)
}

// SetQueue sets the function that reads the queue's lag for the
// ptrsweep_queue_* gauges, replacing any set before; nil removes them.
func (m *Metrics) SetQueue(f QueueFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = f
}

// AddCounts counts the outcomes of one unit's addresses
// (ptrsweep_addresses_total by status, ptrsweep_ptr_records_total). Call it
// once per resolved unit; it costs a few atomic adds.
func (m *Metrics) AddCounts(c sweep.Counts) {
	for _, s := range sweep.Statuses {
		if n := countOf(c, s); n > 0 {
			m.outcome[s].Add(float64(n))
		}
	}
	if c.PTRs > 0 {
		m.ptrs.Add(float64(c.PTRs))
	}
}

// AddResult counts the outcome of one address, for callers that see
// results one at a time. A Status outside sweep.Statuses is counted as
// "unknown".
func (m *Metrics) AddResult(r sweep.Result) {
	c, ok := m.outcome[r.Status]
	if !ok {
		c = m.outcomes.WithLabelValues(statusUnknown)
	}
	c.Inc()
	if r.Status == sweep.StatusOK && len(r.PTRs) > 0 {
		m.ptrs.Add(float64(len(r.PTRs)))
	}
}

// ObserveInsert records the duration of one insert of a batch of rows
// (ptrsweep_insert_duration_seconds). Its signature, func(time.Duration),
// lets the worker take it as a plain func without importing Prometheus.
func (m *Metrics) ObserveInsert(d time.Duration) { m.insert.Observe(d.Seconds()) }

// countOf returns the count of status s in c.
func countOf(c sweep.Counts, s sweep.Status) uint32 {
	switch s {
	case sweep.StatusOK:
		return c.OK
	case sweep.StatusNXDomain:
		return c.NXDomain
	case sweep.StatusNoData:
		return c.NoData
	case sweep.StatusServFail:
		return c.ServFail
	case sweep.StatusRefused:
		return c.Refused
	case sweep.StatusTimeout:
		return c.Timeout
	}
	return 0
}

// funcCollector is a collector whose metrics are computed at scrape time.
type funcCollector struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *funcCollector) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// snapshot returns copies of the sources under the lock.
func (m *Metrics) snapshot() ([]func() resolve.Stats, []func() *worker.Stats, QueueFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resolvers), slices.Clone(m.workers), m.queue
}
