package main

import (
	"flag"

	"github.com/ptrsweep/ptrsweep/internal/analytics"
	"github.com/ptrsweep/ptrsweep/internal/cli"
	"github.com/ptrsweep/ptrsweep/internal/store"
)

// filterFlags are --status and --fcrdns (search, lookup, export).
type filterFlags struct{ status, fcrdns string }

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.status, "status", "", "only rows with these outcomes, comma-separated: ok, nodata, servfail, refused, timeout")
	fs.StringVar(&f.fcrdns, "fcrdns", "", "only rows with these forward-confirmation outcomes, comma-separated: confirmed, mismatch, no_address, error, numeric, none")
}

// filter parses the flags; a bad value is a usage error.
func (f *filterFlags) filter() (analytics.Filter, error) {
	flt, err := analytics.ParseFilter(f.status, f.fcrdns)
	if err != nil {
		return flt, cli.UsageError{Err: err}
	}
	return flt, nil
}

// checkSuffix checks an optional --suffix; a bad one is a usage error.
func checkSuffix(suffix string) error {
	if suffix == "" {
		return nil
	}
	if _, err := store.NormalizeSuffix(suffix); err != nil {
		return cli.Usagef("--suffix: %v", err)
	}
	return nil
}
