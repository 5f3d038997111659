package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
)

var errFlatJSON = errors.New("not a flat JSON object")

// flatFields calls fn for each field of a one-line JSON object whose
// values are strings, numbers, true, false or null: val is a string's
// decoded bytes or a literal's text. Nested objects or arrays are an
// error. Strings without escapes are passed as subslices of line (valid
// while line is); escaped ones are decoded into new memory.
func flatFields(line []byte, fn func(key, val []byte)) error {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errFlatJSON
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return nil
	}
	for {
		key, next, err := jsonString(line, i)
		if err != nil {
			return err
		}
		i = skipSpace(line, next)
		if i >= len(line) || line[i] != ':' {
			return errFlatJSON
		}
		i = skipSpace(line, i+1)
		if i >= len(line) {
			return errFlatJSON
		}
		switch c := line[i]; {
		case c == '"':
			v, next, err := jsonString(line, i)
			if err != nil {
				return err
			}
			fn(key, v)
			i = next
		case c == '{' || c == '[':
			return errFlatJSON
		default:
			j := i
			for j < len(line) && line[j] != ',' && line[j] != '}' && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			if j == i {
				return errFlatJSON
			}
			fn(key, line[i:j])
			i = j
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return errFlatJSON
		}
		if line[i] == '}' {
			if skipSpace(line, i+1) != len(line) {
				return errFlatJSON
			}
			return nil
		}
		if line[i] != ',' {
			return errFlatJSON
		}
		i = skipSpace(line, i+1)
	}
}

// jsonString reads the string starting at line[i] (a quote) and returns
// its bytes and the index after its closing quote.
func jsonString(line []byte, i int) ([]byte, int, error) {
	if i >= len(line) || line[i] != '"' {
		return nil, i, errFlatJSON
	}
	start := i + 1
	// fast path: no backslash before the closing quote
	if q := bytes.IndexByte(line[start:], '"'); q >= 0 && bytes.IndexByte(line[start:start+q], '\\') < 0 {
		return line[start : start+q], start + q + 1, nil
	}
	escaped := false
	j := start
	for ; j < len(line); j++ {
		c := line[j]
		if c == '\\' {
			escaped = true
			j++
			continue
		}
		if c == '"' {
			break
		}
	}
	if j >= len(line) {
		return nil, i, errFlatJSON
	}
	if !escaped {
		return line[start:j], j + 1, nil
	}
	var s string
	if err := json.Unmarshal(line[i:j+1], &s); err != nil {
		return nil, i, errFlatJSON
	}
	return []byte(s), j + 1, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}
