package coordinator

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/enrich"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// ASNLoadConfig configures ASNLoad.
type ASNLoadConfig struct {
	ClickHouse string
	// File is the IP-to-ASN file (plain, gzip or bzip2).
	File string
	// Format is auto (or ""), pfx2as, ip2asn, mmdb or location.
	Format enrich.Format
	// Version is the date the table is stored under; zero takes the date
	// the file states (or its name's yyyymmdd).
	Version time.Time
}

// asnStore saves and lists IP-to-ASN table versions.
type asnStore interface {
	SaveASNTable(ctx context.Context, version time.Time, source, format string, t *enrich.Table) error
	ASNVersions(ctx context.Context) ([]store.ASNVersion, error)
}

// ParseASNVersion parses a --version date (YYYY-MM-DD); "" is the zero time.
func ParseASNVersion(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--version %q: want a date YYYY-MM-DD", s)
	}
	return t, nil
}

// ASNLoad reads an IP-to-ASN file and stores it in ClickHouse as the
// version of its date, printing what it read. A file error wraps
// enrich.ErrFormat or enrich.ErrUnknownFormat; a missing date is
// ErrNoASNVersion.
func ASNLoad(ctx context.Context, cfg ASNLoadConfig, out io.Writer) error {
	t, stats, err := enrich.LoadFile(cfg.File, cfg.Format)
	if err != nil {
		return err
	}
	version := cfg.Version
	if version.IsZero() {
		version = stats.Date
	}
	if version.IsZero() {
		return fmt.Errorf("%s: %w", cfg.File, ErrNoASNVersion)
	}
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	return asnSave(ctx, st, cfg, version, t, stats, out)
}

// asnSave stores a loaded table and reports it.
func asnSave(ctx context.Context, st asnStore, cfg ASNLoadConfig, version time.Time, t *enrich.Table, stats enrich.Stats, out io.Writer) error {
	format := string(cfg.Format)
	if format == "" {
		format = "auto"
	}
	start := time.Now()
	if err := st.SaveASNTable(ctx, version, cfg.File, format, t); err != nil {
		return err
	}
	fmt.Fprintf(out, "IP-to-ASN table %s from %s: %d networks, %d ranges, %d AS names (%d IPv6 and %d unrouted entries skipped), stored in %.1fs\n",
		version.UTC().Format(time.DateOnly), cfg.File, stats.Networks, t.Len(), t.ASNames(), stats.SkippedIPv6, stats.Unrouted, time.Since(start).Seconds())
	return nil
}

// ASNList prints the stored versions of the IP-to-ASN table, newest first.
func ASNList(ctx context.Context, clickhouse string, out io.Writer) error {
	return withStore(ctx, clickhouse, func(st *store.Store) error { return asnList(ctx, st, out) })
}

func asnList(ctx context.Context, st asnStore, out io.Writer) error {
	vs, err := st.ASNVersions(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(out, "no IP-to-ASN table stored: load one with `coordinator asn load FILE`")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tRANGES\tFORMAT\tLOADED\tSOURCE")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", v.Version.Format(time.DateOnly), v.Ranges, v.Format, v.LoadedAt.Format(time.RFC3339), v.Source)
	}
	return tw.Flush()
}
