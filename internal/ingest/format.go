package ingest

import "fmt"

// Format names an input format; the names are what `coordinator import
// --format` takes.
type Format string

// The formats Decode reads.
const (
	// FormatSonar is Project Sonar's rDNS: one JSON object per PTR,
	// {"timestamp":"1582236213","name":"1.0.0.1","type":"ptr","value":"one.one.one.one"}.
	FormatSonar Format = "sonar"
	// FormatJSONL is ptrsweep's own export (coordinator export --format jsonl).
	FormatJSONL Format = "jsonl"
	// FormatMassDNS is massdns output: text (-o S or -o Snr: "4.3.2.1.in-addr.arpa. PTR name.")
	// or JSON (-o J), told apart line by line.
	FormatMassDNS Format = "massdns"
	// FormatZDNS is zdns PTR output, one JSON object per address (zdns 1.x
	// with data.answers, or 2.x with results.PTR).
	FormatZDNS Format = "zdns"
)

// Formats lists the formats in the order of the documentation.
var Formats = []Format{FormatSonar, FormatJSONL, FormatMassDNS, FormatZDNS}

// ParseFormat returns the Format of a name, or an error wrapping
// ErrUnknownFormat that lists the names.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: %q: want sonar, jsonl, massdns or zdns", ErrUnknownFormat, s)
}
