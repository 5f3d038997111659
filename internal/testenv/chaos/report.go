package chaos

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteTable writes results as a Markdown table followed by each
// scenario's notes.
func WriteTable(w io.Writer, results []Result, quick bool) error {
	var b strings.Builder
	mode := "full (a /20 per scenario, 30 s ClickHouse outage)"
	if quick {
		mode = "quick (a /22 per scenario, 5 s ClickHouse outage)"
	}
	fmt.Fprintf(&b, "ptrchaos, %s mode, %s\n\n", mode, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "| scenario | expected | stored | missing | duplicates | foreign | recover | elapsed | result |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range results {
		res := "PASS"
		if !r.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(&b, "| %s %s | %d | %d | %d | %d | %d | %s | %s | %s |\n", r.ID, r.Name, r.Expected, r.Stored,
			r.Missing, r.Duplicates, r.Foreign, r.Recover.Round(100*time.Millisecond), r.Elapsed.Round(time.Second), res)
	}
	b.WriteString("\n")
	for _, r := range results {
		fmt.Fprintf(&b, "%s %s:\n", r.ID, r.Name)
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
		for _, x := range r.Examples {
			fmt.Fprintf(&b, "  - row: %s\n", x)
		}
		if r.Err != nil {
			fmt.Fprintf(&b, "  - ERROR: %v\n", r.Err)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
