package queue

import (
	"context"
	"fmt"
)

// Lag is the shared consumer's backlog over every scan: the numbers KEDA's
// nats-jetstream scaler reads, and the queue gauges of --metrics-listen.
type Lag struct {
	// Pending is the number of units waiting for a delivery (the
	// consumer's num_pending).
	Pending uint64
	// AckPending is the number of units delivered and not yet
	// acknowledged (the consumer's num_ack_pending).
	AckPending uint64
}

// Lag returns the shared consumer's backlog. One consumer-info request;
// safe for concurrent use.
func (q *Queue) Lag(ctx context.Context) (Lag, error) {
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return Lag{}, fmt.Errorf("consumer %s info: %w", Consumer, err)
	}
	return Lag{Pending: ci.NumPending, AckPending: uint64(max(ci.NumAckPending, 0))}, nil
}
