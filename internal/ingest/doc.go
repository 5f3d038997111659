// Package ingest reads other tools' reverse-DNS output into ptrsweep rows:
// Project Sonar's rDNS files, ptrsweep's own JSONL export, massdns (text
// -o S/Snr, or -o J) and zdns PTR output, plain or gzip-compressed. It is
// pure (no ClickHouse): Decode hands batches of rows to a callback, and
// `coordinator import` stores them.
//
// Flat JSON lines (Sonar, JSONL) go through a small scanner that reads
// string and number fields without reflection; nested ones (zdns, massdns
// -o J) through encoding/json.
package ingest
