package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// ChangeKind says how a JSON value differs between two versions.
type ChangeKind string

// The kinds of change DiffJSON reports.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one difference between two JSON documents: at Path (a JSON
// path such as $.data.emails[0].value), the value Old became New; Old is
// empty when added, New when removed. Values are compact JSON.
type Change struct {
	Path string
	Kind ChangeKind
	Old  string
	New  string
}

// DiffJSON lists field-level differences from old to new, in path order.
// Objects are compared key by key and arrays index by index, so a changed
// field deep inside a record is one change, not a changed record.
func DiffJSON(old, new []byte) ([]Change, error) {
	var a, b any
	if err := unmarshalNumbers(old, &a); err != nil {
		return nil, fmt.Errorf("the older version is not JSON: %w", err)
	}
	if err := unmarshalNumbers(new, &b); err != nil {
		return nil, fmt.Errorf("the newer version is not JSON: %w", err)
	}
	var out []Change
	diffValue("$", a, b, &out)
	return out, nil
}

// unmarshalNumbers keeps numbers as written, so 1.0 and 1 or a large id
// compare as the vendor sent them.
func unmarshalNumbers(data []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

func diffValue(path string, a, b any, out *[]Change) {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(av)+len(bv))
			for k := range av {
				keys = append(keys, k)
			}
			for k := range bv {
				if _, ok := av[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := path + "." + k
				x, inA := av[k]
				y, inB := bv[k]
				switch {
				case !inB:
					*out = append(*out, Change{Path: p, Kind: Removed, Old: compact(x)})
				case !inA:
					*out = append(*out, Change{Path: p, Kind: Added, New: compact(y)})
				default:
					diffValue(p, x, y, out)
				}
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			for i := 0; i < max(len(av), len(bv)); i++ {
				p := path + "[" + strconv.Itoa(i) + "]"
				switch {
				case i >= len(bv):
					*out = append(*out, Change{Path: p, Kind: Removed, Old: compact(av[i])})
				case i >= len(av):
					*out = append(*out, Change{Path: p, Kind: Added, New: compact(bv[i])})
				default:
					diffValue(p, av[i], bv[i], out)
				}
			}
			return
		}
	}
	if x, y := compact(a), compact(b); x != y {
		*out = append(*out, Change{Path: path, Kind: Changed, Old: x, New: y})
	}
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
