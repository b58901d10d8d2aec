package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// readBody reads at most MaxBody bytes; a larger body is a 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), r.ContentLength, s.cfg.MaxBody)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return body, errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than the %s limit", byteSize(s.cfg.MaxBody)))
	}
	if err != nil {
		return body, errorf(http.StatusBadRequest, "could not read request body: "+err.Error())
	}
	return body, nil
}

// firstBufferCap bounds what readAll allocates on the strength of a
// Content-Length alone: an unauthenticated client may declare a large body
// and send nothing.
const firstBufferCap = 64 << 10

// readAll is io.ReadAll with a first buffer sized from the request's
// Content-Length (up to firstBufferCap), so a usual webhook body is read
// into one allocation instead of a chain of growing ones.
func readAll(rd io.Reader, contentLength, max int64) ([]byte, error) {
	size := 512
	if contentLength > 0 && contentLength < max {
		size = int(min(contentLength, firstBufferCap)) + 1 // room to see EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// decodeStrict decodes one JSON document; syntax errors name line and column.
func decodeStrict(body []byte, v any) error {
	return decodeJSON(body, v, false)
}

// decodeJSON is decodeStrict; with knownOnly a field v has no place for is
// an error too (the decoder's message names it).
func decodeJSON(body []byte, v any, knownOnly bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, "request body is empty; expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if knownOnly {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, model.JSONError(body, err).Error())
	}
	// Anything but white space after the value is an error. (dec.More is
	// not enough: it reports false for a stray '}' or ']'.)
	rest := body[dec.InputOffset():]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		line, col := model.LineCol(body, dec.InputOffset()+int64(len(rest)-len(trimmed)))
		return errorf(http.StatusBadRequest, fmt.Sprintf("invalid JSON at line %d, column %d: unexpected data after the JSON value", line, col))
	}
	return nil
}

func byteSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// rejectedBodyLimit is how much of a refused body the log keeps.
const rejectedBodyLimit = 4 << 10

// reject records a 4xx in the rejected-request ring, headers redacted.
func (s *Server) reject(r *http.Request, status int, reason string, body []byte) {
	rec := store.Rejected{
		Time:       s.now().UTC(),
		RequestID:  requestID(r),
		RemoteAddr: r.RemoteAddr,
		Method:     r.Method,
		Path:       r.URL.Path,
		Status:     status,
		Reason:     reason,
		Headers:    redactHeaders(r.Header),
	}
	if len(body) > rejectedBodyLimit {
		body, rec.Truncated = body[:rejectedBodyLimit], true
	}
	rec.Body = string(body)
	if err := s.st.AddRejected(rec); err != nil {
		s.log.Warn("could not record rejected request", append(reqAttrs(r), "err", err)...)
	}
}

// redactHeaders keeps header names and drops values that carry secrets.
func redactHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		secret := lk == "authorization" || lk == "cookie" || lk == "proxy-authorization" ||
			strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "api-key")
		if secret {
			red := make([]string, len(vs))
			for i, v := range vs {
				red[i] = redactValue(lk, v)
			}
			out[k] = red
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// redactValue keeps the scheme of an Authorization value ("Basic", "User …")
// so an operator can still see which kind of credentials came.
func redactValue(name, v string) string {
	if name == "authorization" || name == "proxy-authorization" {
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok && !strings.Contains(scheme, ",") {
			return scheme + " [redacted]"
		}
	}
	return "[redacted]"
}

// jsonMember matches a JSON object member "name": value, where value is a
// string (possibly cut short) or a bare scalar. It works on invalid and
// truncated JSON too, which is exactly what the rejected log keeps.
var jsonMember = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^\s,:{}\[\]"]+)`)

// redactInstanceBody masks the secrets of an instance request body
// (secrets are never logged) before it goes to the rejected log. It
// keeps everything else byte for byte, so the log still shows what came and
// where a syntax error was. A key counts as secret if it is one for any
// element, since a refused body may name no element or the wrong one.
func redactInstanceBody(body []byte) []byte {
	if len(body) == 0 {
		return body
	}
	return jsonMember.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := jsonMember.FindSubmatch(m)
		var name string
		if json.Unmarshal(append(append([]byte{'"'}, sub[1]...), '"'), &name) != nil {
			name = string(sub[1])
		}
		if !isAnySecretKey(name) || string(sub[3]) == "null" || string(sub[3]) == `""` {
			return m
		}
		out := make([]byte, 0, len(sub[1])+len(sub[2])+len(model.Mask)+4)
		out = append(out, '"')
		out = append(out, sub[1]...)
		out = append(out, '"')
		out = append(out, sub[2]...)
		return append(out, `"`+model.Mask+`"`...)
	})
}

func isAnySecretKey(key string) bool {
	for _, el := range model.Elements() {
		if model.IsSecretKey(el.Key, key) {
			return true
		}
	}
	return false
}
