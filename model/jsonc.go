package model

// StripJSONC turns hand-written JSON with // and /* */ comments and trailing
// commas (the Close seed's instance.json has one) into strict JSON. Comments
// become spaces and newlines stay, so line and column of later errors still
// point into the original file. Instance files and the API's instance
// bodies go through it; webhook bodies and everything else stay strict.
func StripJSONC(src []byte) []byte {
	out := make([]byte, len(src))
	copy(out, src)
	inString, escaped := false, false
	lastSignificant := -1 // index in out of the last non-space byte outside comments
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				lastSignificant = i
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for i < len(out) && out[i] != '\n' {
				out[i] = ' '
				i++
			}
			continue
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			out[i], out[i+1] = ' ', ' '
			i += 2
			for i < len(out) && !(out[i] == '*' && i+1 < len(out) && out[i+1] == '/') {
				if out[i] != '\n' {
					out[i] = ' '
				}
				i++
			}
			if i < len(out) {
				out[i], out[i+1] = ' ', ' '
				i++
			}
			continue
		case c == '}' || c == ']':
			if lastSignificant >= 0 && out[lastSignificant] == ',' {
				out[lastSignificant] = ' '
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		lastSignificant = i
	}
	return out
}
