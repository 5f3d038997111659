package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/hilbert"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Defaults of Config.
const (
	DefaultPageSize         = 100
	MaxPageSize             = 10_000
	DefaultMaxExecutionTime = 10 * time.Second
	DefaultMaxRowsToRead    = 1_000_000_000
	// MaxBodyBytes bounds a request body; a larger one is refused with 413.
	MaxBodyBytes = 64 << 10
	// DefaultMapCacheBytes is the byte budget of rendered maps.
	DefaultMapCacheBytes = 64 << 20
	// maxHighlightNets bounds the /24s of a query highlighted on a map.
	maxHighlightNets = 1 << 20
)

// Store is what the handlers read; *store.Store is one.
type Store interface {
	List(ctx context.Context, where store.Where, page, pageSize int, lim store.Limits) (store.Page, error)
	Count(ctx context.Context, where store.Where, lim store.Limits) (uint64, error)
	ListAll(ctx context.Context, where store.Where, limit int, lim store.Limits, emit func(store.Record) error) error
	Scans(ctx context.Context) ([]sweep.ScanRecord, error)
	Scan(ctx context.Context, name string) (sweep.ScanRecord, error)
	// Search, Export and LookupRows are the commands' row reads, bounded
	// through store.WithLimits.
	Search(ctx context.Context, q store.Query, emit func(sweep.Row) error) error
	Export(ctx context.Context, scan string, emit func(sweep.Row) error) error
	LookupRows(ctx context.Context, q store.AddressQuery, emit func(sweep.Row) error) error
	LoadASNRanges(ctx context.Context, first, last netip.Addr) (*enrich.Table, store.ASNVersion, error)
	RoutesOf(ctx context.Context, addrs []netip.Addr, asns []uint32) (*store.AddressRoutes, error)
	NetOutcomes(ctx context.Context, lo, hi uint32, lim store.Limits) ([]store.NetOutcome, error)
	MatchingNets(ctx context.Context, where store.Where, lo, hi uint32, limit int, lim store.Limits) ([]uint32, error)
	DataVersion(ctx context.Context) (string, error)
}

// StatusReader reads one scan's status. A scan that does not exist is an
// error matching store.ErrScanNotFound.
type StatusReader interface {
	ScanStatus(ctx context.Context, name string) (ScanStatus, error)
}

// Config configures New.
type Config struct {
	// Store is required.
	Store Store
	// Status reads scan statuses; nil serves the scans endpoints with 503.
	Status StatusReader
	// Telemetry serves GET /metrics, /healthz and /readyz (a
	// telemetry.Server's Handler); nil leaves them out.
	Telemetry http.Handler
	// Token, when not empty, is the bearer token every API request (and
	// /metrics) must carry; the page, /healthz and /readyz stay open.
	Token string
	// CORSOrigin, when not empty, is sent as Access-Control-Allow-Origin
	// and preflight requests are answered; empty: no CORS headers.
	CORSOrigin string
	// PageSize is the number of records of a page (default
	// DefaultPageSize, at most MaxPageSize).
	PageSize int
	// Limits bound every ClickHouse read (default DefaultMaxExecutionTime
	// and DefaultMaxRowsToRead).
	Limits store.Limits
	// MaxResultRows bounds the rows one download, grouping, lookup, fleets
	// or diff reads (default DefaultMaxResultRows); a larger result is
	// refused with 422, never cut silently.
	MaxResultRows int
	// MapCacheBytes is the byte budget of the map cache (default
	// DefaultMapCacheBytes).
	MapCacheBytes int
	// Logger receives request logs (info, without query text) and server
	// errors. Default slog.Default().
	Logger *slog.Logger
}

// Server is the API's HTTP handler. New builds it; it holds no goroutines
// and is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	maps    *hilbert.Cache
	token   [sha256.Size]byte
	handler http.Handler
	routes  []Route
}

// Route is one method and path pattern the server answers.
type Route struct {
	Method string
	// Path is a net/http pattern path, such as "/api/v1/scans/{name}".
	Path string
	// Open routes need no token.
	Open    bool
	handler http.HandlerFunc
}

//go:embed web
var webFiles embed.FS

//go:embed openapi.json
var openAPI []byte

// New checks cfg, fills in defaults and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, ErrNoStore
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	cfg.PageSize = min(cfg.PageSize, MaxPageSize)
	if cfg.Limits.MaxExecutionTime <= 0 {
		cfg.Limits.MaxExecutionTime = DefaultMaxExecutionTime
	}
	if cfg.Limits.MaxRowsToRead == 0 {
		cfg.Limits.MaxRowsToRead = DefaultMaxRowsToRead
	}
	if cfg.MaxResultRows <= 0 {
		cfg.MaxResultRows = DefaultMaxResultRows
	}
	if cfg.MapCacheBytes <= 0 {
		cfg.MapCacheBytes = DefaultMapCacheBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, maps: hilbert.NewCache(cfg.MapCacheBytes), token: sha256.Sum256([]byte(cfg.Token))}
	web, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	static := http.FileServerFS(web)
	s.routes = []Route{
		{Method: http.MethodPost, Path: "/api/v1/ips/list", handler: s.handleList},
		{Method: http.MethodGet, Path: "/api/v1/ips/download", handler: s.handleDownload},
		{Method: http.MethodGet, Path: "/api/v1/groups", handler: s.handleGroups},
		{Method: http.MethodGet, Path: lookupPath + "{target...}", handler: s.handleLookup},
		{Method: http.MethodGet, Path: "/api/v1/fleets", handler: s.handleFleets},
		{Method: http.MethodGet, Path: "/api/v1/diff", handler: s.handleDiff},
		{Method: http.MethodGet, Path: "/api/v1/scans", handler: s.handleScans},
		{Method: http.MethodGet, Path: "/api/v1/scans/{name}", handler: s.handleScan},
		{Method: http.MethodGet, Path: "/api/v1/map.png", handler: s.handleMap},
		{Method: http.MethodGet, Path: "/api/v1/map/legend", handler: s.handleLegend},
		{Method: http.MethodGet, Path: "/api/v1/map/block", handler: s.handleBlock},
		{Method: http.MethodGet, Path: "/api/v1/openapi.json", Open: true, handler: handleOpenAPI},
		{Method: http.MethodGet, Path: "/{$}", Open: true, handler: static.ServeHTTP},
		{Method: http.MethodGet, Path: "/static/", Open: true, handler: http.StripPrefix("/static", static).ServeHTTP},
	}
	if cfg.Telemetry != nil {
		s.routes = append(s.routes,
			Route{Method: http.MethodGet, Path: "/metrics", handler: cfg.Telemetry.ServeHTTP},
			Route{Method: http.MethodGet, Path: "/healthz", Open: true, handler: cfg.Telemetry.ServeHTTP},
			Route{Method: http.MethodGet, Path: "/readyz", Open: true, handler: cfg.Telemetry.ServeHTTP})
	}
	mux := http.NewServeMux()
	for _, r := range s.routes {
		h := r.handler
		if !r.Open {
			h = s.authorize(h)
		}
		mux.HandleFunc(r.Method+" "+r.Path, h)
	}
	// Everything else: JSON 404 (or 405 on a known path), and CORS
	// preflights when CORS is on.
	mux.HandleFunc("/", s.fallback(mux))
	s.handler = s.logRequests(s.cors(mux))
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns the routes the server answers, in registration order.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, r := range s.routes {
		out[i] = Route{Method: r.Method, Path: r.Path, Open: r.Open}
	}
	return out
}

// OpenAPI returns the embedded OpenAPI 3 document (JSON).
func OpenAPI() []byte { return slices.Clone(openAPI) }

func handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

// authorize refuses a request without the bearer token (when one is set)
// with 401. The comparison is constant-time (of the tokens' hashes).
func (s *Server) authorize(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Token == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ptrsweep"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token: send Authorization: Bearer TOKEN (the content of serve's --token-file)")
			return
		}
		h(w, r)
	}
}

// fallback answers requests no route matched: 405 with Allow when the path
// is a route's with another method, 204 for a CORS preflight of such a
// path, else 404.
func (s *Server) fallback(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		switch {
		case len(allow) > 0 && r.Method == http.MethodOptions && s.cfg.CORSOrigin != "":
			w.Header().Set("Access-Control-Allow-Methods", strings.Join(allow, ", "))
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
		case len(allow) > 0:
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or "))
		default:
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path+" (see /api/v1/openapi.json)")
		}
	}
}

// cors adds Access-Control-Allow-Origin when CORS is on.
func (s *Server) cors(h http.Handler) http.Handler {
	if s.cfg.CORSOrigin == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		w.Header().Add("Vary", "Origin")
		h.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logRequests logs each request at info: method, path (never the query
// string, the body or a lookup's target, which hold what was searched),
// status, bytes and duration.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

// lookupPath is the prefix of the lookup endpoint, whose path holds what
// was looked up.
const lookupPath = "/api/v1/lookup/"

// logPath is the path as a request log shows it: a lookup's address or
// block is left out, like query text.
func logPath(p string) string {
	if strings.HasPrefix(p, lookupPath) {
		return lookupPath + "{target}"
	}
	return p
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	// Position and Expected are set for a bad query.
	Position int    `json:"position,omitempty"`
	Expected string `json:"expected,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client went away: nothing to do
}

// storeError answers a failed read: 422 when a bound of Limits stopped
// it, 404 for a missing scan, else 500 (logged; the message names the
// failing read without the query text).
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case store.LimitExceeded(err):
		writeError(w, http.StatusUnprocessableEntity, what+": the query needs more than this server's limits (--max-execution-time, rows read): narrow it, such as with a ptr_part, ip in or scan condition")
	case r.Context().Err() != nil:
		writeError(w, http.StatusServiceUnavailable, what+": request cancelled")
	default:
		s.log.LogAttrs(r.Context(), slog.LevelError, "read failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, what+" failed; see the server log")
	}
}
