package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// maxScansListed bounds GET /api/v1/scans: the newest scans are listed.
const maxScansListed = 100

// ScanStatus is a scan's status, the reading `coordinator status` prints.
type ScanStatus struct {
	Name      string    `json:"name"`
	CIDRs     []string  `json:"cidrs"`
	CreatedAt time.Time `json:"created_at"`
	// State is running, complete or complete_with_failures.
	State        string `json:"state"`
	Complete     bool   `json:"complete"`
	Units        int    `json:"units"`
	UnitsDone    int    `json:"units_done"`
	UnitsPending int    `json:"units_pending"`
	UnitsFailed  int    `json:"units_failed"`
	Addresses    uint64 `json:"addresses"`
	// AddressesDone counts the addresses of done units.
	AddressesDone uint64 `json:"addresses_done"`
	Rows          uint64 `json:"rows"`
	// Outcomes counts the addresses of done units by outcome.
	Outcomes sweep.Counts `json:"outcomes"`
	// Rate is in addresses per second over the scan so far.
	Rate float64 `json:"rate"`
	// ETASeconds is null when unknown (nothing done yet, or complete).
	ETASeconds *float64 `json:"eta_seconds"`
	// Published is the plan cursor; null for scans without one.
	Published *Published `json:"published"`
	// Queue is null when serve has no NATS URL or NATS did not answer.
	Queue       *QueueState  `json:"queue"`
	FailedUnits []FailedUnit `json:"failed_units"`
}

// Published is how far a scan's feeder got.
type Published struct {
	Published int       `json:"published"`
	Planned   int       `json:"planned"`
	Done      bool      `json:"done"`
	UpdatedAt time.Time `json:"updated_at"`
}

// QueueState is a scan's units in the work queue.
type QueueState struct {
	Queued   int `json:"queued"`
	InFlight int `json:"in_flight"`
	Dead     int `json:"dead"`
}

// FailedUnit is a unit whose deliveries were exhausted.
type FailedUnit struct {
	Unit    string `json:"unit"`
	Attempt uint32 `json:"attempt"`
	Error   string `json:"error"`
}

// ScansResponse is the answer of GET /api/v1/scans.
type ScansResponse struct {
	Scans []ScanStatus `json:"scans"`
	// Total is the number of scans stored; at most 100, the newest, are
	// listed.
	Total int `json:"total"`
}

func (s *Server) handleScans(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Status == nil {
		writeError(w, http.StatusServiceUnavailable, "scan status is not available on this server")
		return
	}
	recs, err := s.cfg.Store.Scans(r.Context())
	if err != nil {
		s.storeError(w, r, "list scans", err)
		return
	}
	out := ScansResponse{Scans: []ScanStatus{}, Total: len(recs)}
	// Newest first.
	for i := len(recs) - 1; i >= 0 && len(out.Scans) < maxScansListed; i-- {
		st, err := s.cfg.Status.ScanStatus(r.Context(), recs[i].Name)
		if err != nil {
			s.storeError(w, r, "status of scan "+recs[i].Name, err)
			return
		}
		out.Scans = append(out.Scans, st)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleScan(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Status == nil {
		writeError(w, http.StatusServiceUnavailable, "scan status is not available on this server")
		return
	}
	name := r.PathValue("name")
	st, err := s.cfg.Status.ScanStatus(r.Context(), name)
	if errors.Is(err, store.ErrScanNotFound) {
		writeError(w, http.StatusNotFound, "no scan named "+quoteName(name)+" (GET /api/v1/scans lists them)")
		return
	}
	if err != nil {
		s.storeError(w, r, "status of scan", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// quoteName quotes a name from a request for an error message, cut to 64
// bytes.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
