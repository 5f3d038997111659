package coordinator

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/ptrsweep/ptrsweep/internal/cidr"
	"github.com/ptrsweep/ptrsweep/internal/output"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// Search's output format and grouping choices.
const (
	// DefaultSearchFormat is the format of a search without --format.
	DefaultSearchFormat = "table"
	// GroupNetblock groups search results per /24 with merged CIDRs.
	GroupNetblock = "netblock"
)

// SearchConfig configures Search.
type SearchConfig struct {
	ClickHouse string
	Suffix     string
	Scan       string
	Format     string // ips, table (default), csv or json
	Group      string // "" or netblock
}

// Validate checks Format and Group; its errors name the flag and the
// choices. Search treats an empty Format as DefaultSearchFormat.
func (c SearchConfig) Validate() error {
	switch c.Format {
	case "ips", "table", "csv", "json":
	default:
		return fmt.Errorf("--format %q: want ips, table, csv or json", c.Format)
	}
	if c.Group != "" && c.Group != GroupNetblock {
		return fmt.Errorf("--group %q: want %s", c.Group, GroupNetblock)
	}
	return nil
}

// rowSearcher streams the stored rows a query selects.
type rowSearcher interface {
	Search(ctx context.Context, q store.Query, emit func(sweep.Row) error) error
}

// Search prints every stored PTR whose name is Suffix or ends in "."+Suffix.
func Search(ctx context.Context, cfg SearchConfig, out io.Writer) error {
	if cfg.Format == "" {
		cfg.Format = DefaultSearchFormat
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	return search(ctx, st, cfg, out)
}

// search writes the rows in cfg.Format, or their netblocks with
// cfg.Group; cfg is valid.
func search(ctx context.Context, st rowSearcher, cfg SearchConfig, out io.Writer) error {
	q := store.Query{Suffix: cfg.Suffix, Scan: cfg.Scan}
	if cfg.Group == GroupNetblock {
		var addrs []netip.Addr
		err := st.Search(ctx, q, func(r sweep.Row) error {
			if n := len(addrs); n == 0 || addrs[n-1] != r.IP {
				addrs = append(addrs, r.IP)
			}
			return nil
		})
		if err != nil {
			return err
		}
		printNetblocks(out, addrs)
		return nil
	}
	return writeRows(out, searchFormat(cfg.Format), func(emit func(sweep.Row) error) error {
		return st.Search(ctx, q, emit)
	})
}

// writeRows writes the rows that stream emits in format, then flushes.
func writeRows(out io.Writer, format string, stream func(emit func(sweep.Row) error) error) error {
	w, err := output.NewWriter(out, format)
	if err != nil {
		return err
	}
	if err := stream(w.Write); err != nil {
		return err
	}
	return w.Flush()
}

// searchFormat maps a search --format to the output package's name.
func searchFormat(f string) string {
	if f == "json" {
		return "jsonl"
	}
	return f
}

// printNetblocks prints per-/24 address counts and the merged CIDR list.
func printNetblocks(w io.Writer, addrs []netip.Addr) {
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)
	fmt.Fprintf(w, "%d addresses\n\nper /24:\n", len(addrs))
	for i := 0; i < len(addrs); {
		p, _ := addrs[i].Prefix(24)
		j := i
		for j < len(addrs) && p.Contains(addrs[j]) {
			j++
		}
		fmt.Fprintf(w, "  %-18s %d\n", p, j-i)
		i = j
	}
	fmt.Fprintf(w, "\nmerged CIDRs:\n")
	for _, p := range cidr.Merge(addrs) {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
