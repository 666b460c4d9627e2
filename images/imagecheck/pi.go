package imagecheck

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// This file checks what a Raspberry Pi needs to start the Pi image and show
// the kiosk, for boards that cannot be booted here (QEMU has no Pi 4 or
// Pi 5): the boot partition the firmware reads, the device trees it hands
// the kernel, and, for every device the kiosk needs on each board, a driver
// in the image's kernel that binds the device tree's node.
//
// A kernel binds a node in one of three ways, and the check knows each:
// a module (or built-in driver) whose alias matches the node's compatible
// (modules.alias, modules.builtin.modinfo); a built-in driver with no
// alias at all, found by its of_device_id entry in the kernel Image
// (mmc-pwrseq-simple); or a driver that a module registers when it loads
// for another node (vc4, loaded for the display pipeline, registers its
// HDMI, HVS and pixel valve drivers, which have no alias of their own).
// Devices found by their bus (the Wi-Fi chip is an SDIO function, RP1 a
// PCI device) match by the bus's alias, not by their node.

// PiDevice is one device the kiosk needs on a board, as its device tree
// names it.
type PiDevice struct {
	What       string // "SD card", "HDMI", ...
	Compatible string // a "compatible" string of the node
	// Alias, when set, is how the alias of the driver of a device found by
	// its bus begins, as modules.alias writes it: RP1 is a PCI device
	// ("pci:v00001DE4d00000001"; its node's compatible is "pci1de4,1"), the
	// Wi-Fi chip an SDIO function ("sdio:c*v02D0d4345"; brcmfmac reads its
	// node's "brcm,bcm4329-fmac" for settings only). The node's parent, the
	// bus's controller, must then have a driver too.
	Alias string
	// Via, when set, is the compatible of the node whose module registers
	// this node's driver when it loads; the module must hold an
	// of_device_id entry for this node.
	Via string
}

// PiBoard is one Raspberry Pi model the image must start on.
type PiBoard struct {
	Name    string // "Raspberry Pi 5"
	Section string // its config.txt filter: "pi5"
	Model   string // its device tree's first root compatible: "raspberrypi,5-model-b"
	// DTBs are the device trees the firmware may load on it (every one
	// must be on the boot partition and describe the board).
	DTBs []string
	// Firmware is what its boot firmware needs on the boot partition (the
	// Pi 5's is in its EEPROM: none).
	Firmware []string
	// Root is the SD card's driver module, which the initramfs must carry.
	Root    string
	Devices []PiDevice
}

// PiBoards are the boards of the Pi image built from trixie.
var PiBoards = []PiBoard{
	{
		Name: "Raspberry Pi 4", Section: "pi4", Model: "raspberrypi,4-model-b",
		DTBs:     []string{"bcm2711-rpi-4-b.dtb"},
		Firmware: []string{"start4.elf", "fixup4.dat"},
		Root:     "sdhci-iproc",
		Devices: []PiDevice{
			{What: "SD card", Compatible: "brcm,bcm2711-emmc2"},
			{What: "display pipeline", Compatible: "brcm,bcm2711-vc5"},
			{What: "HDMI", Compatible: "brcm,bcm2711-hdmi0", Via: "brcm,bcm2711-vc5"},
			{What: "display controller (HVS)", Compatible: "brcm,bcm2711-hvs", Via: "brcm,bcm2711-vc5"},
			{What: "pixel valve (HDMI 0)", Compatible: "brcm,bcm2711-pixelvalve2", Via: "brcm,bcm2711-vc5"},
			{What: "3D GPU (V3D)", Compatible: "brcm,2711-v3d"},
			{What: "PCIe (the USB controller behind it)", Compatible: "brcm,bcm2711-pcie"},
			{What: "Ethernet", Compatible: "brcm,bcm2711-genet-v5"},
			{What: "Wi-Fi (SDIO)", Compatible: "brcm,bcm4329-fmac", Alias: "sdio:c*v02D0d4345"},
			{What: "Wi-Fi power sequence", Compatible: "mmc-pwrseq-simple"},
			{What: "watchdog", Compatible: "brcm,bcm2711-pm"},
		},
	},
	{
		Name: "Raspberry Pi 400", Section: "pi4", Model: "raspberrypi,400",
		DTBs:     []string{"bcm2711-rpi-400.dtb"},
		Firmware: []string{"start4.elf", "fixup4.dat"},
		Root:     "sdhci-iproc",
		Devices: []PiDevice{
			{What: "SD card", Compatible: "brcm,bcm2711-emmc2"},
			{What: "display pipeline", Compatible: "brcm,bcm2711-vc5"},
			{What: "HDMI", Compatible: "brcm,bcm2711-hdmi0", Via: "brcm,bcm2711-vc5"},
			{What: "display controller (HVS)", Compatible: "brcm,bcm2711-hvs", Via: "brcm,bcm2711-vc5"},
			{What: "pixel valve (HDMI 0)", Compatible: "brcm,bcm2711-pixelvalve2", Via: "brcm,bcm2711-vc5"},
			{What: "3D GPU (V3D)", Compatible: "brcm,2711-v3d"},
			{What: "Wi-Fi (SDIO)", Compatible: "brcm,bcm4329-fmac", Alias: "sdio:c*v02D0d4345"},
			{What: "Wi-Fi power sequence", Compatible: "mmc-pwrseq-simple"},
			{What: "watchdog", Compatible: "brcm,bcm2711-pm"},
		},
	},
	{
		Name: "Raspberry Pi 5", Section: "pi5", Model: "raspberrypi,5-model-b",
		// C1 stepping, then the D0 stepping's tree under both names.
		DTBs: []string{"bcm2712-rpi-5-b.dtb", "bcm2712-d-rpi-5-b.dtb", "bcm2712d0-rpi-5-b.dtb"},
		Root: "sdhci-brcmstb",
		Devices: []PiDevice{
			{What: "SD card", Compatible: "brcm,bcm2712-sdhci"},
			{What: "display pipeline", Compatible: "brcm,bcm2712-vc6"},
			{What: "HDMI", Compatible: "brcm,bcm2712-hdmi0", Via: "brcm,bcm2712-vc6"},
			{What: "display controller (HVS)", Compatible: "brcm,bcm2712-hvs", Via: "brcm,bcm2712-vc6"},
			{What: "pixel valve (HDMI 0)", Compatible: "brcm,bcm2712-pixelvalve0", Via: "brcm,bcm2712-vc6"},
			{What: "3D GPU (V3D)", Compatible: "brcm,2712-v3d"},
			{What: "PCIe (RP1 behind it)", Compatible: "brcm,bcm2712-pcie"},
			{What: "RP1 (USB, Ethernet, GPIO)", Compatible: "pci1de4,1", Alias: "pci:v00001DE4d00000001"},
			{What: "RP1 clocks", Compatible: "raspberrypi,rp1-clocks"},
			{What: "RP1 GPIO", Compatible: "raspberrypi,rp1-gpio"},
			{What: "USB (RP1)", Compatible: "snps,dwc3"},
			{What: "Ethernet (RP1)", Compatible: "raspberrypi,rp1-gem"},
			{What: "Wi-Fi (SDIO)", Compatible: "brcm,bcm4329-fmac", Alias: "sdio:c*v02D0d4345"},
			{What: "watchdog", Compatible: "brcm,bcm2712-pm"},
		},
	},
}

// PiConfig is what the firmware reads from config.txt: the kernel and
// initramfs of the [all] part and the model sections present.
type PiConfig struct {
	Kernel, Initramfs string
	Sections          []string // filters in order, without brackets: "pi4", "cm4", "pi5", "all"
	DeviceTree        map[string]string
}

// ParsePiConfig reads config.txt (its settings outside any filter apply to
// every board; raspi-firmware writes kernel= and initramfs there).
func ParsePiConfig(b []byte) PiConfig {
	c := PiConfig{DeviceTree: map[string]string{}}
	section := "all"
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			c.Sections = append(c.Sections, section)
			continue
		}
		if v, ok := strings.CutPrefix(line, "kernel="); ok && section == "all" {
			c.Kernel = strings.TrimSpace(v)
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "initramfs" && section == "all" {
			c.Initramfs = f[1]
		}
		if v, ok := strings.CutPrefix(line, "device_tree="); ok {
			c.DeviceTree[section] = strings.TrimSpace(v)
		}
	}
	return c
}

// KernelDrivers is what a kernel's modules say they drive: modalias
// patterns (modules.alias and, for built-in drivers,
// modules.builtin.modinfo) and each module's file (modules.dep).
type KernelDrivers struct {
	Version string
	// Image is the uncompressed kernel Image, searched for the
	// of_device_id entries of built-in drivers that have no alias ("": not
	// searched).
	Image   string
	aliases []kernelAlias
	files   map[string]string // module name (with _) -> file under the modules dir
	builtin map[string]bool
	code    map[string][]byte // file -> its contents, decompressed
}

type kernelAlias struct{ pattern, module string }

// ReadKernelDrivers reads the module tables depmod wrote for kernel version
// v in root.
func ReadKernelDrivers(root, v string) (*KernelDrivers, error) {
	dir := filepath.Join(root, "usr/lib/modules", v)
	kd := &KernelDrivers{Version: v, files: map[string]string{}, builtin: map[string]bool{}, code: map[string][]byte{}}
	alias, err := os.ReadFile(filepath.Join(dir, "modules.alias"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(alias), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "alias" {
			kd.aliases = append(kd.aliases, kernelAlias{f[1], modName(f[2])})
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin.modinfo")); err == nil {
		for _, e := range strings.Split(string(b), "\x00") {
			mod, rest, ok := strings.Cut(e, ".")
			if !ok {
				continue
			}
			if v, ok := strings.CutPrefix(rest, "alias="); ok {
				kd.aliases = append(kd.aliases, kernelAlias{v, modName(mod)})
				kd.builtin[modName(mod)] = true
			}
		}
	}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(dep), "\n") {
		file, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		base := path.Base(file)
		if i := strings.Index(base, ".ko"); i > 0 {
			kd.files[modName(base[:i])] = filepath.Join(dir, file)
		}
	}
	return kd, nil
}

func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// Drivers returns the modules (or built-in drivers) that match a device
// tree node with these compatible strings, as the kernel matches
// of:N*T*C<compatible>... aliases, or whose alias starts with aliasPrefix.
func (kd *KernelDrivers) Drivers(compatible []string, aliasPrefix string) []string {
	var out []string
	for _, a := range kd.aliases {
		hit := false
		if aliasPrefix != "" {
			hit = strings.HasPrefix(strings.ToLower(a.pattern), strings.ToLower(aliasPrefix))
		} else if p, ok := strings.CutPrefix(a.pattern, "of:N*T*C"); ok {
			p = strings.TrimSuffix(p, "C*")
			hit = slices.Contains(compatible, p)
		}
		if hit && !slices.Contains(out, a.module) {
			out = append(out, a.module)
		}
	}
	return out
}

// Present reports whether a module's file is installed (or it is built in).
func (kd *KernelDrivers) Present(module string) bool {
	if kd.builtin[modName(module)] {
		return true
	}
	f, ok := kd.files[modName(module)]
	if !ok {
		return false
	}
	_, err := os.Stat(f)
	return err == nil
}

// Binding returns the present drivers that bind node n of a device tree
// (nodes) as device d, each named as a module, "built-in" or "M (via C)":
// a module or built-in driver whose alias matches (d.Alias, else n's
// compatible strings as of: aliases); else a built-in driver with an
// of_device_id entry for n in the kernel Image; else, with d.Via, the
// module of the enabled node compatible with d.Via when that module holds
// an of_device_id entry for n. No drivers and no error: nothing binds n.
func (kd *KernelDrivers) Binding(nodes []DTNode, n DTNode, d PiDevice) ([]string, error) {
	var out []string
	for _, m := range kd.Drivers(n.Compatible, d.Alias) {
		if kd.Present(m) {
			out = append(out, m)
		}
	}
	if len(out) > 0 || d.Alias != "" {
		return out, nil
	}
	if kd.Image != "" {
		ok, err := kd.hasOFEntry(kd.Image, n.Compatible)
		if err != nil {
			return nil, err
		}
		if ok {
			return []string{"built-in"}, nil
		}
	}
	if d.Via == "" {
		return nil, nil
	}
	for _, v := range nodes {
		if !slices.Contains(v.Compatible, d.Via) || !v.Enabled() {
			continue
		}
		for _, m := range kd.Drivers(v.Compatible, "") {
			f, ok := kd.files[modName(m)]
			if !ok || !kd.Present(m) {
				continue
			}
			ok, err := kd.hasOFEntry(f, n.Compatible)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, fmt.Sprintf("%s (via %s)", m, d.Via))
			}
		}
		break
	}
	return out, nil
}

// hasOFEntry reports whether file (a module, compressed as its name says,
// or a kernel Image) holds an of_device_id entry for one of compatible. An
// entry is struct of_device_id { char name[32]; char type[32]; char
// compatible[128]; const void *data; }, and device tree drivers leave name
// and type empty: 64 zero bytes, the compatible string, a zero byte. A
// string the driver only compares (of_device_is_compatible) has no such
// run of zeros before it.
func (kd *KernelDrivers) hasOFEntry(file string, compatible []string) (bool, error) {
	b, ok := kd.code[file]
	if !ok {
		var err error
		if b, err = readModuleFile(file); err != nil {
			return false, err
		}
		kd.code[file] = b
	}
	for _, c := range compatible {
		entry := append(append(make([]byte, 64), c...), 0)
		if len(c) < 128 && bytes.Contains(b, entry) {
			return true, nil
		}
	}
	return false, nil
}

// readModuleFile reads a kernel module or Image, decompressed as its
// name's suffix says (.xz, .zst, .gz; else as it is).
func readModuleFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(file, ".xz"):
		if r, err = xz.NewReader(f); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	case strings.HasSuffix(file, ".zst"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(file, ".gz"):
		if r, err = gzip.NewReader(f); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return b, nil
}

var reKernelVersion = regexp.MustCompile(`^vmlinuz-(.+)$`)

// PiBoot checks the Pi image's boot partition (boot, the directory
// build.sh makes it from) against its root: config.txt with a section for
// every board, the kernel and initramfs it names, every board's firmware
// files and device trees, each tree describing its board, and for every
// device the kiosk needs on a board an enabled node with a driver in the
// kernel. It also checks that the Wi-Fi chip's firmware and each board's
// calibration file are installed, and that a kernel from backports is
// upgraded from there.
func PiBoot(root, boot string, boards []PiBoard) []string {
	var bad []string
	conf, err := os.ReadFile(filepath.Join(boot, "config.txt"))
	if err != nil {
		return []string{fmt.Sprintf("read config.txt: %v", err)}
	}
	c := ParsePiConfig(conf)
	for _, b := range boards {
		if !slices.Contains(c.Sections, b.Section) {
			bad = append(bad, fmt.Sprintf("config.txt has no [%s] section (%s)", b.Section, b.Name))
		}
	}
	if c.Kernel == "" || c.Initramfs == "" {
		return append(bad, fmt.Sprintf("config.txt names no kernel= (%q) or initramfs (%q) for every board", c.Kernel, c.Initramfs))
	}
	for _, f := range []string{c.Kernel, c.Initramfs} {
		if _, err := os.Stat(filepath.Join(boot, f)); err != nil {
			bad = append(bad, fmt.Sprintf("config.txt names %s, not on the boot partition", f))
		}
	}
	if k, err := os.ReadFile(filepath.Join(boot, c.Kernel)); err == nil {
		// An arm64 Image has "ARM\x64" at 0x38 (Documentation/arch/arm64/booting.rst).
		if len(k) < 64 || string(k[0x38:0x3c]) != "ARM\x64" {
			bad = append(bad, fmt.Sprintf("%s is not an uncompressed arm64 Image (the firmware starts it as it is)", c.Kernel))
		}
	}
	m := reKernelVersion.FindStringSubmatch(c.Kernel)
	if m == nil {
		return append(bad, fmt.Sprintf("kernel=%s: not vmlinuz-VERSION", c.Kernel))
	}
	kd, err := ReadKernelDrivers(root, m[1])
	if err != nil {
		return append(bad, fmt.Sprintf("kernel %s's module tables: %v", m[1], err))
	}
	kd.Image = filepath.Join(boot, c.Kernel)
	for _, b := range boards {
		for _, f := range b.Firmware {
			if _, err := os.Stat(filepath.Join(boot, f)); err != nil {
				bad = append(bad, fmt.Sprintf("%s: no %s on the boot partition", b.Name, f))
			}
		}
		for _, dtb := range b.DTBs {
			bad = append(bad, piDeviceTree(filepath.Join(boot, dtb), b, kd)...)
		}
		if b.Root != "" && !kd.Present(b.Root) {
			bad = append(bad, fmt.Sprintf("%s: the SD card driver %s is not in kernel %s", b.Name, b.Root, kd.Version))
		}
		// The Wi-Fi chip (CYW43455 on both boards) loads its firmware and
		// the board's calibration (NVRAM) file by the board's name.
		fw := filepath.Join(root, "usr/lib/firmware/brcm")
		for _, f := range []string{"brcmfmac43455-sdio.bin", "brcmfmac43455-sdio.clm_blob"} {
			if _, err := os.Stat(filepath.Join(fw, f)); err != nil {
				bad = append(bad, fmt.Sprintf("%s: Wi-Fi firmware %s is not installed", b.Name, f))
			}
		}
		if !exists(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio."+b.Model+".txt") && !exists(root, "usr/lib/firmware/brcm/brcmfmac43455-sdio.txt") {
			bad = append(bad, fmt.Sprintf("%s: no Wi-Fi calibration file brcmfmac43455-sdio.%s.txt", b.Name, b.Model))
		}
	}
	if strings.Contains(kd.Version, "bpo") || backportsKernel(root) {
		if !aptConfMentions(root, "-backports") {
			bad = append(bad, "the kernel comes from backports, but the nightly upgrade (unattended-upgrades) does not take that origin")
		}
	}
	return bad
}

// piDeviceTree checks one device tree file of a board.
func piDeviceTree(file string, b PiBoard, kd *KernelDrivers) []string {
	name := filepath.Base(file)
	data, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("%s: no %s on the boot partition", b.Name, name)}
	}
	nodes, err := ParseFDT(data)
	if err != nil {
		return []string{fmt.Sprintf("%s: %s: %v", b.Name, name, err)}
	}
	var bad []string
	if len(nodes) == 0 || len(nodes[0].Compatible) == 0 || nodes[0].Compatible[0] != b.Model {
		return []string{fmt.Sprintf("%s: %s describes %v, not %s", b.Name, name, nodes[0].Compatible, b.Model)}
	}
	for _, d := range b.Devices {
		var found *DTNode
		for i := range nodes {
			if slices.Contains(nodes[i].Compatible, d.Compatible) && nodes[i].Enabled() {
				found = &nodes[i]
				break
			}
		}
		if found == nil {
			bad = append(bad, fmt.Sprintf("%s: %s has no enabled %s node (%s)", b.Name, name, d.What, d.Compatible))
			continue
		}
		binding, err := kd.Binding(nodes, *found, d)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s's %s: %v", b.Name, name, d.What, err))
		} else if len(binding) == 0 {
			bad = append(bad, fmt.Sprintf("%s: %s's %s (%s, %v) has no driver in kernel %s (matching: %v)",
				b.Name, name, d.What, found.Path, found.Compatible, kd.Version, kd.Drivers(found.Compatible, d.Alias)))
		}
		if d.Alias == "" {
			continue
		}
		// A device found by its bus: the bus's controller, its parent
		// node, needs a driver too, when the parent is a device at all
		// (RP1's is a PCI bridge with no compatible, under the PCIe
		// controller checked on its own).
		parent := path.Dir(found.Path)
		i := slices.IndexFunc(nodes, func(n DTNode) bool { return n.Path == parent })
		if parent == "/" || i < 0 || len(nodes[i].Compatible) == 0 {
			continue
		}
		host := nodes[i]
		binding, err = kd.Binding(nodes, host, PiDevice{})
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %s's %s's bus controller: %v", b.Name, name, d.What, err))
		case !host.Enabled():
			bad = append(bad, fmt.Sprintf("%s: %s's %s sits on %s, which is disabled", b.Name, name, d.What, host.Path))
		case len(binding) == 0:
			bad = append(bad, fmt.Sprintf("%s: %s's %s sits on %s (%v), which has no driver in kernel %s",
				b.Name, name, d.What, host.Path, host.Compatible, kd.Version))
		}
	}
	return bad
}

// backportsKernel reports whether dpkg has a linux-image package from
// backports installed in root.
func backportsKernel(root string) bool {
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		return false
	}
	for _, para := range strings.Split(string(status), "\n\n") {
		if strings.Contains(para, "Package: linux-image-") && regexp.MustCompile(`(?m)^Version: .*~bpo`).MatchString(para) {
			return true
		}
	}
	return false
}

// aptConfMentions reports whether an unattended-upgrades origin in root's
// apt configuration contains s.
func aptConfMentions(root, s string) bool {
	files, _ := filepath.Glob(filepath.Join(root, "etc/apt/apt.conf.d/*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "//") {
				continue
			}
			if strings.Contains(line, "Origins-Pattern") && strings.Contains(line, s) {
				return true
			}
		}
	}
	return false
}
