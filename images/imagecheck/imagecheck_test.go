package imagecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// recipe is the shared root overlay every image is built with.
const recipe = "../common/rootfs"

// TestRecipeFiles runs the checks that look only at files the recipe ships
// against the recipe itself, so a bad edit fails `make test` long before an
// image is built.
func TestRecipeFiles(t *testing.T) {
	for _, c := range []Check{
		{"fstab", Fstab}, {"firewall", Firewall}, {"journald", Journald},
		{"watchdog", Watchdog}, {"ssh", SSH}, {"upgrades", Upgrades},
	} {
		t.Run(c.Name, func(t *testing.T) {
			if got := c.Run(recipe); len(got) != 0 {
				t.Errorf("%s on %s: got problems %q, want none", c.Name, recipe, got)
			}
		})
	}
}

// TestRecipeFirewallLoads has nft parse the firewall in check mode.
func TestRecipeFirewallLoads(t *testing.T) {
	nft, err := exec.LookPath("nft")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nft not installed (make deps installs nftables)")
		}
		t.Skip("nft not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("nft -c needs root")
	}
	out, err := exec.Command(nft, "-c", "-f", filepath.Join(recipe, "etc/nftables.conf")).CombinedOutput()
	if err != nil {
		t.Fatalf("nft -c -f nftables.conf: %v\n%s", err, out)
	}
}

// writeTree makes a root directory from path → content; a content starting
// with "->" makes a symlink.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestPasswords(t *testing.T) {
	tests := []struct {
		name, shadow string
		want         []string
	}{
		{"locked", "root:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nkiosk:!*:19000::::::\n", nil},
		{"hash", "root:$y$j9T$abc$def:19000:0:99999:7:::\n", []string{"root has a password hash"}},
		{"empty", "root::19000:0:99999:7:::\n", []string{"root has an empty password"}},
		{"old des hash", "kiosk:ab01FAX.bQRSU:19000::::::\n", []string{"kiosk has a password hash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Passwords(writeTree(t, map[string]string{"etc/shadow": tt.shadow}))
			assertProblems(t, got, tt.want)
		})
	}
}

func TestFstab(t *testing.T) {
	good := "LABEL=akroot / ext4 ro,noatime 0 1\nLABEL=AKBOOT /boot/firmware vfat ro 0 2\n" +
		"LABEL=akdata /var/lib/accesskiosk ext4 rw 0 2\ntmpfs /tmp tmpfs nosuid 0 0\n"
	tests := []struct {
		name, fstab string
		want        []string
	}{
		{"good", good, nil},
		{"rw root", strings.Replace(good, "ro,noatime", "rw,noatime", 1), []string{"/ is not mounted read-only"}},
		{"no data", strings.Replace(good, "LABEL=akdata /var/lib/accesskiosk ext4 rw 0 2\n", "", 1), []string{"no entry for /var/lib/accesskiosk"}},
		{"swap", good + "/swapfile none swap sw 0 0\n", []string{"swap would write RAM contents"}},
		{"ro data", strings.Replace(good, "ext4 rw 0 2", "ext4 ro 0 2", 1), []string{"/var/lib/accesskiosk is read-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, Fstab(writeTree(t, map[string]string{"etc/fstab": tt.fstab})), tt.want)
		})
	}
}

func TestFirewall(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(recipe, "etc/nftables.conf"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, conf string
		want       []string
	}{
		{"recipe", string(good), nil},
		{"input accepts", strings.Replace(string(good), "hook input priority filter; policy drop;", "hook input priority filter; policy accept;", 1),
			[]string{"input chain does not drop"}},
		{"ssh always open", strings.Replace(string(good), "tcp dport @ssh_open accept", "tcp dport 22 accept", 1),
			[]string{"opens the kiosk", "no ssh_open set"}},
		{"no mdns", strings.ReplaceAll(string(good), "udp dport 5353 ip daddr 224.0.0.251 accept", ""),
			[]string{"mDNS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, Firewall(writeTree(t, map[string]string{"etc/nftables.conf": tt.conf})), tt.want)
		})
	}
}

func TestUsers(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\nkiosk:x:998:998:Access Kiosk shell:/nonexistent:/usr/sbin/nologin\n"
	group := "root:x:0:\nvideo:x:44:kiosk\nrender:x:105:kiosk\ninput:x:104:kiosk\nsudo:x:27:\nkiosk:x:998:\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"good", map[string]string{"etc/passwd": passwd, "etc/group": group}, nil},
		{"kiosk in sudo", map[string]string{"etc/passwd": passwd, "etc/group": strings.Replace(group, "sudo:x:27:", "sudo:x:27:kiosk", 1)},
			[]string{"kiosk is in group sudo"}},
		{"kiosk with a shell", map[string]string{"etc/passwd": strings.Replace(passwd, "/usr/sbin/nologin", "/bin/bash", 1), "etc/group": group},
			[]string{"login shell /bin/bash"}},
		{"second uid 0", map[string]string{"etc/passwd": passwd + "toor:x:0:0::/root:/bin/sh\n", "etc/group": group},
			[]string{"toor has uid 0"}},
		{"kiosk not in input", map[string]string{"etc/passwd": passwd, "etc/group": strings.Replace(group, "input:x:104:kiosk", "input:x:104:", 1)},
			[]string{"not in group input"}},
		{"no kiosk user but its unit", map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n", "etc/group": group,
			"usr/lib/systemd/system/accesskiosk-kiosk.service": "[Service]\n"},
			[]string{"no user kiosk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, Users(writeTree(t, tt.files)), tt.want)
		})
	}
}

func TestUnits(t *testing.T) {
	enabled := map[string]string{"etc/systemd/system/default.target": "->/usr/lib/systemd/system/graphical.target",
		"etc/systemd/system/getty@tty1.service": "->/dev/null", "etc/systemd/system/serial-getty@.service": "->/dev/null"}
	for u, wants := range unitWants {
		enabled["usr/lib/systemd/system/"+u] = "[Unit]\n"
		enabled["etc/systemd/system/"+wants+"/"+u] = "->/usr/lib/systemd/system/" + u
	}
	t.Run("all enabled", func(t *testing.T) {
		assertProblems(t, Units(writeTree(t, enabled), true), nil)
	})
	t.Run("agent not enabled", func(t *testing.T) {
		files := clone(enabled)
		delete(files, "etc/systemd/system/multi-user.target.wants/accesskiosk-agent.service")
		assertProblems(t, Units(writeTree(t, files), true), []string{"accesskiosk-agent.service is not enabled"})
	})
	t.Run("kiosk missing but required", func(t *testing.T) {
		files := clone(enabled)
		delete(files, "usr/lib/systemd/system/accesskiosk-kiosk.service")
		delete(files, "etc/systemd/system/graphical.target.wants/accesskiosk-kiosk.service")
		assertProblems(t, Units(writeTree(t, files), true), []string{"accesskiosk-kiosk.service is not installed"})
		assertProblems(t, Units(writeTree(t, files), false), nil)
	})
	t.Run("cage switches VTs", func(t *testing.T) {
		files := clone(enabled)
		files["usr/lib/systemd/system/accesskiosk-kiosk.service"] = "[Service]\nExecStart=/usr/bin/cage -d -- /usr/bin/accesskiosk-kiosk\n"
		assertProblems(t, Units(writeTree(t, files), true), nil)
		files["usr/lib/systemd/system/accesskiosk-kiosk.service.d/release.conf"] = "[Service]\nExecStart=\nExecStart=/relay /usr/bin/cage -ds -- /usr/bin/accesskiosk-kiosk\n"
		assertProblems(t, Units(writeTree(t, files), true), []string{"runs cage with -s"})
	})
	t.Run("kiosk settings that break WebKit's sandbox", func(t *testing.T) {
		files := clone(enabled)
		files["usr/lib/systemd/system/accesskiosk-kiosk.service"] = "[Service]\nRestrictSUIDSGID=yes\n"
		assertProblems(t, Units(writeTree(t, files), true), []string{"sets RestrictSUIDSGID=yes"})
		files["etc/systemd/system/accesskiosk-kiosk.service.d/off.conf"] = "[Service]\nRestrictSUIDSGID=no\n"
		assertProblems(t, Units(writeTree(t, files), true), nil)
		files["usr/lib/systemd/system/accesskiosk-kiosk.service"] = "[Service]\nNoNewPrivileges=yes\nProtectKernelLogs=no\nProtectHostname=yes\n"
		files["etc/systemd/system/accesskiosk-kiosk.service.d/off.conf"] = "[Unit]\nRestrictSUIDSGID=yes\n[Service]\n RestrictSUIDSGID = true\nProtectKernelTunables=on\n"
		assertProblems(t, Units(writeTree(t, files), true), []string{"sets RestrictSUIDSGID=true", "sets ProtectKernelTunables=on", "sets ProtectHostname=yes"})
	})
	t.Run("getty and apt timers", func(t *testing.T) {
		files := clone(enabled)
		delete(files, "etc/systemd/system/getty@tty1.service")
		files["etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer"] = "->/usr/lib/systemd/system/apt-daily-upgrade.timer"
		assertProblems(t, Units(writeTree(t, files), true), []string{"getty@tty1.service is not masked", "apt-daily-upgrade.timer is enabled"})
	})
}

// TestShippedUnitsNoVTSwitch: the kiosk's own unit and the package's drop-in
// run cage without -s, and leave openat2 to WebKit's sandbox.
func TestShippedUnitsNoVTSwitch(t *testing.T) {
	unit, err := os.ReadFile("../../kiosk/cmd/kiosk/kiosk.service")
	if err != nil {
		t.Fatal(err)
	}
	dropIn, err := os.ReadFile("../deb/release/kiosk.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{ExecStart(unit), ExecStart(unit, dropIn)} {
		if CageSwitchesVT(cmd) {
			t.Errorf("%q runs cage with -s (VT switching)", cmd)
		}
	}
	// WebKit's bubblewrap sandbox cannot start on Debian 13 under some
	// systemd settings (BreaksWebKitSandbox).
	for _, d := range BreaksWebKitSandbox(unit, dropIn) {
		t.Errorf("the kiosk's unit %s", d)
	}
	for _, tt := range []struct {
		cmd  string
		want bool
	}{{"/usr/bin/cage -d -s -- k", true}, {"cage -ds -- k", true}, {"cage -d -- k -s", false}, {"/relay cage -- k", false}} {
		if got := CageSwitchesVT(strings.Fields(tt.cmd)); got != tt.want {
			t.Errorf("CageSwitchesVT(%q) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
}

func TestNoBakedSecrets(t *testing.T) {
	assertProblems(t, NoBakedSecrets(writeTree(t, map[string]string{"etc/machine-id": ""})), nil)
	assertProblems(t, NoBakedSecrets(writeTree(t, map[string]string{
		"etc/machine-id":                   "0123456789abcdef0123456789abcdef\n",
		"etc/ssh/ssh_host_ed25519_key":     "secret",
		"etc/ssh/ssh_host_ed25519_key.pub": "public",
	})), []string{"ssh_host_ed25519_key is baked", "ssh_host_ed25519_key.pub is baked", "machine-id is set"})
}

func TestUpgradesHeld(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join(recipe, "etc/apt/apt.conf.d/52accesskiosk"))
	if err != nil {
		t.Fatal(err)
	}
	status := "Package: accesskiosk-agent\nStatus: hold ok installed\n\nPackage: accesskiosk-kiosk\nStatus: install ok installed\n\nPackage: cage\nStatus: install ok installed\n"
	got := Upgrades(writeTree(t, map[string]string{"etc/apt/apt.conf.d/52accesskiosk": string(conf), "var/lib/dpkg/status": status}))
	assertProblems(t, got, []string{"accesskiosk-kiosk is not held"})
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// assertProblems wants exactly one problem containing each of want, in order.
func assertProblems(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems %q, want %d matching %q", len(got), got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d: got %q, want it to mention %q", i, got[i], want[i])
		}
	}
}
