package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ptrsweep/ptrsweep/internal/api"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// brokenStore counts two rows, then fails after streaming the first.
type brokenStore struct{ fakeStore }

func (brokenStore) Count(context.Context, store.Where, store.Limits) (uint64, error) { return 2, nil }
func (brokenStore) ListAll(_ context.Context, _ store.Where, _ int, _ store.Limits, emit func(store.Record) error) error {
	if err := emit(store.Record{}); err != nil {
		return err
	}
	return errors.New("connection to ClickHouse lost")
}

// TestDownloadAborts checks that a download whose read fails midway is
// cut as a broken transfer, in both formats, never ended as a short file.
func TestDownloadAborts(t *testing.T) {
	s, err := api.New(api.Config{Store: brokenStore{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, format := range []string{"json", "csv"} {
		// The first bytes may or may not have left the server's buffer:
		// either the answer or its body breaks.
		resp, err := ts.Client().Get(ts.URL + "/api/v1/ips/download?query=asn+%3D+1&format=" + format)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("%s download failing midway: status %d, body %q read without error; want a broken transfer", format, resp.StatusCode, b)
		}
	}
}

// TestRequestLog checks that request logs hold neither query text nor a
// lookup's target.
func TestRequestLog(t *testing.T) {
	var logs bytes.Buffer
	s, err := api.New(api.Config{Store: fakeStore{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, p := range []string{"/api/v1/lookup/203.0.113.77", "/api/v1/lookup/203.0.113.0/24", "/api/v1/groups?by=asn&query=ptr_part+%3D+%27secret.example%27"} {
		resp, err := ts.Client().Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := logs.String()
	if strings.Contains(got, "203.0.113") || strings.Contains(got, "secret") {
		t.Errorf("request logs hold what was searched:\n%s", got)
	}
	if strings.Count(got, "path=/api/v1/lookup/{target}") != 2 || !strings.Contains(got, "path=/api/v1/groups") {
		t.Errorf("request logs lack the lookups' and the grouping's paths:\n%s", got)
	}
}
