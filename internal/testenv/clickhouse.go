package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ClickHouseQuery runs sql over ClickHouse's HTTP interface at base
// ("http://127.0.0.1:8123") in database db ("" for the default) and returns
// the TabSeparated result without its trailing newline. The harness uses it
// to inspect and clean up; product code talks to ClickHouse through
// internal/store only.
func ClickHouseQuery(ctx context.Context, base, db, sql string) (string, error) {
	u := strings.TrimSuffix(base, "/") + "/"
	if db != "" {
		u += "?database=" + url.QueryEscape(db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(sql))
	if err != nil {
		return "", fmt.Errorf("clickhouse query: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("clickhouse query: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("clickhouse query: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("clickhouse query %q: %s: %s", sql, resp.Status, strings.TrimSpace(string(b)))
	}
	return strings.TrimRight(string(b), "\n"), nil
}
