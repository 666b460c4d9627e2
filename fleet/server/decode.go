package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"accesskiosk/fleet/api"
)

// writeError sends an api.Error body. msg is for the client; never pass
// internal detail (log that instead).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly into v: a Content-Type other than JSON,
// a body over api.MaxBodyBytes, unknown fields, a key twice or in another
// case than its field's, wrong types, trailing data, and strings with
// controls that make text read differently from what it is (CheckText)
// are refused with a 4xx naming the problem. It returns false when it has
// answered.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, api.CodeMediaType, "the body must be JSON (Content-Type: application/json)")
			return false
		}
	}
	if r.ContentLength > api.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("the body is larger than %d bytes", api.MaxBodyBytes))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("the body is larger than %d bytes", api.MaxBodyBytes))
			return false
		}
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "could not read the body")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "the body is not valid JSON for this endpoint: "+jsonProblem(err))
		return false
	}
	// Only white space may follow (Decoder.More would let a stray "}" or
	// "]" through).
	end := int(dec.InputOffset())
	if len(bytes.TrimLeft(body[end:], " \t\r\n")) > 0 {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "the body has data after its JSON object")
		return false
	}
	if err := exactKeys(body[:end], fieldNames(reflect.TypeOf(v))); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "the body is not valid JSON for this endpoint: "+err.Error())
		return false
	}
	if err := checkStrings(reflect.ValueOf(v), ""); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return false
	}
	return true
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field") {
		return strings.TrimPrefix(msg, "json: ")
	}
	return "malformed"
}

// exactKeys checks the object keys of body, one JSON value that decoded
// without error (anything else is refused, never a panic): each must
// be exactly one of names (encoding/json matches keys case-insensitively,
// and with Unicode folding: "Token" and "\u212aiosk_state" would reach a
// field), and no object may hold a key twice (encoding/json keeps the last,
// so what a proxy or a log saw would not be what the server used).
func exactKeys(body []byte, names map[string]bool) error {
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []frame
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, frame{obj: true, expectKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			if len(stack) == 0 {
				return fmt.Errorf("unbalanced %q at byte %d", body[i], i)
			}
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].obj {
				stack[top].expectKey = true
			}
		case '"':
			j := i + 1
			for ; j < len(body) && body[j] != '"'; j++ {
				if body[j] == '\\' {
					j++
				}
			}
			if j >= len(body) {
				return fmt.Errorf("unterminated string at byte %d", i)
			}
			top := len(stack) - 1
			if top >= 0 && stack[top].expectKey {
				f := &stack[top]
				f.expectKey = false
				key := string(body[i+1 : j])
				if bytes.IndexByte(body[i:j+1], '\\') >= 0 {
					if err := json.Unmarshal(body[i:j+1], &key); err != nil {
						return fmt.Errorf("unreadable key at byte %d", i)
					}
				}
				if !names[key] {
					return fmt.Errorf("field %q: names are case-sensitive (see the API's field names)", key)
				}
				if f.keys == nil {
					f.keys = map[string]bool{}
				}
				if f.keys[key] {
					return fmt.Errorf("field %q appears twice in one object", key)
				}
				f.keys[key] = true
			}
			i = j
		}
	}
	return nil
}

var fieldNameCache sync.Map // reflect.Type → map[string]bool

// fieldNames is every JSON field name in t, its nested structs and their
// slices, as encoding/json writes them.
func fieldNames(t reflect.Type) map[string]bool {
	if m, ok := fieldNameCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	var walk func(t reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			m[name] = true
			walk(f.Type)
		}
	}
	walk(t)
	fieldNameCache.Store(t, m)
	return m
}
