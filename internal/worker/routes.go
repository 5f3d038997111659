package worker

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultRoutesRefresh is how often Routes.Run checks for a newer
// IP-to-ASN table: one small query of asn_versions each time.
const DefaultRoutesRefresh = 5 * time.Minute

// ASNSource is what Routes needs of the store.
type ASNSource interface {
	ASNVersions(ctx context.Context) ([]store.ASNVersion, error)
	LoadASNTable(ctx context.Context, version time.Time) (*enrich.Table, store.ASNVersion, error)
}

// Router gives the routing of an address: its origin AS and country, 0
// and "" when unknown. Implementations must be safe for concurrent use.
type Router interface {
	Route(a netip.Addr) (asn uint32, country string)
}

// Routes holds the newest complete IP-to-ASN table stored in ClickHouse
// (coordinator asn load) for filling the asn and country of every row a
// worker stores: the routing as it was when the address was resolved.
// Memory is the compact table (24 bytes a range plus the AS names: 29 MB
// of heap for Debian's 1.1 million ranges and 93k names); a load peaks at
// about 100 MB RSS (the client's column blocks) and returns the excess to
// the OS when done; during a reload the old and the new table are both
// held. Route is safe for concurrent use with Refresh and
// Run; create it with NewRoutes.
type Routes struct {
	src  ASNSource
	log  *slog.Logger
	cur  atomic.Pointer[routesTable]
	none atomic.Bool // "no table stored" was logged
}

type routesTable struct {
	t *enrich.Table
	v store.ASNVersion
}

// NewRoutes returns Routes without a table; call Refresh to load one. A
// nil logger discards.
func NewRoutes(src ASNSource, log *slog.Logger) *Routes {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Routes{src: src, log: log}
}

// Refresh loads the newest complete version when it differs from the one
// held (another date, or the same date loaded again). Without a stored
// table the rows get 0 and "" and one info line is logged, once; that is
// not an error. On an error the table held so far stays in use.
func (r *Routes) Refresh(ctx context.Context) error {
	vs, err := r.src.ASNVersions(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		if !r.none.Swap(true) {
			r.log.Info("no IP-to-ASN table stored: rows get asn 0 and country '' until one is loaded (coordinator asn load FILE)")
		}
		return nil
	}
	newest := vs[0]
	if cur := r.cur.Load(); cur != nil && cur.v.Version.Equal(newest.Version) && cur.v.LoadedAt.Equal(newest.LoadedAt) {
		return nil
	}
	start := time.Now()
	t, v, err := r.src.LoadASNTable(ctx, newest.Version)
	if errors.Is(err, store.ErrNoASNTable) {
		return nil // removed meanwhile: keep what is held
	}
	if err != nil {
		return err
	}
	r.cur.Store(&routesTable{t: t, v: v})
	r.none.Store(false)
	// The load's transient memory (the client's column blocks, the
	// replaced table) is about three times the table: hand it back to the
	// OS now rather than keep the worker's RSS at the peak.
	debug.FreeOSMemory()
	r.log.Info("IP-to-ASN table loaded", "version", v.Version.Format(time.DateOnly), "ranges", t.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run calls Refresh every interval (DefaultRoutesRefresh when zero or
// less) until ctx ends, logging failures; it returns when ctx ends. Its
// caller owns the goroutine.
func (r *Routes) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultRoutesRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("refresh the IP-to-ASN table (the one held stays in use)", "err", err)
			}
		}
	}
}

// Version returns the version of the table held, and false without one.
func (r *Routes) Version() (store.ASNVersion, bool) {
	cur := r.cur.Load()
	if cur == nil {
		return store.ASNVersion{}, false
	}
	return cur.v, true
}

// Route returns the origin AS and country of a from the table held; 0
// and "" without a table or for an address the table does not route.
func (r *Routes) Route(a netip.Addr) (uint32, string) {
	cur := r.cur.Load()
	if cur == nil {
		return 0, ""
	}
	asn, country, ok := cur.t.Route(a)
	if !ok {
		return 0, ""
	}
	return asn, country
}

// FillRoutes sets the ASN and Country of rows from rt (nil leaves them).
// Rows of one address usually come together; the address is looked up
// once per run of equal addresses.
func FillRoutes(rows []sweep.Row, rt Router) {
	if rt == nil {
		return
	}
	var (
		last    netip.Addr
		asn     uint32
		country string
	)
	for i := range rows {
		if i == 0 || rows[i].IP != last {
			last = rows[i].IP
			asn, country = rt.Route(last)
		}
		rows[i].ASN, rows[i].Country = asn, country
	}
}
