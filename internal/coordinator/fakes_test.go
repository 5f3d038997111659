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

// fakeQueue is a queue whose methods are func fields.
type fakeQueue struct {
	publishAll func(iter.Seq[sweep.Unit]) (int, int, error)
	retry      func(string) ([]sweep.Unit, error)
	pending    func(string) (queue.Pending, error)
}

func (f *fakeQueue) PublishAll(_ context.Context, units iter.Seq[sweep.Unit], _ func(int, int)) (int, int, error) {
	return f.publishAll(units)
}
func (f *fakeQueue) Retry(_ context.Context, scan string) ([]sweep.Unit, error) { return f.retry(scan) }
func (f *fakeQueue) Pending(_ context.Context, scan string) (queue.Pending, error) {
	return f.pending(scan)
}
