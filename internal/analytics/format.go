package analytics

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats are the output formats of lookups and diffs.
var Formats = []string{"table", "json", "csv"}

// multiWriter is the output of a table, json or csv writer: exactly one
// of enc, cw and tw is set. All of them write to w, a buffer of the
// output that flush empties (a table cell or a JSON object a write call
// otherwise).
type multiWriter struct {
	format string
	w      *bufio.Writer
	enc    *json.Encoder
	cw     *csv.Writer
	tw     *tabwriter.Writer
}

// newMultiWriter starts an output in format, writing the csv header or the
// table's column titles.
func newMultiWriter(w io.Writer, format string, columns []string) (multiWriter, error) {
	m := multiWriter{format: format, w: bufio.NewWriter(w)}
	switch format {
	case "json":
		m.enc = json.NewEncoder(m.w)
		m.enc.SetEscapeHTML(false)
	case "csv":
		m.cw = csv.NewWriter(m.w)
		if err := m.cw.Write(columns); err != nil {
			return m, err
		}
	case "table":
		m.tw = tabwriter.NewWriter(m.w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(m.tw, strings.ToUpper(strings.ReplaceAll(strings.Join(columns, "\t"), "_", " ")))
	default:
		return m, fmt.Errorf("--format %q: want table, json or csv", format)
	}
	return m, nil
}

// row writes one csv record or one table line.
func (m multiWriter) row(fields ...string) error {
	if m.cw != nil {
		return m.cw.Write(fields)
	}
	_, err := fmt.Fprintln(m.tw, strings.Join(fields, "\t"))
	return err
}

// flushRows ends the csv or table rows.
func (m multiWriter) flushRows() error {
	switch {
	case m.cw != nil:
		m.cw.Flush()
		return m.cw.Error()
	case m.tw != nil:
		return m.tw.Flush()
	}
	return nil
}

// flush ends the rows and writes out what is buffered.
func (m multiWriter) flush() error {
	if err := m.flushRows(); err != nil {
		return err
	}
	return m.w.Flush()
}

// buffered runs write on a buffer of w and writes the buffer out: a table
// cell or a JSON object would be a write call of its own otherwise.
func buffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriter(w)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}
