package query

import (
	"fmt"
	"strings"
)

// Limits of one query.
const (
	// MaxLength is the longest query Parse accepts, in bytes.
	MaxLength = 4096
	// MaxConditions is the most conditions one query may hold.
	MaxConditions = 64
	// MaxDepth is the deepest nesting of parentheses.
	MaxDepth = 16
)

// Parse parses a query into its tree. Values are checked and made canonical
// (see the package documentation); every error is an *Error. It is safe for
// concurrent use.
func Parse(src string) (Node, error) {
	if len(src) > MaxLength {
		return nil, &Error{Pos: MaxLength + 1, Expected: fmt.Sprintf("end of query (a query is at most %d bytes)", MaxLength), Found: fmt.Sprintf("%d bytes", len(src))}
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, &Error{Pos: 1, Expected: "a condition such as ptr_part = 'example.com'", Found: "an empty query"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, &Error{Pos: t.pos, Expected: "AND, OR or end of query", Found: "')' without a matching '('"}
		}
		return nil, &Error{Pos: t.pos, Expected: "AND, OR or end of query", Found: t.describe()}
	}
	return n, nil
}

// parser is a recursive-descent parser over the tokens of one query, with
// one token of lookahead.
type parser struct {
	lex   lexer
	cur   token
	depth int
	conds int
}

// peek returns the lookahead token.
func (p *parser) peek() token { return p.cur }

// advance reads the next lookahead token.
func (p *parser) advance() error {
	t, err := p.lex.next()
	p.cur = t
	return err
}

// or parses and { OR and }.
func (p *parser) or() (Node, error) {
	return p.list("or", p.and, func(ts []Node) Node { return &Or{ts} }, func(n Node) []Node {
		if o, ok := n.(*Or); ok {
			return o.Terms
		}
		return nil
	})
}

// and parses primary { AND primary }.
func (p *parser) and() (Node, error) {
	return p.list("and", p.primary, func(ts []Node) Node { return &And{ts} }, func(n Node) []Node {
		if a, ok := n.(*And); ok {
			return a.Terms
		}
		return nil
	})
}

// list parses term { keyword term } and returns the single term, or a node
// made by mk of the terms, with nested nodes of the same kind (whose terms
// same returns) flattened into it.
func (p *parser) list(keyword string, term func() (Node, error), mk func([]Node) Node, same func(Node) []Node) (Node, error) {
	var flat []Node
	for {
		n, err := term()
		if err != nil {
			return nil, err
		}
		if inner := same(n); inner != nil {
			flat = append(flat, inner...)
		} else {
			flat = append(flat, n)
		}
		if !p.peek().is(keyword) {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if len(flat) == 1 {
		return flat[0], nil
	}
	return mk(flat), nil
}

// primary parses "(" or ")" or a condition.
func (p *parser) primary() (Node, error) {
	open := p.peek()
	if open.kind != tLParen {
		return p.cond()
	}
	if p.depth == MaxDepth {
		return nil, &Error{Pos: open.pos, Expected: fmt.Sprintf("at most %d nested parentheses", MaxDepth), Found: "more"}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	p.depth++
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.depth--
	if c := p.peek(); c.kind != tRParen {
		return nil, &Error{Pos: c.pos, Expected: fmt.Sprintf("AND, OR or ')' to close the '(' at %d", open.pos), Found: c.describe()}
	}
	return n, p.advance()
}

// cond parses field op value.
func (p *parser) cond() (Node, error) {
	t := p.peek()
	field, ok := lookupField(t)
	if !ok {
		what := "a field name (" + fieldNames(Fields) + ") or '('"
		if t.kind == tEOF {
			what = "a condition or '('"
		}
		return nil, &Error{Pos: t.pos, Expected: what, Found: t.describe()}
	}
	if p.conds == MaxConditions {
		return nil, &Error{Pos: t.pos, Expected: fmt.Sprintf("end of query (a query holds at most %d conditions)", MaxConditions), Found: "more"}
	}
	p.conds++
	c := &Cond{Pos: t.pos, Field: field}
	if err := p.advance(); err != nil {
		return nil, err
	}
	o := p.peek()
	switch {
	case o.kind == tEq:
		c.Op = OpEq
	case o.kind == tNe:
		c.Op = OpNe
	case field == FieldIP && o.is("in"):
		c.Op = OpIn
	case field == FieldIP && o.is("not"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if in := p.peek(); !in.is("in") {
			return nil, &Error{Pos: in.pos, Expected: "'in' after 'not'", Found: in.describe()}
		}
		c.Op = OpNotIn
	default:
		want := "'=' or '!=' after " + string(field)
		if field == FieldIP {
			want = "'=', '!=', 'in' or 'not in' after ip"
		}
		return nil, &Error{Pos: o.pos, Expected: want, Found: o.describe()}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := setValue(c, p.peek()); err != nil {
		return nil, err
	}
	return c, p.advance()
}

// lookupField returns the field a token names.
func lookupField(t token) (Field, bool) {
	if t.kind != tIdent {
		return "", false
	}
	for _, f := range Fields {
		if strings.EqualFold(t.text, string(f)) {
			return f, true
		}
	}
	return "", false
}
