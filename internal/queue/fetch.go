package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Delivery is one delivered unit. Exactly one of Ack, Nak or
// Queue.DeadLetter should end it; InProgress keeps it while it is worked
// on. A Delivery may be used from several goroutines; after Ack, Nak or
// DeadLetter, a further Ack, Nak or InProgress returns an error.
type Delivery struct {
	msg        jetstream.Msg
	unit       sweep.Unit
	attempt    uint32
	streamSeq  uint64
	published  time.Time // the message's publish time on the server
	republish  bool
	maxDeliver int
	nc         *nats.Conn
}

// Unit returns the delivered unit.
func (d *Delivery) Unit() sweep.Unit { return d.unit }

// Attempt returns how often the unit has been delivered, this delivery
// included (1 for the first).
func (d *Delivery) Attempt() uint32 { return d.attempt }

// LastAttempt reports whether this is the last delivery: if it is neither
// acknowledged nor dead-lettered, the unit goes to the dead-letter stream.
func (d *Delivery) LastAttempt() bool { return int(d.attempt) >= d.maxDeliver }

// attemptBits is how many low bits of an attempt ID hold the delivery count.
const attemptBits = 16

// AttemptID returns a number that identifies this attempt of the unit and
// grows with every attempt: the message's publish time on the server in
// milliseconds << 16 | the delivery count (capped at 65535). A redelivery
// has a higher count; a unit queued again (Retry, or a feeder publishing it
// into a stream that was lost or re-created) is a new message with a later
// publish time. Rows stored by a later attempt supersede those of an earlier
// one by this number. It relies on the NATS servers' clocks moving forward
// between two publishes of one unit (they are minutes apart at least).
func (d *Delivery) AttemptID() uint64 {
	return AttemptID(d.published, uint64(d.attempt))
}

// AttemptID combines a message's publish time and its delivery count into an
// attempt ID (see Delivery.AttemptID).
func AttemptID(published time.Time, delivered uint64) uint64 {
	return uint64(max(published.UnixMilli(), 0))<<attemptBits | min(delivered, 1<<attemptBits-1)
}

// Redelivery reports whether an earlier attempt of the unit may have stored
// rows: this is not the message's first delivery, or the message queues the
// unit again (HeaderRepublished).
func (d *Delivery) Redelivery() bool { return d.attempt > 1 || d.republish }

// StreamSeq returns the unit's sequence in the work stream.
func (d *Delivery) StreamSeq() uint64 { return d.streamSeq }

// Ack acknowledges the unit and waits until the server confirmed it, so
// the unit will not be delivered again. Call it only once the unit's
// results are stored.
func (d *Delivery) Ack(ctx context.Context) error {
	if err := d.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("ack unit %s: %w", d.unit.ID(), err)
	}
	return nil
}

// Nak asks for redelivery of the unit after delay (at once when delay <= 0)
// and waits until the server has received the request. It counts as an
// attempt.
func (d *Delivery) Nak(ctx context.Context, delay time.Duration) error {
	var err error
	if delay > 0 {
		err = d.msg.NakWithDelay(delay)
	} else {
		err = d.msg.Nak()
	}
	if err == nil {
		err = flush(ctx, d.nc)
	}
	if err != nil {
		return fmt.Errorf("nak unit %s: %w", d.unit.ID(), err)
	}
	return nil
}

// InProgress resets the unit's AckWait clock and waits until the server has
// received the request. Call it more often than AckWait for long units.
func (d *Delivery) InProgress(ctx context.Context) error {
	err := d.msg.InProgress()
	if err == nil {
		err = flush(ctx, d.nc)
	}
	if err != nil {
		return fmt.Errorf("in-progress unit %s: %w", d.unit.ID(), err)
	}
	return nil
}

// term removes the message from the work stream for good.
func (d *Delivery) term(ctx context.Context) error {
	err := d.msg.Term()
	if errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		return nil // terminated before: DeadLetter is being retried
	}
	if err == nil {
		err = flush(ctx, d.nc)
	}
	if err != nil {
		return fmt.Errorf("term unit message %d: %w", d.streamSeq, err)
	}
	return nil
}

// Fetch pulls up to max units from the shared consumer, waiting up to
// Config.FetchWait when none are queued; it returns an empty slice when
// idle. A message whose body does not decode into a unit is moved to the
// dead-letter stream with the reason and not returned. If ctx ends during
// the fetch, units already received are released (Nak) and ctx's error is
// returned.
func (q *Queue) Fetch(ctx context.Context, max int) ([]*Delivery, error) {
	if max <= 0 {
		return nil, fmt.Errorf("fetch %d units: max must be positive", max)
	}
	fctx, cancel := context.WithTimeout(ctx, q.cfg.FetchWait)
	defer cancel()
	batch, err := q.cons.Fetch(max, jetstream.FetchContext(fctx))
	if err != nil {
		return nil, fmt.Errorf("fetch units: %w", err)
	}
	out := make([]*Delivery, 0, max)
	for m := range batch.Messages() {
		d, err := q.delivery(m)
		if err != nil {
			if derr := q.deadLetterBad(ctx, m, err); derr != nil {
				// Not dead-lettered: leave it to redelivery, never drop it.
				q.cfg.Logger.Warn("dead-letter undecodable unit", "subject", m.Subject(), "err", derr)
				_ = m.Nak()
			}
			continue
		}
		out = append(out, d)
	}
	if ctx.Err() != nil {
		for _, d := range out {
			_ = d.msg.Nak()
		}
		return nil, ctx.Err()
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		// Delivered units stay valid; the error surfaces on the next call.
		if len(out) > 0 {
			return out, nil
		}
		return nil, fmt.Errorf("fetch units: %w", err)
	}
	return out, nil
}

// delivery decodes a message into a Delivery.
func (q *Queue) delivery(m jetstream.Msg) (*Delivery, error) {
	meta, err := m.Metadata()
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrBadMessage, err)
	}
	scan := subjectScan(m.Subject())
	u, err := decodeUnit(m.Data(), scan)
	if err != nil {
		return nil, err
	}
	return &Delivery{
		msg:        m,
		unit:       u,
		attempt:    uint32(min(meta.NumDelivered, 1<<32-1)),
		streamSeq:  meta.Sequence.Stream,
		published:  meta.Timestamp,
		republish:  m.Headers().Get(HeaderRepublished) != "",
		maxDeliver: q.cfg.MaxDeliver,
		nc:         q.nc,
	}, nil
}

// deadLetterBad moves an undecodable work message to the dead stream.
func (q *Queue) deadLetterBad(ctx context.Context, m jetstream.Msg, cause error) error {
	meta, err := m.Metadata()
	if err != nil {
		// Not a JetStream message: nothing to terminate.
		return err
	}
	seq := meta.Sequence.Stream
	scan := subjectScan(m.Subject())
	if sweep.ValidateScanName(scan) != nil {
		scan = "_invalid"
	}
	id := "bad#" + strconv.FormatUint(seq, 10)
	if err := q.publishDead(ctx, scan, m.Data(), id, cause.Error(), seq, meta.NumDelivered); err != nil {
		return err
	}
	err = m.Term()
	if err == nil {
		err = flush(ctx, q.nc)
	}
	if err != nil {
		return fmt.Errorf("term bad message %d: %w", seq, err)
	}
	return nil
}

// flush waits until the server has received everything sent so far. nats'
// FlushWithContext needs a deadline; ctx without one gets requestTimeout.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
