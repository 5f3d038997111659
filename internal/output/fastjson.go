package output

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ptrsweep/ptrsweep/internal/sweep"
)

// appendJSONRow appends r as one JSONL line, byte for byte what
// encoding/json writes for ToJSON(r) (field order, escaping, newline),
// without reflection or allocation: worker resolve writes one per answer.
func appendJSONRow(b []byte, r sweep.Row) []byte {
	b = append(b, `{"ip":"`...)
	b = r.IP.AppendTo(b)
	b = append(b, `","ptr":`...)
	b = appendJSONString(b, r.PTR)
	b = append(b, `,"status":"`...)
	b = append(b, r.Status.String()...)
	b = append(b, `","ttl":`...)
	b = strconv.AppendUint(b, uint64(r.TTL), 10)
	b = append(b, `,"scan":`...)
	b = appendJSONString(b, r.Scan)
	b = append(b, `,"resolved_at":"`...)
	b = r.ResolvedAt.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, '"')
	if f := r.FCrDNS.String(); f != "" {
		b = append(b, `,"fcrdns":"`...)
		b = append(b, f...)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does:
// ", \ and control characters escaped, <, > and & as \u003c…, invalid UTF-8
// as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
