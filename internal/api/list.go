package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/query"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// ListRequest is the body of POST /api/v1/ips/list.
type ListRequest struct {
	// Query is in the language of package query.
	Query string `json:"query"`
	// Page is 1-based; 0 or absent means 1.
	Page int `json:"page"`
}

// Record is one row of a list answer.
type Record struct {
	IP         string    `json:"ip"`
	PTR        string    `json:"ptr"`
	Status     string    `json:"status"`
	FCrDNS     string    `json:"fcrdns"`
	ASN        uint32    `json:"asn"`
	Country    string    `json:"country"`
	Scan       string    `json:"scan"`
	ResolvedAt time.Time `json:"resolved_at"`
}

// ListMeta describes the page of a list answer.
type ListMeta struct {
	Page     int `json:"page"`
	MaxPage  int `json:"max_page"`
	PageSize int `json:"page_size"`
	// Query is the canonical form of the request's query.
	Query string `json:"query"`
}

// ListResponse is the answer of POST /api/v1/ips/list.
type ListResponse struct {
	Records     []Record `json:"records"`
	RecordCount uint64   `json:"record_count"`
	Meta        ListMeta `json:"meta"`
}

// decodeBody reads a JSON body of at most MaxBodyBytes into v, unknown
// fields refused. It answers the error itself (413 or 400) and returns
// false on one.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxBodyBytes))
		return false
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, `empty request body: send {"query": "…", "page": 1}`)
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, `request body: `+err.Error()+` (want {"query": "…", "page": 1})`)
		return false
	}
	return true
}

// compileQuery parses and compiles src over the ptr table's columns. On a
// bad query it answers 400 with the position and what was expected, and
// returns false.
func compileQuery(w http.ResponseWriter, src string) (query.Node, store.Where, bool) {
	n, err := query.Parse(src)
	var c query.Clause
	if err == nil {
		c, err = query.Compile(n, query.PTRColumns())
	}
	if err != nil {
		body := errorBody{Error: "bad query: " + err.Error()}
		var qe *query.Error
		if errors.As(err, &qe) {
			body.Position, body.Expected = qe.Pos, qe.Expected
		}
		writeJSON(w, http.StatusBadRequest, body)
		return nil, store.Where{}, false
	}
	return n, store.Where{SQL: c.SQL, Args: c.Args}, true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	var req ListRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Page < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("page %d: pages count from 1", req.Page))
		return
	}
	page := max(req.Page, 1)
	n, where, ok := compileQuery(w, req.Query)
	if !ok {
		return
	}
	size := s.cfg.PageSize
	res, err := s.cfg.Store.List(r.Context(), where, page-1, size, s.cfg.Limits)
	if err != nil {
		s.storeError(w, r, "list", err)
		return
	}
	out := ListResponse{
		Records:     make([]Record, 0, len(res.Records)),
		RecordCount: res.Total,
		Meta: ListMeta{Page: page, PageSize: size, Query: n.String(),
			MaxPage: max(int((res.Total+uint64(size)-1)/uint64(size)), 1)},
	}
	for _, rec := range res.Records {
		out.Records = append(out.Records, record(rec))
	}
	writeJSON(w, http.StatusOK, out)
}

func record(r store.Record) Record {
	return Record{IP: r.IP.String(), PTR: r.PTR, Status: r.Status.String(), FCrDNS: r.FCrDNS.String(),
		ASN: r.ASN, Country: r.Country, Scan: r.Scan, ResolvedAt: r.ResolvedAt}
}
