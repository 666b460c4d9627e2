package assist

import (
	"os/user"
	"strconv"
	"strings"

	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/assist/link"
)

// Config is the `assist:` section of the agent config.
type Config struct {
	// Enabled runs the relay. false (the zero value): remote help is off
	// and the socket is not made.
	Enabled bool `yaml:"enabled"`
	// Socket is where the kiosk dials; "" means link.DefaultSocket.
	Socket string `yaml:"socket"`
	// KioskUser is the user the kiosk runs as: only its processes may
	// connect (kernel peer credentials), and the socket belongs to its
	// group. "" means "kiosk".
	KioskUser string `yaml:"kiosk_user"`

	listen link.ListenOptions
}

// Validate checks c, looks the kiosk user up and fills in defaults.
func (c *Config) Validate(doc *confile.Doc, prefix string) error {
	key := func(k string) string { return prefix + "." + k }
	if !c.Enabled {
		return nil
	}
	if c.Socket == "" {
		c.Socket = link.DefaultSocket
	}
	if !strings.HasPrefix(c.Socket, "/") {
		return doc.Errorf(key("socket"), "%q is not an absolute path", c.Socket)
	}
	if c.KioskUser == "" {
		c.KioskUser = "kiosk"
	}
	u, err := user.Lookup(c.KioskUser)
	if err != nil {
		return doc.Errorf(key("kiosk_user"), "no such user %q on this machine", c.KioskUser)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return doc.Errorf(key("kiosk_user"), "user %q has a uid or gid that is not a number", c.KioskUser)
	}
	c.listen = link.ListenOptions{Path: c.Socket, AllowUIDs: []uint32{uint32(uid)}, Group: gid}
	return nil
}

// ListenOptions are the socket's options after Validate.
func (c *Config) ListenOptions() link.ListenOptions { return c.listen }
