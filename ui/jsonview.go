package ui

import (
	"bytes"
	"encoding/json"
	"strings"
)

// prettyJSON indents raw JSON; invalid JSON comes back as it is, so a
// payload the vendor mangled is still shown.
func prettyJSON(raw []byte) (string, bool) {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
		return string(raw), false
	}
	return b.String(), true
}

// colorJSON colours indented JSON token by token: keys, strings, numbers,
// booleans, null and punctuation. It walks the text once and never
// re-parses, so a large payload costs one pass.
func colorJSON(st Styles, s string) string {
	if st.Plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) * 2)
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			tok := s[i:j]
			// A string followed by ':' is a key.
			k := j
			for k < len(s) && s[k] == ' ' {
				k++
			}
			if k < len(s) && s[k] == ':' {
				b.WriteString(st.JSONKey.Render(tok))
			} else {
				b.WriteString(st.JSONString.Render(tok))
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(s) && strings.IndexByte("+-.eE0123456789", s[j]) >= 0 {
				j++
			}
			b.WriteString(st.JSONNumber.Render(s[i:j]))
			i = j
		case strings.HasPrefix(s[i:], "true") || strings.HasPrefix(s[i:], "false"):
			n := 4
			if c == 'f' {
				n = 5
			}
			b.WriteString(st.JSONBool.Render(s[i : i+n]))
			i += n
		case strings.HasPrefix(s[i:], "null"):
			b.WriteString(st.JSONNull.Render("null"))
			i += 4
		case strings.IndexByte("{}[],:", c) >= 0:
			b.WriteString(st.JSONPunct.Render(string(c)))
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}
