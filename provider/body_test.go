package provider

import (
	"strings"
	"testing"
)

// A declared Content-Length alone must not make the receiver allocate the
// whole body limit: the client may send far less, or nothing.
func TestReadAllTrustsContentLengthOnlySoFar(t *testing.T) {
	b, err := readAll(strings.NewReader("{}"), DefaultMaxBody-1, DefaultMaxBody)
	if err != nil || string(b) != "{}" {
		t.Fatalf("readAll = %q, %v", b, err)
	}
	if cap(b) > firstBufferCap+1 {
		t.Errorf("a 2-byte body declared as %d bytes took a %d-byte buffer, want at most %d", DefaultMaxBody-1, cap(b), firstBufferCap+1)
	}
	body := strings.Repeat("x", 3*firstBufferCap)
	if b, err := readAll(strings.NewReader(body), int64(len(body)), DefaultMaxBody); err != nil || string(b) != body {
		t.Errorf("a %d-byte body read as %d bytes (%v)", len(body), len(b), err)
	}
}
