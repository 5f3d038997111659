package coordinator

import (
	"context"
	"iter"
	"net/netip"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"

	"github.com/ptrsweep/ptrsweep/internal/queue"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// fakeStore is a store whose methods are func fields; a nil field panics,
// so a test sets exactly what the code under test may call.
type fakeStore struct {
	saveScan    func(sweep.ScanRecord) error
	scan        func(string) (sweep.ScanRecord, error)
	progress    func(string) (store.Progress, error)
	insertUnits func([]sweep.UnitRecord) error
	search      func(store.Query, func(sweep.Row) error) error
	export      func(string, func(sweep.Row) error) error
	cursor      func(string) (store.Cursor, bool, error)
	saveCursor  func(store.Cursor) error
	logged      func(scan string, from, to int) (map[int]bool, error)
	loadASN     func() (*enrich.Table, error)
}

func (f *fakeStore) LoadASNTable(context.Context, time.Time) (*enrich.Table, store.ASNVersion, error) {
	t, err := f.loadASN()
	return t, store.ASNVersion{}, err
}
func (f *fakeStore) LoadASNRangesFor(context.Context, []netip.Addr) (*enrich.Table, store.ASNVersion, error) {
	t, err := f.loadASN()
	return t, store.ASNVersion{}, err
}

func (f *fakeStore) SaveScan(_ context.Context, rec sweep.ScanRecord) error { return f.saveScan(rec) }
func (f *fakeStore) Scan(_ context.Context, name string) (sweep.ScanRecord, error) {
	return f.scan(name)
}
func (f *fakeStore) Progress(_ context.Context, scan string) (store.Progress, error) {
	return f.progress(scan)
}
func (f *fakeStore) InsertUnits(_ context.Context, recs []sweep.UnitRecord) error {
	return f.insertUnits(recs)
}
func (f *fakeStore) Search(_ context.Context, q store.Query, emit func(sweep.Row) error) error {
	return f.search(q, emit)
}
func (f *fakeStore) Export(_ context.Context, scan string, emit func(sweep.Row) error) error {
	return f.export(scan, emit)
}
func (f *fakeStore) Database() string { return "fakedb" }
func (f *fakeStore) Cursor(_ context.Context, scan string) (store.Cursor, bool, error) {
	return f.cursor(scan)
}
func (f *fakeStore) SaveCursor(_ context.Context, c store.Cursor) error { return f.saveCursor(c) }
func (f *fakeStore) Logged(_ context.Context, scan string, from, to int) (map[int]bool, error) {
	return f.logged(scan, from, to)
}

// fakeQueue is a queue whose methods are func fields.
type fakeQueue struct {
	publishAll func(iter.Seq[sweep.Unit]) (int, int, error)
	retry      func(string) ([]sweep.Unit, error)
	pending    func(string) (queue.Pending, error)
	queued     func(string) (int, error)
	present    func(scan string, from, to int) (map[int]bool, error)
}

func (f *fakeQueue) PublishAll(_ context.Context, units iter.Seq[sweep.Unit], _ func(int, int)) (int, int, error) {
	return f.publishAll(units)
}
func (f *fakeQueue) Retry(_ context.Context, scan string) ([]sweep.Unit, error) { return f.retry(scan) }
func (f *fakeQueue) Pending(_ context.Context, scan string) (queue.Pending, error) {
	return f.pending(scan)
}
func (f *fakeQueue) Queued(_ context.Context, scan string) (int, error) { return f.queued(scan) }
func (f *fakeQueue) Present(_ context.Context, scan string, from, to int) (map[int]bool, error) {
	return f.present(scan, from, to)
}
