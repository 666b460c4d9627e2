package cmdline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"accesskiosk/internal/confile"
)

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"misspelt", []string{"--adress", "x"}, `command line: --adress: unknown flag (did you mean "--addr"?)`},
		{"far off", []string{"--zzzzzz"}, "command line: --zzzzzz: unknown flag (known flags: --addr, --expires, --mdns, --uses)"},
		{"no value", []string{"--addr"}, "command line: --addr: needs a value"},
		{"bad number", []string{"--uses", "many"}, `command line: --uses: "many" is not a valid value`},
		{"bad duration", []string{"--expires", "soon"}, `command line: --expires: want a duration such as 7d, 12h or 30m, got "soon"`},
		{"bad bool", []string{"--mdns=perhaps"}, `command line: --mdns: "perhaps" is not a valid value`},
		{"stray", []string{"serve"}, `command line: fleet serve: unexpected argument "serve" (every value goes after its --flag)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := testFlags()
			var out bytes.Buffer
			err := fs.Parse(tc.args, &out)
			var ce *confile.Error
			if !errors.As(err, &ce) || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
			if out.Len() > 0 {
				t.Errorf("usage was printed before the error:\n%s", out.String())
			}
		})
	}
}

func testFlags() *FlagSet {
	fs := NewFlagSet("fleet serve", "--addr HOST:PORT [--expires DURATION]")
	fs.String("addr", "", "address to listen on, `HOST:PORT`")
	fs.Int("uses", 1, "how many kiosks may enrol with it")
	fs.Duration("expires", 7*24*time.Hour, "how long the token is valid, as `fleet serve` says")
	fs.Bool("mdns", true, "advertise the fleet")
	return fs
}

func TestUsageReadsRight(t *testing.T) {
	var out bytes.Buffer
	err := testFlags().Parse([]string{"-h"}, &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"usage: fleet serve --addr HOST:PORT [--expires DURATION]",
		"--addr HOST:PORT",
		`--expires DURATION  how long the token is valid, as "fleet serve" says (default 168h)`,
		"--uses N",
		"--mdns ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("usage lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"168h0m0s", "-expires fleet serve", "`"} {
		if strings.Contains(got, bad) {
			t.Errorf("usage has %q:\n%s", bad, got)
		}
	}
}

func TestFind(t *testing.T) {
	var ran string
	cmds := []Command{
		{Name: "firstboot", Run: func(context.Context, []string) error { ran = "firstboot"; return nil }},
		{Name: "token create"}, {Name: "token list"}, {Name: "site create"},
	}
	c, rest, err := Find(cmds, []string{"firstboot", "--boot", "x"})
	if err != nil || c.Name != "firstboot" || strings.Join(rest, " ") != "--boot x" {
		t.Fatalf("Find = %v %v %v", c, rest, err)
	}
	c.Run(context.Background(), rest)
	if ran != "firstboot" {
		t.Error("did not run")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"firstbot"}, `command line: unknown command "firstbot" (did you mean "firstboot"?)`},
		{[]string{"token", "crate"}, `command line: unknown command "token crate" (did you mean "token create"?)`},
		{[]string{"token"}, `command line: missing a command after "token": create, list`},
		{nil, "command line: missing a command: firstboot, token, site"},
	} {
		_, _, err := Find(cmds, tc.args)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Find(%q) = %v, want %s", tc.args, err, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		168 * time.Hour: "168h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", time.Minute: "1m",
		500 * time.Millisecond: "500ms", time.Hour + time.Second: "1h0m1s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStatus(t *testing.T) {
	var errOut bytes.Buffer
	if Status(&errOut, "agent", nil) != 0 || Status(&errOut, "agent", ErrHelp) != 0 || errOut.Len() != 0 {
		t.Error("nil and ErrHelp are not failures and print nothing")
	}
	if got := Status(&errOut, "agent", confile.FlagError("x", "bad")); got != 2 || errOut.String() != "agent: command line: --x: bad\n" {
		t.Errorf("flag error: %d %q", got, errOut.String())
	}
	if Status(&errOut, "agent", errors.New("boom")) != 1 {
		t.Error("other errors exit 1")
	}
}
