// Package queue holds all of ptrsweep's JetStream code: the work-queue
// stream of units, the shared pull consumer the workers fetch from, the
// dead-letter stream, and an embedded NATS server for one-machine runs.
//
// Streams and subjects:
//
//	PTRSWEEP_UNITS       ptrsweep.units.<scan>.<bucket>  work queue, one unit per message,
//	                                                     Nats-Msg-Id = unit ID (dedup window);
//	                                                     bucket = the unit's Seq / 4096
//	PTRSWEEP_DEAD        ptrsweep.dead.<scan>            dead letters, header Ptrsweep-Reason
//	PTRSWEEP_ADVISORIES  $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.PTRSWEEP_UNITS.workers
//	                                             max-delivery advisories, kept until
//	                                             WatchMaxDeliveries handles them
//
// Every unit is published with its ID as message ID, so a publish retried
// within the stream's short dedup window (DefaultDuplicates) is stored once.
// Idempotence over the life of a scan does not rest on that window: the
// coordinator's feeder keeps a plan cursor and, for the few units it cannot
// vouch for, asks Present which of them the stream holds. The bucket token
// of a unit's subject lets Present read one bucket, and Queued count a
// scan's units with a handful of per-subject totals. Every delivery can be a
// redelivery: acknowledge a unit only once its results are stored.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Stream, consumer and subject names.
const (
	// WorkStream is the work-queue stream holding units not yet done.
	WorkStream = "PTRSWEEP_UNITS"
	// DeadStream is the dead-letter stream.
	DeadStream = "PTRSWEEP_DEAD"
	// AdvisoryStream keeps max-delivery advisories until they are handled.
	AdvisoryStream = "PTRSWEEP_ADVISORIES"
	// Consumer is the durable pull consumer shared by all workers and scans.
	Consumer = "workers"
	// DeadLetterer is the durable consumer of AdvisoryStream.
	DeadLetterer = "dead-letterer"

	workPrefix = "ptrsweep.units."
	deadPrefix = "ptrsweep.dead."
	// maxDeliveriesSubject is the advisory the server publishes when a
	// message of WorkStream reached the consumer's MaxDeliver.
	maxDeliveriesSubject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + WorkStream + "." + Consumer

	// HeaderReason names why a unit was dead-lettered.
	HeaderReason = "Ptrsweep-Reason"
	// HeaderSourceSeq holds the unit's sequence in WorkStream.
	HeaderSourceSeq = "Ptrsweep-Source-Seq"
	// HeaderAttempts holds how often the unit was delivered.
	HeaderAttempts = "Ptrsweep-Attempts"
	// HeaderRepublished marks a work message that queues a unit again (by
	// Retry): an earlier message of the same unit may have stored rows, so
	// even its first delivery is a Redelivery. Its value is the earlier
	// message's dead-letter sequence. Any code that publishes a unit a
	// second time must set it.
	HeaderRepublished = "Ptrsweep-Republished"
)

// Defaults for Config.
const (
	DefaultAckWait       = 60 * time.Second
	DefaultMaxDeliver    = 5
	DefaultDuplicates    = 2 * time.Minute
	DefaultMaxAckPending = 20000
	DefaultFetchWait     = time.Second
	advisoryMaxAge       = 7 * 24 * time.Hour
	reconnectWait        = 2 * time.Second
	connectTimeout       = 5 * time.Second
	requestTimeout       = 10 * time.Second
	asyncAckTimeout      = 30 * time.Second
)

// Config configures Connect. The consumer settings (AckWait, MaxDeliver,
// MaxAckPending) are applied to the shared consumer by every Connect, so
// every process of a deployment should use the same values.
type Config struct {
	// URL is the NATS server URL (nats://host:port, comma-separated for a
	// cluster; tls://host:port for TLS). It may hold credentials; they
	// never appear in errors.
	URL string
	// Auth holds credentials and TLS settings; see Auth.
	Auth Auth
	// Name is the client connection name, e.g. "ptrsweep-worker-host-123".
	Name string
	// AckWait is how long a delivered unit may go without Ack or InProgress
	// before it is redelivered. Default DefaultAckWait.
	AckWait time.Duration
	// MaxDeliver is how often a unit is delivered before it goes to the
	// dead-letter stream. Default DefaultMaxDeliver.
	MaxDeliver int
	// Duplicates is the dedup window of message IDs in the work stream: it
	// only has to cover a publish retried after a lost acknowledgement, and
	// the server keeps every ID published within it in memory (a few
	// hundred bytes each), so it is short. Default DefaultDuplicates.
	Duplicates time.Duration
	// MaxAckPending bounds delivered but unacknowledged units across all
	// workers. Default DefaultMaxAckPending.
	MaxAckPending int
	// FetchWait is how long Fetch waits for units when none are queued.
	// Default DefaultFetchWait.
	FetchWait time.Duration
	// Replicas is the replica count of the streams (work, dead letters,
	// advisories) on a JetStream cluster: 3 is recommended there, and 1
	// is all a single server can hold. 0 keeps the count of streams that
	// exist and creates new ones with 1.
	Replicas int
	// Existing connects to a queue that must already exist, and creates or
	// updates nothing: for readers (status, retry), so they never reset the
	// consumer's AckWait or MaxDeliver that the publisher and workers chose.
	Existing bool
	// Logger receives what long-running loops (WatchMaxDeliveries) cannot
	// return. Nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.Duplicates <= 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.FetchWait <= 0 {
		c.FetchWait = DefaultFetchWait
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Queue is a connection to the ptrsweep streams. It is safe for concurrent
// use by multiple goroutines. Close it when done.
type Queue struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	work   jetstream.Stream
	dead   jetstream.Stream
	adv    jetstream.Stream
	cons   jetstream.Consumer
	closed chan struct{}
}

// Connect connects to NATS at cfg.URL and creates or updates the streams and
// the shared consumer. After the first connection succeeds the client
// reconnects forever; if the first connection fails, the error wraps
// ErrUnreachable and says what to start.
func Connect(ctx context.Context, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	if cfg.URL == "" {
		cfg.URL = nats.DefaultURL
	}
	closed := make(chan struct{})
	logger := cfg.Logger
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.Timeout(connectTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("nats disconnected", "err", redactErr(err, cfg.secrets()))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { logger.Info("nats reconnected") }),
	}
	authOpts, err := cfg.Auth.options()
	if err != nil {
		return nil, redactErr(err, cfg.secrets())
	}
	opts = append(opts, authOpts...)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, &UnreachableError{URL: RedactURL(cfg.URL), Err: redactErr(err, cfg.secrets())}
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(4*publishWindow),
		jetstream.WithPublishAsyncTimeout(asyncAckTimeout),
		jetstream.WithDefaultTimeout(requestTimeout),
	)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w: %w", ErrJetStream, err)
	}
	q := &Queue{cfg: cfg, nc: nc, js: js, closed: closed}
	if err := q.ensure(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return q, nil
}

// ensure creates or updates the streams and consumers.
func (q *Queue) ensure(ctx context.Context) error {
	if q.cfg.Existing {
		return q.open(ctx)
	}
	var err error
	replicas, err := q.replicas(ctx)
	if err != nil {
		return err
	}
	q.work, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        WorkStream,
		Description: "ptrsweep work units, one CIDR block per message",
		Subjects:    []string{workPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  q.cfg.Duplicates,
		Discard:     jetstream.DiscardOld,
		Replicas:    replicas,
	})
	if err != nil {
		return jsErr("create or update stream "+WorkStream, err)
	}
	q.dead, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadStream,
		Description: "ptrsweep units that failed MaxDeliver times or were given up",
		Subjects:    []string{deadPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  q.cfg.Duplicates,
		Replicas:    replicas,
	})
	if err != nil {
		return jsErr("create or update stream "+DeadStream, err)
	}
	q.adv, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AdvisoryStream,
		Description: "max-delivery advisories of " + WorkStream + " until moved to " + DeadStream,
		Subjects:    []string{maxDeliveriesSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      advisoryMaxAge,
		Replicas:    replicas,
	})
	if err != nil {
		return jsErr("create or update stream "+AdvisoryStream, err)
	}
	q.cons, err = q.work.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       Consumer,
		Description:   "ptrsweep workers, shared by all scans",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxDeliver:    q.cfg.MaxDeliver,
		MaxAckPending: q.cfg.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return jsErr("create or update consumer "+Consumer, err)
	}
	_, err = q.adv.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       DeadLetterer,
		Description:   "moves max-delivered units to " + DeadStream,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return jsErr("create or update consumer "+DeadLetterer, err)
	}
	return nil
}

// replicas returns the replica count for the streams: Config.Replicas, or
// when it is 0 the work stream's current count (1 for a new stream), so a
// process started without --replicas never scales a cluster's streams down.
func (q *Queue) replicas(ctx context.Context) (int, error) {
	if q.cfg.Replicas > 0 {
		return q.cfg.Replicas, nil
	}
	s, err := q.js.Stream(ctx, WorkStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, jsErr("look up stream "+WorkStream, err)
	}
	return max(s.CachedInfo().Config.Replicas, 1), nil
}

// open looks up the streams and the consumer without changing them.
func (q *Queue) open(ctx context.Context) error {
	var err error
	for _, s := range []struct {
		name string
		dst  *jetstream.Stream
	}{{WorkStream, &q.work}, {DeadStream, &q.dead}, {AdvisoryStream, &q.adv}} {
		if *s.dst, err = q.js.Stream(ctx, s.name); err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("%w: stream %s not found at %s: no scan was published to this server yet", ErrJetStream, s.name, RedactURL(q.cfg.URL))
			}
			return jsErr("look up stream "+s.name, err)
		}
	}
	if q.cons, err = q.work.Consumer(ctx, Consumer); err != nil {
		return jsErr("look up consumer "+Consumer, err)
	}
	return nil
}

func jsErr(what string, err error) error {
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
		errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("%w: %s: %w (is the server started with -js?)", ErrJetStream, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrJetStream, what, err)
}

// Close drains the connection: pending publishes and acknowledgements are
// flushed, then the connection closes. Close waits until it has closed.
// Deliveries not yet acknowledged are redelivered to others after AckWait.
func (q *Queue) Close() error {
	if q.nc.IsClosed() {
		return nil
	}
	if err := q.nc.Drain(); err != nil {
		q.nc.Close()
		return fmt.Errorf("drain nats connection: %w", err)
	}
	<-q.closed
	if err := q.nc.LastError(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("close nats connection: %w", redactErr(err, q.cfg.secrets()))
	}
	return nil
}

// UnreachableError is returned by Connect when the first connection fails.
// It matches ErrUnreachable with errors.Is. URL is redacted.
type UnreachableError struct {
	URL string
	Err error
}

// Error names the URL, the cause and what to do: start the server, or fix
// the credentials or TLS settings.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("nats at %s is unreachable (%v): %s", e.URL, e.Err, hint(e.Err))
}

// Is reports whether target is ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unwrap returns the (redacted) cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// RedactURL returns urls (one URL or a comma-separated list) with any user
// name, password or token replaced by "redacted".
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, err := url.Parse(p)
		if err != nil {
			if at := strings.LastIndex(p, "@"); at >= 0 {
				p = "redacted@" + p[at+1:]
			}
			parts[i] = p
			continue
		}
		if u.User != nil {
			u.User = url.User("redacted")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// urlSecrets returns the user infos of urls, to be scrubbed from error texts.
func urlSecrets(urls string) []string {
	var out []string
	for _, p := range strings.Split(urls, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok && len(pw) >= minSecretLen {
			out = append(out, pw)
		}
		if n := u.User.Username(); len(n) >= minSecretLen {
			out = append(out, n)
		}
	}
	return out
}

// redactedError keeps the cause for errors.Is but hides secrets in its text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with every one of secrets removed from its text.
func redactErr(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "redacted")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// unitBucket is how many consecutive plan positions (Unit.Seq) share a
// work subject.
const unitBucket = 4096

// workSubject is the subject of a unit: its scan and its Seq's bucket.
func workSubject(u sweep.Unit) string { return bucketSubject(u.Scan, u.Seq/unitBucket) }

func bucketSubject(scan string, bucket int) string {
	return workPrefix + scan + "." + strconv.Itoa(bucket)
}

// scanWildcard matches every work subject of scan.
func scanWildcard(scan string) string { return workPrefix + scan + ".>" }

// subjectScan returns the scan of a work subject: ptrsweep.units.<scan>.<bucket>,
// or ptrsweep.units.<scan> as earlier releases published.
func subjectScan(subject string) string {
	scan, _, _ := strings.Cut(strings.TrimPrefix(subject, workPrefix), ".")
	return scan
}

func deadSubject(scan string) string { return deadPrefix + scan }
