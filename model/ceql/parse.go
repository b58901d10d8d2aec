package ceql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is how deeply parentheses may nest. Parsing, Eval and String
// all recurse per level, so a bound keeps a hostile where clause from
// exhausting the stack; real filters nest two or three levels.
const MaxDepth = 100

// SyntaxError is the error Parse returns for every malformed clause.
type SyntaxError struct {
	// Pos is the 0-based byte offset in the input where the problem was
	// found (len(input) for a premature end).
	Pos int
	// Msg says what was expected and what was found instead.
	Msg string
}

// Error renders "ceql: at position N: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("ceql: at position %d: %s", e.Pos, e.Msg)
}

type tokKind int

const (
	tokEOF  tokKind = iota
	tokWord         // field name or keyword
	tokNumber
	tokString
	tokOp // comparison operator
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	pos  int
	text string // raw text; for tokString the unescaped value; for tokOp the canonical Op
}

// describe names a token for "found ..." in error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokWord:
		if isKeyword(t.text) {
			return "keyword " + strings.ToUpper(t.text)
		}
		return "name " + clip(t.text)
	case tokNumber:
		return "number " + clip(t.text)
	case tokString:
		return "string " + clip(quote(t.text))
	default:
		return "'" + t.text + "'"
	}
}

// clip shortens long token text so an error message stays one readable line.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// keywords are reserved: they can never be field names, which keeps the
// grammar unambiguous and String's output re-parsable.
var keywords = []string{"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "TRUE", "FALSE"}

func isKeyword(w string) bool {
	for _, k := range keywords {
		if asciiEqualFold(w, k) {
			return true
		}
	}
	return false
}

// asciiEqualFold compares case-insensitively over ASCII only.
// strings.EqualFold would also fold e.g. 'ſ' to 's' and 'K' (Kelvin) to
// 'k', making "iſ" the keyword IS.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// wordRune reports whether r may appear in a field name.
func wordRune(r rune) bool {
	return r == '_' || r == '.' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordAt returns the size of the word character at s[i], or 0.
func wordAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError || !wordRune(r) {
		return 0
	}
	return n
}

// scanNumber returns the end of the number starting at s[i] (after an
// optional '-'), or i if there are no digits there. The fraction and
// exponent are only taken when digits follow, so "1." and "1e" end at "1".
func scanNumber(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return i
	}
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j += 2
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	return j
}

// parser is a recursive-descent parser over tokens lexed on demand, so the
// first error reported is always the leftmost one.
type parser struct {
	src   string
	pos   int   // lexer position
	tok   token // current token
	depth int
}

// Parse parses a where clause (with any ${...} template already expanded).
// It returns a *SyntaxError on malformed input, including an empty clause.
func Parse(where string) (Expr, error) {
	p := &parser{src: where}
	if err := p.next(); err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokRParen {
			return nil, p.errorf("found ')' without a matching '('")
		}
		return nil, p.errorf("expected AND, OR or end of input, found %s", p.tok.describe())
	}
	return e, nil
}

func (p *parser) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
}

// next lexes the following token into p.tok.
func (p *parser) next() error {
	s := p.src
	i := p.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
		i++
	}
	start := i
	set := func(k tokKind, end int, text string) error {
		p.tok = token{kind: k, pos: start, text: text}
		p.pos = end
		return nil
	}
	if i >= len(s) {
		return set(tokEOF, i, "")
	}
	switch c := s[i]; c {
	case '(':
		return set(tokLParen, i+1, "(")
	case ')':
		return set(tokRParen, i+1, ")")
	case ',':
		return set(tokComma, i+1, ",")
	case '=':
		return set(tokOp, i+1, string(Eq))
	case '!':
		if i+1 < len(s) && s[i+1] == '=' {
			return set(tokOp, i+2, string(Ne))
		}
		return &SyntaxError{Pos: i, Msg: "unexpected character '!' (did you mean '!='?)"}
	case '<':
		if i+1 < len(s) && s[i+1] == '=' {
			return set(tokOp, i+2, string(Le))
		}
		if i+1 < len(s) && s[i+1] == '>' {
			return set(tokOp, i+2, string(Ne))
		}
		return set(tokOp, i+1, string(Lt))
	case '>':
		if i+1 < len(s) && s[i+1] == '=' {
			return set(tokOp, i+2, string(Ge))
		}
		return set(tokOp, i+1, string(Gt))
	case '\'':
		var b strings.Builder
		j := i + 1
		for {
			k := strings.IndexByte(s[j:], '\'')
			if k < 0 {
				return &SyntaxError{Pos: i, Msg: "unterminated string: no closing quote for the ' here"}
			}
			b.WriteString(s[j : j+k])
			j += k + 1
			if j < len(s) && s[j] == '\'' { // '' is an escaped quote
				b.WriteByte('\'')
				j++
				continue
			}
			return set(tokString, j, b.String())
		}
	case '-':
		end := scanNumber(s, i+1)
		if end == i+1 {
			return &SyntaxError{Pos: i, Msg: "expected digits after '-'"}
		}
		if wordAt(s, end) > 0 {
			return &SyntaxError{Pos: i, Msg: fmt.Sprintf("malformed number %s", clip(s[i:end+wordAt(s, end)]))}
		}
		return set(tokNumber, end, s[i:end])
	}
	// A run that starts like a number but continues with word characters
	// ("2fa.enabled") is a word, so digits may begin a field name.
	end := scanNumber(s, i)
	if end > i && wordAt(s, end) == 0 {
		return set(tokNumber, end, s[i:end])
	}
	j := i
	for {
		n := wordAt(s, j)
		if n == 0 {
			break
		}
		j += n
	}
	if j == i {
		r, _ := utf8.DecodeRuneInString(s[i:])
		msg := fmt.Sprintf("unexpected character %q", r)
		if r == utf8.RuneError {
			msg = fmt.Sprintf("unexpected byte 0x%02x (invalid UTF-8)", s[i])
		} else if r == '"' {
			msg += " (strings use single quotes)"
		}
		return &SyntaxError{Pos: i, Msg: msg}
	}
	return set(tokWord, j, s[i:j])
}

// isWord reports whether the current token is the keyword kw.
func (p *parser) isWord(kw string) bool {
	return p.tok.kind == tokWord && asciiEqualFold(p.tok.text, kw)
}

// parseOr parses `and { OR and }`, flattening nested ORs.
func (p *parser) parseOr() (Expr, error) {
	var terms []Expr
	for {
		e, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if o, ok := e.(*Or); ok {
			terms = append(terms, o.Terms...)
		} else {
			terms = append(terms, e)
		}
		if !p.isWord("OR") {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Or{Terms: terms}, nil
}

// parseAnd parses `primary { AND primary }`, flattening nested ANDs.
func (p *parser) parseAnd() (Expr, error) {
	var terms []Expr
	for {
		e, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if a, ok := e.(*And); ok {
			terms = append(terms, a.Terms...)
		} else {
			terms = append(terms, e)
		}
		if !p.isWord("AND") {
			break
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &And{Terms: terms}, nil
}

// parsePrimary parses a parenthesised expression or a predicate.
func (p *parser) parsePrimary() (Expr, error) {
	if p.tok.kind == tokLParen {
		open := p.tok.pos
		if p.depth >= MaxDepth {
			return nil, p.errorf("parentheses nested more than %d deep", MaxDepth)
		}
		p.depth++
		if err := p.next(); err != nil {
			return nil, err
		}
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf("expected AND, OR or ')' to close the '(' at position %d, found %s", open, p.tok.describe())
		}
		p.depth--
		if err := p.next(); err != nil {
			return nil, err
		}
		return e, nil
	}
	return p.parsePredicate()
}

// parseField parses a field name: a word that is not a keyword and has
// no empty path segment.
func (p *parser) parseField() (string, error) {
	if p.tok.kind != tokWord || isKeyword(p.tok.text) {
		msg := fmt.Sprintf("expected a field name or '(', found %s", p.tok.describe())
		if p.isWord("NOT") {
			msg += " (NOT is not supported; use !=, or IS NOT NULL)"
		}
		return "", p.errorf("%s", msg)
	}
	f := p.tok.text
	if strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") {
		return "", p.errorf("field name %s has an empty path segment", clip(f))
	}
	return f, p.next()
}

// parsePredicate parses `field op value`, LIKE, IN or IS [NOT] NULL.
func (p *parser) parsePredicate() (Expr, error) {
	field, err := p.parseField()
	if err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tokOp:
		op := Op(p.tok.text)
		if err := p.next(); err != nil {
			return nil, err
		}
		v, err := p.parseValue(fmt.Sprintf("after '%s'", op))
		if err != nil {
			return nil, err
		}
		return &Compare{Field: field, Op: op, Value: v}, nil
	case p.isWord("LIKE"):
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokString {
			return nil, p.errorf("expected a quoted pattern after LIKE, found %s", p.tok.describe())
		}
		pat := p.tok.text
		return &Like{Field: field, Pattern: pat}, p.next()
	case p.isWord("IN"):
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokLParen {
			return nil, p.errorf("expected '(' after IN, found %s", p.tok.describe())
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		var vals []Literal
		for {
			v, err := p.parseValue("in the IN list")
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			if p.tok.kind == tokRParen {
				break
			}
			if p.tok.kind != tokComma {
				return nil, p.errorf("expected ',' or ')' in the IN list, found %s", p.tok.describe())
			}
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		return &In{Field: field, Values: vals}, p.next()
	case p.isWord("IS"):
		if err := p.next(); err != nil {
			return nil, err
		}
		not := false
		if p.isWord("NOT") {
			not = true
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		if !p.isWord("NULL") {
			if not {
				return nil, p.errorf("expected NULL after IS NOT, found %s", p.tok.describe())
			}
			return nil, p.errorf("expected NULL or NOT NULL after IS, found %s", p.tok.describe())
		}
		return &IsNull{Field: field, Not: not}, p.next()
	}
	msg := fmt.Sprintf("expected an operator (=, !=, <, >, <=, >=, LIKE, IN, IS) after %s, found %s", clip(field), p.tok.describe())
	if p.isWord("NOT") {
		msg += " (NOT is not supported)"
	}
	return nil, p.errorf("%s", msg)
}

// parseValue parses a literal; where says where it was expected, for the
// error message.
func (p *parser) parseValue(where string) (Literal, error) {
	var l Literal
	switch {
	case p.tok.kind == tokString:
		l = Literal{Kind: KindString, Text: p.tok.text}
	case p.tok.kind == tokNumber:
		l = Literal{Kind: KindNumber, Text: p.tok.text}
	case p.isWord("TRUE"):
		l = Literal{Kind: KindBool, Text: "true"}
	case p.isWord("FALSE"):
		l = Literal{Kind: KindBool, Text: "false"}
	default:
		msg := fmt.Sprintf("expected a value %s, found %s", where, p.tok.describe())
		switch {
		case p.isWord("NULL"):
			msg += " (use IS NULL or IS NOT NULL)"
		case p.tok.kind == tokWord && !isKeyword(p.tok.text):
			msg += " (strings must be in single quotes)"
		}
		return l, p.errorf("%s", msg)
	}
	return l, p.next()
}
