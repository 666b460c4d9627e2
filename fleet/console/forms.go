package console

import "strings"

// fieldError is a problem with one field of a form: shown in the error
// summary (a link to the field) and beside the field itself.
type fieldError struct{ Field, Msg string }

// Problems are the page's form problems: Error (at ErrorField) and Errors.
func (p page) Problems() []fieldError {
	out := p.Errors
	if p.Error != "" {
		out = append([]fieldError{{Field: p.ErrorField, Msg: p.Error}}, out...)
	}
	return out
}

// FieldError is the problem with the field whose id is id, or "".
func (p page) FieldError(id string) string {
	for _, e := range p.Problems() {
		if e.Field == id {
			return e.Msg
		}
	}
	return ""
}

// inputView is what the "input" template draws.
type inputView struct {
	ID, Name, Label, Hint, Value, Error string
	Type, Width, LabelClass             string
	Autocomplete, InputMode             string
	NoSpellcheck                        bool
	DescribedBy                         string
}

// input makes a text input of a page's form: id (also the error summary's
// link target), the form name, the label, a hint ("" for none), the value
// to show again, then options as "key=value": type (text, password),
// width (a GOV.UK width class), label (a label class), autocomplete,
// inputmode, and "nospellcheck".
func input(p page, id, name, label, hint, value string, opts ...string) inputView {
	v := inputView{ID: id, Name: name, Label: label, Hint: hint, Value: value, Type: "text", Error: p.FieldError(id)}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "type":
			v.Type = val
		case "width":
			v.Width = val
		case "label":
			v.LabelClass = val
		case "autocomplete":
			v.Autocomplete = val
		case "inputmode":
			v.InputMode = val
		case "nospellcheck":
			v.NoSpellcheck = true
		}
	}
	var ids []string
	if hint != "" {
		ids = append(ids, id+"-hint")
	}
	if v.Error != "" {
		ids = append(ids, id+"-error")
	}
	v.DescribedBy = strings.Join(ids, " ")
	return v
}

// describedBy is the aria-describedby of a field that is not a text
// input (a select, a fieldset): its hint (when hint is true) and its
// error, or "".
func describedBy(p page, id string, hint bool) string {
	var ids []string
	if hint {
		ids = append(ids, id+"-hint")
	}
	if p.FieldError(id) != "" {
		ids = append(ids, id+"-error")
	}
	return strings.Join(ids, " ")
}
