package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/fleet/api"
	"accesskiosk/fleet/credential"
	"accesskiosk/fleet/password"
	"accesskiosk/fleet/server"
	"accesskiosk/fleet/store"
	"accesskiosk/internal/cmdline"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/ident"
)

func adminCommands(stdout, stderr io.Writer) []cmdline.Command {
	return []cmdline.Command{
		{Name: "admin create", Synopsis: "--data DIR --user NAME [--role admin|viewer] [--password-file FILE]",
			Summary: "add a staff user (the first one too); prints a password unless given one",
			Run:     func(ctx context.Context, args []string) error { return adminCreate(ctx, args, stdout, stderr) }},
		{Name: "admin api-token", Synopsis: "--data DIR --user NAME",
			Summary: "print a new staff API token for provision and scripts",
			Run:     func(ctx context.Context, args []string) error { return adminAPIToken(ctx, args, stdout, stderr) }},
		{Name: "admin site", Synopsis: "--data DIR --id ID [--name NAME]",
			Summary: "add a site (a library, a hub)",
			Run:     func(ctx context.Context, args []string) error { return adminSite(ctx, args, stdout, stderr) }},
		{Name: "admin enrol-token", Synopsis: "--data DIR --site ID [--uses N] [--expires 168h]",
			Summary: "print a new enrolment token for a site",
			Run:     func(ctx context.Context, args []string) error { return adminEnrolToken(ctx, args, stdout, stderr) }},
	}
}

// adminFlags are an admin command's flag set and its store flags.
func adminFlags(name, synopsis string) (*cmdline.FlagSet, *storeFlags) {
	fs := flagSet(name, synopsis)
	sf := &storeFlags{}
	sf.add(fs)
	return fs, sf
}

// quietLog is the store's logger for the admin commands: warnings only.
func quietLog(stderr io.Writer) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(stderr)
	log.SetLevel(logrus.WarnLevel)
	return log
}

func adminCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("admin create", "--data DIR --user NAME [--role admin|viewer] [--password-file FILE]")
	user := fs.String("user", "", "user `NAME` (letters, digits, . _ @ -)")
	role := fs.String("role", store.RoleAdmin, "admin or viewer")
	pwFile := fs.String("password-file", "", "read the password from this `FILE` ('-' for stdin); default: generate one and print it")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if !ident.UserName.Valid(*user) {
		return confile.FlagError("user", "must be 1 to %d %s", ident.UserName.Max, ident.UserName)
	}
	if *role != store.RoleAdmin && *role != store.RoleViewer {
		return confile.FlagError("role", "must be admin or viewer, not %q", *role)
	}
	if err := sf.check(true); err != nil {
		return err
	}
	pw, generated := "", false
	if *pwFile != "" {
		var b []byte
		var err error
		if *pwFile == "-" {
			b, err = bufio.NewReader(os.Stdin).ReadBytes('\n')
			if errors.Is(err, io.EOF) {
				err = nil
			}
		} else {
			b, err = os.ReadFile(*pwFile)
		}
		if err != nil {
			return confile.FlagError("password-file", "cannot read: %v", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	} else {
		pw = credential.ID(10) // 16 base32 characters, 80 bits
		generated = true
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return confile.FlagError("password-file", "%v", err)
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateUser(ctx, *user, *role, hash); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("user %s already exists", *user)
		}
		return err
	}
	st.Audit(ctx, "cli", "user.create", *user, "role "+*role)
	fmt.Fprintf(stdout, "created %s %s\n", *role, *user)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n", pw)
	}
	return nil
}

func adminAPIToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("admin api-token", "--data DIR --user NAME")
	user := fs.String("user", "", "the staff user `NAME` the token acts as")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.User(ctx, *user); err != nil {
		return confile.FlagError("user", "no such user %q in %s (fleet admin create adds one)", *user, sf.where())
	}
	tok, secret, err := st.CreateAPIToken(ctx, *user)
	if err != nil {
		return err
	}
	st.Audit(ctx, "cli", "api_token.create", tok.ID, "for "+*user)
	fmt.Fprintln(stdout, secret)
	return nil
}

func adminSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("admin site", "--data DIR --id ID [--name NAME]")
	id := fs.String("id", "", "site `ID`, e.g. central-library")
	name := fs.String("name", "", "site `NAME` shown on the console (default: the id)")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *name == "" {
		*name = *id
	}
	if err := server.ValidateSite(*id, *name); err != nil {
		return confile.FlagError("id", "%v", err)
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.CreateSite(ctx, *id, *name); err != nil {
		return err
	}
	st.Audit(ctx, "cli", "site.create", *id, *name)
	fmt.Fprintf(stdout, "created site %s\n", *id)
	return nil
}

func adminEnrolToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf := adminFlags("admin enrol-token", "--data DIR --site ID [--uses N] [--expires 168h]")
	site := fs.String("site", "", "site `ID` the token enrols into")
	uses := fs.Int("uses", 1, "how many devices may enrol with it")
	expires := fs.Duration("expires", 7*24*time.Hour, "how long it is valid")
	if err := fs.Parse(args, stdout); err != nil {
		return err
	}
	if err := sf.check(); err != nil {
		return err
	}
	req := api.CreateTokenRequest{Site: *site, ExpiresSeconds: int64(expires.Seconds()), MaxUses: *uses}
	if err := server.CheckTokenRequest(&req); err != nil {
		return confile.FlagError("expires", "%v", err)
	}
	st, err := sf.open(ctx, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	if ok, err := st.SiteExists(ctx, *site); err != nil {
		return err
	} else if !ok {
		return confile.FlagError("site", "no site %q; create it with `fleet admin site`", *site)
	}
	tok, err := st.CreateToken(ctx, *site, "cli", *expires, *uses)
	if err != nil {
		return err
	}
	st.Audit(ctx, "cli", "token.create", tok.ID, "for site "+*site)
	fmt.Fprintln(stdout, tok.Secret)
	return nil
}
