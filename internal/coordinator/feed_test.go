package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/plan"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

func noCursor(string) (store.Cursor, bool, error) { return store.Cursor{}, false, nil }

// world simulates a work stream, a unit log and the feed table for the
// feeder; each unit is identified by its plan position.
type world struct {
	t       *testing.T
	scan    *sweep.ScanRecord
	cursors []store.Cursor
	stream  map[int]bool // queued units
	log     map[int]bool // finished units
	sent    map[int]int  // how often each unit was published (not deduplicated)
	// maxQueued is the most units the stream held after a publish.
	maxQueued int
	// drain, if set, is called when the feeder reads the queue count: it
	// plays the workers.
	drain func(w *world)
	// publishFails, if set, is asked before each unit is published; a
	// non-nil error stops PublishAll there.
	publishFails func(seq int) error
	// saveFails, if set, is asked before a cursor is saved.
	saveFails func(c store.Cursor) error
}

func newWorld(t *testing.T) *world {
	return &world{t: t, stream: map[int]bool{}, log: map[int]bool{}, sent: map[int]int{}}
}

// finish moves up to n queued units, lowest first, to the unit log.
func (w *world) finish(n int) {
	for seq := 0; n > 0 && len(w.stream) > 0; seq++ {
		if w.stream[seq] {
			delete(w.stream, seq)
			w.log[seq] = true
			n--
		}
	}
}

func (w *world) cursor() store.Cursor {
	var best store.Cursor
	for _, c := range w.cursors {
		if c.Published >= best.Published {
			best = c
		}
	}
	return best
}

func (w *world) store() *fakeStore {
	return &fakeStore{
		scan: func(name string) (sweep.ScanRecord, error) {
			if w.scan == nil {
				return sweep.ScanRecord{}, fmt.Errorf("scan %s: %w", name, store.ErrScanNotFound)
			}
			return *w.scan, nil
		},
		saveScan: func(rec sweep.ScanRecord) error { w.scan = &rec; return nil },
		cursor: func(string) (store.Cursor, bool, error) {
			return w.cursor(), len(w.cursors) > 0, nil
		},
		saveCursor: func(c store.Cursor) error {
			if w.saveFails != nil {
				if err := w.saveFails(c); err != nil {
					return err
				}
			}
			// Every unit below the cursor must have been acknowledged.
			for seq := range c.Published {
				if w.sent[seq] == 0 && !w.log[seq] {
					w.t.Errorf("cursor %d saved before unit %d was published", c.Published, seq)
				}
			}
			w.cursors = append(w.cursors, c)
			return nil
		},
		logged: func(_ string, from, to int) (map[int]bool, error) {
			out := map[int]bool{}
			for seq := range w.log {
				if seq >= from && seq < to {
					out[seq] = true
				}
			}
			return out, nil
		},
		progress: func(string) (store.Progress, error) { return store.Progress{UnitsDone: len(w.log)}, nil },
	}
}

func (w *world) queue() *fakeQueue {
	return &fakeQueue{
		publishAll: func(units iter.Seq[sweep.Unit]) (int, int, error) {
			pub := 0
			for u := range units {
				if w.publishFails != nil {
					if err := w.publishFails(u.Seq); err != nil {
						return pub, 0, err
					}
				}
				w.sent[u.Seq]++
				w.stream[u.Seq] = true
				pub++
			}
			w.maxQueued = max(w.maxQueued, len(w.stream))
			return pub, 0, nil
		},
		queued: func(string) (int, error) {
			if w.drain != nil {
				w.drain(w)
			}
			return len(w.stream), nil
		},
		present: func(_ string, from, to int) (map[int]bool, error) {
			out := map[int]bool{}
			for seq := range w.stream {
				if seq >= from && seq < to {
					out[seq] = true
				}
			}
			return out, nil
		},
	}
}

// sentOnce checks that every unit of a plan of n was published exactly once.
func (w *world) sentOnce(n int) {
	w.t.Helper()
	for seq := range n {
		if w.sent[seq] != 1 {
			w.t.Errorf("unit %d published %d times, want once", seq, w.sent[seq])
		}
	}
	if len(w.sent) != n {
		w.t.Errorf("%d distinct units published, want %d", len(w.sent), n)
	}
}

var fastFeed = FeedConfig{Poll: time.Microsecond, RetryWait: time.Microsecond}

func feedOnce(t *testing.T, w *world, p *plan.Plan, cfg FeedConfig) (FeedResult, error) {
	t.Helper()
	f, err := newFeeder(context.Background(), w.store(), w.queue(), p, cfg)
	if err != nil {
		return FeedResult{}, err
	}
	return f.run(context.Background())
}

func TestFeedBoundsPending(t *testing.T) {
	p := testPlan(t, "fb", "198.18.0.0/18") // 64 units
	tests := []struct {
		name              string
		maxPending, batch int
		wantMax           int
	}{
		{"bound 10, batch 4", 10, 4, 10},
		{"bound 10, batch 16", 10, 16, 10},
		{"bound 1", 1, 4, 1},
		{"no bound", 0, 8, 64},
		{"bound above the plan", 100, 8, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			refills := 0
			w.drain = func(w *world) {
				// Workers finish 3 units between two reads of the queue.
				if len(w.stream) > 0 {
					w.finish(3)
					refills++
				}
			}
			cfg := fastFeed
			cfg.MaxPending, cfg.Batch = tt.maxPending, tt.batch
			res, err := feedOnce(t, w, p, cfg)
			if err != nil {
				t.Fatal(err)
			}
			w.sentOnce(64)
			if w.maxQueued != tt.wantMax {
				t.Errorf("at most %d units queued, want %d", w.maxQueued, tt.wantMax)
			}
			if res.Published != 64 || res.ResumedAt != -1 {
				t.Errorf("result %+v, want 64 published, new scan", res)
			}
			if c := w.cursor(); !c.Done() || c.Published != 64 || c.Planned != 64 {
				t.Errorf("final cursor %+v, want 64 of 64", c)
			}
		})
	}
}

func TestFeedWaitsForHalf(t *testing.T) {
	p := testPlan(t, "fh", "198.18.0.0/20") // 16 units
	w := newWorld(t)
	var queuedAtRefill []int
	prevSent := 0
	w.drain = func(w *world) {
		if len(w.sent) > prevSent { // the feeder published since the last read
			queuedAtRefill = append(queuedAtRefill, len(w.stream)-(len(w.sent)-prevSent))
			prevSent = len(w.sent)
		}
		w.finish(1)
	}
	cfg := fastFeed
	cfg.MaxPending, cfg.Batch = 8, 8
	var progress bytes.Buffer
	cfg.Progress = &progress
	if _, err := feedOnce(t, w, p, cfg); err != nil {
		t.Fatal(err)
	}
	w.sentOnce(16)
	// The first fill starts empty; later ones start at half the bound.
	for i, q := range queuedAtRefill {
		if i > 0 && q > 4 {
			t.Errorf("refill %d started with %d queued, want at most 4 (half of 8)", i, q)
		}
	}
	if !strings.Contains(progress.String(), "scan fh: 8 of 16 units published") {
		t.Errorf("progress = %q, want a line at 8 of 16", progress.String())
	}
}

func TestFeedCursorOnlyAfterAcks(t *testing.T) {
	p := testPlan(t, "fa", "198.18.0.0/20") // 16 units
	w := newWorld(t)
	w.publishFails = func(seq int) error {
		if seq == 6 {
			return errBoom
		}
		return nil
	}
	cfg := fastFeed
	cfg.Batch = 4
	_, err := feedOnce(t, w, p, cfg)
	if !errors.Is(err, errBoom) {
		t.Fatalf("feed = %v, want the publish error", err)
	}
	if c := w.cursor(); c.Published != 4 || c.InFlight != 4 {
		t.Errorf("cursor after a failed batch = %+v, want 4 published, 4 in flight", c)
	}
}

func TestFeedResumesAfterCrash(t *testing.T) {
	p := testPlan(t, "fr", "198.18.0.0/19") // 32 units
	w := newWorld(t)
	// The first feeder publishes [0,8), saves 8, publishes [8,16), and dies
	// before saving 16: the save fails every time.
	w.saveFails = func(c store.Cursor) error {
		if c.Published >= 16 {
			return errBoom
		}
		return nil
	}
	cfg := fastFeed
	cfg.Batch = 8
	if _, err := feedOnce(t, w, p, cfg); !errors.Is(err, errBoom) {
		t.Fatalf("first feeder = %v, want the save error", err)
	}
	if c := w.cursor(); c.Published != 8 {
		t.Fatalf("cursor = %+v, want 8", c)
	}
	// Meanwhile workers finished 10 units (0..9): some of the unsaved
	// batch are done, the rest still queued.
	w.finish(10)
	w.saveFails = nil
	// A second crash: the resumed feeder dies half-way through a batch,
	// after unit 19 (a partial publish, no cursor).
	w.publishFails = func(seq int) error {
		if seq == 20 {
			return errBoom
		}
		return nil
	}
	res, err := feedOnce(t, w, p, cfg)
	if !errors.Is(err, errBoom) {
		t.Fatalf("second feeder = %v, want the publish error", err)
	}
	if res.ResumedAt != 8 || res.Published != 4 || res.Skipped != 8 {
		t.Errorf("second feeder %+v, want resumed at 8, 8 found, 4 published (16..19)", res)
	}
	w.publishFails = nil
	w.finish(3)
	res, err = feedOnce(t, w, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedAt != 16 || res.Skipped != 4 || res.Published != 12 {
		t.Errorf("third feeder %+v, want resumed at 16, 4 found, 12 published", res)
	}
	w.sentOnce(32)
	// A fourth run has nothing to do.
	f, err := newFeeder(context.Background(), w.store(), w.queue(), p, cfg)
	if err != nil || !f.res.AlreadyPublished {
		t.Fatalf("fourth feeder = %+v, %v, want already published", f, err)
	}
	w.sentOnce(32)
}

func TestFeedRecheck(t *testing.T) {
	p := testPlan(t, "fk", "198.18.0.0/20") // 16 units
	w := newWorld(t)
	cfg := fastFeed
	cfg.Batch = 4
	if _, err := feedOnce(t, w, p, cfg); err != nil {
		t.Fatal(err)
	}
	// Workers finished 5; then the queue lost everything else.
	w.finish(5)
	w.stream = map[int]bool{}
	cfg.Recheck = true
	res, err := feedOnce(t, w, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 5 || res.Published != 11 {
		t.Errorf("recheck %+v, want 5 found in the log, 11 published again", res)
	}
	for seq := range 16 {
		want := 2
		if seq < 5 {
			want = 1
		}
		if w.sent[seq] != want {
			t.Errorf("unit %d published %d times, want %d", seq, w.sent[seq], want)
		}
	}
}

func TestFeedRefusesOtherPlans(t *testing.T) {
	p := testPlan(t, "fm", "198.18.0.0/22")
	rec := p.Record()
	tests := []struct {
		name   string
		change func(*sweep.ScanRecord)
		cursor *store.Cursor
		want   string
	}{
		{"cidr", func(r *sweep.ScanRecord) { r.CIDRs = []string{"198.18.0.0/23"} }, nil, "--cidr 198.18.0.0/23 (now 198.18.0.0/22)"},
		{"confirm and prune", func(r *sweep.ScanRecord) { r.Options.Confirm, r.Options.NoPrune = true, true }, nil,
			"--confirm true (now false), --prune false (now true)"},
		{"exclusions", func(r *sweep.ScanRecord) { r.Excludes = []string{"198.18.1.0/24"} }, nil, "--exclude/--exclude-file 198.18.1.0/24 (now none)"},
		{"unit prefix", func(r *sweep.ScanRecord) { r.UnitPrefix = 25 }, nil, "--unit-prefix 25 (now 24)"},
		{"cursor of another plan", func(*sweep.ScanRecord) {}, &store.Cursor{Scan: "fm", Planned: 9}, "cursor counts 9 planned units, this plan has 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			old := rec
			tt.change(&old)
			w.scan = &old
			if tt.cursor != nil {
				w.cursors = []store.Cursor{*tt.cursor}
			}
			_, err := newFeeder(context.Background(), w.store(), w.queue(), p, fastFeed)
			if !errors.Is(err, ErrPlanMismatch) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newFeeder = %v, want ErrPlanMismatch naming %q", err, tt.want)
			}
			if len(w.sent) != 0 || len(w.cursors) > 1 || fmt.Sprint(*w.scan) != fmt.Sprint(old) {
				t.Errorf("a refused feeder changed something: sent %v, cursors %v", w.sent, w.cursors)
			}
		})
	}
}

func TestPublishPrints(t *testing.T) {
	p := testPlan(t, "pp", "198.18.0.0/22") // 4 units
	w := newWorld(t)
	var out bytes.Buffer
	if err := publish(context.Background(), w.store(), w.queue(), p, fastFeed, &out); err != nil {
		t.Fatal(err)
	}
	if w.scan == nil || w.scan.Name != "pp" || w.scan.Units != 4 {
		t.Errorf("saved scan %+v, want pp with 4 units", w.scan)
	}
	tests := []struct {
		name   string
		before func()
		want   string
	}{
		{"published", func() {}, "scan pp: 4 units published, 0 already queued or done, 1024 addresses\n"},
		{"again, not finished", func() { w.finish(1) },
			"scan pp: all 4 units were published before, 3 not finished yet; nothing to publish (coordinator status --scan pp)\n"},
		{"again, complete", func() { w.finish(3) },
			"scan pp is complete: all 4 units published and finished (4 done, 0 failed); nothing to publish\n"},
	}
	for i, tt := range tests {
		tt.before()
		if i > 0 {
			out.Reset()
			if err := publish(context.Background(), w.store(), w.queue(), p, fastFeed, &out); err != nil {
				t.Fatal(err)
			}
		}
		if out.String() != tt.want {
			t.Errorf("%s: publish printed %q, want %q", tt.name, out.String(), tt.want)
		}
	}
	w.sentOnce(4)
}

func TestPublishErrors(t *testing.T) {
	p := testPlan(t, "pub", "198.18.0.0/24")
	w := newWorld(t)
	st := w.store()
	st.saveScan = func(sweep.ScanRecord) error { return errBoom }
	var out bytes.Buffer
	if err := publish(context.Background(), st, w.queue(), p, fastFeed, &out); !errors.Is(err, errBoom) || err.Error() != "save scan pub: boom" {
		t.Errorf("publish = %v, want save scan pub: boom", err)
	}
	w.publishFails = func(int) error { return errBoom }
	err := publish(context.Background(), w.store(), w.queue(), p, fastFeed, &out)
	if want := "publish scan pub after 0 units: publish scan pub, units 0 to 0: boom"; !errors.Is(err, errBoom) || err.Error() != want {
		t.Errorf("publish = %v, want %q", err, want)
	}
	if out.Len() != 0 {
		t.Errorf("publish printed %q after failures", out.String())
	}
}
