// Package analytics answers the analysts' questions over stored PTR rows:
// grouping addresses by routed netblock, provider (AS) and country,
// looking addresses up with their history across scans, finding fleets of
// templated names, and diffing two scans. It also filters rows by outcome
// and forward confirmation.
//
// Its functions take row streams and small interfaces (an Enricher for
// IP-to-ASN data, row sources declared next to each function), never a
// ClickHouse connection, so the command line (internal/coordinator) and
// an HTTP API call the same code. Result types carry JSON tags: their JSON
// form is the contract of `--format json`.
package analytics
