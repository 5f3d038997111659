package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/testenv/lab"
)

// maxExamples is how many problems a Verdict keeps as examples.
const maxExamples = 5

// Verdict is the outcome of checking rows against a Space's truth.
type Verdict struct {
	// Rows is the number of rows read; Pairs the distinct correct (address,
	// PTR) pairs among them; Want the pairs the space serves.
	Rows, Pairs, Want int
	// Missing counts pairs the space serves that no row had; Extra rows
	// with a pair it does not serve (or an address outside it); Duplicate
	// rows that repeat a pair; NotOK rows whose status is not "ok"
	// (timeout, servfail…: an address the space answers had no answer).
	Missing, Extra, Duplicate, NotOK int
	// Examples describes the first few problems.
	Examples []string
}

// Errors returns the number of problems found.
func (v Verdict) Errors() int { return v.Missing + v.Extra + v.Duplicate + v.NotOK }

// String summarises the verdict: "yes" or "N errors (…)".
func (v Verdict) String() string {
	if v.Errors() == 0 {
		return "yes"
	}
	return fmt.Sprintf("%d errors (missing %d, extra %d, duplicate %d, not ok %d; e.g. %s)",
		v.Errors(), v.Missing, v.Extra, v.Duplicate, v.NotOK, strings.Join(v.Examples, "; "))
}

// Short is String without the examples, for the results table.
func (v Verdict) Short() string {
	if v.Errors() == 0 {
		return "yes"
	}
	return fmt.Sprintf("%d errors (missing %d, extra %d, duplicate %d, not ok %d)",
		v.Errors(), v.Missing, v.Extra, v.Duplicate, v.NotOK)
}

func (v *Verdict) example(format string, args ...any) {
	if len(v.Examples) < maxExamples {
		v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
	}
}

// row is the part of an exported JSONL row the verifier reads.
type row struct {
	IP     string `json:"ip"`
	PTR    string `json:"ptr"`
	Status string `json:"status"`
}

// Verify reads JSONL rows (the format of `worker resolve` and `coordinator
// export --format jsonl`) from r and checks them against s: every (address,
// PTR) pair the space serves present once, nothing else. An error means
// the rows could not be read or parsed; problems in them are in the Verdict.
func (s *Space) Verify(r io.Reader) (Verdict, error) {
	var v Verdict
	// seen holds two bits per address: its first and second PTR.
	seen := make([]uint8, s.Len())
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		v.Rows++
		var rw row
		if err := json.Unmarshal(line, &rw); err != nil {
			return v, fmt.Errorf("verify: row %d: %w", v.Rows, err)
		}
		ip, err := netip.ParseAddr(rw.IP)
		if err != nil {
			return v, fmt.Errorf("verify: row %d: %w", v.Rows, err)
		}
		if rw.Status != "ok" {
			v.NotOK++
			v.example("%s: status %s", ip, rw.Status)
			continue
		}
		i, in := s.Index(ip)
		k := -1
		if in {
			for j, p := range lab.BigExpect(ip) {
				if p == rw.PTR {
					k = j
				}
			}
		}
		switch {
		case k < 0:
			v.Extra++
			v.example("%s: unexpected PTR %q", ip, rw.PTR)
		case seen[i]&(1<<k) != 0:
			v.Duplicate++
			v.example("%s: PTR %q twice", ip, rw.PTR)
		default:
			seen[i] |= 1 << k
			v.Pairs++
		}
	}
	if err := sc.Err(); err != nil {
		return v, fmt.Errorf("verify: after row %d: %w", v.Rows, err)
	}
	for i := 0; i < s.Len(); i++ {
		ip := s.Addr(i)
		for k, p := range lab.BigExpect(ip) {
			v.Want++
			if seen[i]&(1<<k) == 0 {
				v.Missing++
				v.example("%s: PTR %q missing", ip, p)
			}
		}
	}
	return v, nil
}
