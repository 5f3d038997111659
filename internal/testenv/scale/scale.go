// Package scale is `make scale`: it fills a fresh ClickHouse database with
// synthetic rows through ClickHouse itself (INSERT … SELECT from
// numbers(), with Internet-like names, a scanner fleet and two scans) and
// times the commands users run against it, through the built coordinator
// binary. SQL goes through clickhouse-client (the harness imports no
// ClickHouse client of its own). It is part of the test harness.
package scale

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config configures Run.
type Config struct {
	// Bin holds the built coordinator binary.
	Bin string
	// Addr is the ClickHouse server's native host:port.
	Addr string
	// Rows is the number of ptr rows to generate (two scans share them).
	Rows uint64
	// ASNFile is an IP-to-ASN file for `coordinator asn load` (e.g. the
	// output of `location dump`); empty skips the grouping by provider.
	ASNFile string
	// Keep leaves the database in place.
	Keep bool
	// Repeats is how many times each read command runs; its result is
	// the run of the median slowest query (default 1).
	Repeats int
	// Log receives progress lines.
	Log io.Writer
}

// Result is one measured command.
type Result struct {
	What    string
	Command string
	// Elapsed is the wall time, process start included.
	Elapsed time.Duration
	// Server is the server time of the command's queries, from
	// system.query_log (the coordinator runs with log_queries=true), and
	// Queries their number; Slowest is the longest of them and
	// SlowestSQL its start. Zero for steps that are not coordinator
	// commands.
	Server, Slowest time.Duration
	Queries         int
	SlowestSQL      string
	// Rows is the number of rows the command moved (export, import), 0
	// when it is not a throughput measurement.
	Rows uint64
	Note string
}

// Fleet is the suffix of the synthetic scanner fleet: every 500th
// address, 100,000 addresses in each scan at 100M rows.
const Fleet = "security.ipip.net"

// SmallFleet is the suffix of a small fleet for the suffix-search goal:
// every 500,000th address, 100 in each scan at 100M rows.
const SmallFleet = "census.ipip.net"

// fleetEvery and smallEvery space the fleets' addresses (see fillPtr).
const (
	fleetEvery = 500
	smallEvery = 500_000
)

// Run creates the database, fills it, times the commands and drops the
// database unless cfg.Keep. It returns the measurements and the bytes a
// row takes on disk in ptr and in ptr_by_ip.
func Run(ctx context.Context, cfg Config) ([]Result, map[string]float64, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	db := "ptrsweep_scale_" + hex.EncodeToString(b[:])
	dsn := "clickhouse://" + cfg.Addr + "/" + db
	h := harness{cfg: cfg, db: db, dsn: dsn}
	defer func() {
		if !cfg.Keep {
			_ = h.sql(context.Background(), "DROP DATABASE IF EXISTS "+db)
		}
	}()
	var res []Result
	step := func(r Result, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(cfg.Log, "%-40s %8.3fs  server %8.3fs in %d queries, slowest %.3fs  %s\n", r.What, r.Elapsed.Seconds(), r.Server.Seconds(), r.Queries, r.Slowest.Seconds(), r.Note)
		res = append(res, r)
		return nil
	}
	// the schema, through the coordinator (asn list opens the store)
	if _, err := h.coordinator(ctx, "asn", "list"); err != nil {
		return nil, nil, err
	}
	if err := step(h.timedSQL(ctx, fmt.Sprintf("fill ptr with %d rows (INSERT … SELECT)", cfg.Rows), fillPtr(cfg.Rows), cfg.Rows)); err != nil {
		return nil, nil, err
	}
	if err := h.sql(ctx, fillUnits(cfg.Rows)); err != nil {
		return nil, nil, err
	}
	if err := h.sql(ctx, fillScans()); err != nil {
		return nil, nil, err
	}
	if cfg.ASNFile != "" {
		if err := step(h.timed(ctx, "asn load", 0, "asn", "load", cfg.ASNFile)); err != nil {
			return nil, nil, err
		}
	}
	fleetIP, err := h.scalar(ctx, "SELECT IPv4NumToString(ip) FROM ptr WHERE rname >= 'net.ipip.census.' AND rname < 'net.ipip.census/' LIMIT 1")
	if err != nil {
		return nil, nil, err
	}
	block := strings.Join(strings.Split(fleetIP, ".")[:2], ".") + ".0.0/16"
	runs := []struct {
		what string
		args []string
	}{
		{"suffix search (ips)", []string{"search", "--suffix", SmallFleet, "--scan", "big-a", "--format", "ips"}},
		{"suffix search of the big fleet (ips)", []string{"search", "--suffix", Fleet, "--scan", "big-a", "--format", "ips"}},
		{"one address (lookup)", []string{"lookup", fleetIP}},
		{"one /16 (lookup, csv)", []string{"lookup", block, "--format", "csv"}},
		{"outcome counts of a scan (status)", []string{"status", "--scan", "big-a"}},
		{"fleet by provider (search --group asn)", []string{"search", "--suffix", Fleet, "--scan", "big-a", "--group", "asn"}},
		{"fleets of a suffix", []string{"fleets", "--suffix", Fleet, "--scan", "big-a"}},
		{"diff of the fleet between two scans", []string{"diff", "--from", "big-a", "--to", "big-b", "--suffix", Fleet}},
	}
	for _, r := range runs {
		if r.what == "fleet by provider (search --group asn)" && cfg.ASNFile == "" {
			continue
		}
		if err := step(h.median(ctx, max(cfg.Repeats, 1), r.what, r.args...)); err != nil {
			return nil, nil, err
		}
	}
	// export of one scan, and an import of what it wrote
	out := filepath.Join(os.TempDir(), db+".jsonl")
	defer os.Remove(out)
	exp, err := h.timedTo(ctx, out, "export --scan big-a (jsonl)", "export", "--scan", "big-a")
	if err != nil {
		return nil, nil, err
	}
	exp.Rows = cfg.Rows / 2
	if err := step(exp, nil); err != nil {
		return nil, nil, err
	}
	head := out + ".head"
	defer os.Remove(head)
	n, err := headLines(out, head, importRows)
	if err != nil {
		return nil, nil, err
	}
	if err := step(h.timed(ctx, fmt.Sprintf("import of %d exported rows (jsonl)", n), n, "import", "--scan", "big-c", "--format", "jsonl", head)); err != nil {
		return nil, nil, err
	}
	sizes := map[string]float64{}
	for _, table := range []string{"ptr", "ptr_by_ip"} {
		v, err := h.scalar(ctx, "SELECT toString(sum(bytes_on_disk) / sum(rows)) FROM system.parts WHERE database = currentDatabase() AND table = '"+table+"' AND active")
		if err != nil {
			return nil, nil, err
		}
		f, _ := strconv.ParseFloat(v, 64)
		sizes[table] = f
	}
	return res, sizes, nil
}

// importRows bounds the rows imported back: enough for a rate.
const importRows = 2_000_000

// headLines copies the first n lines of src to dst and returns how many
// it copied.
func headLines(src, dst string, n uint64) (uint64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	br := bufio.NewReaderSize(in, 1<<20)
	bw := bufio.NewWriterSize(out, 1<<20)
	var copied uint64
	for copied < n {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if _, werr := bw.Write(line); werr != nil {
				return copied, werr
			}
			copied++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return copied, err
		}
	}
	return copied, bw.Flush()
}

// fillPtr generates rows: two scans over the same addresses (rows 2k and
// 2k+1 are one address in scans big-a and big-b); every 500th address is
// a fleet host scan-N.security.ipip.net, every 500,000th instead
// probe-N.census.ipip.net, the others have templated ISP
// names over 1000 domains; one in 20 addresses answers nodata, one in 50
// times out; in big-b one fleet address in 7 is renamed.
func fillPtr(rows uint64) string {
	return fmt.Sprintf(`INSERT INTO ptr (scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at)
SELECT scan, if(ptr = '', '', rname) AS rname, ip, ptr, status, 3600, if(ptr = '', '', 'confirmed'), unit, resolved_at
FROM
(
    SELECT
        intDiv(number, 2) AS n,
        if(number %% 2 = 0, 'big-a', 'big-b') AS scan,
        intHash32(n) AS ip,
        n %% %[3]d = 0 AS fleet,
        n %% %[4]d = 0 AS small,
        fleet AND NOT small AND scan = 'big-b' AND n %% (7 * %[3]d) = 0 AS renamed,
        multiIf(small, concat('probe-', toString(n), '.%[5]s'),
                fleet, concat(if(renamed, 'renamed-', 'scan-'), toString(n), '.%[2]s'),
                n %% 20 = 1 OR n %% 50 = 3, '',
                concat(replaceAll(IPv4NumToString(ip), '.', '-'), '.dyn.isp', toString(n %% 1000), '.example.net')) AS ptr,
        multiIf(small, concat('net.ipip.census.probe-', toString(n)),
                fleet, concat('net.ipip.security.', if(renamed, 'renamed-', 'scan-'), toString(n)),
                concat('net.example.isp', toString(n %% 1000), '.dyn.', replaceAll(IPv4NumToString(ip), '.', '-'))) AS rname,
        multiIf(ptr != '', 'ok', n %% 50 = 3, 'timeout', 'nodata') AS status,
        concat(IPv4NumToString(bitAnd(ip, 4294967040)), '/24') AS unit,
        toDateTime('2026-11-01 00:00:00') + if(scan = 'big-a', 0, 86400) + intDiv(n, 100000) AS resolved_at
    FROM numbers(%[1]d)
)`, rows, Fleet, fleetEvery, smallEvery, SmallFleet)
}

// fillUnits writes the unit log of both scans: one record per 256 rows of
// a scan, with outcome counts that add up like a sweep's.
func fillUnits(rows uint64) string {
	return fmt.Sprintf(`INSERT INTO units (scan, unit, seq, state, addresses, ok, nxdomain, nodata, servfail, refused, timeout, ptrs, pruned, queries, rows, worker, attempt, error, started_at, finished_at)
SELECT if(number %% 2 = 0, 'big-a', 'big-b'), concat('u', toString(intDiv(number, 2))), toUInt32(intDiv(number, 2)), 'done',
       256, 243, 0, 8, 0, 0, 5, 243, 0, 256, 256, 'scale', 1, '',
       toDateTime('2026-11-01 00:00:00'), toDateTime('2026-11-01 00:00:00') + 600
FROM numbers(%d)`, 2*(rows/2/256))
}

func fillScans() string {
	return `INSERT INTO scans (name, cidrs, excludes, allow_reserved, unit_prefix, units, addresses, confirm, no_prune, created_at)
SELECT scan, ['0.0.0.0/0'], [], 0, 24, toUInt64(count()), toUInt64(sum(addresses)), 1, 0, toDateTime('2026-11-01 00:00:00')
FROM units GROUP BY scan`
}

type harness struct {
	cfg     Config
	db, dsn string
}

// sql runs one statement through clickhouse-client.
func (h harness) sql(ctx context.Context, q string) error {
	_, err := h.client(ctx, q)
	return err
}

func (h harness) scalar(ctx context.Context, q string) (string, error) {
	out, err := h.client(ctx, q)
	return strings.TrimSpace(out), err
}

// client runs one query through clickhouse-client. When ctx ends first,
// the client is killed and the query is killed on the server too (a
// server goes on with an INSERT … SELECT whose client is gone).
func (h harness) client(ctx context.Context, q string) (string, error) {
	host, port, _ := strings.Cut(h.cfg.Addr, ":")
	var id [8]byte
	_, _ = rand.Read(id[:])
	queryID := "ptrscale-" + hex.EncodeToString(id[:])
	args := []string{"--host", host, "--port", port, "--query_id", queryID, "--query", q}
	if !strings.HasPrefix(q, "DROP DATABASE") && !strings.HasPrefix(q, "KILL QUERY") {
		args = append(args, "--database", h.db)
	}
	cmd := exec.CommandContext(ctx, "clickhouse-client", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			kctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = h.sql(kctx, "KILL QUERY WHERE query_id = '"+queryID+"' SYNC")
		}
		return "", fmt.Errorf("clickhouse-client %.60q…: %w: %s", q, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (h harness) timedSQL(ctx context.Context, what, q string, rows uint64) (Result, error) {
	start := time.Now()
	err := h.sql(ctx, q)
	return Result{What: what, Command: "clickhouse-client --query 'INSERT INTO ptr … SELECT … FROM numbers(N)'", Elapsed: time.Since(start), Rows: rows}, err
}

// coordinator runs the coordinator binary against the database, its
// queries logged in system.query_log.
func (h harness) coordinator(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(h.cfg.Bin, "coordinator"), append(args, "--clickhouse", h.dsn+"?log_queries=true")...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("coordinator %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (h harness) timed(ctx context.Context, what string, rows uint64, args ...string) (Result, error) {
	var out string
	r, err := h.serverTimed(ctx, func() error {
		var err error
		out, err = h.coordinator(ctx, args...)
		return err
	})
	r.What, r.Command, r.Rows = what, "coordinator "+strings.Join(args, " "), rows
	if err == nil {
		r.Note = fmt.Sprintf("%d lines out", strings.Count(out, "\n"))
	}
	return r, err
}

// median runs a read command n times and returns the run whose slowest
// query is the median of the runs' (the lower middle one for an even n),
// noting n.
func (h harness) median(ctx context.Context, n int, what string, args ...string) (Result, error) {
	var rs []Result
	for range n {
		r, err := h.timed(ctx, what, 0, args...)
		if err != nil {
			return r, err
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b Result) int { return cmp.Compare(a.Slowest, b.Slowest) })
	r := rs[(n-1)/2]
	if n > 1 {
		r.Note += fmt.Sprintf(", median of %d runs (slowest query %.3f–%.3f s)", n, rs[0].Slowest.Seconds(), rs[n-1].Slowest.Seconds())
	}
	return r, nil
}

// serverTimed runs one coordinator command and reads the server time of
// its queries from system.query_log: those of a ptrsweep client of the
// harness's database (the client name says which) that started in the
// seconds the command ran (query_log has whole seconds and, on 18.16, no
// database column), so it waits for the next second before and after.
func (h harness) serverTimed(ctx context.Context, run func() error) (Result, error) {
	nextSecond := func() {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	}
	nextSecond()
	from := time.Now().Unix()
	start := time.Now()
	err := run()
	r := Result{Elapsed: time.Since(start)}
	if err != nil {
		return r, err
	}
	to := time.Now().Unix()
	nextSecond()
	if err := h.sql(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		return r, err
	}
	out, err := h.scalar(ctx, fmt.Sprintf(`SELECT count(), sum(query_duration_ms), max(query_duration_ms),
       replaceRegexpAll(substring(argMax(query, query_duration_ms), 1, 70), '\\s+', ' ')
FROM system.query_log
WHERE type = 2 AND client_name LIKE 'ptrsweep/%% db/%s %%' AND query_start_time >= toDateTime(%d) AND query_start_time <= toDateTime(%d)
FORMAT TabSeparated`, h.db, from, to))
	if err != nil {
		return r, err
	}
	f := strings.SplitN(out, "\t", 4)
	if len(f) != 4 {
		return r, fmt.Errorf("query_log: unexpected answer %q", out)
	}
	n, _ := strconv.Atoi(f[0])
	sum, _ := strconv.ParseUint(f[1], 10, 64)
	slowest, _ := strconv.ParseUint(f[2], 10, 64)
	sqlText := strings.NewReplacer(`\'`, "'", `\\`, `\`).Replace(f[3]) // TabSeparated escapes
	r.Queries, r.Server, r.Slowest, r.SlowestSQL = n, time.Duration(sum)*time.Millisecond, time.Duration(slowest)*time.Millisecond, sqlText
	return r, nil
}

// timedTo runs a coordinator command with stdout to a file.
func (h harness) timedTo(ctx context.Context, file, what string, args ...string) (Result, error) {
	f, err := os.Create(file)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	r, err := h.serverTimed(ctx, func() error {
		cmd := exec.CommandContext(ctx, filepath.Join(h.cfg.Bin, "coordinator"), append(args, "--clickhouse", h.dsn+"?log_queries=true")...)
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = f, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("coordinator %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		return nil
	})
	r.What, r.Command = what, "coordinator "+strings.Join(args, " ")+" > FILE"
	return r, err
}

// Table writes the results as a markdown table.
func Table(w io.Writer, cfg Config, res []Result, sizes map[string]float64) {
	fmt.Fprintf(w, "%d synthetic rows (two scans), ClickHouse at %s\n\n", cfg.Rows, cfg.Addr)
	fmt.Fprintln(w, "| what | command | wall time (process included) | server time (queries) | slowest query | rows/s |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | --- | ---: |")
	for _, r := range res {
		rate := ""
		if r.Rows > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.Rows)/r.Elapsed.Seconds())
		}
		server, slowest := "", ""
		if r.Queries > 0 {
			server = fmt.Sprintf("%.3f s (%d)", r.Server.Seconds(), r.Queries)
			slowest = fmt.Sprintf("%.3f s `%s…`", r.Slowest.Seconds(), strings.ReplaceAll(r.SlowestSQL, "`", "'"))
		}
		fmt.Fprintf(w, "| %s | `%s` | %.3f s | %s | %s | %s |\n", r.What, r.Command, r.Elapsed.Seconds(), server, slowest, rate)
	}
	fmt.Fprintf(w, "\nbytes a row on disk: ptr %.1f, ptr_by_ip %.1f\n", sizes["ptr"], sizes["ptr_by_ip"])
}
