// Package cmdline is how the four Access Kiosk programs (kiosk, agent,
// fleet, provision) read their command lines, so that they behave alike:
//
//   - One entry-point shape: each program's library exports a Main, and its
//     main package is one call to Exit.
//   - Subcommands as tables (Command), found by their words; a misspelt one
//     gets "did you mean".
//   - Flags (FlagSet) refused the way config files are, as
//     "command line: --flag: what is wrong" with exit status 2, a "did you
//     mean" for a misspelt flag, and no usage dumped before the error.
//   - Usage text that reads right: "--expires DURATION  how long ...
//     (default 168h)".
package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"accesskiosk/internal/confile"
)

// Main is the entry point every program's library exports: it runs the
// command line args (without the program's name) and returns the exit
// status (0, 1 for a failure, 2 for bad flags or config: confile.ExitCode).
type Main func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Exit runs main on os.Args with the standard streams and a context that
// ends on SIGINT or SIGTERM, and exits with its status.
func Exit(main Main) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// ErrHelp is returned after usage was printed because it was asked for
// (-h, --help, help): not a failure.
var ErrHelp = flag.ErrHelp

// Status prints err on stderr as "prog: err" (nothing for nil or ErrHelp)
// and returns the exit status for it: 0 for nil and ErrHelp, 2 for a
// refused flag, command or config file (a *confile.Error), 1 otherwise.
func Status(stderr io.Writer, prog string, err error) int {
	if err == nil || errors.Is(err, ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	return confile.ExitStatus(err)
}

// Command is one subcommand.
type Command struct {
	// Name is the words that select it after the program's name ("serve",
	// "site create").
	Name string
	// Synopsis shows its flags in the program's usage ("--addr HOST:PORT
	// --data DIR").
	Synopsis string
	// Summary is one line saying what it does.
	Summary string
	// Run runs it with the arguments after its name.
	Run func(ctx context.Context, args []string) error
}

// Find returns the command that args start with (the longest match of
// its words) and the arguments after its name. An unknown or missing
// command is a *confile.Error naming it, with "did you mean" when one is
// close.
func Find(cmds []Command, args []string) (*Command, []string, error) {
	var best *Command
	for i := range cmds {
		words := strings.Fields(cmds[i].Name)
		if len(words) <= len(args) && slicesEqual(words, args[:len(words)]) && (best == nil || len(words) > len(strings.Fields(best.Name))) {
			best = &cmds[i]
		}
	}
	if best != nil {
		return best, args[len(strings.Fields(best.Name)):], nil
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		var first []string
		for _, n := range names {
			first = append(first, strings.Fields(n)[0])
		}
		return nil, nil, &confile.Error{File: "command line", Msg: "missing a command: " + strings.Join(dedup(first), ", ")}
	}
	got := args[0]
	var cand, after []string
	for _, n := range names {
		w := strings.Fields(n)
		cand = append(cand, n)
		if len(w) > 1 {
			cand = append(cand, w[0])
			if w[0] == args[0] {
				after = append(after, strings.Join(w[1:], " "))
				if len(args) > 1 {
					got = args[0] + " " + args[1]
				}
			}
		}
	}
	if len(after) > 0 && len(args) == 1 {
		return nil, nil, &confile.Error{File: "command line", Msg: fmt.Sprintf("missing a command after %q: %s", args[0], strings.Join(after, ", "))}
	}
	hint := confile.Suggest(got, dedup(cand), "commands")
	if strings.HasPrefix(hint, " (known") {
		hint = " (known commands: " + strings.Join(names, ", ") + ")"
	}
	return nil, nil, &confile.Error{File: "command line", Msg: fmt.Sprintf("unknown command %q%s", got, hint)}
}

func dedup(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Usage writes a program's usage: intro, then one line per command.
func Usage(w io.Writer, prog, intro string, cmds []Command) {
	fmt.Fprintf(w, "%s\n\n", strings.TrimRight(intro, "\n"))
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %s %-*s  %s\n", prog, width, c.Name, c.Summary)
		if c.Synopsis != "" {
			fmt.Fprintf(w, "  %s %-*s    %s\n", strings.Repeat(" ", len(prog)), width, "", c.Synopsis)
		}
	}
	fmt.Fprintf(w, "\n\"%s COMMAND -h\" lists a command's flags.\n", prog)
}
