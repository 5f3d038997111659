package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// DefaultExportFormat is the format of an export without --format.
const DefaultExportFormat = "jsonl"

// ValidateExportFormat checks an export format (jsonl or sonar); its error
// names the flag and the choices.
func ValidateExportFormat(format string) error {
	switch format {
	case "jsonl", "sonar":
		return nil
	}
	return fmt.Errorf("--format %q: want jsonl or sonar", format)
}

// scanExporter streams every stored row of a scan, or those a filter
// selects.
type scanExporter interface {
	scanReader
	Export(ctx context.Context, scan string, emit func(sweep.Row) error) error
	ExportWhere(ctx context.Context, scan string, f store.RowFilter, emit func(sweep.Row) error) error
}

// Export writes every stored row of a scan in jsonl or sonar format.
// An empty format is DefaultExportFormat.
func Export(ctx context.Context, clickhouse, scan, format string, out io.Writer) error {
	return ExportFiltered(ctx, clickhouse, scan, format, analytics.Filter{}, out)
}

// ExportFiltered is Export of only the rows f selects.
func ExportFiltered(ctx context.Context, clickhouse, scan, format string, f analytics.Filter, out io.Writer) error {
	if format == "" {
		format = DefaultExportFormat
	}
	if err := ValidateExportFormat(format); err != nil {
		return err
	}
	return withStore(ctx, clickhouse, func(st *store.Store) error { return export(ctx, st, scan, format, f, out) })
}

// export checks that the scan exists, then writes the rows f selects;
// format is valid.
func export(ctx context.Context, st scanExporter, scan, format string, f analytics.Filter, out io.Writer) error {
	if err := checkScan(ctx, st, scan); err != nil {
		return err
	}
	return writeRows(out, format, func(emit func(sweep.Row) error) error {
		return st.ExportWhere(ctx, scan, rowFilter(f), emit)
	})
}

// checkScan returns an error naming the scan and the database when no scan
// has the name.
func checkScan(ctx context.Context, st scanReader, scan string) error {
	if _, err := st.Scan(ctx, scan); err != nil {
		if errors.Is(err, store.ErrScanNotFound) {
			return fmt.Errorf("scan %q not found in %s", scan, st.Database())
		}
		return err
	}
	return nil
}
