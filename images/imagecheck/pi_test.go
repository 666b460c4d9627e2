package imagecheck

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

const piTestKernel = "7.3.4+deb13-arm64"

// piModule is the module a test kernel drives a compatible string with.
func piModule(compat string) string {
	switch compat {
	case "brcm,bcm2711-emmc2":
		return "sdhci_iproc"
	case "brcm,bcm2712-sdhci":
		return "sdhci_brcmstb"
	case "brcm,bcm2711-vc5", "brcm,bcm2712-vc6":
		return "vc4"
	case "brcm,bcm4329-fmac":
		return "brcmfmac"
	}
	return "drv_" + strings.NewReplacer(",", "_", "-", "_", ".", "_").Replace(compat)
}

// ofEntry is an of_device_id entry for a compatible string as a driver's
// table holds it: empty name and type, the string, zeros to 128 bytes.
func ofEntry(compat string) string {
	return strings.Repeat("\x00", 64) + compat + strings.Repeat("\x00", 128-len(compat)) + "\x00\x10\x00\x00\x00\x00\x00\x00"
}

// piSDIOHost is the compatible of the test trees' SDIO controller, the
// Wi-Fi node's parent.
const piSDIOHost = "brcm,bcm2835-sdhci"

// piTree writes a boot partition and a root that pass PiBoot for
// PiBoards: config.txt with every section, an arm64 Image, each board's
// device trees (a node per device) and firmware, a kernel whose module
// tables drive every device, the Wi-Fi firmware. The kernel binds nodes
// as Debian's 7.3.4+deb13-arm64 does: most by a module's of: alias, the
// Wi-Fi chip by its SDIO id alone (under its SDIO controller's node), the
// HDMI, HVS and pixel valves by vc4's own of_device_id tables (no alias),
// the Wi-Fi power sequence by a built-in driver's alias.
func piTree(t *testing.T) (root, boot string) {
	t.Helper()
	dir := t.TempDir()
	root, boot = filepath.Join(dir, "root"), filepath.Join(dir, "boot")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(boot, "config.txt"), "arm_64bit=1\nupstream_kernel=1\nkernel=vmlinuz-"+piTestKernel+
		"\ninitramfs initrd.img-"+piTestKernel+"\n[pi4]\n[cm4]\ndevice_tree=bcm2711-rpi-cm4-io.dtb\n[pi5]\n[all]\n")
	image := make([]byte, 128)
	copy(image[0x38:], "ARM\x64")
	image = append(image, "kernel code"+ofEntry("mmc-pwrseq-simple")+"more code"...)
	write(filepath.Join(boot, "vmlinuz-"+piTestKernel), string(image))
	write(filepath.Join(boot, "initrd.img-"+piTestKernel), "initramfs")
	mods := filepath.Join(root, "usr/lib/modules", piTestKernel)
	alias := []string{"alias of:N*T*C" + piSDIOHost + "C* sdhci_iproc"}
	var dep []string
	code := map[string]string{} // module -> what its file holds
	for _, b := range PiBoards {
		for _, f := range b.Firmware {
			write(filepath.Join(boot, f), "firmware")
		}
		var kids []tnode
		for i, d := range b.Devices {
			n := tnode{name: fmt.Sprintf("dev@%d", i), props: [][2]string{{"compatible", d.Compatible}}}
			switch {
			case d.Compatible == "mmc-pwrseq-simple": // built in
			case d.Via != "":
				code[piModule(d.Via)] += ofEntry(d.Compatible)
			case strings.HasPrefix(d.Alias, "sdio:"):
				n = tnode{name: fmt.Sprintf("mmc@%d", i), props: [][2]string{{"compatible", piSDIOHost}}, kids: []tnode{n}}
				alias = append(alias, "alias "+d.Alias+"* "+piModule(d.Compatible))
				// brcmfmac compares the node's compatible, not as a table entry.
				code[piModule(d.Compatible)] += "\x00" + d.Compatible + "\x00"
			case d.Alias != "":
				n = tnode{name: "pci@0,0", kids: []tnode{n}}
				alias = append(alias, "alias "+d.Alias+"sv*sd*bc*sc*i* "+piModule(d.Compatible))
				code[piModule(d.Compatible)] += ""
			default:
				m := piModule(d.Compatible)
				alias = append(alias, "alias of:N*T*C"+d.Compatible+"C* "+m, "alias of:N*T*C"+d.Compatible+" "+m)
				code[m] += ofEntry(d.Compatible)
			}
			kids = append(kids, n)
		}
		dtb := buildFDT(tnode{props: [][2]string{{"compatible", b.Model + "\x00brcm,soc"}}, kids: kids})
		for _, name := range b.DTBs {
			write(filepath.Join(boot, name), string(dtb))
		}
		write(filepath.Join(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio."+b.Model+".txt"), "nvram")
	}
	code["sdhci_iproc"] += ofEntry(piSDIOHost)
	for m, c := range code {
		dep = append(dep, "kernel/drivers/"+m+".ko.xz:")
		write(filepath.Join(mods, "kernel/drivers", m+".ko.xz"), xzString(t, "module "+m+c))
	}
	slices.Sort(dep)
	write(filepath.Join(mods, "modules.alias"), strings.Join(alias, "\n")+"\n")
	write(filepath.Join(mods, "modules.dep"), strings.Join(dep, "\n")+"\n")
	write(filepath.Join(mods, "modules.builtin.modinfo"), "pwrseq_simple.file=drivers/mmc/core/pwrseq_simple\x00pwrseq_simple.license=GPL v2\x00"+
		"pwrseq_simple.alias=of:N*T*Cmmc-pwrseq-simpleC*\x00pwrseq_simple.alias=of:N*T*Cmmc-pwrseq-simple\x00")
	write(filepath.Join(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio.bin"), "fw")
	write(filepath.Join(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio.clm_blob"), "clm")
	write(filepath.Join(root, "var/lib/dpkg/status"), "Package: linux-image-"+piTestKernel+"\nStatus: install ok installed\nVersion: 7.3.4-1~bpo13+1\n")
	write(filepath.Join(root, "etc/apt/apt.conf.d/53accesskiosk-backports"),
		`Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=${distro_codename}-backports,label=Debian Backports"; };`+"\n")
	return root, boot
}

// xzString compresses s as xz does a module (.ko.xz).
func xzString(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPiBootGood(t *testing.T) {
	root, boot := piTree(t)
	if bad := PiBoot(root, boot, PiBoards); len(bad) != 0 {
		t.Fatalf("a complete tree: %q", bad)
	}
}

// Each piece a board needs, taken away, is reported by name.
func TestPiBootMissing(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, root, boot string)
		want   string
	}{
		{"no [pi5] section", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(boot, "config.txt"), "[pi5]\n", "")
		}, "no [pi5] section (Raspberry Pi 5)"},
		{"no kernel line", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(boot, "config.txt"), "kernel=", "#kernel=")
		}, "names no kernel="},
		{"kernel only in the Pi 4 section", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(boot, "config.txt"), "kernel=vmlinuz-"+piTestKernel+"\n", "")
			rewrite(t, filepath.Join(boot, "config.txt"), "[pi4]\n", "[pi4]\nkernel=vmlinuz-"+piTestKernel+"\n")
		}, "names no kernel="},
		{"compressed kernel", func(t *testing.T, root, boot string) {
			os.WriteFile(filepath.Join(boot, "vmlinuz-"+piTestKernel), []byte("\x1f\x8b\x08gzip"), 0o644)
		}, "not an uncompressed arm64 Image"},
		{"no initramfs file", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(boot, "initrd.img-"+piTestKernel))
		}, "names initrd.img-" + piTestKernel + ", not on the boot partition"},
		{"no Pi 4 firmware", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(boot, "start4.elf"))
		}, "Raspberry Pi 4: no start4.elf"},
		{"no D0 device tree", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(boot, "bcm2712d0-rpi-5-b.dtb"))
		}, "Raspberry Pi 5: no bcm2712d0-rpi-5-b.dtb"},
		{"Pi 4 tree under the Pi 5 name", func(t *testing.T, root, boot string) {
			b, _ := os.ReadFile(filepath.Join(boot, "bcm2711-rpi-4-b.dtb"))
			os.WriteFile(filepath.Join(boot, "bcm2712-rpi-5-b.dtb"), b, 0o644)
		}, "bcm2712-rpi-5-b.dtb describes [raspberrypi,4-model-b"},
		{"garbage device tree", func(t *testing.T, root, boot string) {
			os.WriteFile(filepath.Join(boot, "bcm2712-d-rpi-5-b.dtb"), []byte("not a device tree"), 0o644)
		}, "bcm2712-d-rpi-5-b.dtb: fdt:"},
		{"HDMI node disabled", func(t *testing.T, root, boot string) {
			var kids []tnode
			for i, d := range PiBoards[2].Devices {
				props := [][2]string{{"compatible", d.Compatible}}
				if d.What == "HDMI" {
					props = append(props, [2]string{"status", "disabled"})
				}
				kids = append(kids, tnode{name: fmt.Sprintf("dev@%d", i), props: props})
			}
			os.WriteFile(filepath.Join(boot, "bcm2712-rpi-5-b.dtb"), buildFDT(tnode{props: [][2]string{{"compatible", "raspberrypi,5-model-b"}}, kids: kids}), 0o644)
		}, "bcm2712-rpi-5-b.dtb has no enabled HDMI node (brcm,bcm2712-hdmi0)"},
		{"no RP1 driver", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(root, "usr/lib/modules", piTestKernel, "kernel/drivers", piModule("pci1de4,1")+".ko.xz"))
		}, "RP1 (USB, Ethernet, GPIO)"},
		{"no alias for the Pi 5 SD card", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(root, "usr/lib/modules", piTestKernel, "modules.alias"), "brcm,bcm2712-sdhci", "brcm,other")
		}, "SD card (/dev@0, [brcm,bcm2712-sdhci]) has no driver"},
		{"vc4 names the HDMI only as a string, not in a table", func(t *testing.T, root, boot string) {
			f := filepath.Join(root, "usr/lib/modules", piTestKernel, "kernel/drivers/vc4.ko.xz")
			os.WriteFile(f, []byte(xzString(t, "vc4 "+ofEntry("brcm,bcm2711-hvs")+"\x00brcm,bcm2711-hdmi0\x00")), 0o644)
		}, "Raspberry Pi 4: bcm2711-rpi-4-b.dtb's HDMI (/dev@2, [brcm,bcm2711-hdmi0]) has no driver"},
		{"vc4 not installed", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(root, "usr/lib/modules", piTestKernel, "kernel/drivers/vc4.ko.xz"))
		}, "Raspberry Pi 5: bcm2712-rpi-5-b.dtb's display controller (HVS) (/dev@3, [brcm,bcm2712-hvs]) has no driver"},
		{"Wi-Fi matched only by its node's compatible", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(root, "usr/lib/modules", piTestKernel, "modules.alias"), "alias sdio:c*v02D0d4345* brcmfmac", "alias of:N*T*Cbrcm,bcm4329-fmac brcmfmac")
		}, "Raspberry Pi 5: bcm2712-rpi-5-b.dtb's Wi-Fi (SDIO)"},
		{"no driver for the Wi-Fi's SDIO controller", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(root, "usr/lib/modules", piTestKernel, "modules.alias"), "C"+piSDIOHost+"C*", "Cother,sdhciC*")
		}, "Wi-Fi (SDIO) sits on /mmc@"},
		{"no built-in power sequence", func(t *testing.T, root, boot string) {
			rewrite(t, filepath.Join(root, "usr/lib/modules", piTestKernel, "modules.builtin.modinfo"), "mmc-pwrseq-simple", "mmc-pwrseq-emmc!!")
			rewrite(t, filepath.Join(boot, "vmlinuz-"+piTestKernel), "mmc-pwrseq-simple", "mmc-pwrseq-emmc!!")
		}, "Raspberry Pi 4: bcm2711-rpi-4-b.dtb's Wi-Fi power sequence"},
		{"no Pi 5 Wi-Fi calibration", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio.raspberrypi,5-model-b.txt"))
		}, "Raspberry Pi 5: no Wi-Fi calibration file"},
		{"backports kernel not upgraded", func(t *testing.T, root, boot string) {
			os.Remove(filepath.Join(root, "etc/apt/apt.conf.d/53accesskiosk-backports"))
		}, "does not take that origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, boot := piTree(t)
			c.break_(t, root, boot)
			bad := PiBoot(root, boot, PiBoards)
			if !slices.ContainsFunc(bad, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("want a problem containing %q, got %q", c.want, bad)
			}
		})
	}
}

// A kernel with vc4 built in has no vc4.ko to look into: the HDMI, HVS
// and pixel valve drivers' of_device_id entries are in the kernel Image.
func TestPiBootBuiltinVC4(t *testing.T) {
	root, boot := piTree(t)
	mods := filepath.Join(root, "usr/lib/modules", piTestKernel)
	if err := os.Remove(filepath.Join(mods, "kernel/drivers/vc4.ko.xz")); err != nil {
		t.Fatal(err)
	}
	rewrite(t, filepath.Join(mods, "modules.dep"), "kernel/drivers/vc4.ko.xz:\n", "")
	image, err := os.ReadFile(filepath.Join(boot, "vmlinuz-"+piTestKernel))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range PiBoards {
		for _, d := range b.Devices {
			if piModule(d.Compatible) == "vc4" || d.Via != "" {
				image = append(image, ofEntry(d.Compatible)...)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(boot, "vmlinuz-"+piTestKernel), image, 0o644); err != nil {
		t.Fatal(err)
	}
	if bad := PiBoot(root, boot, PiBoards); len(bad) != 0 {
		t.Fatalf("vc4 built in: %q", bad)
	}
	rewrite(t, filepath.Join(boot, "vmlinuz-"+piTestKernel), "brcm,bcm2712-hvs\x00", "brcm,bcm2712-hvX\x00")
	want := "Raspberry Pi 5: bcm2712-rpi-5-b.dtb's display controller (HVS) (/dev@3, [brcm,bcm2712-hvs]) has no driver"
	if bad := PiBoot(root, boot, PiBoards); !slices.ContainsFunc(bad, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("vc4 built in without the HVS's table entry: want %q, got %q", want, bad)
	}
}

func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParsePiConfig(t *testing.T) {
	c := ParsePiConfig([]byte("# comment\narm_64bit=1\nkernel=vmlinuz-6\ninitramfs initrd.img-6 followkernel\n[pi4]\nkernel=other\n[cm4]\ndevice_tree=bcm2711-rpi-cm4-io.dtb\n[pi5]\n[all]\n"))
	if c.Kernel != "vmlinuz-6" || c.Initramfs != "initrd.img-6" || !slices.Equal(c.Sections, []string{"pi4", "cm4", "pi5", "all"}) ||
		c.DeviceTree["cm4"] != "bcm2711-rpi-cm4-io.dtb" {
		t.Errorf("%+v", c)
	}
}
