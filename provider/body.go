package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	if err := s.st.AddRejected(r.Context(), rec); err != nil {
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

// redactInstanceBody returns what the rejected log keeps of a refused
// instance request body, whose configuration holds secrets that must never
// be kept in clear. A body that reads as JSON (comments and trailing commas
// allowed, as in hand-written files) is kept with every secret masked: the
// value of each key that is a secret for any element (a refused body may
// name no element, or the wrong one), at any depth and of any type, and
// every callback header value. A body that does not read as JSON at all
// (single quotes, unquoted keys, a missing colon, cut short) cannot be
// masked by key with any certainty, so only its size is kept; the reason
// recorded with it says where it fails to parse.
func redactInstanceBody(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return body
	}
	src := body
	if !json.Valid(src) {
		src = model.StripJSONC(body)
	}
	if json.Valid(src) {
		var buf bytes.Buffer
		dec := json.NewDecoder(bytes.NewReader(src))
		dec.UseNumber()
		if err := writeMasked(dec, &buf); err == nil {
			return buf.Bytes()
		}
	}
	return fmt.Appendf(nil, "[%d bytes not kept: the body is not valid JSON, so the secrets it may hold could not be masked]", len(body))
}

// writeMasked copies the next JSON value from dec to buf (compact), with
// secret members masked.
func writeMasked(dec *json.Decoder, buf *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			buf.WriteByte('{')
			for n := 0; dec.More(); n++ {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				if n > 0 {
					buf.WriteByte(',')
				}
				writeJSONString(buf, key)
				buf.WriteByte(':')
				if err := writeMember(dec, buf, key); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			buf.WriteByte('}')
		case '[':
			buf.WriteByte('[')
			for n := 0; dec.More(); n++ {
				if n > 0 {
					buf.WriteByte(',')
				}
				if err := writeMasked(dec, buf); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			buf.WriteByte(']')
		}
	case string:
		writeJSONString(buf, t)
	case json.Number:
		buf.WriteString(t.String())
	case bool:
		fmt.Fprint(buf, t)
	case nil:
		buf.WriteString("null")
	}
	return nil
}

// writeMember writes the value of the object member named key.
func writeMember(dec *json.Decoder, buf *bytes.Buffer, key string) error {
	secret := isAnySecretKey(key)
	headers := strings.EqualFold(strings.TrimSpace(key), model.KeyCallbackHeaders)
	if !secret && !headers {
		return writeMasked(dec, buf)
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	v := bytes.TrimSpace(raw)
	switch {
	case string(v) == "null" || string(v) == `""`:
		buf.Write(v) // nothing to hide, and "not set" stays visible
	case secret:
		writeJSONString(buf, model.Mask)
	case v[0] == '"':
		var s string
		_ = json.Unmarshal(v, &s)
		writeJSONString(buf, model.MaskCallbackHeaders(s))
	default:
		var c bytes.Buffer
		_ = json.Compact(&c, v)
		if m := model.MaskCallbackHeaders(c.String()); m != model.Mask {
			buf.WriteString(m)
		} else {
			writeJSONString(buf, m)
		}
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline
}

func isAnySecretKey(key string) bool {
	for _, el := range model.Elements() {
		if model.IsSecretKey(el.Key, key) {
			return true
		}
	}
	return false
}
