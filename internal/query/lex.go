package query

import (
	"fmt"
	"strconv"
	"strings"
)

// kind is the kind of a token.
type kind uint8

const (
	tEOF    kind = iota
	tIdent       // a field name or keyword: [A-Za-z_][A-Za-z0-9_]*
	tNumber      // [0-9]+
	tString      // a quoted value; text holds the content without the quotes
	tEq          // =
	tNe          // != or <>
	tLParen      // (
	tRParen      // )
)

// token is one lexical token; pos is its 1-based byte position.
type token struct {
	kind kind
	pos  int
	text string
}

// maxShown bounds how much of a token an error message repeats.
const maxShown = 40

// describe returns the token as an error message names it.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return shorten(t.text)
	case tNumber:
		return "the number " + cut(t.text)
	case tIdent:
		return "'" + cut(t.text) + "'"
	}
	return "'" + t.text + "'"
}

// shorten quotes s for an error message, cut to maxShown bytes.
func shorten(s string) string { return strconv.Quote(cut(s)) }

func cut(s string) string {
	if len(s) > maxShown {
		return s[:maxShown] + "…"
	}
	return s
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

// lexer splits a query into tokens on demand, so the first error a user
// sees is the leftmost one.
type lexer struct {
	src string
	i   int
}

// next returns the next token; at the end it returns tEOF tokens.
func (l *lexer) next() (token, error) {
	src := l.src
	for l.i < len(src) && (src[l.i] == ' ' || src[l.i] == '\t' || src[l.i] == '\n' || src[l.i] == '\r') {
		l.i++
	}
	i := l.i
	pos := i + 1
	if i == len(src) {
		return token{tEOF, pos, ""}, nil
	}
	c := src[i]
	one := func(k kind) (token, error) {
		l.i++
		return token{k, pos, src[i : i+1]}, nil
	}
	switch {
	case c == '(':
		return one(tLParen)
	case c == ')':
		return one(tRParen)
	case c == '=':
		return one(tEq)
	case c == '!' || c == '<':
		if i+1 < len(src) && (c == '!' && src[i+1] == '=' || c == '<' && src[i+1] == '>') {
			l.i += 2
			return token{tNe, pos, src[i : i+2]}, nil
		}
		return token{}, &Error{Pos: pos, Expected: "'=', '!=' or '<>'", Found: showByte(c)}
	case c == '\'' || c == '"':
		j := i + 1
		for j < len(src) && src[j] != c {
			if src[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(src) {
			return token{}, &Error{Pos: len(src) + 1, Expected: fmt.Sprintf("a closing %c for the value that starts at %d", c, pos), Found: "end of query"}
		}
		l.i = j + 1
		return token{tString, pos, src[i+1 : j]}, nil
	case isDigit(c):
		j := i
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j < len(src) && isIdentByte(src[j]) {
			return token{}, &Error{Pos: pos, Expected: "a number or a name", Found: "'" + cut(src[i:identEnd(src, j)]) + "'"}
		}
		l.i = j
		return token{tNumber, pos, src[i:j]}, nil
	case isIdentStart(c):
		l.i = identEnd(src, i)
		return token{tIdent, pos, src[i:l.i]}, nil
	}
	return token{}, &Error{Pos: pos, Expected: "a field name, a quoted value, an operator, AND, OR or a parenthesis", Found: showByte(c)}
}

// showByte returns c for an error message: 'x' when printable ASCII, else
// its hex value.
func showByte(c byte) string {
	if c == '\'' || c == '\\' {
		return `'\` + string(c) + `'`
	}
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func identEnd(src string, i int) int {
	for i < len(src) && isIdentByte(src[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLetter(c byte) bool     { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isIdentStart(c byte) bool { return isLetter(c) || c == '_' }
func isIdentByte(c byte) bool  { return isIdentStart(c) || isDigit(c) }
