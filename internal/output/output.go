// Package output writes stored rows in ptrsweep's output formats: JSON lines,
// Project Sonar rDNS lines, massdns's plain-text answers, CSV, an aligned
// table and a bare address list. Writers buffer (the table also aligns its
// columns): call Flush once when done. None is safe for concurrent use.
package output

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// RowWriter writes rows in one format.
type RowWriter interface {
	Write(sweep.Row) error
	// Flush writes what is buffered; call it once at the end.
	Flush() error
}

// JSONRow is the JSON form of a row, one object per line (JSONL). FCrDNS is
// left out when forward confirmation was not asked for.
type JSONRow struct {
	IP         string `json:"ip"`
	PTR        string `json:"ptr"`
	Status     string `json:"status"`
	TTL        uint32 `json:"ttl"`
	Scan       string `json:"scan"`
	ResolvedAt string `json:"resolved_at"`
	FCrDNS     string `json:"fcrdns,omitempty"`
}

// ToJSON returns the JSON form of r.
func ToJSON(r sweep.Row) JSONRow {
	return JSONRow{IP: r.IP.String(), PTR: r.PTR, Status: r.Status.String(), TTL: r.TTL, Scan: r.Scan,
		ResolvedAt: r.ResolvedAt.UTC().Format(time.RFC3339), FCrDNS: r.FCrDNS.String()}
}

// Streaming lists the formats whose writers write each row as it comes, in
// any order and in constant memory (table aligns the whole output, ips
// needs rows sorted by address): the formats of worker resolve.
var Streaming = []string{"jsonl", "sonar", "massdns"}

// NewWriter returns the writer for a format: jsonl (or json), sonar,
// massdns, csv, table or ips. Unknown formats are an error naming the
// choices.
func NewWriter(w io.Writer, format string) (RowWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "jsonl", "json":
		return &jsonWriter{bw: bw}, nil
	case "sonar":
		return &sonarWriter{bw: bw}, nil
	case "csv":
		cw := csv.NewWriter(bw)
		return &csvWriter{bw: bw, cw: cw}, nil
	case "table":
		return &tableWriter{bw: bw, tw: tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)}, nil
	case "ips":
		return &ipsWriter{bw: bw}, nil
	case "massdns":
		return &massdnsWriter{bw: bw}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want jsonl, sonar, massdns, csv, table or ips)", format)
}

type jsonWriter struct {
	bw    *bufio.Writer
	buf   []byte
	times timeCache
}

func (j *jsonWriter) Write(r sweep.Row) error {
	j.buf = j.times.appendJSONRow(j.buf[:0], r)
	_, err := j.bw.Write(j.buf)
	return err
}
func (j *jsonWriter) Flush() error { return j.bw.Flush() }

// sonarWriter writes Project Sonar's rDNS format; only rows with a PTR.
type sonarWriter struct {
	bw  *bufio.Writer
	buf []byte
}

func (s *sonarWriter) Write(r sweep.Row) error {
	if r.Status != sweep.StatusOK {
		return nil
	}
	s.buf = appendSonarRow(s.buf[:0], r)
	_, err := s.bw.Write(s.buf)
	return err
}
func (s *sonarWriter) Flush() error { return s.bw.Flush() }

// massdnsWriter writes what massdns -o Snr writes for PTR answers: one line
// per PTR, "7.100.51.198.in-addr.arpa. PTR name.", names in presentation
// form with their trailing dot. Like massdns, it writes answers only: rows
// of nodata, servfail, refused or timeout give no line.
type massdnsWriter struct {
	bw  *bufio.Writer
	buf []byte
}

func (m *massdnsWriter) Write(r sweep.Row) error {
	if r.Status != sweep.StatusOK {
		return nil
	}
	b := sweep.AppendReverseName(m.buf[:0], r.IP)
	b = append(b, " PTR "...)
	b = append(b, r.PTR...)
	if r.PTR != "." {
		b = append(b, '.')
	}
	m.buf = append(b, '\n')
	_, err := m.bw.Write(m.buf)
	return err
}
func (m *massdnsWriter) Flush() error { return m.bw.Flush() }

type csvWriter struct {
	bw     *bufio.Writer
	cw     *csv.Writer
	header bool
}

func (c *csvWriter) Write(r sweep.Row) error {
	if !c.header {
		c.header = true
		if err := c.cw.Write([]string{"ip", "ptr", "status", "ttl", "fcrdns", "scan", "resolved_at"}); err != nil {
			return err
		}
	}
	j := ToJSON(r)
	return c.cw.Write([]string{j.IP, j.PTR, j.Status, strconv.FormatUint(uint64(j.TTL), 10), j.FCrDNS, j.Scan, j.ResolvedAt})
}

func (c *csvWriter) Flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

type tableWriter struct {
	bw     *bufio.Writer
	tw     *tabwriter.Writer
	header bool
}

func (t *tableWriter) Write(r sweep.Row) error {
	if !t.header {
		t.header = true
		if _, err := fmt.Fprintln(t.tw, "IP\tPTR\tSTATUS\tTTL\tFCRDNS\tSCAN\tRESOLVED_AT"); err != nil {
			return err
		}
	}
	j := ToJSON(r)
	fc := j.FCrDNS
	if fc == "" {
		fc = "-"
	}
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.IP, j.PTR, j.Status, j.TTL, fc, j.Scan, j.ResolvedAt)
	return err
}

func (t *tableWriter) Flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	return t.bw.Flush()
}

// ipsWriter writes each address once; rows must come sorted by address.
type ipsWriter struct {
	bw   *bufio.Writer
	last string
}

func (i *ipsWriter) Write(r sweep.Row) error {
	ip := r.IP.String()
	if ip == i.last {
		return nil
	}
	i.last = ip
	_, err := fmt.Fprintln(i.bw, ip)
	return err
}
func (i *ipsWriter) Flush() error { return i.bw.Flush() }
