package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
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
	c := s.newChecker()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		c.v.Rows++
		var rw row
		if err := json.Unmarshal(line, &rw); err != nil {
			return c.v, fmt.Errorf("verify: row %d: %w", c.v.Rows, err)
		}
		ip, err := netip.ParseAddr(rw.IP)
		if err != nil {
			return c.v, fmt.Errorf("verify: row %d: %w", c.v.Rows, err)
		}
		if rw.Status != "ok" {
			c.v.NotOK++
			c.v.example("%s: status %s", ip, rw.Status)
			continue
		}
		c.pair(ip, rw.PTR)
	}
	if err := sc.Err(); err != nil {
		return c.v, fmt.Errorf("verify: after row %d: %w", c.v.Rows, err)
	}
	return c.finish(), nil
}

// checker collects (address, PTR) pairs and compares them with a space.
type checker struct {
	s *Space
	v Verdict
	// seen holds two bits per address: its first and second PTR.
	seen []uint8
}

func (s *Space) newChecker() *checker { return &checker{s: s, seen: make([]uint8, s.Len())} }

// pair records one answered (address, PTR) pair.
func (c *checker) pair(ip netip.Addr, ptr string) {
	i, in := c.s.Index(ip)
	k := -1
	if in {
		for j, p := range lab.BigExpect(ip) {
			if p == ptr {
				k = j
			}
		}
	}
	switch {
	case k < 0:
		c.v.Extra++
		c.v.example("%s: unexpected PTR %q", ip, ptr)
	case c.seen[i]&(1<<k) != 0:
		c.v.Duplicate++
		c.v.example("%s: PTR %q twice", ip, ptr)
	default:
		c.seen[i] |= 1 << k
		c.v.Pairs++
	}
}

// finish counts the pairs the space serves that no row had.
func (c *checker) finish() Verdict {
	for i := 0; i < c.s.Len(); i++ {
		ip := c.s.Addr(i)
		for k, p := range lab.BigExpect(ip) {
			c.v.Want++
			if c.seen[i]&(1<<k) == 0 {
				c.v.Missing++
				c.v.example("%s: PTR %q missing", ip, p)
			}
		}
	}
	return c.v
}

// VerifyMassDNS reads massdns's `-o Snr` output from r and checks it
// against s: every (address, PTR) pair the space serves present once as a
// "NAME. PTR VALUE." line, nothing else, and every address's reply line
// ("RESOLVER TIME RCODE NAME. PTR") there once with NOERROR or NXDOMAIN as
// the space serves it. An error means r could not be read.
func (s *Space) VerifyMassDNS(r io.Reader) (Verdict, error) {
	c := s.newChecker()
	replied := make([]bool, s.Len())
	replies := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		name, code := f[0], ""
		if len(f) == 5 && f[4] == "PTR" {
			name, code = f[3], f[2]
		}
		ip, ok := reverseAddr(name)
		switch {
		case !ok:
			c.v.Extra++
			c.v.example("line %d: %q is no reverse name", n, sc.Text())
		case len(f) == 3 && f[1] == "PTR":
			c.v.Rows++
			c.pair(ip, strings.ToLower(strings.TrimSuffix(f[2], ".")))
		case code != "":
			want := "NOERROR"
			if lab.BigExpect(ip) == nil {
				want = "NXDOMAIN"
			}
			i, in := s.Index(ip)
			switch {
			case !in:
				c.v.Extra++
				c.v.example("%s: outside the space", ip)
			case replied[i]:
				c.v.Duplicate++
				c.v.example("%s: replied twice", ip)
			case code != want:
				c.v.NotOK++
				c.v.example("%s: %s, want %s", ip, code, want)
			}
			if in && !replied[i] {
				replied[i] = true
				replies++
			}
		default:
			c.v.Extra++
			c.v.example("line %d: %q is neither a reply nor a PTR line", n, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return c.v, fmt.Errorf("verify massdns output: %w", err)
	}
	v := c.finish()
	if replies < s.Len() {
		v.NotOK += s.Len() - replies
		v.example("%d of %d names got a reply", replies, s.Len())
	}
	return v, nil
}

// reverseAddr returns the IPv4 address of a reverse name
// ("7.3.0.10.in-addr.arpa.", any case, trailing dot optional).
func reverseAddr(name string) (netip.Addr, bool) {
	p, err := sweep.ParseReverseName(name)
	return p.Addr(), err == nil && p.IsSingleIP()
}
