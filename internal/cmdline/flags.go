package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"accesskiosk/internal/confile"
)

// FlagSet is a flag.FlagSet whose errors are *confile.Error and whose
// usage reads right. Flags are written --name VALUE or --name=VALUE.
type FlagSet struct {
	*flag.FlagSet
	synopsis string
	args     string
}

// NewFlagSet returns an empty FlagSet for the command name ("fleet
// serve"); synopsis follows it in the usage line ("--addr HOST:PORT
// --data DIR [--config FILE]").
func NewFlagSet(name, synopsis string) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis}
	fs.SetOutput(io.Discard)
	return fs
}

// AllowArgs lets the command take arguments after its flags, shown as
// placeholder ("BUNDLE...") in the usage. Without it any argument is
// refused.
func (fs *FlagSet) AllowArgs(placeholder string) { fs.args = placeholder }

// Parse parses args. For -h or --help it writes the usage to stdout and
// returns ErrHelp. Any other problem is a *confile.Error naming the flag:
// an unknown flag gets "did you mean" the closest known one.
func (fs *FlagSet) Parse(args []string, stdout io.Writer) error {
	err := fs.FlagSet.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage(stdout)
		return ErrHelp
	}
	if err != nil {
		return fs.flagError(err)
	}
	if fs.NArg() > 0 && fs.args == "" {
		return &confile.Error{File: "command line", Msg: fmt.Sprintf("%s: unexpected argument %q (every value goes after its --flag)", fs.Name(), fs.Arg(0))}
	}
	return nil
}

var invalidValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]+): (.*)$`)

// flagError turns the flag package's message into a *confile.Error.
func (fs *FlagSet) flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var known []string
		fs.VisitAll(func(f *flag.Flag) { known = append(known, "--"+f.Name) })
		return confile.FlagError(name, "unknown flag%s", confile.Suggest("--"+name, known, "flags"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return confile.FlagError(name, "needs a value")
	}
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		detail := m[3]
		if detail == "parse error" {
			detail = fmt.Sprintf("%q is not a valid value", m[1])
		}
		return confile.FlagError(m[2], "%s", detail)
	}
	return &confile.Error{File: "command line", Msg: msg}
}

// Usage writes "usage: NAME SYNOPSIS" and one line per flag.
func (fs *FlagSet) Usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s", fs.Name())
	if fs.synopsis != "" {
		fmt.Fprintf(w, " %s", fs.synopsis)
	}
	if fs.args != "" && !strings.Contains(fs.synopsis, fs.args) {
		fmt.Fprintf(w, " %s", fs.args)
	}
	fmt.Fprintln(w)
	type line struct{ left, right string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		ph, text := placeholder(f)
		left := "--" + f.Name
		if ph != "" {
			left += " " + ph
		}
		if d := defaultText(f); d != "" {
			text += " (default " + d + ")"
		}
		lines = append(lines, line{left, text})
		width = max(width, len(left))
	})
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].left < lines[j].left })
	if len(lines) > 0 {
		fmt.Fprintln(w)
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l.left, l.right)
	}
}

var backquoted = regexp.MustCompile("`([^`]*)`")
var placeholderWord = regexp.MustCompile(`^[A-Z][A-Z0-9_:./-]*$`)

// placeholder returns the value's placeholder and the usage text. A
// backquoted upper-case word in the usage is the placeholder (`FILE`);
// other backquoted text (`fleet serve`) is prose and shows in quotes.
func placeholder(f *flag.Flag) (ph, text string) {
	text = f.Usage
	if m := backquoted.FindStringSubmatch(text); m != nil && placeholderWord.MatchString(m[1]) {
		ph = m[1]
		text = strings.Replace(text, m[0], m[1], 1)
	}
	text = backquoted.ReplaceAllString(text, `"$1"`)
	if ph != "" {
		return ph, text
	}
	switch v := f.Value.(type) {
	case interface{ IsBoolFlag() bool }:
		if v.IsBoolFlag() {
			return "", text
		}
	case *Duration, *durationRef:
		return "DURATION", text
	}
	switch fmt.Sprintf("%T", f.Value) {
	case "*flag.durationValue":
		return "DURATION", text
	case "*flag.intValue", "*flag.int64Value", "*flag.uintValue", "*flag.uint64Value":
		return "N", text
	}
	return "VALUE", text
}

// defaultText is the flag's default as shown, "" when it is the zero value.
func defaultText(f *flag.Flag) string {
	d := f.DefValue
	switch fmt.Sprintf("%T", f.Value) {
	case "*flag.durationValue":
		if v, err := time.ParseDuration(d); err == nil {
			d = FormatDuration(v)
		}
	}
	switch d {
	case "", "0", "false", "0s", "[]":
		return ""
	}
	if strings.ContainsAny(d, " \t") {
		return strconv.Quote(d)
	}
	return d
}

// FormatDuration writes d without trailing zero units: 168h, 1h30m, 30s
// (time.Duration's String writes 168h0m0s).
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Duration is a flag value for a duration that also takes days ("7d"),
// shown as FormatDuration writes it. Its zero value is 0.
type Duration struct{ D time.Duration }

// String is FormatDuration.
func (d *Duration) String() string { return FormatDuration(d.D) }

// Set parses "7d", "36h", "90m", "1h30m" and the like.
func (d *Duration) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return fmt.Errorf("want a duration such as 7d, 12h or 30m, got %q", s)
		}
		d.D = time.Duration(days * float64(24*time.Hour))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 7d, 12h or 30m, got %q", s)
	}
	d.D = v
	return nil
}

// DurationVar defines a duration flag (days allowed) with default def.
func (fs *FlagSet) DurationVar(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*durationRef)(p), name, usage)
}

// Duration defines a duration flag (days allowed) with default def.
func (fs *FlagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	fs.DurationVar(p, name, def, usage)
	return p
}

type durationRef time.Duration

func (d *durationRef) String() string { return FormatDuration(time.Duration(*d)) }
func (d *durationRef) Set(s string) error {
	var v Duration
	if err := v.Set(s); err != nil {
		return err
	}
	*d = durationRef(v.D)
	return nil
}
