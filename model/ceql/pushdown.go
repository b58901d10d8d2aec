package ceql

// SinceBound finds the lower bound on field that a vendor adapter can pass
// as its "changed since" parameter. It looks at e itself when e is a
// Compare, or at the direct terms of a top-level AND; a comparison inside
// an OR cannot be pushed down, because records from the other branch would
// be lost. The comparison must be `field > literal` or `field >= literal`
// with a string or number literal; value is the literal's text (unquoted),
// inclusive is true for >=.
//
// When an AND holds several such bounds the tightest one wins (ordered as
// Eval orders values; on a tie > beats >=). Pushing down is only an
// optimisation: callers still Eval the whole clause on every record.
func SinceBound(e Expr, field string) (value string, inclusive bool, ok bool) {
	var terms []Expr
	switch x := e.(type) {
	case *Compare:
		terms = []Expr{x}
	case *And:
		terms = x.Terms
	default:
		return "", false, false
	}
	for _, t := range terms {
		c, isCmp := t.(*Compare)
		if !isCmp || c.Field != field || (c.Op != Gt && c.Op != Ge) || c.Value.Kind == KindBool {
			continue
		}
		incl := c.Op == Ge
		if !ok {
			value, inclusive, ok = c.Value.Text, incl, true
			continue
		}
		switch cmp := compareText(c.Value.Text, value); {
		case cmp > 0, cmp == 0 && !incl:
			value, inclusive = c.Value.Text, incl
		}
	}
	return value, inclusive, ok
}

// Fields lists the field names e refers to, each once, in order of first
// appearance, so a caller can check them against what a vendor returns.
func Fields(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(Expr)
	walk = func(e Expr) {
		var f string
		switch x := e.(type) {
		case *And:
			for _, t := range x.Terms {
				walk(t)
			}
			return
		case *Or:
			for _, t := range x.Terms {
				walk(t)
			}
			return
		case *Compare:
			f = x.Field
		case *In:
			f = x.Field
		case *Like:
			f = x.Field
		case *IsNull:
			f = x.Field
		default:
			return
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	walk(e)
	return out
}
