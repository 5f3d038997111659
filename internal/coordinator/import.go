package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ptrsweep/ptrsweep/internal/ingest"
	"github.com/ptrsweep/ptrsweep/internal/store"
	"github.com/ptrsweep/ptrsweep/internal/sweep"
	"github.com/ptrsweep/ptrsweep/internal/worker"
)

// importInserters is the number of blocks an import inserts at once.
const importInserters = 2

// importUnit is the unit of every imported row and of the import's unit
// record: an import has no sweep units.
const importUnit = "import"

// ImportConfig configures Import.
type ImportConfig struct {
	ClickHouse string
	// Scan is the new scan's name (sweep.ValidateScanName).
	Scan string
	// Format is the input's format.
	Format ingest.Format
	// File is the input file, plain or gzip.
	File string
	// Batch is the number of rows per INSERT; zero is ingest.DefaultBatch.
	Batch int
}

// ImportSummary says what an import stored.
type ImportSummary struct {
	Stats   ingest.Stats
	Counts  sweep.Counts
	Elapsed time.Duration
}

// Print writes the summary.
func (s ImportSummary) Print(w io.Writer, scan, file string) {
	rate := float64(s.Stats.Rows) / max(s.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "scan %s: imported %d rows (%d addresses) from %s in %.2fs, %.0f rows/s\n",
		scan, s.Stats.Rows, s.Counts.Addresses(), file, s.Elapsed.Seconds(), rate)
	fmt.Fprintf(w, "  outcomes: %s\n", s.Counts)
	if len(s.Stats.Skipped) > 0 {
		reasons := make([]string, 0, len(s.Stats.Skipped))
		for r, n := range s.Stats.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "  lines skipped (no IPv4 PTR data): %s\n", strings.Join(reasons, " "))
	}
}

// blockInserter stores blocks of rows as one INSERT (store.RowInserter).
type blockInserter interface {
	Insert(b *store.RowBlock) error
	Close() error
}

// importStore is what an import writes.
type importStore interface {
	scanReader
	scanSaver
	InsertUnits(ctx context.Context, recs []sweep.UnitRecord) error
}

// Import loads another tool's reverse-DNS file into a new scan: its rows,
// then a unit record and the scan record, so status, search, export,
// lookup, fleets and diff see it like a sweep. Parsing, preparing blocks
// and inserting them run in goroutines of their own (see importRows). massdns text output has
// no times: its rows get the file's modification time. A malformed line
// stops the import with an error naming it (rows of earlier batches stay
// stored; the scan record is written only after the last row).
func Import(ctx context.Context, cfg ImportConfig, out io.Writer) error {
	if err := sweep.ValidateScanName(cfg.Scan); err != nil {
		return err
	}
	f, err := os.Open(cfg.File)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	r, err := ingest.Open(f)
	if err != nil {
		return fmt.Errorf("import %s: %w", cfg.File, err)
	}
	st, err := store.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer st.Close()
	// The rows get the asn and country of the newest stored IP-to-ASN
	// table: the routing when imported, not when the other tool resolved.
	routes := worker.NewRoutes(st, nil)
	if err := routes.Refresh(ctx); err != nil {
		return fmt.Errorf("import: load the IP-to-ASN table: %w", err)
	}
	inserter := func(ctx context.Context) (blockInserter, error) { return st.NewRowInserter(ctx) }
	sum, err := importRows(ctx, st, inserter, min(importInserters, st.MaxConns()), cfg, r, fi.ModTime().UTC().Truncate(time.Second), routes)
	if err != nil {
		return err
	}
	sum.Print(out, cfg.Scan, cfg.File)
	if v, ok := routes.Version(); ok {
		fmt.Fprintf(out, "  asn and country from the IP-to-ASN table of %s\n", v.Version.Format(time.DateOnly))
	} else {
		fmt.Fprintln(out, "  no IP-to-ASN table stored: asn 0 and country '' (coordinator asn load FILE, before importing)")
	}
	return nil
}

// importRows checks that the scan is new, stores the rows of r through
// inserters (at least one) that inserter starts, then the unit and scan
// records. route (nil: none) fills each row's asn and country.
func importRows(ctx context.Context, st importStore, inserter func(context.Context) (blockInserter, error), inserters int, cfg ImportConfig, r io.Reader, fileTime time.Time, route worker.Router) (ImportSummary, error) {
	start := time.Now()
	if _, err := st.Scan(ctx, cfg.Scan); err == nil {
		return ImportSummary{}, fmt.Errorf("%w: scan %q already exists in %s: import into a new --scan name", ErrScanExists, cfg.Scan, st.Database())
	} else if !errors.Is(err, store.ErrScanNotFound) {
		return ImportSummary{}, err
	}
	batch := cfg.Batch
	if batch <= 0 {
		batch = ingest.DefaultBatch
	}
	opts := ingest.Options{Format: cfg.Format, Scan: cfg.Scan, Unit: importUnit, Name: cfg.File, Time: fileTime, Batch: batch}

	// Three stages in their own goroutines: the decoder parses lines into
	// batches of rows and counts them; the preparer fills their routing
	// and puts each batch into a block of columns (store.RowBlock);
	// inserters goroutines insert blocks, each as the data blocks of
	// one INSERT on its own connection, so the server stores blocks while
	// the next ones are prepared and sent. Batches and
	// blocks go round through free lists. Shutdown: the first error
	// cancels ctx, which stops the decoder at its next batch; each stage
	// drains its input until the stage before it closes it; then Wait.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	freeRows := make(chan []sweep.Row, 3)
	for range cap(freeRows) {
		freeRows <- make([]sweep.Row, 0, batch)
	}
	inserters = max(inserters, 1)
	freeBlocks := make(chan *store.RowBlock, inserters+1)
	for range cap(freeBlocks) {
		freeBlocks <- &store.RowBlock{}
	}
	rowsCh := make(chan []sweep.Row, 1)
	blocks := make(chan *store.RowBlock)
	var (
		wg      sync.WaitGroup
		stats   ingest.Stats
		decErr  error
		counts  importCounts
		mu      sync.Mutex // guards stageEr and nInsert
		stageEr error
		nInsert int
	)
	fail := func(err error) {
		mu.Lock()
		if stageEr == nil {
			stageEr = err
		}
		mu.Unlock()
		cancel()
	}
	wg.Go(func() {
		defer close(rowsCh)
		stats, decErr = ingest.Decode(ctx, r, opts, func(rows []sweep.Row) error {
			counts.add(rows)
			select {
			case buf := <-freeRows:
				select {
				case rowsCh <- append(buf[:0], rows...):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	wg.Go(func() {
		defer close(blocks)
		for rows := range rowsCh {
			var b *store.RowBlock
			select {
			case b = <-freeBlocks:
			case <-ctx.Done():
				continue // drain
			}
			worker.FillRoutes(rows, route)
			err := b.Reset(rows, false) // the server sorts what it squashes
			freeRows <- rows
			if err != nil {
				fail(fmt.Errorf("import %s into scan %s: %w", cfg.File, cfg.Scan, err))
				continue
			}
			select {
			case blocks <- b:
			case <-ctx.Done():
			}
		}
	})
	for range inserters {
		wg.Go(func() {
			ins, err := inserter(ctx)
			if err != nil {
				fail(fmt.Errorf("import %s into scan %s: %w", cfg.File, cfg.Scan, err))
			}
			n := 0
			for b := range blocks {
				if ctx.Err() == nil {
					if err := ins.Insert(b); err != nil {
						fail(fmt.Errorf("import %s into scan %s: %w", cfg.File, cfg.Scan, err))
					}
					n += b.Len()
				}
				freeBlocks <- b
			}
			if ins == nil {
				return
			}
			if err := ins.Close(); err != nil {
				fail(fmt.Errorf("import %s into scan %s: %w", cfg.File, cfg.Scan, err))
				return
			}
			mu.Lock()
			nInsert += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if stageEr != nil {
		return ImportSummary{}, stageEr
	}
	if decErr != nil {
		return ImportSummary{}, fmt.Errorf("import into scan %s (%d rows stored before it, no scan record written): %w", cfg.Scan, nInsert, decErr)
	}
	now := time.Now().UTC()
	unit := sweep.UnitRecord{Scan: cfg.Scan, Unit: importUnit, State: sweep.UnitDone, Counts: counts.Counts, Rows: clampRows(stats.Rows),
		Worker: "import", Attempt: 1, StartedAt: start.UTC(), FinishedAt: now}
	if err := st.InsertUnits(ctx, []sweep.UnitRecord{unit}); err != nil {
		return ImportSummary{}, err
	}
	rec := sweep.ScanRecord{Name: cfg.Scan, CIDRs: []string{fmt.Sprintf("import:%s:%s", cfg.Format, filepath.Base(cfg.File))},
		Units: 1, Addresses: uint64(counts.Addresses()), CreatedAt: now}
	if err := st.SaveScan(ctx, rec); err != nil {
		return ImportSummary{}, err
	}
	return ImportSummary{Stats: stats, Counts: counts.Counts, Elapsed: time.Since(start)}, nil
}

// importCounts counts the outcomes of imported rows; an address's PTRs
// come on consecutive lines.
type importCounts struct {
	sweep.Counts
	prevIP netip.Addr
	okSeen bool // prevIP has an ok row counted
}

func (c *importCounts) add(rows []sweep.Row) {
	for i := range rows {
		row := &rows[i]
		if row.IP != c.prevIP {
			c.prevIP, c.okSeen = row.IP, false
		}
		switch row.Status {
		case sweep.StatusOK:
			c.PTRs++
			if !c.okSeen {
				c.OK++
				c.okSeen = true
			}
		case sweep.StatusNoData:
			c.NoData++
		case sweep.StatusServFail:
			c.ServFail++
		case sweep.StatusRefused:
			c.Refused++
		case sweep.StatusTimeout:
			c.Timeout++
		}
	}
}

// clampRows narrows a row count to the unit log's UInt32.
func clampRows(n int) uint32 { return uint32(min(n, int(^uint32(0)))) }
