package model

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// EventSearchPage is one chunk of a search through every stored event,
// newest first. A search examines a bounded number of events per chunk,
// so a client sees progress and can stop between chunks.
type EventSearchPage struct {
	// Events are the chunk's matches, newest first.
	Events []Event `json:"events"`
	// Next is the cursor of the following chunk: the search continues
	// with events older than it. 0 when Done.
	Next uint64 `json:"next,omitempty"`
	// Scanned is how many events the chunk examined.
	Scanned int `json:"scanned"`
	// Done says the search reached the oldest event (or its Since bound).
	Done bool `json:"done"`
}

// ContainsFold reports whether needle occurs in hay, ignoring case
// (Unicode simple folding, as strings.EqualFold). It allocates nothing, so
// a search can run it over millions of payloads.
func ContainsFold(hay []byte, needle string) bool {
	if needle == "" {
		return true
	}
	if c := needle[0]; c < utf8.RuneSelf {
		// Jump from one byte that can start a match to the next.
		lo, up := lowerASCII(c), upperASCII(c)
		nextLo, nextUp := -2, -2
		for i := 0; i < len(hay); {
			if nextLo != -1 && nextLo < i {
				nextLo = indexFrom(hay, i, lo)
			}
			if nextUp != -1 && nextUp < i {
				nextUp = indexFrom(hay, i, up)
			}
			j := nextLo
			if j < 0 || (nextUp >= 0 && nextUp < j) {
				j = nextUp
			}
			if j < 0 {
				return false
			}
			if hasPrefixFold(hay[j:], needle) {
				return true
			}
			i = j + 1
		}
		return false
	}
	for i := 0; i < len(hay); i++ {
		if utf8.RuneStart(hay[i]) && hasPrefixFold(hay[i:], needle) {
			return true
		}
	}
	return false
}

// indexFrom is the index of the first c in s at or after from, or -1.
func indexFrom(s []byte, from int, c byte) int {
	if i := bytes.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// hasPrefixFold reports whether s starts with prefix, ignoring case.
func hasPrefixFold(s []byte, prefix string) bool {
	for prefix != "" {
		if len(s) == 0 {
			return false
		}
		r, rs := rune(s[0]), 1
		if r >= utf8.RuneSelf {
			r, rs = utf8.DecodeRune(s)
		}
		p, ps := rune(prefix[0]), 1
		if p >= utf8.RuneSelf {
			p, ps = utf8.DecodeRuneInString(prefix)
		}
		if r != p && !foldEqual(r, p) {
			return false
		}
		s, prefix = s[rs:], prefix[ps:]
	}
	return true
}

// foldEqual reports whether a and b are the same letter in another case.
func foldEqual(a, b rune) bool {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(byte(a)) == lowerASCII(byte(b))
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
