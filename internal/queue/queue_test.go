package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// waitFor bounds loops that wait for the server to act (redelivery,
// advisories); it is a deadline against hangs, not a speed assertion.
const waitFor = 15 * time.Second

func startServer(t *testing.T) *Embedded {
	t.Helper()
	e, err := StartEmbedded(t.TempDir())
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

func connect(t *testing.T, e *Embedded, cfg Config) *Queue {
	t.Helper()
	cfg.URL = e.URL()
	if cfg.Name == "" {
		cfg.Name = "ptrsweep-test"
	}
	if cfg.FetchWait == 0 {
		cfg.FetchWait = 200 * time.Millisecond
	}
	q, err := Connect(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

func testUnits(scan string, n int) []sweep.Unit {
	us := make([]sweep.Unit, n)
	for i := range us {
		us[i] = sweep.Unit{
			Scan:   scan,
			Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
			Seq:    i,
			Total:  n,
		}
	}
	return us
}

func publish(t *testing.T, q *Queue, us []sweep.Unit) {
	t.Helper()
	pub, dup, err := q.PublishAll(context.Background(), slices.Values(us), nil)
	if err != nil || pub != len(us) || dup != 0 {
		t.Fatalf("PublishAll(%d units) = %d, %d, %v, want %d, 0, nil", len(us), pub, dup, err, len(us))
	}
}

// fetchOne fetches until one delivery arrives or waitFor passes.
func fetchOne(t *testing.T, q *Queue) *Delivery {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		ds, err := q.Fetch(context.Background(), 1)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(ds) == 1 {
			return ds[0]
		}
	}
	t.Fatalf("no delivery within %s", waitFor)
	return nil
}

func mustPending(t *testing.T, q *Queue, scan string, want Pending) {
	t.Helper()
	got, err := q.Pending(context.Background(), scan)
	if err != nil {
		t.Fatalf("Pending(%q): %v", scan, err)
	}
	if got != want {
		t.Errorf("Pending(%q) = %+v, want %+v", scan, got, want)
	}
}

func mustIdle(t *testing.T, q *Queue, want bool) {
	t.Helper()
	got, err := q.Idle(context.Background())
	if err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if got != want {
		t.Errorf("Idle() = %v, want %v", got, want)
	}
}

func TestPublishAllDeduplicates(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	us := testUnits("dedup", 3000)

	var lastPub, lastDup, calls int
	progress := func(p, d int) { lastPub, lastDup, calls = p, d, calls+1 }
	pub, dup, err := q.PublishAll(ctx, slices.Values(us), progress)
	if err != nil || pub != len(us) || dup != 0 {
		t.Fatalf("first PublishAll = %d, %d, %v, want %d, 0, nil", pub, dup, err, len(us))
	}
	if lastPub != len(us) || lastDup != 0 || calls < 2 {
		t.Errorf("progress last (%d, %d) after %d calls, want (%d, 0) after >= 2", lastPub, lastDup, calls, len(us))
	}
	pub, dup, err = q.PublishAll(ctx, slices.Values(us), nil)
	if err != nil || pub != 0 || dup != len(us) {
		t.Fatalf("second PublishAll = %d, %d, %v, want 0, %d, nil", pub, dup, err, len(us))
	}
	dupOne, err := q.Publish(ctx, us[7])
	if err != nil || !dupOne {
		t.Errorf("Publish(seen unit) = %v, %v, want true, nil", dupOne, err)
	}
	mustPending(t, q, "dedup", Pending{Queued: len(us)})

	// Dedup holds after the unit was consumed.
	ds, err := q.Fetch(ctx, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Fetch(1) = %d deliveries, %v, want 1", len(ds), err)
	}
	if err := ds[0].Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	dupOne, err = q.Publish(ctx, ds[0].Unit())
	if err != nil || !dupOne {
		t.Errorf("Publish(acked unit) = %v, %v, want true, nil", dupOne, err)
	}
	mustPending(t, q, "dedup", Pending{Queued: len(us) - 1})
}

func TestPublishRejectsInvalidUnits(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ok := testUnits("ok", 1)[0]
	tests := []struct {
		name string
		u    sweep.Unit
	}{
		{"dot in scan", sweep.Unit{Scan: "a.b", Prefix: ok.Prefix}},
		{"wildcard scan", sweep.Unit{Scan: "a*", Prefix: ok.Prefix}},
		{"empty scan", sweep.Unit{Prefix: ok.Prefix}},
		{"zero prefix", sweep.Unit{Scan: "ok"}},
		{"ipv6 prefix", sweep.Unit{Scan: "ok", Prefix: netip.MustParsePrefix("2001:db8::/64")}},
		{"unmasked prefix", sweep.Unit{Scan: "ok", Prefix: netip.MustParsePrefix("10.0.0.1/24")}},
	}
	for _, tt := range tests {
		if _, err := q.Publish(context.Background(), tt.u); !errors.Is(err, ErrInvalidUnit) {
			t.Errorf("%s: Publish(%+v) error = %v, want ErrInvalidUnit", tt.name, tt.u, err)
		}
		if _, _, err := q.PublishAll(context.Background(), slices.Values([]sweep.Unit{ok, tt.u}), nil); !errors.Is(err, ErrInvalidUnit) {
			t.Errorf("%s: PublishAll error = %v, want ErrInvalidUnit", tt.name, err)
		}
	}
}

func TestFetchAckRemoves(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	us := testUnits("ack", 3)
	publish(t, q, us)
	mustIdle(t, q, false)

	ds, err := q.Fetch(ctx, 10)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var got []sweep.Unit
	for _, d := range ds {
		if d.Attempt() != 1 || d.LastAttempt() {
			t.Errorf("unit %s: Attempt() = %d, LastAttempt() = %v, want 1, false", d.Unit().ID(), d.Attempt(), d.LastAttempt())
		}
		got = append(got, d.Unit())
	}
	if !slices.Equal(got, us) {
		t.Fatalf("Fetch units = %v, want %v", got, us)
	}
	mustPending(t, q, "ack", Pending{InFlight: 3})
	for _, d := range ds {
		if err := d.Ack(ctx); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	mustPending(t, q, "ack", Pending{})
	mustIdle(t, q, true)
	ds, err = q.Fetch(ctx, 10)
	if err != nil || len(ds) != 0 {
		t.Errorf("Fetch after acks = %d deliveries, %v, want 0, nil", len(ds), err)
	}
}

func TestFetchHonoursContext(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{FetchWait: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Fetch(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch(canceled ctx) error = %v, want context.Canceled", err)
	}
}

func TestRedeliveryAfterAckWait(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{AckWait: time.Second})
	publish(t, q, testUnits("redeliver", 1))
	first := fetchOne(t, q)
	if first.Attempt() != 1 {
		t.Fatalf("first Attempt() = %d, want 1", first.Attempt())
	}
	second := fetchOne(t, q) // not acked: comes back after AckWait
	if second.Unit() != first.Unit() || second.Attempt() != 2 {
		t.Errorf("redelivery = %s attempt %d, want %s attempt 2", second.Unit().ID(), second.Attempt(), first.Unit().ID())
	}
	if err := second.Ack(context.Background()); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	mustIdle(t, q, true)
}

func TestInProgressExtends(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{AckWait: time.Second, FetchWait: 300 * time.Millisecond})
	ctx := context.Background()
	publish(t, q, testUnits("progress", 1))
	d := fetchOne(t, q)
	// Six rounds of 300 ms span almost twice AckWait.
	for i := range 6 {
		if err := d.InProgress(ctx); err != nil {
			t.Fatalf("InProgress: %v", err)
		}
		ds, err := q.Fetch(ctx, 1)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(ds) != 0 {
			t.Fatalf("round %d: unit redelivered (attempt %d) while in progress", i, ds[0].Attempt())
		}
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatalf("Ack after InProgress: %v", err)
	}
	mustIdle(t, q, true)
}

func TestNakRedelivers(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	publish(t, q, testUnits("nak", 1))
	tests := []struct {
		delay       time.Duration
		wantAttempt uint32
	}{
		{0, 2},
		{200 * time.Millisecond, 3},
	}
	d := fetchOne(t, q)
	for _, tt := range tests {
		if err := d.Nak(ctx, tt.delay); err != nil {
			t.Fatalf("Nak(%s): %v", tt.delay, err)
		}
		d = fetchOne(t, q)
		if d.Attempt() != tt.wantAttempt {
			t.Errorf("after Nak(%s): Attempt() = %d, want %d", tt.delay, d.Attempt(), tt.wantAttempt)
		}
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
}

// watch runs WatchMaxDeliveries until the test ends; the units it moves
// arrive on the returned channel.
func watch(t *testing.T, q *Queue) <-chan sweep.Unit {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	moved := make(chan sweep.Unit, 16)
	go func() {
		failOnce := true
		done <- q.WatchMaxDeliveries(ctx, func(u sweep.Unit, attempts uint32, reason string) error {
			if reason != ReasonMaxDeliveries || attempts == 0 {
				t.Errorf("onDead(%s, %d, %q), want attempts > 0 and reason %q", u.ID(), attempts, reason, ReasonMaxDeliveries)
			}
			if failOnce { // the recorder fails once: the advisory must come again
				failOnce = false
				return errors.New("store unreachable")
			}
			moved <- u
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchMaxDeliveries: %v", err)
		}
	})
	return moved
}

func TestMaxDeliverDeadAndRetry(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{AckWait: time.Second, MaxDeliver: 2})
	ctx := context.Background()
	moved := watch(t, q)
	u := testUnits("maxdeliver", 1)[0]
	publish(t, q, []sweep.Unit{u})

	first := fetchOne(t, q)
	if first.LastAttempt() || first.Redelivery() {
		t.Fatalf("attempt %d: LastAttempt() = %v, Redelivery() = %v, want false, false", first.Attempt(), first.LastAttempt(), first.Redelivery())
	}
	second := fetchOne(t, q)
	if second.Attempt() != 2 || !second.LastAttempt() || !second.Redelivery() {
		t.Fatalf("second delivery: Attempt() = %d, LastAttempt() = %v, Redelivery() = %v, want 2, true, true", second.Attempt(), second.LastAttempt(), second.Redelivery())
	}
	if second.AttemptID() <= first.AttemptID() {
		t.Errorf("AttemptID: second %d <= first %d, want growing", second.AttemptID(), first.AttemptID())
	}
	// Not acked: after AckWait the server gives up and advises; the watcher
	// moves the unit. Fetch keeps a pull request open, as workers do.
	var dead []DeadUnit
	deadline := time.Now().Add(waitFor)
	for len(dead) == 0 && time.Now().Before(deadline) {
		ds, err := q.Fetch(ctx, 1)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if len(ds) != 0 {
			t.Fatalf("unit delivered again: attempt %d beyond MaxDeliver 2", ds[0].Attempt())
		}
		if dead, err = q.Dead(ctx, "maxdeliver"); err != nil {
			t.Fatalf("Dead: %v", err)
		}
	}
	if len(dead) != 1 {
		t.Fatalf("Dead() = %d units, want 1", len(dead))
	}
	if dead[0].Unit != u || dead[0].Reason != ReasonMaxDeliveries || dead[0].Body != nil {
		t.Errorf("Dead()[0] = %+v, want unit %s with reason %q", dead[0], u.ID(), ReasonMaxDeliveries)
	}
	mustPending(t, q, "maxdeliver", Pending{Dead: 1})
	select {
	case got := <-moved:
		if got != u {
			t.Errorf("onDead got unit %s, want %s", got.ID(), u.ID())
		}
	case <-time.After(waitFor):
		t.Errorf("onDead was not called for %s", u.ID())
	}

	retried, err := q.Retry(ctx, "maxdeliver")
	if err != nil || len(retried) != 1 || retried[0] != u {
		t.Fatalf("Retry = %v, %v, want [%s], nil", retried, err, u.ID())
	}
	mustPending(t, q, "maxdeliver", Pending{Queued: 1})
	d := fetchOne(t, q)
	if d.Unit() != u || d.Attempt() != 1 {
		t.Errorf("after Retry: fetched %s attempt %d, want %s attempt 1", d.Unit().ID(), d.Attempt(), u.ID())
	}
	// The re-published unit's first delivery may follow stored rows: it is
	// a redelivery, and its attempt ID is above every earlier one.
	if !d.Redelivery() || d.AttemptID() <= second.AttemptID() {
		t.Errorf("after Retry: Redelivery() = %v, AttemptID() = %d; want true and above %d", d.Redelivery(), d.AttemptID(), second.AttemptID())
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	mustPending(t, q, "maxdeliver", Pending{})
	mustIdle(t, q, true)
	// A second Retry has nothing to do.
	if again, err := q.Retry(ctx, "maxdeliver"); err != nil || len(again) != 0 {
		t.Errorf("second Retry = %v, %v, want none, nil", again, err)
	}
}

func TestAttemptID(t *testing.T) {
	t0 := time.UnixMilli(1_764_576_000_000) // 2025-12-01
	for _, c := range []struct {
		published time.Time
		delivered uint64
		want      uint64
	}{
		{t0, 1, 1_764_576_000_000<<16 | 1},
		{t0, 2, 1_764_576_000_000<<16 | 2},
		{t0.Add(time.Millisecond), 1, 1_764_576_000_001<<16 | 1},
		{t0, 70000, 1_764_576_000_000<<16 | 65535}, // the count saturates below the next millisecond
	} {
		if got := AttemptID(c.published, c.delivered); got != c.want {
			t.Errorf("AttemptID(%v, %d) = %d, want %d", c.published, c.delivered, got, c.want)
		}
	}
	if a, b := AttemptID(t0, 65535), AttemptID(t0.Add(time.Millisecond), 1); a >= b {
		t.Errorf("AttemptID of a later message %d is not above the earlier one's last delivery %d", b, a)
	}
}

func TestDeadLetterOnLastAttempt(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{MaxDeliver: 1})
	ctx := context.Background()
	us := testUnits("lastattempt", 2)
	publish(t, q, us)
	ds, err := q.Fetch(ctx, 2)
	if err != nil || len(ds) != 2 {
		t.Fatalf("Fetch(2) = %d, %v, want 2 deliveries", len(ds), err)
	}
	if !ds[0].LastAttempt() {
		t.Fatalf("LastAttempt() = false with MaxDeliver 1, want true")
	}
	const reason = "resolver refused\nevery query"
	if err := q.DeadLetter(ctx, ds[0], reason); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	// Dead-lettering twice (a retried call) stores one dead letter.
	if err := q.DeadLetter(ctx, ds[0], reason); err != nil {
		t.Fatalf("second DeadLetter: %v", err)
	}
	if err := ds[1].Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	dead, err := q.Dead(ctx, "lastattempt")
	if err != nil {
		t.Fatalf("Dead: %v", err)
	}
	if len(dead) != 1 || dead[0].Unit != us[0] || dead[0].Reason != "resolver refused every query" || dead[0].Attempts != 1 {
		t.Errorf("Dead() = %+v, want %s with reason %q after 1 attempt", dead, us[0].ID(), "resolver refused every query")
	}
	mustPending(t, q, "lastattempt", Pending{Dead: 1})
	mustIdle(t, q, true)
}

func TestBadBodyGoesDead(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	good := testUnits("bad", 1)[0]
	other := testUnits("other", 1)[0]
	otherBody := fmt.Sprintf(`{"scan":%q,"cidr":%q}`, other.Scan, other.Prefix)
	bodies := []string{"not json", otherBody, `{"scan":"bad","cidr":"10.0.0.1/8"}`}
	for i, b := range bodies {
		if _, err := q.js.Publish(ctx, workSubject(sweep.Unit{Scan: "bad"}), []byte(b)); err != nil {
			t.Fatalf("publish bad body %d: %v", i, err)
		}
	}
	publish(t, q, []sweep.Unit{good})

	ds, err := q.Fetch(ctx, 10)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(ds) != 1 || ds[0].Unit() != good {
		t.Fatalf("Fetch = %d deliveries, want only %s", len(ds), good.ID())
	}
	if err := ds[0].Ack(ctx); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	dead, err := q.Dead(ctx, "bad")
	if err != nil {
		t.Fatalf("Dead: %v", err)
	}
	if len(dead) != len(bodies) {
		t.Fatalf("Dead() = %d units, want %d", len(dead), len(bodies))
	}
	for i, du := range dead {
		if string(du.Body) != bodies[i] || du.Unit.Scan != "bad" || !strings.Contains(du.Reason, ErrBadMessage.Error()) {
			t.Errorf("Dead()[%d] = body %q scan %q reason %q, want body %q scan bad reason with %q",
				i, du.Body, du.Unit.Scan, du.Reason, bodies[i], ErrBadMessage)
		}
	}
	mustPending(t, q, "bad", Pending{Dead: len(bodies)})
	// Retry leaves messages that are not units alone.
	if n, err := q.Retry(ctx, "bad"); err != nil || len(n) != 0 {
		t.Errorf("Retry = %v, %v, want none, nil", n, err)
	}
	mustIdle(t, q, true)
}

func TestPendingPerScan(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx := context.Background()
	publish(t, q, testUnits("alpha", 5))
	publish(t, q, testUnits("beta", 3))
	ds, err := q.Fetch(ctx, 2) // the stream's first two: alpha's
	if err != nil || len(ds) != 2 {
		t.Fatalf("Fetch(2) = %d, %v, want 2", len(ds), err)
	}
	mustPending(t, q, "alpha", Pending{Queued: 3, InFlight: 2})
	// InFlight is consumer-wide, capped at the scan's stored units.
	mustPending(t, q, "beta", Pending{Queued: 1, InFlight: 2})
	mustPending(t, q, "gamma", Pending{})
	if _, err := q.Pending(ctx, "a.b"); !errors.Is(err, sweep.ErrScanName) {
		t.Errorf("Pending(%q) error = %v, want sweep.ErrScanName", "a.b", err)
	}
	for _, d := range ds {
		if err := d.Ack(ctx); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	mustPending(t, q, "alpha", Pending{Queued: 3})
	mustPending(t, q, "beta", Pending{Queued: 3})
	mustIdle(t, q, false)
}

func TestSharedConsumer(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	q1 := connect(t, e, Config{Name: "worker-1"})
	q2 := connect(t, e, Config{Name: "worker-2"})
	ctx := context.Background()
	us := testUnits("shared", 200)
	publish(t, q1, us)

	// An unacknowledged delivery is not handed to the other worker.
	held, err := q1.Fetch(ctx, 5)
	if err != nil || len(held) != 5 {
		t.Fatalf("q1.Fetch(5) = %d, %v, want 5", len(held), err)
	}
	heldIDs := map[string]bool{}
	for _, d := range held {
		heldIDs[d.Unit().ID()] = true
	}

	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, 2)
	)
	for _, q := range []*Queue{q2, q1} {
		wg.Go(func() {
			for empty := 0; empty < 3; {
				ds, err := q.Fetch(ctx, 10)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					empty++
					continue
				}
				for _, d := range ds {
					mu.Lock()
					seen[d.Unit().ID()]++
					mu.Unlock()
					if err := d.Ack(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("worker: %v", err)
	}
	for _, d := range held {
		if err := d.Ack(ctx); err != nil {
			t.Fatalf("Ack held: %v", err)
		}
	}
	for _, u := range us {
		id := u.ID()
		want := 1
		if heldIDs[id] {
			want = 0
		}
		if seen[id] != want {
			t.Errorf("unit %s delivered %d times to the workers, want %d", id, seen[id], want)
		}
	}
	mustIdle(t, q2, true)
}

func TestConnectUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	tests := []struct {
		name, url, secret string
	}{
		{"plain", "nats://" + addr, ""},
		{"password", "nats://ptr:s3cretpass@" + addr, "s3cretpass"},
		{"token", "nats://tok3nvalue@" + addr, "tok3nvalue"},
	}
	for _, tt := range tests {
		_, err := Connect(context.Background(), Config{URL: tt.url})
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("%s: Connect(%s) error = %v, want ErrUnreachable", tt.name, RedactURL(tt.url), err)
		}
		msg := err.Error()
		if !strings.Contains(msg, addr) || !strings.Contains(msg, "nats-server -js") {
			t.Errorf("%s: error %q does not name %s and what to start", tt.name, msg, addr)
		}
		if tt.secret != "" && strings.Contains(msg, tt.secret) {
			t.Errorf("%s: error %q leaks the credential", tt.name, msg)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@127.0.0.1:4222", "nats://redacted@127.0.0.1:4222"},
		{"nats://token@h:1,nats://a:b@h:2", "nats://redacted@h:1,nats://redacted@h:2"},
		{"nats://u:p%zz@h:1", "redacted@h:1"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConnectUpdatesConsumer(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	connect(t, e, Config{AckWait: time.Minute, MaxDeliver: 5})
	q := connect(t, e, Config{AckWait: 2 * time.Second, MaxDeliver: 3})
	ci, err := q.cons.Info(context.Background())
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	if ci.Config.AckWait != 2*time.Second || ci.Config.MaxDeliver != 3 {
		t.Errorf("consumer AckWait, MaxDeliver = %s, %d, want 2s, 3", ci.Config.AckWait, ci.Config.MaxDeliver)
	}
}

func TestConnectWithoutJetStream(t *testing.T) {
	t.Parallel()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	_, err = Connect(context.Background(), Config{URL: srv.ClientURL()})
	if !errors.Is(err, ErrJetStream) || !strings.Contains(err.Error(), "-js") {
		t.Errorf("Connect(no JetStream) error = %v, want ErrJetStream mentioning -js", err)
	}
}

func TestPublishAllStopsOnCanceledContext(t *testing.T) {
	t.Parallel()
	q := connect(t, startServer(t), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pub, dup, err := q.PublishAll(ctx, slices.Values(testUnits("canceled", 10)), nil)
	if !errors.Is(err, context.Canceled) || pub != 0 || dup != 0 {
		t.Errorf("PublishAll(canceled) = %d, %d, %v, want 0, 0, context.Canceled", pub, dup, err)
	}
}

// TestExistingLeavesConsumerAlone checks that a reader (status, retry)
// neither creates the queue nor resets the consumer's settings.
func TestExistingLeavesConsumerAlone(t *testing.T) {
	t.Parallel()
	e := startServer(t)
	ctx := context.Background()
	if _, err := Connect(ctx, Config{URL: e.URL(), Existing: true}); err == nil || !strings.Contains(err.Error(), "no scan was published") {
		t.Errorf("Connect(Existing) to an empty server = %v, want an error saying nothing was published", err)
	}
	connect(t, e, Config{AckWait: 5 * time.Second, MaxDeliver: 3})
	r := connect(t, e, Config{Existing: true})
	info, err := r.cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.AckWait != 5*time.Second || info.Config.MaxDeliver != 3 {
		t.Errorf("after a reader connected: AckWait %s, MaxDeliver %d; want 5s, 3", info.Config.AckWait, info.Config.MaxDeliver)
	}
}

// TestReplicas checks the streams' replica count on a single server: 0
// and 1 give one replica, and more is refused with the server's reason.
func TestReplicas(t *testing.T) {
	e := startServer(t)
	for _, n := range []int{0, 1} {
		q := connect(t, e, Config{Replicas: n})
		for _, s := range []jetstream.Stream{q.work, q.dead, q.adv} {
			info, err := s.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Config.Replicas; got != 1 {
				t.Errorf("Replicas %d: stream %s has %d replicas, want 1", n, info.Config.Name, got)
			}
		}
	}
	_, err := Connect(context.Background(), Config{URL: e.URL(), Name: "ptrsweep-test", Replicas: 3})
	if !errors.Is(err, ErrJetStream) || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("Connect with 3 replicas on one server = %v, want ErrJetStream naming replicas", err)
	}
}
