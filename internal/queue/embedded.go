package queue

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedReadyTimeout bounds how long StartEmbedded waits for the server.
const embeddedReadyTimeout = 10 * time.Second

// Embedded is an in-process NATS server with JetStream, listening on a random
// port of 127.0.0.1, for one-machine runs and tests. Its methods are safe for
// concurrent use; Close must be called once the server is no longer needed.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts an in-process NATS server with JetStream storing its
// data under dir, and waits until it accepts connections.
func StartEmbedded(dir string) (*Embedded, error) {
	return StartEmbeddedWith(dir, nil)
}

// StartEmbeddedWith is StartEmbedded with configure (if not nil) applied to
// the server options before the server starts: tests use it to require
// authentication or TLS.
func StartEmbeddedWith(dir string, configure func(*server.Options)) (*Embedded, error) {
	opts := &server.Options{
		ServerName: "ptrsweep-embedded",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		// The HTTP monitor stays off: one machine needs no /jsz.
		HTTPPort: 0,
	}
	if configure != nil {
		configure(opts)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("create embedded nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(embeddedReadyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("embedded nats server (store %s) not ready after %s", dir, embeddedReadyTimeout)
	}
	return &Embedded{srv: srv}, nil
}

// URL returns the client URL of the server, nats://127.0.0.1:<port>.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Close shuts the server down and waits until it has stopped.
func (e *Embedded) Close() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
