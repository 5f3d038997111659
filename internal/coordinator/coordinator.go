// Package coordinator holds the coordinator's commands, one file each:
// sweep (plan, publish, run workers in-process and wait), publish, status,
// retry, search and export, and the analytics commands asn, lookup,
// fleets, diff and import (their logic lives in internal/analytics and
// internal/ingest, shared with the API). The command-line layer in cmd/coordinator turns
// flags into these configs.
//
// Each command opens its clients from a Conn and hands them, as the small
// interfaces declared here, to an unexported function that holds its logic;
// the tests call those functions with fakes.
package coordinator

import (
	"context"
	"iter"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Conn says where the shared services are and how to reach them.
type Conn struct {
	// Queue is the NATS connection: URL (empty means an embedded JetStream
	// server, sweep only), credentials, TLS and consumer settings. Each
	// command sets its own client Name.
	Queue queue.Config
	// ClickHouse is the ClickHouse DSN.
	ClickHouse string
}

// NATS client names, as the server lists them.
const (
	clientCoordinator = "ptrsweep-coordinator"
	clientStatus      = "ptrsweep-status"
	clientWorker      = "ptrsweep-worker-" // + the in-process worker's index
)

// queueConfig returns the queue configuration of the client name; existing
// connects to a queue that must exist and changes nothing (readers).
func (c Conn) queueConfig(name string, existing bool) queue.Config {
	qc := c.Queue
	qc.Name, qc.Existing = name, existing
	return qc
}

// scanSaver records a planned scan.
type scanSaver interface {
	SaveScan(ctx context.Context, rec sweep.ScanRecord) error
}

// progressReader reads a scan's unit log.
type progressReader interface {
	Progress(ctx context.Context, scan string) (store.Progress, error)
}

// scanReader reads a scan record; Database names the database for errors.
type scanReader interface {
	Scan(ctx context.Context, name string) (sweep.ScanRecord, error)
	Database() string
}

// unitPublisher publishes units idempotently.
type unitPublisher interface {
	PublishAll(ctx context.Context, units iter.Seq[sweep.Unit], progress func(published, duplicates int)) (published, duplicates int, err error)
}

// withStore opens the store of dsn, runs fn with it and closes it.
func withStore(ctx context.Context, dsn string, fn func(*store.Store) error) error {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
