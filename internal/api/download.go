package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/store"
)

// DefaultMaxResultRows is the default of Config.MaxResultRows.
const DefaultMaxResultRows = 1_000_000

// downloadColumns are the CSV columns of a download: the fields of Record.
var downloadColumns = []string{"ip", "ptr", "status", "fcrdns", "asn", "country", "scan", "resolved_at"}

// formatParam reads the format parameter: json (default) or csv. On error
// it answers 400 and returns false.
func formatParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		return "json", true
	case "csv":
		return f, true
	default:
		writeError(w, http.StatusBadRequest, "format "+quoteName(f)+": want json or csv")
		return "", false
	}
}

// attachment starts a 200 answer of a file to save.
func attachment(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// downloadHead is the first part of a JSON download; the records follow,
// one a line.
type downloadHead struct {
	Query       string `json:"query"`
	RecordCount uint64 `json:"record_count"`
}

// handleDownload streams every record of a query as CSV or JSON. A query
// matching more than MaxResultRows rows is refused with 422 before
// anything is sent; the rows are counted first, so the answer is never
// cut silently. A read that fails once the answer has started aborts the
// connection: the client sees a broken transfer, not a short file.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	format, ok := formatParam(w, r)
	if !ok {
		return
	}
	n, where, ok := compileQuery(w, r.URL.Query().Get("query"))
	if !ok {
		return
	}
	total, err := s.cfg.Store.Count(r.Context(), where, s.cfg.Limits)
	if err != nil {
		s.storeError(w, r, "download", err)
		return
	}
	if total > uint64(s.cfg.MaxResultRows) {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("the query matches %d rows; a download holds at most %d (serve --max-result-rows): narrow the query", total, s.cfg.MaxResultRows))
		return
	}
	w.Header().Set("X-Record-Count", strconv.FormatUint(total, 10))
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		emit   func(store.Record) error
		finish func() error
	)
	if format == "csv" {
		attachment(w, "text/csv; charset=utf-8", "ptrsweep.csv")
		cw := csv.NewWriter(bw)
		_ = cw.Write(downloadColumns)
		emit = func(rec store.Record) error {
			x := record(rec)
			return cw.Write([]string{x.IP, x.PTR, x.Status, x.FCrDNS, strconv.FormatUint(uint64(x.ASN), 10), x.Country, x.Scan, x.ResolvedAt.Format(time.RFC3339)})
		}
		finish = func() error { cw.Flush(); return cw.Error() }
	} else {
		attachment(w, "application/json", "ptrsweep.json")
		head, _ := json.Marshal(downloadHead{Query: n.String(), RecordCount: total})
		_, _ = bw.Write(head[:len(head)-1])
		_, _ = bw.WriteString(`,"records":[`)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		first := true
		emit = func(rec store.Record) error {
			if !first {
				if err := bw.WriteByte(','); err != nil {
					return err
				}
			}
			first = false
			return enc.Encode(record(rec))
		}
		finish = func() error { _, err := bw.WriteString("]}\n"); return err }
	}
	err = s.cfg.Store.ListAll(r.Context(), where, s.cfg.MaxResultRows, s.cfg.Limits, emit)
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if r.Context().Err() == nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "download failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		}
		panic(http.ErrAbortHandler) // cut the transfer: never a silently short file
	}
}
