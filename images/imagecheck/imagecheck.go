// Package imagecheck inspects the root file system of an Access Kiosk image
// (a directory, as images/*/build.sh leaves it in build/rootfs) and reports
// every way it falls short of what the image promises: the kiosk and agent
// units enabled, the kiosk user unprivileged, no password hashes, a
// read-only root in fstab with a persistent data partition, the firewall
// dropping what comes in, journald in RAM, the watchdog on, no SSH host keys
// or machine id baked in.
//
// Each check is a function of the root directory returning the problems it
// found, so a test can run one check against a small hand-made tree and the
// image test runs them all against a real build.
package imagecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Problem is one way the root file system falls short.
type Problem struct {
	Check  string // name of the check, e.g. "units"
	Detail string // what is wrong, naming the file
}

func (p Problem) String() string { return p.Check + ": " + p.Detail }

// Check is one named inspection of a root directory.
type Check struct {
	Name string
	Run  func(root string) []string
}

// Image returns every check of a built image. requirePrograms says whether
// the kiosk and agent packages must be installed (false while those
// programs are not built yet; the image test sets it).
func Image(requirePrograms bool) []Check {
	checks := []Check{
		{"units", func(root string) []string { return Units(root, requirePrograms) }},
		{"users", Users},
		{"passwords", Passwords},
		{"permissions", Permissions},
		{"fstab", Fstab},
		{"firewall", Firewall},
		{"journald", Journald},
		{"watchdog", Watchdog},
		{"secrets", NoBakedSecrets},
		{"ssh", SSH},
		{"upgrades", Upgrades},
		{"overlay", Overlay},
		{"releases", Releases},
	}
	return checks
}

// Run runs checks against root and returns every problem found, in order.
func Run(root string, checks []Check) []Problem {
	var out []Problem
	for _, c := range checks {
		for _, d := range c.Run(root) {
			out = append(out, Problem{Check: c.Name, Detail: d})
		}
	}
	return out
}

// unitWants is where `systemctl enable` puts each unit's link.
var unitWants = map[string]string{
	"accesskiosk-kiosk.service":      "graphical.target.wants",
	"accesskiosk-agent.service":      "multi-user.target.wants",
	"accesskiosk-bootconfig.service": "sysinit.target.wants",
	"accesskiosk-firstboot.service":  "multi-user.target.wants",
	"accesskiosk-upgrade.timer":      "timers.target.wants",
	"nftables.service":               "sysinit.target.wants",
	"systemd-timesyncd.service":      "sysinit.target.wants",
	"NetworkManager.service":         "multi-user.target.wants",
}

// Units checks that the image's units are installed and enabled, the default
// target is graphical, tty1 has no getty, and apt's own timers are off.
func Units(root string, requirePrograms bool) []string {
	var bad []string
	names := make([]string, 0, len(unitWants))
	for u := range unitWants {
		names = append(names, u)
	}
	slices.Sort(names)
	for _, u := range names {
		program := u == "accesskiosk-kiosk.service" || u == "accesskiosk-agent.service"
		if program && !requirePrograms && !exists(root, unitPath(root, u)) {
			continue
		}
		if !exists(root, unitPath(root, u)) {
			bad = append(bad, fmt.Sprintf("unit %s is not installed", u))
			continue
		}
		link := path.Join("/etc/systemd/system", unitWants[u], u)
		if _, err := os.Lstat(filepath.Join(root, link)); err != nil {
			bad = append(bad, fmt.Sprintf("unit %s is not enabled (no %s)", u, link))
		}
	}
	if t, err := os.Readlink(filepath.Join(root, "etc/systemd/system/default.target")); err != nil || path.Base(t) != "graphical.target" {
		bad = append(bad, fmt.Sprintf("default.target is %q, want graphical.target", t))
	}
	if t, _ := os.Readlink(filepath.Join(root, "etc/systemd/system/getty@tty1.service")); t != "/dev/null" {
		bad = append(bad, "getty@tty1.service is not masked: a login prompt could replace the kiosk on tty1")
	}
	if t, _ := os.Readlink(filepath.Join(root, "etc/systemd/system/serial-getty@.service")); t != "/dev/null" {
		bad = append(bad, "serial-getty@.service is not masked: a login prompt on the serial console")
	}
	if kiosk, err := os.ReadFile(filepath.Join(root, unitPath(root, "accesskiosk-kiosk.service"))); err == nil {
		texts := [][]byte{kiosk}
		dropIns, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/accesskiosk-kiosk.service.d/*.conf"))
		etc, _ := filepath.Glob(filepath.Join(root, "etc/systemd/system/accesskiosk-kiosk.service.d/*.conf"))
		for _, d := range append(dropIns, etc...) {
			if b, err := os.ReadFile(d); err == nil {
				texts = append(texts, b)
			}
		}
		if CageSwitchesVT(ExecStart(texts...)) {
			bad = append(bad, "accesskiosk-kiosk.service runs cage with -s: Ctrl+Alt+Fn would switch away from the kiosk to an empty console")
		}
		for _, d := range BreaksWebKitSandbox(texts...) {
			bad = append(bad, "accesskiosk-kiosk.service: "+d)
		}
	}
	for _, u := range []string{"apt-daily.timer", "apt-daily-upgrade.timer"} {
		if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/timers.target.wants", u)); err == nil {
			bad = append(bad, fmt.Sprintf("%s is enabled: apt would write to the RAM overlay", u))
		}
	}
	return bad
}

// CageSwitchesVT reports whether a command line runs cage with -s (allow
// VT switching), alone or among other single-letter options.
func CageSwitchesVT(cmd []string) bool {
	for i, w := range cmd {
		if path.Base(w) != "cage" {
			continue
		}
		for _, a := range cmd[i+1:] {
			if a == "--" || !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
				return false
			}
			if strings.Contains(a[1:], "s") {
				return true
			}
		}
	}
	return false
}

// unitPath is where a unit file lives (/usr/lib or /lib, merged-/usr or not).
func unitPath(root, unit string) string {
	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system", "/etc/systemd/system"} {
		p := path.Join(dir, unit)
		if fi, err := os.Lstat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return path.Join("/usr/lib/systemd/system", unit)
}

func exists(root, p string) bool {
	_, err := os.Stat(filepath.Join(root, p))
	return err == nil
}

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	name, uid, gid, home, shell string
}

func readPasswd(root string) (map[string]passwdEntry, error) {
	data, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		return nil, err
	}
	out := map[string]passwdEntry{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			continue
		}
		out[f[0]] = passwdEntry{name: f[0], uid: f[2], gid: f[3], home: f[5], shell: f[6]}
	}
	return out, nil
}

func groupMembers(root string) (map[string][]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 4 {
			continue
		}
		out[f[0]] = nil
		if f[3] != "" {
			out[f[0]] = strings.Split(f[3], ",")
		}
	}
	return out, nil
}

// Users checks the unprivileged kiosk user: a system uid, no login shell,
// in video, render and input and in no group that grants more (sudo, adm,
// disk, ...). The user is required once the kiosk package is installed.
func Users(root string) []string {
	pw, err := readPasswd(root)
	if err != nil {
		return []string{fmt.Sprintf("read /etc/passwd: %v", err)}
	}
	var bad []string
	if r, ok := pw["root"]; !ok || r.uid != "0" {
		bad = append(bad, "no root user with uid 0")
	}
	for name, e := range pw {
		if e.uid == "0" && name != "root" {
			bad = append(bad, fmt.Sprintf("user %s has uid 0", name))
		}
	}
	k, ok := pw["kiosk"]
	if !ok {
		if exists(root, unitPath(root, "accesskiosk-kiosk.service")) {
			bad = append(bad, "no user kiosk, which accesskiosk-kiosk.service runs as")
		}
		return bad
	}
	var uid int
	if _, err := fmt.Sscan(k.uid, &uid); err != nil || uid == 0 || uid >= 1000 {
		bad = append(bad, fmt.Sprintf("user kiosk has uid %s, want a system uid 1..999", k.uid))
	}
	if !strings.HasSuffix(k.shell, "/nologin") && !strings.HasSuffix(k.shell, "/false") {
		bad = append(bad, fmt.Sprintf("user kiosk has login shell %s", k.shell))
	}
	groups, err := groupMembers(root)
	if err != nil {
		return append(bad, fmt.Sprintf("read /etc/group: %v", err))
	}
	for _, g := range []string{"video", "render", "input"} {
		if !slices.Contains(groups[g], "kiosk") {
			bad = append(bad, fmt.Sprintf("user kiosk is not in group %s", g))
		}
	}
	for _, g := range []string{"root", "sudo", "adm", "disk", "shadow", "netdev", "systemd-journal", "staff"} {
		if slices.Contains(groups[g], "kiosk") {
			bad = append(bad, fmt.Sprintf("user kiosk is in group %s", g))
		}
	}
	return bad
}

// Passwords checks /etc/shadow: no password hash and no empty password for
// any account; every account locked ("*" or "!...").
func Passwords(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, "etc/shadow"))
	if err != nil {
		return []string{fmt.Sprintf("read /etc/shadow: %v", err)}
	}
	var bad []string
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 {
			bad = append(bad, fmt.Sprintf("/etc/shadow:%d: malformed", i+1))
			continue
		}
		switch pw := f[1]; {
		case pw == "":
			bad = append(bad, fmt.Sprintf("/etc/shadow:%d: %s has an empty password", i+1, f[0]))
		case pw == "*" || pw == "!" || pw == "!*":
		default:
			bad = append(bad, fmt.Sprintf("/etc/shadow:%d: %s has a password hash", i+1, f[0]))
		}
	}
	return bad
}

// Permissions checks the modes that matter: shadow unreadable to users, the
// image's scripts root-owned and not writable by others, config not
// writable by the kiosk user, no world-writable files outside sticky
// directories.
func Permissions(root string) []string {
	var bad []string
	mode := func(p string, want fs.FileMode, mask fs.FileMode) {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", p, err))
			return
		}
		if fi.Mode().Perm()&mask != want {
			bad = append(bad, fmt.Sprintf("%s has mode %04o", p, fi.Mode().Perm()))
		}
	}
	mode("etc/shadow", 0, 0o007)
	mode("etc/gshadow", 0, 0o007)
	for _, p := range []string{"etc/nftables.conf", "etc/fstab", "etc/ssh/sshd_config.d/accesskiosk.conf"} {
		mode(p, 0, 0o022)
	}
	if exists(root, "etc/accesskiosk") {
		mode("etc/accesskiosk", 0, 0o022)
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "usr/lib/accesskiosk/*"))
	if len(scripts) == 0 {
		bad = append(bad, "no scripts in /usr/lib/accesskiosk")
	}
	for _, s := range scripts {
		rel, _ := filepath.Rel(root, s)
		mode(rel, 0o755, 0o777)
	}
	skip := []string{"proc", "sys", "dev", "run", "tmp", "var/tmp"}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && slices.Contains(skip, rel) {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		m := fi.Mode()
		if m.Perm()&0o002 != 0 && !(m.IsDir() && m&fs.ModeSticky != 0) && m.Type()&(fs.ModeCharDevice|fs.ModeDevice|fs.ModeSocket|fs.ModeNamedPipe) == 0 {
			bad = append(bad, fmt.Sprintf("/%s is world-writable", rel))
		}
		return nil
	})
	return bad
}

// fstabEntry is one line of /etc/fstab.
type fstabEntry struct {
	spec, file, vfstype string
	opts                []string
	line                int
}

func readFstab(root string) ([]fstabEntry, error) {
	data, err := os.ReadFile(filepath.Join(root, "etc/fstab"))
	if err != nil {
		return nil, err
	}
	var out []fstabEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("/etc/fstab:%d: fewer than 4 fields", n)
		}
		out = append(out, fstabEntry{spec: f[0], file: f[1], vfstype: f[2], opts: strings.Split(f[3], ","), line: n})
	}
	return out, sc.Err()
}

// Fstab checks the mounts: the root and the boot partition read-only, one
// persistent ext4 data partition at /var/lib/accesskiosk, /tmp in RAM.
func Fstab(root string) []string {
	entries, err := readFstab(root)
	if err != nil {
		return []string{fmt.Sprintf("read fstab: %v", err)}
	}
	byFile := map[string]fstabEntry{}
	for _, e := range entries {
		byFile[e.file] = e
	}
	var bad []string
	want := []struct {
		file, vfstype string
		ro            bool
	}{
		{"/", "ext4", true},
		{"/boot/firmware", "vfat", true},
		{"/var/lib/accesskiosk", "ext4", false},
		{"/tmp", "tmpfs", false},
	}
	for _, w := range want {
		e, ok := byFile[w.file]
		if !ok {
			bad = append(bad, fmt.Sprintf("/etc/fstab: no entry for %s", w.file))
			continue
		}
		if e.vfstype != w.vfstype {
			bad = append(bad, fmt.Sprintf("/etc/fstab:%d: %s is %s, want %s", e.line, w.file, e.vfstype, w.vfstype))
		}
		if w.ro && !slices.Contains(e.opts, "ro") {
			bad = append(bad, fmt.Sprintf("/etc/fstab:%d: %s is not mounted read-only", e.line, w.file))
		}
		if !w.ro && slices.Contains(e.opts, "ro") {
			bad = append(bad, fmt.Sprintf("/etc/fstab:%d: %s is read-only", e.line, w.file))
		}
	}
	for _, e := range entries {
		if e.vfstype == "swap" {
			bad = append(bad, fmt.Sprintf("/etc/fstab:%d: swap would write RAM contents to disk", e.line))
		}
	}
	return bad
}

var (
	reInputDrop = regexp.MustCompile(`type filter hook input priority [^;]+; policy drop;`)
	reFwdDrop   = regexp.MustCompile(`type filter hook forward priority [^;]+; policy drop;`)
	reMDNS      = regexp.MustCompile(`udp dport 5353 ip daddr 224\.0\.0\.251 accept`)
	reAcceptAll = regexp.MustCompile(`(?m)^\s*(tcp dport [0-9a-z{][^\n]*|tcp|udp|meta l4proto \S+)\s+accept\b.*$`)
)

// Firewall checks /etc/nftables.conf: input and forward drop by default,
// answers and mDNS allowed, SSH only through the ssh_open set. (Units
// checks that nftables.service is enabled.)
func Firewall(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, "etc/nftables.conf"))
	if err != nil {
		return []string{fmt.Sprintf("read /etc/nftables.conf: %v", err)}
	}
	s := string(data)
	var bad []string
	if !strings.Contains(s, "flush ruleset") {
		bad = append(bad, "/etc/nftables.conf does not flush the ruleset first")
	}
	if !reInputDrop.MatchString(s) {
		bad = append(bad, "/etc/nftables.conf: input chain does not drop by default")
	}
	if !reFwdDrop.MatchString(s) {
		bad = append(bad, "/etc/nftables.conf: forward chain does not drop by default")
	}
	if !strings.Contains(s, "ct state established,related accept") {
		bad = append(bad, "/etc/nftables.conf: answers to outgoing traffic are not accepted")
	}
	if !reMDNS.MatchString(s) {
		bad = append(bad, "/etc/nftables.conf: mDNS (udp 5353 to 224.0.0.251) is not accepted")
	}
	if m := reAcceptAll.FindString(s); m != "" {
		bad = append(bad, fmt.Sprintf("/etc/nftables.conf: rule %q opens the kiosk to the network", strings.TrimSpace(m)))
	}
	if !strings.Contains(s, "tcp dport @ssh_open accept") {
		bad = append(bad, "/etc/nftables.conf: no ssh_open set for provisioned SSH")
	}
	return bad
}

// confValue returns the last value of key in systemd-style drop-ins matching
// glob (later files and later lines win, as systemd reads them).
func confValue(root, glob, key string) string {
	files, _ := filepath.Glob(filepath.Join(root, glob))
	slices.Sort(files)
	val := ""
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.TrimSpace(k) == key {
				val = strings.TrimSpace(v)
			}
		}
	}
	return val
}

// Journald checks that the journal stays in RAM and is bounded.
func Journald(root string) []string {
	var bad []string
	if v := confValue(root, "etc/systemd/journald.conf.d/*.conf", "Storage"); v != "volatile" {
		bad = append(bad, fmt.Sprintf("journald Storage=%q, want volatile", v))
	}
	if v := confValue(root, "etc/systemd/journald.conf.d/*.conf", "RuntimeMaxUse"); v == "" {
		bad = append(bad, "journald RuntimeMaxUse is not set")
	}
	return bad
}

// Watchdog checks that systemd drives the hardware watchdog.
func Watchdog(root string) []string {
	v := confValue(root, "etc/systemd/system.conf.d/*.conf", "RuntimeWatchdogSec")
	if v == "" || v == "0" || v == "off" {
		return []string{fmt.Sprintf("RuntimeWatchdogSec=%q: hardware watchdog off", v)}
	}
	return nil
}

// NoBakedSecrets checks that no image carries a device's secrets: SSH host
// keys, a machine id, or a first-boot file with a token in the root.
func NoBakedSecrets(root string) []string {
	var bad []string
	keys, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		rel, _ := filepath.Rel(root, k)
		bad = append(bad, fmt.Sprintf("/%s is baked into the image: every kiosk would share it", rel))
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc/machine-id")); err == nil && len(bytes.TrimSpace(data)) > 0 {
		bad = append(bad, "/etc/machine-id is set: every kiosk would share it")
	}
	if data, err := os.ReadFile(filepath.Join(root, "var/lib/dbus/machine-id")); err == nil && len(bytes.TrimSpace(data)) > 0 {
		bad = append(bad, "/var/lib/dbus/machine-id is set")
	}
	return bad
}

// SSH checks that sshd runs only with a provisioned key, keys only.
func SSH(root string) []string {
	var bad []string
	dropin := filepath.Join(root, "etc/systemd/system/ssh.service.d/accesskiosk.conf")
	data, err := os.ReadFile(dropin)
	if err != nil || !strings.Contains(string(data), "ConditionPathExists=/run/accesskiosk/ssh/authorized_keys") {
		bad = append(bad, "ssh.service does not depend on a provisioned key")
	}
	conf, _ := os.ReadFile(filepath.Join(root, "etc/ssh/sshd_config.d/accesskiosk.conf"))
	for _, want := range []string{"PasswordAuthentication no", "KbdInteractiveAuthentication no"} {
		if !strings.Contains(string(conf), want) {
			bad = append(bad, fmt.Sprintf("sshd config lacks %q", want))
		}
	}
	return bad
}

// Upgrades checks that unattended upgrades never touch the accesskiosk
// packages and that those are held in dpkg.
func Upgrades(root string) []string {
	var bad []string
	data, err := os.ReadFile(filepath.Join(root, "etc/apt/apt.conf.d/52accesskiosk"))
	if err != nil || !strings.Contains(string(data), `Package-Blacklist { "accesskiosk-"; }`) {
		bad = append(bad, "unattended-upgrades does not exclude the accesskiosk- packages")
	}
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return bad
	}
	for _, para := range strings.Split(string(status), "\n\n") {
		var name, st string
		for _, line := range strings.Split(para, "\n") {
			if v, ok := strings.CutPrefix(line, "Package: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "Status: "); ok {
				st = v
			}
		}
		if strings.HasPrefix(name, "accesskiosk-") && strings.HasSuffix(st, "installed") && !strings.HasPrefix(st, "hold ") {
			bad = append(bad, fmt.Sprintf("package %s is not held", name))
		}
	}
	return bad
}

// Overlay checks that the initramfs carries the RAM-overlay script.
func Overlay(root string) []string {
	var bad []string
	for _, p := range []string{"etc/initramfs-tools/scripts/init-bottom/accesskiosk-overlay", "etc/initramfs-tools/hooks/accesskiosk-overlay"} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || fi.Mode().Perm()&0o111 == 0 {
			bad = append(bad, fmt.Sprintf("/%s is missing or not executable", p))
		}
	}
	for _, d := range []string{"media/root-ro", "media/root-rw", "var/lib/accesskiosk", "boot/firmware"} {
		if !exists(root, d) {
			bad = append(bad, fmt.Sprintf("mount point /%s is missing", d))
		}
	}
	return bad
}

// Launcher is how a unit runs the program of the update directory's
// current release (images/deb/release).
type Launcher struct {
	Unit     string   // the program's unit
	Name     string   // the program in the release's bin/
	Packaged string   // the program the package installed
	Launcher string   // release-exec, as the package installs it
	Relay    []string // put in front of the whole command: the kiosk's notify relay and its arguments
}

// Launchers are the kiosk's and the agent's.
var Launchers = []Launcher{
	{"accesskiosk-agent.service", "agent", "/usr/bin/accesskiosk-agent", "/usr/lib/accesskiosk-agent/release-exec", nil},
	{"accesskiosk-kiosk.service", "kiosk", "/usr/bin/accesskiosk-kiosk", "/usr/lib/accesskiosk-kiosk/release-exec", []string{"/usr/lib/accesskiosk-kiosk/notify-relay", "--retry-env", "WLR_RENDERER=pixman"}},
}

// ExecStart returns the command line systemd runs for a unit given its
// file and then its drop-ins in order: an empty "ExecStart=" resets it.
func ExecStart(texts ...[]byte) []string {
	v, _ := ServiceSetting("ExecStart", texts...)
	return strings.Fields(strings.TrimLeft(v, "-+!@:"))
}

// ServiceSetting returns the value systemd uses for key in a unit's
// [Service] section given its file and then its drop-ins in order (the last
// assignment wins), and whether any text sets it.
func ServiceSetting(key string, texts ...[]byte) (string, bool) {
	var val string
	var set bool
	for _, text := range texts {
		sc := bufio.NewScanner(bytes.NewReader(text))
		section := ""
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "[") {
				section = line
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || section != "[Service]" || strings.TrimSpace(k) != key {
				continue
			}
			val, set = strings.TrimSpace(v), true
		}
	}
	return val, set
}

// sandboxBreakers are the systemd settings that keep WebKit's bubblewrap
// sandbox, and with it the kiosk, from starting on Debian 13 (bubblewrap
// 0.12, systemd 257, kernel 6.12), each measured in the trixie image, with
// why.
var sandboxBreakers = []struct{ key, why string }{
	// systemd's seccomp filter for it fails every openat2() with ENOSYS
	// (openat2's flags cannot be inspected), and bubblewrap 0.12 opens each
	// bind source with openat2, without a fallback in Debian's build.
	{"RestrictSUIDSGID", "openat2() fails with ENOSYS under it, and bubblewrap 0.12 needs openat2 (\"bwrap: Can't open source /etc: Function not implemented\")"},
	// These lay mounts over parts of the service's /proc; the kernel then
	// refuses a new proc mount in a user namespace (not fully visible).
	{"ProtectKernelTunables", "its mounts over /proc/sys and others make the kernel refuse bubblewrap's /proc (\"bwrap: Can't mount proc on /proc: Operation not permitted\")"},
	{"ProtectKernelLogs", "its mount over /proc/kmsg makes the kernel refuse bubblewrap's /proc (\"bwrap: Can't mount proc on /proc: Operation not permitted\")"},
	{"ProtectHostname", "its mounts over /proc/sys/kernel/hostname and domainname make the kernel refuse bubblewrap's /proc (\"bwrap: Can't mount proc on /proc: Operation not permitted\")"},
}

// BreaksWebKitSandbox returns, for a unit's file and then its drop-ins in
// order, every setting that is on and keeps WebKit's sandbox from starting
// (sandboxBreakers), with why.
func BreaksWebKitSandbox(texts ...[]byte) []string {
	var bad []string
	for _, b := range sandboxBreakers {
		v, _ := ServiceSetting(b.key, texts...)
		switch strings.ToLower(v) {
		case "1", "yes", "y", "true", "t", "on":
			bad = append(bad, fmt.Sprintf("sets %s=%s: WebKit's sandbox cannot start on Debian 13: %s", b.key, v, b.why))
		}
	}
	return bad
}

// DropInAgrees checks that a unit's drop-in runs the unit's own ExecStart
// with the packaged program replaced by "LAUNCHER NAME PACKAGED", after
// l.Relay.
func DropInAgrees(unit, dropIn []byte, l Launcher) error {
	orig := ExecStart(unit)
	want := slices.Clone(l.Relay)
	for _, w := range orig {
		if w == l.Packaged {
			want = append(want, l.Launcher, l.Name)
		}
		want = append(want, w)
	}
	if len(want) == len(orig)+len(l.Relay) {
		return fmt.Errorf("the unit's ExecStart %q does not run %s", strings.Join(orig, " "), l.Packaged)
	}
	if !bytes.Contains(dropIn, []byte("\nExecStart=\n")) {
		return fmt.Errorf("the drop-in does not reset ExecStart (an empty ExecStart= line first)")
	}
	if got := ExecStart(unit, dropIn); !slices.Equal(got, want) {
		return fmt.Errorf("the drop-in runs %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
	}
	return nil
}

// Releases checks that the kiosk and agent units run their programs
// through release-exec from the update directory's current release, with
// the packaged program as the fallback (units not installed are skipped;
// Units reports them).
func Releases(root string) []string {
	var bad []string
	for _, l := range Launchers {
		up := unitPath(root, l.Unit)
		if !exists(root, up) {
			continue
		}
		unit, err := os.ReadFile(filepath.Join(root, up))
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		dp := path.Join(path.Dir(up), l.Unit+".d", "release.conf")
		dropIn, err := os.ReadFile(filepath.Join(root, dp))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s has no drop-in %s: a switched release would never run", l.Unit, dp))
			continue
		}
		if err := DropInAgrees(unit, dropIn, l); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", dp, err))
		}
		progs := []string{l.Launcher, l.Packaged}
		if len(l.Relay) > 0 {
			progs = append(progs, l.Relay[0]) // the rest are its arguments
		}
		for _, p := range progs {
			fi, err := os.Stat(filepath.Join(root, p))
			if err != nil || fi.Mode()&0o111 == 0 || fi.Mode()&0o022 != 0 {
				bad = append(bad, fmt.Sprintf("%s is missing, not executable or writable by others (%v)", p, err))
			}
		}
	}
	return bad
}
