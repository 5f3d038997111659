package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// The lookup, fleets, grouping and diff endpoints answer what `coordinator
// lookup`, `coordinator fleets`, `coordinator search --group` and
// `coordinator diff` print, computed by the same functions of package
// analytics over the same reads of the store; their objects are the
// commands' --format json objects.

// DefaultDiffLimit is the number of changes a diff lists without a limit
// parameter.
const DefaultDiffLimit = 1000

// LookupResponse is the answer of GET /api/v1/lookup/{target}.
type LookupResponse struct {
	// Target is the address or block looked up, as a CIDR.
	Target string `json:"target"`
	Scan   string `json:"scan"`
	// Routed is false when no IP-to-ASN table is stored: netblocks are
	// /24s, ASNs 0.
	Routed bool `json:"routed"`
	// Histories holds one object per address with stored rows, as
	// `coordinator lookup --format json` prints them.
	Histories []analytics.History `json:"histories"`
}

// FleetsResponse is the answer of GET /api/v1/fleets.
type FleetsResponse struct {
	Scan         string `json:"scan"`
	Suffix       string `json:"suffix"`
	MinAddresses int    `json:"min_addresses"`
	Routed       bool   `json:"routed"`
	// Fleets are the templates, largest first, as `coordinator fleets
	// --format json` prints them.
	Fleets []analytics.Fleet `json:"fleets"`
}

// GroupsResponse is the answer of GET /api/v1/groups.
type GroupsResponse struct {
	By string `json:"by"`
	// Query is the canonical form of the request's query.
	Query  string `json:"query"`
	Routed bool   `json:"routed"`
	// Addresses counts the distinct addresses grouped.
	Addresses int `json:"addresses"`
	// Groups holds the objects `coordinator search --group BY --format
	// json` prints: []analytics.NetblockGroup, []analytics.ASNGroup or
	// []analytics.CountryGroup, per By.
	Groups any `json:"groups"`
	groups analytics.Groups
}

// DiffResponse is the answer of GET /api/v1/diff.
type DiffResponse struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Suffix string `json:"suffix"`
	// Counts counts every address of the diff, listed or not.
	Counts analytics.DiffCounts `json:"counts"`
	// Changes are the first Limit changes in address order, as
	// `coordinator diff --format json` prints them.
	Changes []analytics.Change `json:"changes"`
	Limit   int                `json:"limit"`
	// Truncated is true when more changes exist than are listed.
	Truncated bool `json:"truncated"`
}

// bounded returns the request's context bounding every read by Limits.
func (s *Server) bounded(r *http.Request) context.Context {
	return store.WithLimits(r.Context(), s.cfg.Limits)
}

// counted wraps emit to fail with errTooManyRows past MaxResultRows rows.
func (s *Server) counted(emit func(sweep.Row) error) func(sweep.Row) error {
	n := 0
	return func(r sweep.Row) error {
		if n++; n > s.cfg.MaxResultRows {
			return errTooManyRows
		}
		return emit(r)
	}
}

// readError answers a failed read like storeError, and a read stopped by
// MaxResultRows with 422 naming the bound.
func (s *Server) readError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, errTooManyRows) {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("%s: more than %d rows, this server's bound (serve --max-result-rows): narrow it", what, s.cfg.MaxResultRows))
		return
	}
	s.storeError(w, r, what, err)
}

// enricher turns a load of routing data into an Enricher and whether it
// is routed: nil (unrouted, /24 netblocks) when no table is stored, as the
// commands do. On any error it is a nil interface, never a typed nil.
func enricher[E analytics.Enricher](e E, err error) (analytics.Enricher, bool, error) {
	if errors.Is(err, store.ErrNoASNTable) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e, true, nil
}

// knownScan answers 404 and returns false when no scan has the name.
func (s *Server) knownScan(w http.ResponseWriter, r *http.Request, name string) bool {
	_, err := s.cfg.Store.Scan(r.Context(), name)
	switch {
	case errors.Is(err, store.ErrScanNotFound):
		writeError(w, http.StatusNotFound, "no scan named "+quoteName(name)+" (GET /api/v1/scans lists them)")
		return false
	case err != nil:
		s.storeError(w, r, "scan "+quoteName(name), err)
		return false
	}
	return true
}

// suffixParam reads an optional suffix parameter, checked as the commands
// check --suffix; on error it answers 400 and returns false.
func suffixParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	s := r.URL.Query().Get("suffix")
	if s == "" {
		return "", true
	}
	n, err := store.NormalizeSuffix(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "suffix "+quoteName(s)+": "+err.Error()+" (want a domain such as security.ipip.net)")
		return "", false
	}
	return n, true
}

// intParam reads an integer parameter of at least lo (def when absent);
// on error it answers 400 and returns false.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %s: want a whole number from %d to %d", name, quoteName(v), lo, hi))
		return 0, false
	}
	return n, true
}

// rows returns the rows of a suffix (in one scan or every scan) or of a
// whole scan, as the commands' fleets and diff read them, bounded.
func (s *Server) rows(ctx context.Context, scan, suffix string) func(emit func(sweep.Row) error) error {
	if suffix != "" {
		q := store.Query{Suffix: suffix, Scan: scan}
		return func(emit func(sweep.Row) error) error { return s.cfg.Store.Search(ctx, q, s.counted(emit)) }
	}
	return func(emit func(sweep.Row) error) error { return s.cfg.Store.Export(ctx, scan, s.counted(emit)) }
}

func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	target, err := analytics.ParseTarget(r.PathValue("target"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	filter, err := analytics.ParseFilter(q.Get("status"), q.Get("fcrdns"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	scan := q.Get("scan")
	if scan != "" && !s.knownScan(w, r, scan) {
		return
	}
	ctx := s.bounded(r)
	first, last := cidr.Bounds(target)
	t, _, err := s.cfg.Store.LoadASNRanges(ctx, first, last)
	e, routed, err := enricher(t, err)
	if err != nil {
		s.storeError(w, r, "lookup", err)
		return
	}
	aq := store.AddressQuery{First: first, Last: last, Scan: scan, Statuses: filter.Statuses, FCrDNS: filter.FCrDNS, Limit: s.cfg.MaxResultRows + 1}
	out := LookupResponse{Target: target.String(), Scan: scan, Routed: routed, Histories: []analytics.History{}}
	err = analytics.Histories(func(emit func(sweep.Row) error) error { return s.cfg.Store.LookupRows(ctx, aq, s.counted(emit)) }, e,
		func(h analytics.History) error { out.Histories = append(out.Histories, h); return nil })
	if err != nil {
		s.readError(w, r, "lookup of "+target.String(), err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleFleets(w http.ResponseWriter, r *http.Request) {
	scan := r.URL.Query().Get("scan")
	suffix, ok := suffixParam(w, r)
	if !ok {
		return
	}
	if scan == "" && suffix == "" {
		writeError(w, http.StatusBadRequest, "give scan=NAME or suffix=DOMAIN (or both): fleets groups one scan's or one suffix's names")
		return
	}
	minAddrs, ok := intParam(w, r, "min_addresses", analytics.DefaultMinAddresses, 1, 1<<31-1)
	if !ok || scan != "" && !s.knownScan(w, r, scan) {
		return
	}
	ctx := s.bounded(r)
	// The rows first, then the routing data of just their addresses.
	var rows []sweep.Row
	if err := s.rows(ctx, scan, suffix)(func(row sweep.Row) error {
		if row.PTR != "" {
			rows = append(rows, row)
		}
		return nil
	}); err != nil {
		s.readError(w, r, "fleets", err)
		return
	}
	var routed bool
	load := func(addrs []netip.Addr, asns []uint32) (analytics.Enricher, error) {
		e, ok, err := enricher(s.cfg.Store.RoutesOf(ctx, addrs, asns))
		routed = ok
		return e, err
	}
	fs, err := analytics.Fleets(func(emit func(sweep.Row) error) error {
		for _, row := range rows {
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}, load, minAddrs)
	if err != nil {
		s.storeError(w, r, "fleets", err)
		return
	}
	writeJSON(w, http.StatusOK, FleetsResponse{Scan: scan, Suffix: suffix, MinAddresses: minAddrs, Routed: routed, Fleets: orEmpty(fs)})
}

// groups groups the addresses of the rows matching the query parameter by
// the by parameter. On error it answers and returns false.
func (s *Server) groups(w http.ResponseWriter, r *http.Request) (GroupsResponse, bool) {
	by, err := analytics.ParseGroup(r.URL.Query().Get("by"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "by "+quoteName(r.URL.Query().Get("by"))+": want netblock, asn or country")
		return GroupsResponse{}, false
	}
	n, where, ok := compileQuery(w, r.URL.Query().Get("query"))
	if !ok {
		return GroupsResponse{}, false
	}
	ctx := r.Context()
	var g analytics.Grouper
	add := s.counted(g.Add)
	err = s.cfg.Store.ListAll(ctx, where, s.cfg.MaxResultRows+1, s.cfg.Limits, func(rec store.Record) error { return add(rec.Row) })
	if err != nil {
		s.readError(w, r, "grouping", err)
		return GroupsResponse{}, false
	}
	e, routed, err := enricher(s.cfg.Store.RoutesOf(ctx, g.Addrs(), g.StoredASNs()))
	if err != nil {
		s.storeError(w, r, "grouping", err)
		return GroupsResponse{}, false
	}
	gs := g.Groups(by, e)
	out := GroupsResponse{By: by, Query: n.String(), Routed: routed, Addresses: gs.Addresses, groups: gs}
	switch by {
	case analytics.GroupNetblock:
		out.Groups = orEmpty(gs.Netblocks)
	case analytics.GroupASN:
		out.Groups = orEmpty(gs.ASNs)
	default:
		out.Groups = orEmpty(gs.Countries)
	}
	return out, true
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	format, ok := formatParam(w, r)
	if !ok {
		return
	}
	out, ok := s.groups(w, r)
	if !ok {
		return
	}
	if format == "csv" {
		attachment(w, "text/csv; charset=utf-8", "ptrsweep-groups-"+out.By+".csv")
		if err := analytics.WriteGroups(w, out.groups, "csv"); err != nil {
			s.log.Debug("write groups", "error", err.Error())
		}
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	switch {
	case from == "" || to == "":
		writeError(w, http.StatusBadRequest, "give both from=SCAN and to=SCAN")
		return
	case from == to:
		writeError(w, http.StatusBadRequest, "from and to are both "+quoteName(from)+": give two scans")
		return
	}
	suffix, ok := suffixParam(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", min(DefaultDiffLimit, s.cfg.MaxResultRows), 0, s.cfg.MaxResultRows)
	if !ok || !s.knownScan(w, r, from) || !s.knownScan(w, r, to) {
		return
	}
	ctx := s.bounded(r)
	out := DiffResponse{From: from, To: to, Suffix: suffix, Limit: limit, Changes: []analytics.Change{}}
	counts, err := analytics.Diff(ctx, s.rows(ctx, from, suffix), s.rows(ctx, to, suffix), func(c analytics.Change) error {
		if len(out.Changes) < limit {
			out.Changes = append(out.Changes, c)
		} else {
			out.Truncated = true
		}
		return nil
	})
	if err != nil {
		s.readError(w, r, "diff", err)
		return
	}
	out.Counts = counts
	writeJSON(w, http.StatusOK, out)
}

// orEmpty returns s, or an empty slice for nil (JSON [] instead of null).
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
