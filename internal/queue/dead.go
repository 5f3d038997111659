package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// ReasonMaxDeliveries is the dead-letter reason of units that were
// delivered MaxDeliver times without being acknowledged.
const ReasonMaxDeliveries = "max deliveries reached"

const (
	maxReasonBytes = 1024
	advisoryBatch  = 64
	watchBackoff   = time.Second
)

// DeadUnit is one unit in the dead-letter stream.
type DeadUnit struct {
	// Unit is the unit; for a message that did not decode only Unit.Scan is
	// set and Body holds the message.
	Unit sweep.Unit
	// Reason says why the unit was given up.
	Reason string
	// Time is when the unit was dead-lettered.
	Time time.Time
	// Attempts is how often the unit had been delivered, when known.
	Attempts uint64
	// Seq is the dead letter's sequence in the dead-letter stream.
	Seq uint64
	// Body is the raw message of a unit that did not decode, nil otherwise.
	Body []byte
}

// publishDead stores a dead letter; id makes repeated dead-lettering of the
// same work message (stream sequence) idempotent.
func (q *Queue) publishDead(ctx context.Context, scan string, data []byte, id, reason string, seq, attempts uint64) error {
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > maxReasonBytes {
		reason = reason[:maxReasonBytes]
	}
	hdr := nats.Header{}
	hdr.Set(HeaderReason, reason)
	hdr.Set(HeaderSourceSeq, strconv.FormatUint(seq, 10))
	if attempts > 0 {
		hdr.Set(HeaderAttempts, strconv.FormatUint(attempts, 10))
	}
	if _, err := q.publishSync(ctx, deadSubject(scan), data, hdr, id, DeadStream); err != nil {
		return fmt.Errorf("dead-letter %s: %w", id, err)
	}
	return nil
}

// DeadLetter gives up a delivered unit: it stores the unit in the
// dead-letter stream with reason, then terminates the delivery so it is
// removed from the work stream. Use it for units that cannot succeed, or on
// the last attempt (Delivery.LastAttempt) to record a better reason than
// ReasonMaxDeliveries.
func (q *Queue) DeadLetter(ctx context.Context, d *Delivery, reason string) error {
	id := d.unit.ID() + "#" + strconv.FormatUint(d.streamSeq, 10)
	if err := q.publishDead(ctx, d.unit.Scan, d.msg.Data(), id, reason, d.streamSeq, uint64(d.attempt)); err != nil {
		return err
	}
	return d.term(ctx)
}

// WatchMaxDeliveries moves units that reached MaxDeliver to the dead-letter
// stream, with reason ReasonMaxDeliveries, and deletes them from the work
// stream (where the server would otherwise keep them, undeliverable). It
// reads the server's max-delivery advisories from AdvisoryStream, which
// keeps them even while no watcher runs; several watchers share the work.
// WatchMaxDeliveries blocks, in the calling goroutine and starting none,
// until ctx is done (then it returns nil) or the connection is closed.
// Failures on single advisories are logged and retried. onDead, if not nil,
// is called for each unit before it is moved; when it fails, the advisory is
// retried later, so what onDead records is never lost.
func (q *Queue) WatchMaxDeliveries(ctx context.Context, onDead func(u sweep.Unit, attempts uint32, reason string) error) error {
	cons, err := q.adv.Consumer(ctx, DeadLetterer)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch max deliveries: consumer %s: %w", DeadLetterer, err)
	}
	for ctx.Err() == nil {
		if q.nc.IsClosed() {
			return fmt.Errorf("watch max deliveries: %w", nats.ErrConnectionClosed)
		}
		fctx, cancel := context.WithTimeout(ctx, q.cfg.FetchWait)
		batch, err := cons.Fetch(advisoryBatch, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			q.cfg.Logger.Warn("fetch max-delivery advisories", "err", err)
			_ = sweep.Sleep(ctx, watchBackoff)
			continue
		}
		for m := range batch.Messages() {
			if err := q.handleAdvisory(ctx, m.Data(), onDead); err != nil {
				if ctx.Err() != nil {
					break
				}
				q.cfg.Logger.Warn("move max-delivered unit to dead letters", "err", err)
				_ = m.NakWithDelay(watchBackoff)
				continue
			}
			if err := m.DoubleAck(ctx); err != nil && ctx.Err() == nil {
				q.cfg.Logger.Warn("ack max-delivery advisory", "err", err)
			}
		}
		cancel()
		if err := batch.Error(); err != nil && ctx.Err() == nil &&
			!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			q.cfg.Logger.Warn("fetch max-delivery advisories", "err", err)
			_ = sweep.Sleep(ctx, watchBackoff)
		}
	}
	return nil
}

// advisory is the part of the server's max-delivery advisory used here.
type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// handleAdvisory moves the unit named by one advisory to the dead stream.
// It returns nil when there is nothing (more) to do.
func (q *Queue) handleAdvisory(ctx context.Context, data []byte, onDead func(sweep.Unit, uint32, string) error) error {
	var a advisory
	if err := json.Unmarshal(data, &a); err != nil {
		q.cfg.Logger.Warn("drop undecodable max-delivery advisory", "err", err)
		return nil
	}
	if a.Stream != WorkStream || a.Consumer != Consumer || a.StreamSeq == 0 {
		return nil
	}
	raw, err := q.work.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil // acknowledged late, dead-lettered by a worker, or moved already
	}
	if err != nil {
		return fmt.Errorf("get unit message %d: %w", a.StreamSeq, err)
	}
	scan := subjectScan(raw.Subject)
	reason := ReasonMaxDeliveries
	var id string
	u, uerr := decodeUnit(raw.Data, scan)
	if uerr == nil {
		id = u.ID() + "#" + strconv.FormatUint(a.StreamSeq, 10)
	} else {
		err := uerr
		id = "bad#" + strconv.FormatUint(a.StreamSeq, 10)
		reason += "; " + err.Error()
	}
	if sweep.ValidateScanName(scan) != nil {
		scan = "_invalid"
	}
	if onDead != nil && uerr == nil {
		if err := onDead(u, uint32(a.Deliveries), reason); err != nil {
			return fmt.Errorf("record dead unit %s: %w", u.ID(), err)
		}
	}
	if err := q.publishDead(ctx, scan, raw.Data, id, reason, a.StreamSeq, a.Deliveries); err != nil {
		return err
	}
	if err := q.work.DeleteMsg(ctx, a.StreamSeq); err != nil {
		if _, gerr := q.work.GetMsg(ctx, a.StreamSeq); !errors.Is(gerr, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("delete unit message %d: %w", a.StreamSeq, err)
		}
	}
	return nil
}

// Dead returns the dead-letter stream's units of scan, oldest first.
func (q *Queue) Dead(ctx context.Context, scan string) ([]DeadUnit, error) {
	if err := sweep.ValidateScanName(scan); err != nil {
		return nil, err
	}
	subject := deadSubject(scan)
	var out []DeadUnit
	for seq := uint64(1); ; {
		raw, err := q.dead.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read dead units of scan %s: %w", scan, err)
		}
		du := DeadUnit{Seq: raw.Sequence, Time: raw.Time}
		if raw.Header != nil {
			du.Reason = raw.Header.Get(HeaderReason)
			du.Attempts, _ = strconv.ParseUint(raw.Header.Get(HeaderAttempts), 10, 64)
		}
		u, err := decodeUnit(raw.Data, scan)
		if err != nil {
			u = sweep.Unit{Scan: scan}
			du.Body = raw.Data
		}
		du.Unit = u
		out = append(out, du)
		seq = raw.Sequence + 1
	}
}

// Retry puts every dead unit of scan back on the work stream and removes
// it from the dead-letter stream; it returns how many units it moved.
// Units are republished with the message ID "<unit ID>#retry-<dead seq>"
// and the header HeaderRepublished (so workers supersede earlier rows),
// since their own ID may still be in the dedup window; a Retry interrupted
// between republishing and removal does not duplicate on the next Retry.
// Dead messages that are not units (Body set) stay where they are.
func (q *Queue) Retry(ctx context.Context, scan string) ([]sweep.Unit, error) {
	dead, err := q.Dead(ctx, scan)
	if err != nil {
		return nil, err
	}
	var done []sweep.Unit
	for _, du := range dead {
		if du.Body != nil {
			continue
		}
		data, err := encodeUnit(du.Unit)
		if err != nil {
			return done, err
		}
		id := du.Unit.ID() + "#retry-" + strconv.FormatUint(du.Seq, 10)
		hdr := nats.Header{}
		hdr.Set(HeaderRepublished, strconv.FormatUint(du.Seq, 10))
		if _, err := q.publishSync(ctx, workSubject(du.Unit), data, hdr, id, WorkStream); err != nil {
			return done, fmt.Errorf("retry unit %s: %w", du.Unit.ID(), err)
		}
		if err := q.dead.DeleteMsg(ctx, du.Seq); err != nil {
			return done, fmt.Errorf("retry unit %s: remove dead letter %d: %w", du.Unit.ID(), du.Seq, err)
		}
		done = append(done, du.Unit)
	}
	return done, nil
}
