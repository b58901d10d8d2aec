package fakevendor

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Word lists for generated records: small, but enough for data to look
// like a CRM rather than "name 1, name 2". Every fake draws from the same
// lists, so demo data reads alike across vendors. Treat them as read-only.
var (
	FirstNames = []string{"Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
		"Kira", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"}
	LastNames = []string{"Smith", "Müller", "Garcia", "Rossi", "Novak", "Kowalski", "Dubois", "Jensen", "Silva",
		"Tanaka", "Okafor", "Brown", "Ivanova", "Larsen", "Moreau", "Fischer", "Costa", "Nguyen", "Walsh", "Berg"}
	CompanyNames = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell",
		"Cyberdyne", "Soylent", "Wonka", "Vandelay", "Gringotts", "Monarch", "Oscorp", "Massive Dynamic"}
	CompanySuffixes = []string{"Ltd", "GmbH", "Inc", "SA", "Group", "Labs", "Holdings", "BV"}
)

// slugger folds the word lists' letters to e-mail- and URL-safe ASCII.
var slugger = strings.NewReplacer(" ", "", "ü", "u", "é", "e")

// Slug lower-cases a word for e-mail addresses and domains.
func Slug(s string) string { return strings.ToLower(slugger.Replace(s)) }

// Slugs holds the Slug of every first name, last name and company name,
// computed once so that generating a record does not allocate for them.
// Treat it as read-only.
var Slugs = func() map[string]string {
	m := map[string]string{}
	for _, list := range [][]string{FirstNames, LastNames, CompanyNames} {
		for _, w := range list {
			m[w] = Slug(w)
		}
	}
	return m
}()

// Pick returns a random element of words, drawn from the fake's seeded rng
// so that the same seed gives the same data.
func Pick(rng *rand.Rand, words []string) string { return words[rng.IntN(len(words))] }

// Obj appends a JSON object field by field, which is how the generators
// encode 100,000 records in well under a second. Callers write keys in
// alphabetical order, matching what encoding/json produces for the maps of
// Create and Update, so generated and created records look alike byte for
// byte.
type Obj struct {
	// B is the encoding so far. After Key, callers may append a value the
	// typed methods do not cover (an array, a nested object) to it directly.
	B []byte
}

// NewObj starts an object, with room for capacity bytes.
func NewObj(capacity int) Obj { return Obj{B: append(make([]byte, 0, capacity), '{')} }

// Key starts the field k; its value must follow.
func (o *Obj) Key(k string) {
	if len(o.B) > 1 {
		o.B = append(o.B, ',')
	}
	o.B = append(o.B, '"')
	o.B = append(o.B, k...)
	o.B = append(o.B, '"', ':')
}

// Str adds a string field.
func (o *Obj) Str(k, v string) { o.Key(k); o.B = AppendJSONString(o.B, v) }

// Num adds an integer field.
func (o *Obj) Num(k string, v int64) {
	o.Key(k)
	o.B = strconv.AppendInt(o.B, v, 10)
}

// Ref adds an integer reference to another record, where 0 (no record to
// point at) is null.
func (o *Obj) Ref(k string, v int64) {
	if v == 0 {
		o.Raw(k, "null")
		return
	}
	o.Num(k, v)
}

// Raw adds a field whose value v is already JSON.
func (o *Obj) Raw(k, v string) { o.Key(k); o.B = append(o.B, v...) }

// Done closes the object and returns its encoding.
func (o *Obj) Done() []byte { return append(o.B, '}') }

// AppendJSONString appends s as a JSON string, escaping only what JSON
// requires, so it allocates nothing beyond b's growth.
func AppendJSONString(b []byte, s string) []byte {
	const hexdig = "0123456789abcdef"
	b = append(b, '"')
	// Copy the run that needs no escaping in one go; ids, names and dates,
	// i.e. nearly everything, are one such run.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexdig[c>>4], hexdig[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// SortedBy returns a copy of rs stably sorted by key. The fakes keep
// records in creation order, so ties stay in creation order, which is the
// tie-break their list endpoints document.
func SortedBy[T any](rs []T, key func(T) int64) []T {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b T) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out
}

// SortedViews caches copies of a table's records sorted by time fields,
// built when a list first needs one and dropped by Stale, so that a batch
// of changes (a bulk Generate, say) costs one sort on the next list rather
// than one per change. It is not safe for concurrent use; the fake's data
// lock guards it.
type SortedViews[T any] struct {
	keys  map[string]func(T) int64
	views map[string][]T
}

// NewSortedViews returns views sorting by keys, a sort field's name to the
// record's value of it.
func NewSortedViews[T any](keys map[string]func(T) int64) *SortedViews[T] {
	return &SortedViews[T]{keys: keys, views: make(map[string][]T, len(keys))}
}

// Of returns rs sorted by field (see SortedBy: ties stay in rs's order), or
// rs itself when field has no key. rs must be the same records as at the
// last Stale.
func (v *SortedViews[T]) Of(field string, rs []T) []T {
	key, ok := v.keys[field]
	if !ok {
		return rs
	}
	if s, ok := v.views[field]; ok {
		return s
	}
	s := SortedBy(rs, key)
	v.views[field] = s
	return s
}

// Stale drops every view; call it after any change to the records or
// their sort values.
func (v *SortedViews[T]) Stale() { clear(v.views) }
