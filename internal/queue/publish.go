package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

const (
	// publishWindow bounds PublishAll's outstanding asynchronous publishes.
	publishWindow = 4096
	// progressEvery is how many acknowledged publishes PublishAll waits
	// between progress calls.
	progressEvery = 1024
	// publishAttempts bounds the tries of one message on transient errors.
	publishAttempts = 8
	backoffMin      = 100 * time.Millisecond
	backoffMax      = 5 * time.Second
)

// encodeUnit validates u and returns its message body.
func encodeUnit(u sweep.Unit) ([]byte, error) {
	if err := sweep.ValidateScanName(u.Scan); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrInvalidUnit, u.ID(), err)
	}
	if err := checkPrefix(u); err != nil {
		return nil, err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("%w %s: encode: %w", ErrInvalidUnit, u.ID(), err)
	}
	return data, nil
}

func checkPrefix(u sweep.Unit) error {
	p := u.Prefix
	if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
		return fmt.Errorf("%w %s: prefix %s is not a masked IPv4 prefix", ErrInvalidUnit, u.ID(), p)
	}
	return nil
}

// decodeUnit decodes and validates a message body of subject scan.
func decodeUnit(data []byte, scan string) (sweep.Unit, error) {
	var u sweep.Unit
	if err := json.Unmarshal(data, &u); err != nil {
		return u, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if u.Scan != scan {
		return u, fmt.Errorf("%w: body scan %q on subject of scan %q", ErrBadMessage, u.Scan, scan)
	}
	if err := checkPrefix(u); err != nil {
		return u, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return u, nil
}

// Publish publishes one unit with its ID as message ID and reports whether
// the server already had it (a duplicate within the dedup window). Transient
// failures are retried with backoff until ctx is done.
func (q *Queue) Publish(ctx context.Context, u sweep.Unit) (duplicate bool, err error) {
	data, err := encodeUnit(u)
	if err != nil {
		return false, err
	}
	ack, err := q.publishSync(ctx, workSubject(u), data, nil, u.ID(), WorkStream)
	if err != nil {
		return false, fmt.Errorf("publish unit %s: %w", u.ID(), err)
	}
	return ack.Duplicate, nil
}

// publishSync publishes one message, retrying transient failures.
func (q *Queue) publishSync(ctx context.Context, subject string, data []byte, hdr nats.Header, msgID, stream string) (*jetstream.PubAck, error) {
	wait := backoffMin
	for attempt := 1; ; attempt++ {
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		for k, v := range hdr {
			m.Header[k] = v
		}
		ack, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(stream))
		if err == nil {
			return ack, nil
		}
		if !transient(err) || attempt >= publishAttempts || ctx.Err() != nil {
			return nil, err
		}
		if err := sweep.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, backoffMax)
	}
}

// PublishAll publishes every unit of units, keeping up to 4096 publishes
// outstanding, and waits until the server acknowledged all of them. Units
// already in the dedup window count as duplicates. Transient failures are
// retried with backoff; the first permanent error (or ctx's) stops
// publishing and is returned with the counts so far. progress, if not nil,
// is called from the calling goroutine every 1024 acknowledgements and once
// at the end.
func (q *Queue) PublishAll(ctx context.Context, units iter.Seq[sweep.Unit], progress func(published, duplicates int)) (published, duplicates int, err error) {
	type outstanding struct {
		id, subject string
		data        []byte
		paf         jetstream.PubAckFuture
	}
	var (
		window   []outstanding
		resolved int
	)
	account := func(dup bool) {
		if dup {
			duplicates++
		} else {
			published++
		}
		resolved++
		if progress != nil && resolved%progressEvery == 0 {
			progress(published, duplicates)
		}
	}
	// settle waits for the oldest outstanding publish; a transient failure
	// is retried synchronously (the message ID makes that safe).
	settle := func() error {
		o := window[0]
		window[0] = outstanding{}
		window = window[1:]
		var perr error
		select {
		case ack := <-o.paf.Ok():
			account(ack.Duplicate)
			return nil
		case perr = <-o.paf.Err():
		case <-ctx.Done():
			return ctx.Err()
		}
		if !transient(perr) {
			return fmt.Errorf("publish unit %s: %w", o.id, perr)
		}
		ack, err := q.publishSync(ctx, o.subject, o.data, nil, o.id, WorkStream)
		if err != nil {
			return fmt.Errorf("publish unit %s: %w", o.id, err)
		}
		account(ack.Duplicate)
		return nil
	}
	defer func() {
		if progress != nil {
			progress(published, duplicates)
		}
	}()
	for u := range units {
		if err := ctx.Err(); err != nil {
			return published, duplicates, err
		}
		data, err := encodeUnit(u)
		if err != nil {
			return published, duplicates, err
		}
		for len(window) >= publishWindow {
			if err := settle(); err != nil {
				return published, duplicates, err
			}
		}
		subject, id := workSubject(u), u.ID()
		paf, err := q.js.PublishMsgAsync(&nats.Msg{Subject: subject, Data: data},
			jetstream.WithMsgID(id), jetstream.WithExpectStream(WorkStream))
		if err != nil {
			if !transient(err) {
				return published, duplicates, fmt.Errorf("publish unit %s: %w", id, err)
			}
			ack, err := q.publishSync(ctx, subject, data, nil, id, WorkStream)
			if err != nil {
				return published, duplicates, fmt.Errorf("publish unit %s: %w", id, err)
			}
			account(ack.Duplicate)
			continue
		}
		window = append(window, outstanding{id: id, subject: subject, data: data, paf: paf})
	}
	for len(window) > 0 {
		if err := settle(); err != nil {
			return published, duplicates, err
		}
	}
	return published, duplicates, nil
}

// transient reports whether a publish or request error may pass on retry.
func transient(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, nats.ErrConnectionClosed):
		return false
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 500
	}
	return false
}
