package cidr

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLine is the longest line Lines accepts, in bytes.
const MaxLine = 1 << 20

// Lines reads a list with one item per line, as it goes: memory does not
// grow with the input. A '#' starts a comment that runs to the end of the
// line; surrounding whitespace is trimmed, blank lines are skipped, and a
// UTF-8 byte order mark at the start is ignored. It counts lines so errors
// can name them ("name:12: …"). A Lines is not safe for concurrent use.
type Lines struct {
	sc   *bufio.Scanner
	name string
	line int
	item string
	err  error
}

// NewLines returns a Lines reading r; name is how errors call the input
// (a file name, or "input" for standard input).
func NewLines(r io.Reader, name string) *Lines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return &Lines{sc: sc, name: name}
}

// Next advances to the next item and reports whether there is one. After
// it returns false, Err tells a read error from the end of the input.
func (l *Lines) Next() bool {
	for l.sc.Scan() {
		l.line++
		text := l.sc.Text()
		if l.line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		if text = strings.TrimSpace(text); text != "" {
			l.item = text
			return true
		}
	}
	if err := l.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes; is this a list with one item per line?", MaxLine)
		}
		l.err = fmt.Errorf("%s:%d: read: %w", l.name, l.line+1, err)
	}
	l.item = ""
	return false
}

// Item returns the current item: the line without its comment and
// surrounding whitespace, never empty.
func (l *Lines) Item() string { return l.item }

// Line returns the number of the current item's line, from 1.
func (l *Lines) Line() int { return l.line }

// Err returns the read error that ended Next, or nil at the end of input.
func (l *Lines) Err() error { return l.err }

// Errorf returns err prefixed with the input's name and the current line
// number: "name:12: err".
func (l *Lines) Errorf(err error) error {
	return fmt.Errorf("%s:%d: %w", l.name, l.line, err)
}
