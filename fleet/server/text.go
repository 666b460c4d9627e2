package server

import (
	"fmt"
	"reflect"
	"strconv"

	"accesskiosk/fleet/api"
)

// CheckText says what is wrong with free text that people will read (a
// site name, a warning, a message for a kiosk's screen), or nil: C0 and
// C1 control characters other than tab, and the Unicode controls that
// reorder or separate text (bidi overrides, embeddings, isolates and
// marks, line and paragraph separators). They make text read differently
// from what it is, in the console and in logs ("invoice\u202Efdp.exe"
// shows as "invoiceexe.pdf"). Right-to-left letters themselves are fine.
func CheckText(s string) error {
	for _, r := range s {
		switch {
		case r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return fmt.Errorf("contains the control character U+%04X", r)
		case r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			return fmt.Errorf("contains the bidirectional control U+%04X, which makes text read differently from what it is", r)
		case r == 0x2028 || r == 0x2029:
			return fmt.Errorf("contains the line or paragraph separator U+%04X", r)
		}
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
