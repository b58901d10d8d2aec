// Package ceql parses and evaluates the subset of CEQL (Cloud Elements Query
// Language) that appears in the where clause of CE hub URLs, for example
// /hubs/crm/accounts?where=update_time>'2024-01-02 03:04:05'.
//
// eventdesk uses it twice for one poll (hub URLs): SinceBound
// picks out the "changed since" comparison so a vendor adapter can push it
// down to the vendor's own filter, and Expr.Eval applies the whole clause to
// every returned record, so the result is right even where the vendor cannot
// filter at all. The package is pure: no I/O, no clock, no goroutines.
//
// Grammar (keywords are case-insensitive; AND binds tighter than OR):
//
//	expr      = and { OR and }
//	and       = primary { AND primary }
//	primary   = "(" expr ")" | field predicate
//	predicate = op value | LIKE string | IN "(" value { "," value } ")"
//	          | IS NULL | IS NOT NULL
//	op        = "=" | "!=" | "<>" | "<" | ">" | "<=" | ">="
//	value     = string | number | TRUE | FALSE
//	string    = "'" { any byte but "'" | "''" } "'"   ('' is one quote)
//	number    = [ "-" ] digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ]
//
// Field names are dotted paths made of letters, digits, '_', '.' and '$'
// (a name that is all number, or a reserved word, is not a field name).
package ceql

import (
	"strings"
)

// Expr is a parsed where clause. The concrete types are *And, *Or,
// *Compare, *In, *Like and *IsNull; the interface is sealed so that
// SinceBound and Fields can rely on knowing every node.
type Expr interface {
	// Eval reports whether record (a JSON object decoded by encoding/json,
	// numbers as float64 or json.Number) satisfies the expression.
	//
	// A field value is compared with a literal as instants when both
	// parse as timestamps (RFC 3339 with or without fraction or offset,
	// "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"; no offset means UTC), else as
	// exact decimals when both are numbers, else as byte strings, so a
	// vendor's "2024-01-02T03:04:06Z" is after '2024-01-02 03:04:05'.
	// Decode with json.Decoder.UseNumber to compare ids above 2^53
	// exactly. A missing or null field, or an object or array, fails
	// every comparison (!= included), IN and LIKE; it is NULL for IS NULL.
	Eval(record map[string]any) bool
	// String renders the expression in canonical form: keywords upper
	// case, single spaces around operators, only the parentheses that
	// precedence needs. Parse(e.String()) yields the same rendering.
	String() string
	isExpr()
}

// Op is a comparison operator.
type Op string

// The comparison operators. "<>" in the input is read as Ne.
const (
	Eq Op = "="
	Ne Op = "!="
	Lt Op = "<"
	Gt Op = ">"
	Le Op = "<="
	Ge Op = ">="
)

// Kind says how a literal was written, which decides how it is rendered;
// comparisons look at the text, not the kind (see Expr.Eval).
type Kind int

// The literal kinds.
const (
	KindString Kind = iota // 'text', Text holds the unescaped value
	KindNumber             // 12, -3.5, 1e+6; Text holds it as written
	KindBool               // true or false; Text is "true" or "false"
)

// Literal is a constant on the right-hand side of a predicate.
type Literal struct {
	Kind Kind
	Text string
}

// String renders the literal as it would be written in a where clause.
func (l Literal) String() string {
	if l.Kind == KindString {
		return quote(l.Text)
	}
	return l.Text
}

// quote renders s as a CEQL string literal, doubling embedded quotes.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// And is true when every term is. Parse flattens nested ANDs, so its
// terms are never *And and there are at least two of them.
type And struct{ Terms []Expr }

// Or is true when any term is. Parse flattens nested ORs, so its terms
// are never *Or and there are at least two of them.
type Or struct{ Terms []Expr }

// Compare is `Field Op Value`.
type Compare struct {
	Field string
	Op    Op
	Value Literal
}

// In is `Field IN (Values...)`; it holds when the field equals any value
// under the same rules as Eq.
type In struct {
	Field  string
	Values []Literal
}

// Like is `Field LIKE 'Pattern'`: '%' matches any run of characters, '_'
// exactly one character, everything else itself (case-sensitive, no
// escape character).
type Like struct {
	Field   string
	Pattern string
}

// IsNull is `Field IS NULL`, or `Field IS NOT NULL` when Not is set. A
// missing field and a JSON null are both null.
type IsNull struct {
	Field string
	Not   bool
}

func (*And) isExpr()     {}
func (*Or) isExpr()      {}
func (*Compare) isExpr() {}
func (*In) isExpr()      {}
func (*Like) isExpr()    {}
func (*IsNull) isExpr()  {}

// String renders the terms joined by AND. An OR term needs parentheses
// because AND binds tighter; a nested AND does not, since AND is
// associative and Parse would flatten it anyway.
func (e *And) String() string {
	var b strings.Builder
	for i, t := range e.Terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		if _, ok := t.(*Or); ok {
			b.WriteString("(" + t.String() + ")")
		} else {
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// String renders the terms joined by OR; no term needs parentheses since
// OR has the lowest precedence.
func (e *Or) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " OR ")
}

// String renders `field op value`.
func (e *Compare) String() string {
	return e.Field + " " + string(e.Op) + " " + e.Value.String()
}

// String renders `field IN (v1, v2)`.
func (e *In) String() string {
	parts := make([]string, len(e.Values))
	for i, v := range e.Values {
		parts[i] = v.String()
	}
	return e.Field + " IN (" + strings.Join(parts, ", ") + ")"
}

// String renders `field LIKE 'pattern'`.
func (e *Like) String() string {
	return e.Field + " LIKE " + quote(e.Pattern)
}

// String renders `field IS NULL` or `field IS NOT NULL`.
func (e *IsNull) String() string {
	if e.Not {
		return e.Field + " IS NOT NULL"
	}
	return e.Field + " IS NULL"
}
