package resolve

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// Stats are a Resolver's counters since New, for reports and summaries.
type Stats struct {
	// Queries is the number of queries sent, UDP and TCP, probes, retries
	// and forward lookups included.
	Queries uint64
	// Answers is the number of valid answers received.
	Answers uint64
	// Timeouts is the number of tries that got no valid answer in time.
	Timeouts uint64
	// Retries is the number of tries after a lookup's first.
	Retries uint64
	// TCP is the number of queries repeated over TCP after TC.
	TCP uint64
	// Invalid is the number of packets dropped because they failed
	// validation: malformed, not a response, or the wrong question for
	// their ID.
	Invalid uint64
	// Unmatched is the number of packets dropped because no query was
	// waiting for their ID (late answers and spoofing attempts).
	Unmatched uint64
	// Probes is the number of empty-zone probes (RFC 8020) sent: queries
	// for /16 and /24 reverse names.
	Probes uint64
	// Pruned is the number of addresses answered nxdomain by pruning,
	// without a query of their own: the queries pruning saved.
	Pruned uint64
	// Sampled is the number of addresses of pruned zones queried anyway to
	// check the server's NXDOMAIN.
	Sampled uint64
	// PruneDisabled is the number of zones whose NXDOMAIN a sample proved
	// wrong; pruning is off for them from then on.
	PruneDisabled uint64
	// Ejected is the number of times a server was ejected for failing
	// every try in a long run; EjectedServers lists those ejected now.
	Ejected        uint64
	EjectedServers []string
	// Window is the current adaptive in-flight window (addresses).
	Window int
}

// counters are the live, atomically updated Stats.
type counters struct {
	sent, answers, timeouts, retries, tcp, invalid, unmatched atomic.Uint64
	probes, pruned, sampled, pruneDisabled, ejected           atomic.Uint64
}

// String formats the stats for a summary line.
func (s Stats) String() string {
	out := fmt.Sprintf("engine: %d queries, %d answers, %d timeouts, %d retries, %d over TCP, %d invalid and %d unmatched packets dropped, "+
		"pruning: %d probes saved %d queries (%d sampled, %d zones found lying), %d ejections",
		s.Queries, s.Answers, s.Timeouts, s.Retries, s.TCP, s.Invalid, s.Unmatched, s.Probes, s.Pruned, s.Sampled, s.PruneDisabled, s.Ejected)
	if len(s.EjectedServers) > 0 {
		out += fmt.Sprintf(" (ejected now: %s)", strings.Join(s.EjectedServers, ", "))
	}
	return out
}
