// Package confile decodes the YAML config files of every Access Kiosk
// program strictly and the same way: unknown keys, wrong types and bad values
// are refused with an *Error naming the file, the line and the key.
//
// Decoding walks the YAML node tree beside the Go value, so that every error
// (including ones found later by the program's own validation, through
// Doc.Errorf) carries the line of the key it is about. Struct fields are
// matched by their `yaml:"name"` tag only; a field without a tag, or tagged
// "-", cannot be set from a file.
//
// Supported field types: structs, pointers, slices, maps with string keys,
// time.Duration (a Go duration string such as "5m" or "30s"), types that
// implement yaml.Unmarshaler or encoding.TextUnmarshaler, and the scalars
// yaml.v3 decodes itself (strings, bools, numbers).
package confile

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ExitCode is the exit status every program uses when it refuses a config
// file or its flags (see DESIGN.md, "Contracts").
const ExitCode = 2

// Error is a config problem at a known place. Its text has the form
// "FILE:LINE: KEY: what is wrong", which editors and IT staff can jump to.
type Error struct {
	File string // file name as given, or "<embedded default>"
	Line int    // 1-based; 0 when the problem is not at one line (e.g. unreadable file)
	Key  string // dotted path, e.g. "session.idle_timeout" or "allow[2]"; "" for the whole file
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Doc remembers where each key of a decoded file stood, so that validation
// done after decoding can still point at the right line.
type Doc struct {
	File  string
	lines map[string]int
}

// Line returns the line of key (a dotted path as in Error.Key), or the line
// of its nearest ancestor that is present, or 0.
func (d *Doc) Line(key string) int {
	if d == nil {
		return 0
	}
	for k := key; k != ""; k = parentKey(k) {
		if l, ok := d.lines[k]; ok {
			return l
		}
	}
	return 0
}

// Errorf returns an *Error about key, at the line where key (or its nearest
// present ancestor) stands in the file.
func (d *Doc) Errorf(key, format string, args ...any) *Error {
	file := "<config>"
	if d != nil {
		file = d.File
	}
	return &Error{File: file, Line: d.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

func parentKey(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i <= 0 {
		return ""
	}
	return k[:i]
}

// Load reads the file at path and decodes it strictly into v (a pointer to a
// struct holding its defaults already). An unreadable or empty file is an
// *Error too.
func Load(path string, v any) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "cannot read config: " + msg}
	}
	return Decode(path, data, v)
}

// Decode decodes data (named name in errors) strictly into v, which must be a
// non-nil pointer. Keys absent from data leave v's fields as they were, so v
// can carry defaults. A document that is empty or only comments is refused:
// an empty config is almost always a mistake (a truncated copy).
func Decode(name string, data []byte, v any) (*Doc, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, fmt.Errorf("confile.Decode: need a non-nil pointer, got %T", v)
	}
	d := &decoder{doc: &Doc{File: name, lines: map[string]int{}}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, d.syntaxError(err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Msg: "config is empty"}
	}
	node := root.Content[0]
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil, &Error{File: name, Line: node.Line, Msg: "config is empty"}
	}
	if err := d.decode(node, rv.Elem(), ""); err != nil {
		return nil, err
	}
	return d.doc, nil
}

type decoder struct {
	doc *Doc
}

var lineRE = "line "

// syntaxError turns yaml's "yaml: line 3: mapping values are not allowed"
// into an *Error with the line split out.
func (d *decoder) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if strings.HasPrefix(msg, lineRE) {
		rest := msg[len(lineRE):]
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: d.doc.File, Line: line, Msg: "not valid YAML: " + msg}
}

func (d *decoder) errAt(n *yaml.Node, key, format string, args ...any) error {
	return &Error{File: d.doc.File, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	yamlUnmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) error {
	if key != "" {
		if _, seen := d.doc.lines[key]; !seen {
			d.doc.lines[key] = n.Line
		}
	}
	if n.Kind == yaml.AliasNode {
		return d.decode(n.Alias, v, key)
	}
	t := v.Type()

	if done, err := d.decodeSelf(n, v, key); done {
		return err
	}

	switch t.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.decode(n, v.Elem(), key)
	case reflect.Struct:
		return d.decodeStruct(n, v, key)
	case reflect.Slice:
		if n.Tag == "!!null" {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, key, "want a list, got %s", kindName(n))
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("confile: map key type %s not supported", t.Key())
		}
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, key, "want a mapping (key: value), got %s", kindName(n))
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := joinKey(key, k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value).Convert(t.Key())).IsValid() {
				return d.errAt(k, sub, "key appears twice")
			}
			e := reflect.New(t.Elem()).Elem()
			if err := d.decode(val, e, sub); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), e)
		}
		v.Set(m)
		return nil
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errAt(n, key, "%s", cleanYAMLError(err))
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}

	return d.decodeScalar(n, v, key)
}

// decodeSelf decodes the types that decode themselves (yaml.Unmarshaler,
// time.Duration, encoding.TextUnmarshaler); done is false for the others.
func (d *decoder) decodeSelf(n *yaml.Node, v reflect.Value, key string) (done bool, err error) {
	t := v.Type()
	if v.CanAddr() && reflect.PointerTo(t).Implements(yamlUnmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return true, d.errAt(n, key, "%s", cleanYAMLError(err))
		}
		return true, nil
	}
	if t == durationType {
		if n.Kind != yaml.ScalarNode {
			return true, d.errAt(n, key, "want a duration such as 30s or 5m, got %s", kindName(n))
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			return true, d.errAt(n, key, "want a duration such as 30s or 5m, got %q", n.Value)
		}
		v.SetInt(int64(dur))
		return true, nil
	}
	if v.CanAddr() && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			return true, d.errAt(n, key, "want a single value, got %s", kindName(n))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return true, d.errAt(n, key, "%v", err)
		}
		return true, nil
	}
	return false, nil
}

// decodeScalar decodes a plain scalar: a string, bool or number.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, key string) error {
	t := v.Type()
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, key, "want %s, got %s", scalarWant(t), kindName(n))
	}
	if t.Kind() == reflect.String && n.Tag != "!!str" && n.Tag != "!!null" && n.Style == 0 {
		// Unquoted 1, true, 1.5 for a string field: take the text as written.
		v.SetString(n.Value)
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return d.errAt(n, key, "want %s, got %q", scalarWant(t), n.Value)
	}
	return nil
}

func scalarWant(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	}
	return "a " + t.String()
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) error {
	if n.Tag == "!!null" {
		return nil // "session:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, key, "want a mapping (key: value), got %s", kindName(n))
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		if k.Kind == yaml.ScalarNode && k.Value == "<<" {
			return d.errAt(k, key, "merge keys (<<) are not supported; write the keys out")
		}
		idx, ok := fields[k.Value]
		if !ok {
			return d.errAt(k, sub, "unknown key%s", suggestKey(k.Value, fields))
		}
		if seen[k.Value] {
			return d.errAt(k, sub, "key appears twice")
		}
		seen[k.Value] = true
		if err := d.decode(val, v.FieldByIndex(idx), sub); err != nil {
			return err
		}
	}
	return nil
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

// structFields maps yaml tag names to field indexes, following embedded
// structs tagged ",inline".
func structFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, idx := range structFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			continue
		}
		out[name] = []int{i}
	}
	return out
}

func suggestKey(got string, fields map[string][]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	return Suggest(got, names, "keys")
}

// Suggest names, for an unknown name got, the closest of known as
// ` (did you mean "x"?)`: within two edits, or else the only one that
// starts with the same two letters (--adress: --addr). Otherwise it lists
// them all as ` (known WHAT: a, b, c)`; "" when known is empty. Config
// keys, flags and subcommands are all suggested this way.
func Suggest(got string, known []string, what string) string {
	names := append([]string(nil), known...)
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if dd := editDistance(strings.ToLower(got), strings.ToLower(k)); dd < bestD {
			best, bestD = k, dd
		}
	}
	if best == "" {
		stem := func(s string) string { return strings.ToLower(strings.TrimLeft(s, "-")) }
		g := stem(got)
		for _, k := range names {
			if len(g) >= 2 && strings.HasPrefix(stem(k), g[:2]) {
				if best != "" {
					best = "" // more than one: no guess
					break
				}
				best = k
			}
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) == 0 {
		return ""
	}
	return " (known " + what + ": " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
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

func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if strings.HasPrefix(msg, lineRE) {
		if i := strings.Index(msg, ": "); i > 0 {
			msg = msg[i+2:]
		}
	}
	return msg
}

// FlagError reports a bad command-line flag the way config problems are
// reported, so that every program refuses bad flags and bad files alike.
func FlagError(flag, format string, args ...any) *Error {
	return &Error{File: "command line", Key: "--" + strings.TrimLeft(flag, "-"), Msg: fmt.Sprintf(format, args...)}
}

// ExitStatus is the status a program's main should exit with for err: 0 for
// nil, ExitCode (2) for a refused config file or flag, 1 for anything else.
func ExitStatus(err error) int {
	var ce *Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return ExitCode
	}
	return 1
}
