// Command coordinator plans ptrsweep scans, publishes their units to NATS
// JetStream, runs one-machine sweeps, and reads results back from ClickHouse.
//
//	coordinator sweep   --cidr 198.51.100.0/22 [flags]   plan, run workers in-process, wait, summarise
//	coordinator publish --cidr … --nats URL              plan a scan and feed its units to the queue until all are published
//	coordinator status  --scan NAME [--watch | --wait]   units done/pending/failed, rows, rate, ETA
//	coordinator retry   --scan NAME --nats URL           queue a scan's failed units again
//	coordinator search  --suffix DOMAIN [--scan NAME] [--format ips|table|csv|json] [--group netblock]
//	coordinator export  --scan NAME [--format jsonl|sonar] [--status S] [--fcrdns F]
//	coordinator asn     load FILE [--format …] [--version YYYY-MM-DD] | list
//	coordinator lookup  ADDRESS|CIDR [--scan NAME] [--format table|json|csv]
//	coordinator import  --scan NAME --format sonar|jsonl|massdns|zdns FILE[.gz]
//	coordinator fleets  [--scan NAME] [--suffix DOMAIN] [--min-addresses N] [--format table|json]
//	coordinator diff    --from SCAN --to SCAN [--suffix DOMAIN] [--format table|json|csv]
//	coordinator serve   [--listen 127.0.0.1:8080]              the JSON API and the page (read-only)
package main

import (
	"context"
	"io"
	"os"

	"github.com/ptrsweep/ptrsweep/internal/cli"
)

func main() {
	ctx, cancel := cli.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

const usage = `usage: coordinator COMMAND [flags]

commands:
  sweep    plan a scan, run workers in-process against an embedded (or --nats) JetStream, wait, summarise
  publish  plan a scan and feed its units to --nats, at most --max-pending queued, until all are published
  status   show a scan's units done/pending/failed, rows, rate and ETA (--watch, --wait)
  retry    queue a scan's failed (dead-lettered) units again
  search   find stored PTRs by domain suffix
  export   write every stored row of a scan (jsonl or sonar)
  asn      load an IP-to-ASN/country table (asn load FILE), list the stored versions (asn list)
  lookup   show an address's or a block's PTRs, outcomes, FCrDNS, ASN, country and history
  import   load another tool's rDNS file (Sonar, jsonl, massdns, zdns) into a new scan
  fleets   cluster a scan's or a suffix's names by template, with netblocks, ASNs, countries
  diff     addresses whose PTRs appeared, disappeared or changed between two scans
  serve    the read-only JSON API (/api/v1/) and the page with the IPv4 map, on loopback by default

Run 'coordinator COMMAND -h' for the flags of a command.
Environment: PTRSWEEP_NATS, PTRSWEEP_CLICKHOUSE, PTRSWEEP_RESOLVERS stand in for
--nats, --clickhouse and --resolvers.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		io.WriteString(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"sweep": cmdSweep, "publish": cmdPublish, "status": cmdStatus, "retry": cmdRetry,
		"search": cmdSearch, "export": cmdExport, "asn": cmdASN, "lookup": cmdLookup, "import": cmdImport, "fleets": cmdFleets, "diff": cmdDiff,
		"serve": cmdServe,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		cli.Report(stderr, "coordinator", cli.Usagef("unknown command %q (want sweep, publish, status, retry, search, export, asn, lookup, import, fleets, diff or serve)", args[0]))
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if err != nil && cli.ExitCode(err) != 0 {
		cli.Report(stderr, "coordinator "+args[0], err)
	}
	return cli.ExitCode(err)
}
