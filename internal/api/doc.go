// Package api is ptrsweep's read-only HTTP API and the page that uses it,
// served by `coordinator serve`:
//
//	POST /api/v1/ips/list        rows matching a query of package query, a page at a time
//	GET  /api/v1/ips/download    every row of a query, CSV or JSON, streamed
//	GET  /api/v1/groups          a query's addresses by netblock, provider or country
//	GET  /api/v1/lookup/{target} an address or block with its history (coordinator lookup)
//	GET  /api/v1/fleets          name templates of a scan or suffix (coordinator fleets)
//	GET  /api/v1/diff            names changed between two scans (coordinator diff)
//	GET  /api/v1/scans           every scan with its status
//	GET  /api/v1/scans/{name}    one scan's status (as `coordinator status` prints it)
//	GET  /api/v1/map.png         the IPv4 Hilbert map of a view, highlighting a query
//	GET  /api/v1/map/legend      the map's colours
//	GET  /api/v1/map/block       the block under a pixel of a view (click to zoom)
//	GET  /api/v1/openapi.json    the OpenAPI 3 description of all of this
//	GET  /metrics /healthz /readyz   telemetry, from a handler the caller passes
//	GET  /                       the page (files embedded in the binary)
//
// The handlers read through small interfaces (Store, StatusReader) that
// *store.Store and the coordinator's status provide; the package writes no
// SQL, and the analytics endpoints call package analytics, as the commands
// do. Every read is bounded: a page size, ClickHouse's max_execution_time
// and max_rows_to_read, a request body limit, and the rows of a result
// (Config.MaxResultRows). Errors are JSON objects
// {"error": "…"}; a bad query adds "position" and "expected".
package api
