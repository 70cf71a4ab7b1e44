package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// This file holds the reflection helpers that tie the Config struct's koanf
// tags to everything keyed by name: the defaults map fed to koanf, the
// unknown-key check of the YAML file, the set of keys the environment may set,
// readable JSON and the key diff of a reload. Deriving all of them from the
// struct keeps them from drifting apart when a field is added.

var (
	durationType = reflect.TypeFor[time.Duration]()
	configType   = reflect.TypeFor[Config]()
)

// fieldKey returns the koanf key of a struct field, or "" when the field has
// none and is therefore not configuration.
func fieldKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// fieldByKey finds the field of struct type t whose koanf key is exactly key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if fieldKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// isSection reports whether a field of type t is a nested block of keys
// rather than a single value.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != durationType
}

// plain converts a config value to the plain data a YAML parser would
// produce: maps keyed by koanf key, []any, and durations as Go duration
// strings (which the decode hook parses back exactly).
func plain(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		m := make(map[string]any, t.NumField())
		for i := range t.NumField() {
			if k := fieldKey(t.Field(i)); k != "" {
				m[k] = plain(v.Field(i))
			}
		}
		return m
	case reflect.Slice, reflect.Array:
		s := make([]any, v.Len())
		for i := range s {
			s[i] = plain(v.Index(i))
		}
		return s
	default:
		return v.Interface()
	}
}

// appendJSON encodes v like encoding/json would, except that struct fields
// keep their declaration order under their koanf keys, durations are Go
// duration strings and nil slices are [] rather than null. It exists so that
// --print-config and /debug/config read like the YAML an operator writes.
func appendJSON(b []byte, v reflect.Value) ([]byte, error) {
	if v.Type() == durationType {
		return appendMarshal(b, time.Duration(v.Int()).String())
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		b = append(b, '{')
		first := true
		for i := range t.NumField() {
			k := fieldKey(t.Field(i))
			if k == "" {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = appendMarshal(b, k); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, v.Field(i)); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		return append(b, '}'), nil
	case reflect.Slice, reflect.Array:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	default:
		return appendMarshal(b, v.Interface())
	}
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// leafKeys lists every dotted key of struct type t that holds a single value
// (scalars, durations and lists), mapped to its Go type.
func leafKeys(t reflect.Type, prefix string, out map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		k := fieldKey(f)
		if k == "" {
			continue
		}
		if isSection(f.Type) {
			leafKeys(f.Type, prefix+k+".", out)
			continue
		}
		out[prefix+k] = f.Type
	}
}

// checkKeys reports every key of m (a parsed YAML mapping) that names no
// field of struct type t, descending into sections and lists of sections, so
// that a typo in an operator's file fails loudly instead of being ignored.
func checkKeys(m map[string]any, t reflect.Type, prefix, source string) []error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var errs []error
	for _, k := range keys {
		f, ok := fieldByKey(t, k)
		if !ok {
			msg := "unknown key in " + source
			if s := suggest(t, k); s != "" {
				msg += "; did you mean " + prefix + s + "?"
			}
			errs = append(errs, &FieldError{Key: prefix + k, Msg: msg})
			continue
		}
		switch v := m[k].(type) {
		case map[string]any:
			if isSection(f.Type) {
				errs = append(errs, checkKeys(v, f.Type, prefix+k+".", source)...)
			}
		case []any:
			if f.Type.Kind() == reflect.Slice && isSection(f.Type.Elem()) {
				for i, el := range v {
					if em, ok := el.(map[string]any); ok {
						errs = append(errs, checkKeys(em, f.Type.Elem(), fmt.Sprintf("%s%s[%d].", prefix, k, i), source)...)
					}
				}
			}
		}
	}
	return errs
}

// suggest returns the key of struct type t closest to the misspelt key, or
// "" when none is close enough to be a likely typo.
func suggest(t reflect.Type, key string) string {
	best, bestDist := "", 3
	for i := range t.NumField() {
		k := fieldKey(t.Field(i))
		if k == "" {
			continue
		}
		if strings.EqualFold(k, key) {
			return k
		}
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // not a typo of any key; avoid quadratic work on junk
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// normalize copies parsed YAML into map[string]any/[]any form and drops keys
// whose value is null, so that a block whose children are all commented out
// ("server:" followed by nothing) means "not set" instead of wiping the
// defaults of the whole block.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if e != nil {
				out[k] = normalize(e)
			}
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if e != nil {
				out[fmt.Sprint(k)] = normalize(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	default:
		return v
	}
}

// fillMissing copies into dst every key of src that dst lacks, descending
// into maps present in both.
func fillMissing(dst, src map[string]any) {
	for k, sv := range src {
		dv, ok := dst[k]
		if !ok {
			dst[k] = sv
			continue
		}
		dm, ok1 := dv.(map[string]any)
		sm, ok2 := sv.(map[string]any)
		if ok1 && ok2 {
			fillMissing(dm, sm)
		}
	}
}

// flatten turns plain data into dotted key -> canonical value text. Lists are
// single values: a list changes as a whole.
func flatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			flatten(prefix+k+".", e, out)
		}
		return
	}
	j, err := json.Marshal(v)
	if err != nil {
		j = []byte(fmt.Sprintf("%#v", v)) // NaN and the like; still comparable
	}
	out[strings.TrimSuffix(prefix, ".")] = string(j)
}

// diffKeys lists the keys whose values differ between a and b, sorted. Modes
// are matched by name, not position: a mode present in only one side is
// reported as matchmaking.modes[NAME], a changed field of a mode as
// matchmaking.modes[NAME].FIELD, and reordering alone is no change.
func diffKeys(a, b Config) []string {
	fa, fb := flatConfig(a), flatConfig(b)
	set := map[string]bool{}
	for k, va := range fa {
		if vb, ok := fb[k]; !ok || va != vb {
			set[k] = true
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		// A mode added or removed is one change, not one per field.
		if mode, _, ok := strings.Cut(k, "]."); ok && set[mode+"]"] {
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// flatConfig flattens c with modes keyed by name (see diffKeys).
func flatConfig(c Config) map[string]string {
	modes := c.Matchmaking.Modes
	c.Matchmaking.Modes = nil
	out := map[string]string{}
	flatten("", plain(reflect.ValueOf(c)), out)
	delete(out, "matchmaking.modes")
	for _, m := range modes {
		p := "matchmaking.modes[" + m.Name + "]"
		out[p] = "present"
		mp := plain(reflect.ValueOf(m)).(map[string]any)
		delete(mp, "name")
		flatten(p+".", mp, out)
	}
	return out
}
