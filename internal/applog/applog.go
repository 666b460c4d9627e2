// Package applog builds the one logrus logger each Access Kiosk program makes
// in main and passes into its components' constructors.
//
// Under systemd (journald on stderr) the logger writes JSON, one object per
// line, so that fields survive into the journal; on a terminal it writes text.
// Components add their own prefix with Component.
package applog

import (
	"io"
	"os"

	"github.com/sirupsen/logrus"
)

// New returns a logger writing to w at level (a logrus level name such as
// "info" or "debug"; "" means info). It writes JSON when running under
// systemd (JOURNAL_STREAM or INVOCATION_ID set) and text otherwise.
func New(w io.Writer, level string) (*logrus.Logger, error) {
	l := logrus.New()
	l.SetOutput(w)
	if level == "" {
		level = "info"
	}
	lv, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	l.SetLevel(lv)
	if UnderSystemd() {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	}
	return l, nil
}

// UnderSystemd reports whether the process was started by systemd with its
// output going to the journal.
func UnderSystemd() bool {
	return os.Getenv("JOURNAL_STREAM") != "" || os.Getenv("INVOCATION_ID") != ""
}

// Component returns an entry that tags every line with component=name.
func Component(l logrus.FieldLogger, name string) *logrus.Entry {
	return l.WithField("component", name)
}
