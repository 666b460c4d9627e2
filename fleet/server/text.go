package server

import (
	"fmt"
	"reflect"
	"strconv"

	"accesskiosk/fleet/api"
	"accesskiosk/internal/ident"
)

// CheckText says what is wrong with free text that people will read (a
// site name, a warning, a message for a kiosk's screen), or nil: the
// characters ident.Text refuses (controls, bidi controls, line
// separators), which make text read differently from what it is. Length
// is the caller's to check.
func CheckText(s string) error {
	if r, bad := ident.Text.First(s); bad {
		return fmt.Errorf("contains U+%04X: free text may hold no control characters, bidirectional controls or line separators", r)
	}
	return nil
}

// checkStrings applies CheckText to every string in v (a decoded request
// body), naming the first bad one by its JSON path ("reports[0].warnings[1].text").
func checkStrings(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStrings(v.Elem(), path)
	case reflect.String:
		if err := CheckText(v.String()); err != nil {
			return &api.ValidationError{Field: path, Msg: err.Error()}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous || name != f.Name {
				p = joinPath(path, name)
			}
			if err := checkStrings(v.Field(i), p); err != nil {
				return err
			}
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			tag = tag[:i]
			break
		}
	}
	if tag == "" {
		return f.Name
	}
	return tag
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
