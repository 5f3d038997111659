package analytics

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// ParseTarget parses what `coordinator lookup` takes: an IPv4 address (a
// /32) or an IPv4 CIDR block, host bits clear. Errors wrap ErrBadTarget and
// say what to give.
func ParseTarget(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not an IPv4 CIDR block (e.g. 139.162.0.0/16)", ErrBadTarget, s)
		}
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%w: %q has host bits set: did you mean %v?", ErrBadTarget, s, p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not an IPv4 address or CIDR block (e.g. 139.162.77.6 or 139.162.0.0/16)", ErrBadTarget, s)
	}
	return netip.PrefixFrom(a.Unmap(), 32), nil
}

// Name is one PTR name of an address in one scan.
type Name struct {
	PTR    string `json:"ptr"`
	FCrDNS string `json:"fcrdns,omitempty"`
	TTL    uint32 `json:"ttl"`
}

// Observation is what one scan saw for an address: its PTR names (status
// ok) or the outcome of the address without them.
type Observation struct {
	Scan       string    `json:"scan"`
	ResolvedAt time.Time `json:"resolved_at"`
	Status     string    `json:"status"`
	PTRs       []Name    `json:"ptrs"`
}

// History is an address with its routing data and what every scan saw,
// oldest first. The ASN and country are those stored with its latest row
// that has them (the routing when it was scanned), else the table's; the
// netblock and the AS name come from the table.
type History struct {
	IP       string `json:"ip"`
	Netblock string `json:"netblock"`
	ASN      uint32 `json:"asn"`
	ASName   string `json:"as_name"`
	Country  string `json:"country"`
	// FirstSeen and LastSeen are the times of the first and the last scan
	// that saw a PTR name; nil when none did.
	FirstSeen *time.Time `json:"first_seen"`
	LastSeen  *time.Time `json:"last_seen"`
	// Changes counts the scans whose set of PTR names differs from the
	// previous definitive answer (ok or nodata); failures (servfail,
	// refused, timeout) say nothing about the names and are skipped.
	Changes int           `json:"changes"`
	Scans   []Observation `json:"scans"`
}

// Histories turns a stream of rows ordered by address (as
// store.LookupRows gives them: by address, then time) into one History per
// address, passed to emit as soon as the address's rows are complete. Per
// scan, an address with PTRs shows its PTRs; otherwise the latest of its
// outcomes (the rule of export). Memory is one address's rows.
func Histories(stream func(emit func(sweep.Row) error) error, e Enricher, emit func(History) error) error {
	var cur []sweep.Row
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		h := history(cur, e)
		cur = cur[:0]
		return emit(h)
	}
	err := stream(func(r sweep.Row) error {
		if len(cur) > 0 && cur[0].IP != r.IP {
			if err := flush(); err != nil {
				return err
			}
		}
		cur = append(cur, r)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// history builds the History of one address's rows.
func history(rows []sweep.Row, e Enricher) History {
	a := rows[0].IP.Unmap()
	// the routing stored with the latest row that has one (rows come
	// oldest first), else e's
	s := stored{addr: a}
	for _, r := range rows {
		if x := (stored{addr: a, asn: r.ASN, country: r.Country}); x.routed() {
			s = x
		}
	}
	info := s.describe(e)
	h := History{IP: a.String(), Netblock: info.Net.String(), ASN: info.ASN, ASName: info.ASName, Country: info.Country}
	idx := map[string]int{}
	var latest []sweep.Row // per observation: the latest non-ok row
	for _, r := range rows {
		i, ok := idx[r.Scan]
		if !ok {
			i = len(h.Scans)
			idx[r.Scan] = i
			h.Scans = append(h.Scans, Observation{Scan: r.Scan, ResolvedAt: r.ResolvedAt.UTC()})
			latest = append(latest, sweep.Row{})
		}
		o := &h.Scans[i]
		if r.ResolvedAt.Before(o.ResolvedAt) {
			o.ResolvedAt = r.ResolvedAt.UTC()
		}
		if r.Status == sweep.StatusOK {
			o.PTRs = append(o.PTRs, Name{PTR: r.PTR, FCrDNS: r.FCrDNS.String(), TTL: r.TTL})
		} else if latest[i].Status == 0 || !r.ResolvedAt.Before(latest[i].ResolvedAt) {
			latest[i] = r
		}
	}
	slices.SortStableFunc(h.Scans, func(x, y Observation) int { return x.ResolvedAt.Compare(y.ResolvedAt) })
	var prev []string
	havePrev := false
	for i := range h.Scans {
		o := &h.Scans[i]
		if len(o.PTRs) > 0 {
			o.Status = sweep.StatusOK.String()
			slices.SortFunc(o.PTRs, func(x, y Name) int { return strings.Compare(x.PTR, y.PTR) })
			t := o.ResolvedAt
			if h.FirstSeen == nil {
				h.FirstSeen = &t
			}
			h.LastSeen = &t
		} else {
			o.PTRs = []Name{}
			o.Status = latest[idx[o.Scan]].Status.String()
			if st := latest[idx[o.Scan]].Status; st != sweep.StatusNoData && st != sweep.StatusNXDomain {
				continue // a failure: no answer about the names
			}
		}
		names := make([]string, len(o.PTRs))
		for j, n := range o.PTRs {
			names[j] = n.PTR
		}
		if havePrev && !slices.Equal(prev, names) {
			h.Changes++
		}
		prev, havePrev = names, true
	}
	return h
}

// HistoryWriter writes Histories in one format. Use NewHistoryWriter; call
// Flush once at the end. It is not safe for concurrent use.
type HistoryWriter struct {
	m     multiWriter
	notes []string
	n     int
}

// HistoryFormats are the formats NewHistoryWriter takes.
var HistoryFormats = Formats

// NewHistoryWriter returns a writer of table (aligned, one line per scan
// and name, then a history line per address seen by several scans), json
// (one History object per line) or csv (the table's columns plus
// first_seen, last_seen, changes).
func NewHistoryWriter(w io.Writer, format string) (*HistoryWriter, error) {
	cols := []string{"ip", "scan", "resolved_at", "status", "ptr", "fcrdns", "netblock", "asn", "as_name", "country"}
	if format == "csv" {
		cols = append(cols, "first_seen", "last_seen", "changes")
	}
	m, err := newMultiWriter(w, format, cols)
	if err != nil {
		return nil, err
	}
	return &HistoryWriter{m: m}, nil
}

// Write writes one address's history.
func (hw *HistoryWriter) Write(h History) error {
	hw.n++
	if hw.m.enc != nil {
		return hw.m.enc.Encode(h)
	}
	table := hw.m.tw != nil
	asn := strconv.FormatUint(uint64(h.ASN), 10)
	if table {
		asn = asnText(h.ASN)
	}
	for _, o := range h.Scans {
		for _, n := range namesOrBlank(o.PTRs) {
			rec := []string{h.IP, o.Scan, o.ResolvedAt.Format(time.RFC3339), o.Status, n.PTR, n.FCrDNS, h.Netblock, asn, h.ASName, h.Country}
			if table {
				for i := range rec {
					rec[i] = dash(rec[i])
				}
			} else {
				rec = append(rec, timeText(h.FirstSeen), timeText(h.LastSeen), strconv.Itoa(h.Changes))
			}
			if err := hw.m.row(rec...); err != nil {
				return err
			}
		}
	}
	if table && len(h.Scans) > 1 {
		note := fmt.Sprintf("%s: %d scans, %d %s", h.IP, len(h.Scans), h.Changes, plural(h.Changes, "change"))
		if h.FirstSeen != nil {
			note += fmt.Sprintf(", first seen %s, last seen %s", timeText(h.FirstSeen), timeText(h.LastSeen))
		}
		hw.notes = append(hw.notes, note)
	}
	return nil
}

// Count returns the number of histories written.
func (hw *HistoryWriter) Count() int { return hw.n }

// Flush writes what is buffered, and the history lines of a table.
func (hw *HistoryWriter) Flush() error {
	if err := hw.m.flushRows(); err != nil {
		return err
	}
	if len(hw.notes) > 0 {
		fmt.Fprintf(hw.m.w, "\nhistory:\n  %s\n", strings.Join(hw.notes, "\n  "))
	}
	return hw.m.flush()
}

func namesOrBlank(ns []Name) []Name {
	if len(ns) == 0 {
		return []Name{{}}
	}
	return ns
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}
