package ceql

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"update_time>'2024-01-02 03:04:05'", "update_time > '2024-01-02 03:04:05'"},
		{"a = 1", "a = 1"},
		{"a!=1", "a != 1"},
		{"a<>1", "a != 1"},
		{"a<1", "a < 1"},
		{"a<=1", "a <= 1"},
		{"a>=-1.5e+3", "a >= -1.5e+3"},
		{"a = 007", "a = 007"},
		{"a = 1E5", "a = 1E5"},
		{"a='it''s'", "a = 'it''s'"},
		{"a=''", "a = ''"},
		{"a=''''", "a = ''''"},
		{"a = TRUE", "a = true"},
		{"a = False", "a = false"},
		{"name like '%Acme_'", "name LIKE '%Acme_'"},
		{"status in ('open', 'won',3)", "status IN ('open', 'won', 3)"},
		{"status IN('x')", "status IN ('x')"},
		{"owner.id is null", "owner.id IS NULL"},
		{"owner.id Is Not Null", "owner.id IS NOT NULL"},
		{"_info.lastUpdated >= '2024-01-01'", "_info.lastUpdated >= '2024-01-01'"},
		{"$meta.x$ = 1", "$meta.x$ = 1"},
		{"custom_fields.cf_2fa = 'y'", "custom_fields.cf_2fa = 'y'"},
		{"2fa.enabled = true", "2fa.enabled = true"},
		{"emails.0.email LIKE '%@acme.com'", "emails.0.email LIKE '%@acme.com'"},
		{"prénom = 'Zoë'", "prénom = 'Zoë'"},
		{"a=1 and b=2 or c=3", "a = 1 AND b = 2 OR c = 3"},
		{"a=1 or b=2 and c=3", "a = 1 OR b = 2 AND c = 3"},
		{"(a=1 or b=2) and c=3", "(a = 1 OR b = 2) AND c = 3"},
		{"a=1 and (b=2 or c=3)", "a = 1 AND (b = 2 OR c = 3)"},
		{"((a=1))", "a = 1"},
		{"(a=1 and b=2) and (c=3 and d=4)", "a = 1 AND b = 2 AND c = 3 AND d = 4"},
		{"(a=1 or b=2) or c=3", "a = 1 OR b = 2 OR c = 3"},
		{"(a=1 and b=2) or c=3", "a = 1 AND b = 2 OR c = 3"},
		{" \t\na = 1\r\n", "a = 1"},
		{"a='x'AND b=1", "a = 'x' AND b = 1"},
		{"a = 'line\nbreak'", "a = 'line\nbreak'"},
		{strings.Repeat("(", MaxDepth) + "a=1" + strings.Repeat(")", MaxDepth), "a = 1"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAST(t *testing.T) {
	e, err := Parse("a = 'x' AND (b IN (1, true) OR c LIKE 'y%') AND d IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	and, ok := e.(*And)
	if !ok || len(and.Terms) != 3 {
		t.Fatalf("top = %#v, want *And with 3 terms", e)
	}
	if c, ok := and.Terms[0].(*Compare); !ok || c.Field != "a" || c.Op != Eq || c.Value != (Literal{KindString, "x"}) {
		t.Errorf("term 0 = %#v", and.Terms[0])
	}
	or, ok := and.Terms[1].(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("term 1 = %#v, want *Or with 2 terms", and.Terms[1])
	}
	in, ok := or.Terms[0].(*In)
	if !ok || in.Field != "b" || len(in.Values) != 2 || in.Values[0] != (Literal{KindNumber, "1"}) || in.Values[1] != (Literal{KindBool, "true"}) {
		t.Errorf("IN = %#v", or.Terms[0])
	}
	if l, ok := or.Terms[1].(*Like); !ok || l.Field != "c" || l.Pattern != "y%" {
		t.Errorf("LIKE = %#v", or.Terms[1])
	}
	if n, ok := and.Terms[2].(*IsNull); !ok || n.Field != "d" || !n.Not {
		t.Errorf("IS NOT NULL = %#v", and.Terms[2])
	}
}

func TestParseInvalid(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "a=1" + strings.Repeat(")", MaxDepth+1)
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"update_time>", 12, "expected a value after '>', found end of input"},
		{"", 0, "expected a field name or '(', found end of input"},
		{"   ", 3, "expected a field name or '(', found end of input"},
		{"a", 1, "expected an operator (=, !=, <, >, <=, >=, LIKE, IN, IS) after a, found end of input"},
		{"a == 1", 3, "expected a value after '=', found '='"},
		{"a = b", 4, "expected a value after '=', found name b (strings must be in single quotes)"},
		{"a = NULL", 4, "expected a value after '=', found keyword NULL (use IS NULL or IS NOT NULL)"},
		{"a = 'x", 4, "unterminated string: no closing quote for the ' here"},
		{"a = 'it''s", 4, "unterminated string: no closing quote for the ' here"},
		{`a = "x"`, 4, `unexpected character '"' (strings use single quotes)`},
		{"a ! 1", 2, "unexpected character '!' (did you mean '!='?)"},
		{"a = -", 4, "expected digits after '-'"},
		{"a = -1x", 4, "malformed number -1x"},
		{"a = 1x", 4, "expected a value after '=', found name 1x (strings must be in single quotes)"},
		{"a = 1 b = 2", 6, "expected AND, OR or end of input, found name b"},
		{"a = 1 AND", 9, "expected a field name or '(', found end of input"},
		{"a = 1 OR OR b = 1", 9, "expected a field name or '(', found keyword OR"},
		{"NOT a = 1", 0, "expected a field name or '(', found keyword NOT (NOT is not supported; use !=, or IS NOT NULL)"},
		{"a NOT LIKE 'x'", 2, "expected an operator (=, !=, <, >, <=, >=, LIKE, IN, IS) after a, found keyword NOT (NOT is not supported)"},
		{"and = 1", 0, "expected a field name or '(', found keyword AND"},
		{"1 = 1", 0, "expected a field name or '(', found number 1"},
		{"'a' = 1", 0, "expected a field name or '(', found string 'a'"},
		{"a. = 1", 0, "field name a. has an empty path segment"},
		{".a = 1", 0, "field name .a has an empty path segment"},
		{"a..b = 1", 0, "field name a..b has an empty path segment"},
		{"a LIKE 3", 7, "expected a quoted pattern after LIKE, found number 3"},
		{"a IN 'x'", 5, "expected '(' after IN, found string 'x'"},
		{"a IN ()", 6, "expected a value in the IN list, found ')'"},
		{"a IN ('x',)", 10, "expected a value in the IN list, found ')'"},
		{"a IN ('x' 'y')", 10, "expected ',' or ')' in the IN list, found string 'y'"},
		{"a IN ('x'", 9, "expected ',' or ')' in the IN list, found end of input"},
		{"a IS 'x'", 5, "expected NULL or NOT NULL after IS, found string 'x'"},
		{"a IS NOT", 8, "expected NULL after IS NOT, found end of input"},
		{"(a = 1", 6, "expected AND, OR or ')' to close the '(' at position 0, found end of input"},
		{"(a = 1 b", 7, "expected AND, OR or ')' to close the '(' at position 0, found name b"},
		{"a = 1)", 5, "found ')' without a matching '('"},
		{"()", 1, "expected a field name or '(', found ')'"},
		{"a = 1 AND b = 'x' AND c = ", 26, "expected a value after '=', found end of input"},
		{"a = '\xff'  AND \xff", 13, "unexpected byte 0xff (invalid UTF-8)"},
		{"a = 1 § b", 6, "unexpected character '§'"},
		{"a = '" + strings.Repeat("x", 60) + "' b", 67, "expected AND, OR or end of input, found name b"},
		{"a = 1 " + strings.Repeat("y", 60), 6, "expected AND, OR or end of input, found name " + strings.Repeat("y", 40) + "…"},
		{deep, MaxDepth, "parentheses nested more than 100 deep"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error", tt.in, e)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T, want *SyntaxError", tt.in, err)
			continue
		}
		if se.Pos != tt.pos || se.Msg != tt.msg {
			t.Errorf("Parse(%q) = at %d %q\n                  want at %d %q", tt.in, se.Pos, se.Msg, tt.pos, tt.msg)
		}
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := Parse("update_time>")
	want := "ceql: at position 12: expected a value after '>', found end of input"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestParseHostile checks that huge inputs fail (or succeed) quickly and
// without exhausting the stack.
func TestParseHostile(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("(", 1_000_000),
		strings.Repeat("(", 50) + strings.Repeat("a=1 OR ", 100_000) + "a=1" + strings.Repeat(")", 50),
		"a IN (" + strings.Repeat("1,", 100_000) + "1)",
	} {
		e, err := Parse(in)
		if e == nil && err == nil {
			t.Error("Parse returned neither expression nor error")
		}
		if e != nil {
			e.Eval(map[string]any{"a": 2.0})
			_ = e.String()
		}
	}
}
