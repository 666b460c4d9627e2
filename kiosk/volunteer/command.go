package volunteer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// HashPINCommand is `kiosk volunteer hash-pin`: it reads the new PIN twice
// from in (without echo when in is a terminal; one PIN per line otherwise,
// as in `printf '2580\n2580\n' | kiosk volunteer hash-pin`), checks it with
// CheckNewPIN and prints the config line to out:
//
//	pin_hash: '$argon2id$v=19$m=19456,t=2,p=1$...$...'
//
// Prompts go to prompt. The PIN itself is never printed or logged.
func HashPINCommand(in io.Reader, out, prompt io.Writer) error {
	read := lineReader(in)
	fmt.Fprint(prompt, "New volunteer PIN (4 to 12 digits): ")
	pin, err := read()
	fmt.Fprintln(prompt)
	if err != nil {
		return fmt.Errorf("read PIN: %w", err)
	}
	if err := CheckNewPIN(pin); err != nil {
		return err
	}
	fmt.Fprint(prompt, "The same PIN again: ")
	again, err := read()
	fmt.Fprintln(prompt)
	if err != nil {
		return fmt.Errorf("read PIN again: %w", err)
	}
	if again != pin {
		return fmt.Errorf("%w: the two entries differ", ErrBadPIN)
	}
	h, err := HashPIN(pin, nil)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "# under volunteer: in the kiosk config\npin_hash: '%s'\n", h)
	return err
}

func lineReader(in io.Reader) func() (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return func() (string, error) {
			b, err := term.ReadPassword(int(f.Fd()))
			return strings.TrimSpace(string(b)), err
		}
	}
	sc := bufio.NewScanner(in)
	return func() (string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", err
			}
			return "", errors.New("no more input")
		}
		return strings.TrimSpace(sc.Text()), nil
	}
}
