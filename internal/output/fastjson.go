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
	var c *timeCache // no cache
	return c.appendJSONRow(b, r)
}

// timeCache holds the RFC 3339 form of the last second formatted: rows
// come in runs of one second (a sweep resolves many addresses a second),
// and formatting a time costs as much as the rest of a row. Another second
// of the same day rewrites only the clock: rows of an export in address
// order are many seconds apart but mostly of one day.
type timeCache struct {
	unix  int64
	valid bool
	text  []byte
}

// rfc3339 returns t (in UTC, whole seconds) as RFC 3339; the bytes are
// valid until the next call.
func (c *timeCache) rfc3339(t time.Time) []byte {
	u := t.Unix()
	if c.valid && u == c.unix && t.Nanosecond() == 0 {
		return c.text
	}
	// the same day, YYYY-MM-DDThh:mm:ssZ: write hh:mm:ss
	if c.valid && t.Nanosecond() == 0 && u >= 0 && c.unix >= 0 && u/86400 == c.unix/86400 && len(c.text) == 20 {
		sec := u % 86400
		put2(c.text[11:], sec/3600)
		put2(c.text[14:], sec/60%60)
		put2(c.text[17:], sec%60)
		c.unix = u
		return c.text
	}
	c.text = t.UTC().AppendFormat(c.text[:0], time.RFC3339)
	c.unix, c.valid = u, t.Nanosecond() == 0
	return c.text
}

// put2 writes v (0–99) as two digits.
func put2(b []byte, v int64) {
	b[0], b[1] = byte('0'+v/10), byte('0'+v%10)
}

// appendJSONRow is appendJSONRow with c caching the time's text; c may be
// nil.
func (c *timeCache) appendJSONRow(b []byte, r sweep.Row) []byte {
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
	if c == nil {
		b = r.ResolvedAt.UTC().AppendFormat(b, time.RFC3339)
	} else {
		b = append(b, c.rfc3339(r.ResolvedAt)...)
	}
	b = append(b, '"')
	if f := r.FCrDNS.String(); f != "" {
		b = append(b, `,"fcrdns":"`...)
		b = append(b, f...)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

// appendSonarRow appends r as one line of Project Sonar's rDNS format,
// byte for byte what encoding/json writes for the sonarRow of r.
func appendSonarRow(b []byte, r sweep.Row) []byte {
	b = append(b, `{"timestamp":"`...)
	b = strconv.AppendInt(b, r.ResolvedAt.Unix(), 10)
	b = append(b, `","name":"`...)
	b = r.IP.AppendTo(b)
	b = append(b, `","type":"ptr","value":`...)
	b = appendJSONString(b, r.PTR)
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
