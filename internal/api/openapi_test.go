package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

type openAPI map[string]any

func openAPIDoc(t *testing.T) openAPI {
	t.Helper()
	var doc openAPI
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

func (d openAPI) paths() map[string]any { return d["paths"].(map[string]any) }

func (d openAPI) path(p string) map[string]any {
	m, _ := d.paths()[p].(map[string]any)
	return m
}

// resolve follows a $ref.
func (d openAPI) resolve(s any) map[string]any {
	m, _ := s.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		return d["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
	}
	return m
}

// check checks v against schema: its type (object, array, string, integer,
// number, boolean; null only when nullable) and, for objects, the required
// properties, recursively.
func (d openAPI) check(t *testing.T, at string, schema, v any) {
	t.Helper()
	s := d.resolve(schema)
	if alts, ok := s["oneOf"].([]any); ok {
		d.checkOneOf(t, at, alts, v)
		return
	}
	if v == nil {
		if s["nullable"] != true {
			t.Errorf("%s: null, not nullable", at)
		}
		return
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", at, v)
			return
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				t.Errorf("%s: required property %q missing", at, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range obj {
			if ps, ok := props[k]; ok {
				d.check(t, at+"."+k, ps, pv)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", at, v)
			return
		}
		for _, e := range arr {
			d.check(t, at+"[]", s["items"], e)
		}
	case "string":
		if _, ok := v.(string); !ok {
			t.Errorf("%s: %T, want a string", at, v)
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			t.Errorf("%s: %T, want a number", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: %T, want a boolean", at, v)
		}
	}
}

// checkOneOf checks v against the one alternative (an object schema)
// whose required properties v has all of.
func (d openAPI) checkOneOf(t *testing.T, at string, alts []any, v any) {
	t.Helper()
	obj, _ := v.(map[string]any)
	var match []any
	for _, a := range alts {
		req, _ := d.resolve(a)["required"].([]any)
		if len(req) > 0 && !slices.ContainsFunc(req, func(r any) bool { _, ok := obj[r.(string)]; return !ok }) {
			match = append(match, a)
		}
	}
	if len(match) != 1 {
		t.Errorf("%s: %v matches %d of the oneOf alternatives, want 1", at, v, len(match))
		return
	}
	d.check(t, at, match[0], v)
}

// fakeStore answers with nothing; the route test needs no data.
type fakeStore struct{}

func (fakeStore) List(context.Context, store.Where, int, int, store.Limits) (store.Page, error) {
	return store.Page{}, nil
}
func (fakeStore) Count(context.Context, store.Where, store.Limits) (uint64, error) { return 0, nil }
func (fakeStore) ListAll(context.Context, store.Where, int, store.Limits, func(store.Record) error) error {
	return nil
}
func (fakeStore) Scans(context.Context) ([]sweep.ScanRecord, error) { return nil, nil }
func (fakeStore) Scan(context.Context, string) (sweep.ScanRecord, error) {
	return sweep.ScanRecord{}, store.ErrScanNotFound
}
func (fakeStore) Search(context.Context, store.Query, func(sweep.Row) error) error { return nil }
func (fakeStore) Export(context.Context, string, func(sweep.Row) error) error      { return nil }
func (fakeStore) LookupRows(context.Context, store.AddressQuery, func(sweep.Row) error) error {
	return nil
}
func (fakeStore) LoadASNRanges(context.Context, netip.Addr, netip.Addr) (*enrich.Table, store.ASNVersion, error) {
	return nil, store.ASNVersion{}, store.ErrNoASNTable
}
func (fakeStore) RoutesOf(context.Context, []netip.Addr, []uint32) (*store.AddressRoutes, error) {
	return nil, store.ErrNoASNTable
}
func (fakeStore) NetOutcomes(context.Context, uint32, uint32, store.Limits) ([]store.NetOutcome, error) {
	return nil, nil
}
func (fakeStore) MatchingNets(context.Context, store.Where, uint32, uint32, int, store.Limits) ([]uint32, error) {
	return nil, nil
}
func (fakeStore) DataVersion(context.Context) (string, error) { return "v", nil }

// TestOpenAPIRoutes checks that every documented path and method is a
// route of the real mux and every route is documented.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", doc["openapi"])
	}
	s, err := api.New(api.Config{Store: fakeStore{}, Telemetry: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	var documented, routed []string
	for p, ops := range doc.paths() {
		for m := range ops.(map[string]any) {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, r := range s.Routes() {
		p := r.Path
		switch {
		case p == "/{$}":
			p = "/"
		case strings.HasSuffix(p, "/"):
			p += "{file}"
		}
		p = strings.ReplaceAll(p, "...}", "}") // a wildcard taking the rest of the path
		routed = append(routed, r.Method+" "+p)
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("documented routes:\n%s\nreal routes:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
	// Each documented operation reaches a handler of the mux: neither the
	// fallback's 404 nor its 405.
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, op := range documented {
		method, p, _ := strings.Cut(op, " ")
		p = strings.NewReplacer("{name}", "x", "{file}", "style.css", "{target}", "198.18.0.0/24").Replace(p)
		req, _ := http.NewRequest(method, ts.URL+p, strings.NewReader(`{"query":"asn = 1"}`))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotFound && resp.Header.Get("Content-Type") == "application/json" && p != "/api/v1/scans/x" {
			t.Errorf("%s: status %d: not routed", op, resp.StatusCode)
		}
	}
}
