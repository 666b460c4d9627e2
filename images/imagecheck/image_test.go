//go:build imagetest

// The image tests (`make image-test`, build tag imagetest): they need a
// built image, root, and QEMU, and take minutes, so they are not part of
// `make test`. AK_IMAGE picks the image: x86 (default, images/x86/build,
// qemu-system-x86_64) or rpi (`make image-test-rpi`: images/rpi/build, its
// root booted under qemu-system-aarch64's virt machine). AK_BUILD names the
// build folder (default build; the Makefile passes build-bookworm for
// SUITE=bookworm), SUITE the Debian release the image is built from
// (default trixie): the update the boot test rolls out is built for it.

package imagecheck

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"accesskiosk/fleet/api"
)

// diskImage is one kind of image the tests check and boot.
type diskImage struct {
	name string // x86, rpi: its folder in images/
	arch string // Debian architecture: amd64, arm64
	file string // the disk image in the build folder
	// bootFiles returns the image's own kernel, initramfs and command line
	// file in build, as its boot loader (or the Pi's firmware) finds them.
	bootFiles func(build string) (kernel, initrd, cmdline string, err error)
	qemu      string   // qemu-system-*
	machine   []string // QEMU's machine, CPU, memory and GPU
	console   string   // the serial console's kernel name
	// slow scales the boot test's timeouts: arm64 under TCG on an x86
	// host is slower than x86 under TCG.
	slow time.Duration
}

var images = map[string]diskImage{
	"x86": {
		name: "x86", arch: "amd64", file: "accesskiosk-x86.img",
		bootFiles: func(b string) (string, string, string, error) {
			return filepath.Join(b, "vmlinuz"), filepath.Join(b, "initrd.img"), filepath.Join(b, "cmdline"), nil
		},
		qemu: "qemu-system-x86_64",
		// virtio-gpu: wlroots 0.15 (cage) refuses QEMU's standard VGA
		// (bochs: "PRIME import not supported").
		machine: []string{"-machine", "q35", "-m", "2048", "-smp", "2", "-vga", "none", "-device", "virtio-vga"},
		console: "ttyS0", slow: 1,
	},
	// The Pi image's own kernel, initramfs, command line and root, on the
	// machine QEMU can emulate (QEMU 7.2 has no Raspberry Pi 4): virt with
	// the Pi 4's Cortex-A72. Debian's arm64 kernel drives both. What this
	// cannot test is the Pi itself: its firmware, device tree and hardware.
	"rpi": {
		name: "rpi", arch: "arm64", file: "accesskiosk-rpi.img",
		bootFiles: piBootFiles,
		qemu:      "qemu-system-aarch64",
		machine:   []string{"-machine", "virt", "-cpu", "cortex-a72", "-m", "2048", "-smp", "2", "-device", "virtio-gpu-pci"},
		console:   "ttyAMA0", slow: 3,
	},
}

// piBootFiles reads the Pi boot partition's config.txt (raspi-firmware
// writes it) for the kernel and initramfs the firmware would load.
func piBootFiles(build string) (kernel, initrd, cmdline string, err error) {
	boot := filepath.Join(build, "boot")
	conf, err := os.ReadFile(filepath.Join(boot, "config.txt"))
	if err != nil {
		return "", "", "", err
	}
	c := ParsePiConfig(conf)
	if c.Kernel != "" && c.Initramfs != "" {
		kernel, initrd = filepath.Join(boot, c.Kernel), filepath.Join(boot, c.Initramfs)
	}
	if kernel == "" || initrd == "" {
		return "", "", "", fmt.Errorf("%s/config.txt names no kernel= or initramfs:\n%s", boot, conf)
	}
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			return "", "", "", fmt.Errorf("config.txt names %s: %w", f, err)
		}
	}
	return kernel, initrd, filepath.Join(boot, "cmdline.txt"), nil
}

// target is the image under test (AK_IMAGE, default x86); build its
// build folder (AK_BUILD).
var (
	target = pickImage()
	build  = filepath.Join("..", target.name, envOr("AK_BUILD", "build"))
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func pickImage() diskImage {
	name := os.Getenv("AK_IMAGE")
	if name == "" {
		name = "x86"
	}
	im, ok := images[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "AK_IMAGE=%q: want x86 or rpi\n", name)
		os.Exit(2)
	}
	return im
}

// programInTree reports whether cmd/PROG has Go code in this tree: then its
// package and unit must be in the image.
func programInTree(prog string) bool {
	m, _ := filepath.Glob(filepath.Join("../..", prog, "cmd", prog, "*.go"))
	return len(m) > 0
}

// TestBuiltRootfs runs every structural check against the built root.
func TestBuiltRootfs(t *testing.T) {
	root := filepath.Join(build, "rootfs")
	if _, err := os.Stat(filepath.Join(root, "etc/os-release")); err != nil {
		t.Fatalf("no built root in %s (make image-%s): %v", root, target.name, err)
	}
	require := programInTree("kiosk") && programInTree("agent")
	if !require {
		t.Logf("kiosk or agent not in this tree yet: their units are checked only if installed")
	}
	for _, c := range Image(require) {
		t.Run(c.Name, func(t *testing.T) {
			for _, p := range c.Run(root) {
				t.Errorf("%s", p)
			}
		})
	}
	// Our programs start inside the root they were built for: the dynamic
	// linker finds every library they need there (the kiosk is cgo, and for
	// arm64 cross-compiled against a sysroot; it runs here under qemu-user).
	t.Run("programs start", func(t *testing.T) {
		if !require {
			t.Skip("kiosk or agent not in this tree yet")
		}
		for _, bin := range []string{"/usr/bin/accesskiosk-kiosk", "/usr/bin/accesskiosk-agent"} {
			out, err := exec.Command("chroot", root, bin, "-version").CombinedOutput()
			if v := strings.TrimSpace(string(out)); err != nil || v == "" || strings.Contains(v, " ") {
				t.Errorf("chroot %s %s -version: %v: %q", root, bin, err, out)
			} else {
				t.Logf("%s (%s): %s", bin, target.arch, v)
			}
		}
	})
}

// piBoards are the boards the Pi image is built for: the Pi 4 and 400,
// and from trixie on (its backports kernel) the Pi 5.
func piBoards() []PiBoard {
	if envOr("SUITE", "trixie") == "bookworm" {
		return PiBoards[:2]
	}
	return PiBoards
}

// TestPiBoot checks what the Pi's firmware and kernel need on each board
// (PiBoot: config.txt sections, device trees, a driver for every device the
// kiosk needs), which no boot under QEMU can show, and that the initramfs
// the firmware loads can mount the root from each board's SD card.
func TestPiBoot(t *testing.T) {
	if target.name != "rpi" {
		t.Skip("the Pi image only (AK_IMAGE=rpi)")
	}
	root, boot := filepath.Join(build, "rootfs"), filepath.Join(build, "boot")
	boards := piBoards()
	for _, p := range PiBoot(root, boot, boards) {
		t.Errorf("%s", p)
	}
	conf, err := os.ReadFile(filepath.Join(boot, "config.txt"))
	if err != nil {
		t.Fatal(err)
	}
	c := ParsePiConfig(conf)
	t.Logf("config.txt: kernel=%s initramfs %s, sections %v", c.Kernel, c.Initramfs, c.Sections)
	dtbs, _ := filepath.Glob(filepath.Join(boot, "bcm271*.dtb"))
	for i := range dtbs {
		dtbs[i] = filepath.Base(dtbs[i])
	}
	t.Logf("device trees for the Pi 4 and 5 on the boot partition: %v", dtbs)
	v := strings.TrimPrefix(c.Kernel, "vmlinuz-")
	if kd, err := ReadKernelDrivers(root, v); err == nil {
		kd.Image = filepath.Join(boot, c.Kernel)
		for _, b := range boards {
			nodes, err := readDTB(filepath.Join(boot, b.DTBs[0]))
			if err != nil {
				continue
			}
			var found []string
			for _, d := range b.Devices {
				for _, n := range nodes {
					if slices.Contains(n.Compatible, d.Compatible) && n.Enabled() {
						drivers, _ := kd.Binding(nodes, n, d)
						found = append(found, fmt.Sprintf("%s=%v", d.What, drivers))
						break
					}
				}
			}
			t.Logf("%s (%s, kernel %s): %s", b.Name, b.DTBs[0], v, strings.Join(found, ", "))
		}
	}
	// The initramfs: what the firmware loads with the kernel must hold each
	// board's SD card driver and the RAM-overlay script.
	out, err := exec.Command("chroot", root, "lsinitramfs", "/boot/initrd.img-"+v).CombinedOutput()
	if err != nil {
		t.Fatalf("lsinitramfs initrd.img-%s: %v\n%s", v, err, out)
	}
	for _, b := range boards {
		if !strings.Contains(string(out), "/"+b.Root+".ko") {
			t.Errorf("initrd.img-%s lacks %s.ko: the %s could not mount its root from the SD card", v, b.Root, b.Name)
		}
	}
	for _, want := range []string{"init-bottom/accesskiosk-overlay", "rp1_pci.ko"} {
		if want == "rp1_pci.ko" && len(boards) < 3 {
			continue
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("initrd.img-%s lacks %s", v, want)
		}
	}
}

func readDTB(path string) ([]DTNode, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFDT(b)
}

// TestImageFilesystems checks the built image's root and data file
// systems read-only (e2fsck -fn), in place in the disk image.
func TestImageFilesystems(t *testing.T) {
	img := filepath.Join(build, target.file)
	out, err := exec.Command("sfdisk", "-J", img).Output()
	if err != nil {
		t.Fatalf("sfdisk -J %s: %v", img, err)
	}
	var pt struct {
		PartitionTable struct {
			Partitions []struct{ Start int64 } `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &pt); err != nil || len(pt.PartitionTable.Partitions) != 3 {
		t.Fatalf("partition table of %s: %v %s", img, err, out)
	}
	for i, name := range []string{"boot", "root", "data"} {
		if name == "boot" {
			continue
		}
		dev := fmt.Sprintf("%s?offset=%d", img, pt.PartitionTable.Partitions[i].Start*512)
		out, err := exec.Command("e2fsck", "-fn", dev).CombinedOutput()
		if err != nil {
			t.Errorf("e2fsck -fn %s (%s): %v\n%s", name, dev, err, out)
		} else {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Logf("%s: %s", name, lines[len(lines)-1])
		}
	}
}

// console follows a VM's serial console: every line goes to a log file and
// to whoever waits for a pattern.
type console struct {
	mu    sync.Mutex
	lines []string
	at    []time.Duration // when each line arrived, since the VM started
	grew  chan struct{}
	start time.Time
}

func newConsole(r io.Reader, log io.Writer) *console {
	c := &console{grew: make(chan struct{}, 1), start: time.Now()}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			at := time.Since(c.start)
			fmt.Fprintf(log, "%7.1fs %s\n", at.Seconds(), line)
			c.mu.Lock()
			c.lines = append(c.lines, line)
			c.at = append(c.at, at)
			c.mu.Unlock()
			select {
			case c.grew <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// wait returns the first line matching re and when it arrived (since the
// VM started), or an error at the deadline or once the VM has stopped (exited closed).
func (c *console) wait(ctx context.Context, re *regexp.Regexp) (string, time.Duration, error) {
	return c.waitUntil(ctx, re, nil)
}

func (c *console) waitUntil(ctx context.Context, re *regexp.Regexp, exited <-chan struct{}) (string, time.Duration, error) {
	seen := 0
	for {
		c.mu.Lock()
		lines, ats := c.lines[seen:], c.at[seen:]
		seen = len(c.lines)
		c.mu.Unlock()
		for i, l := range lines {
			if re.MatchString(l) {
				return l, ats[i], nil
			}
		}
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("console never showed %q: %w", re, ctx.Err())
		case <-exited:
			return "", 0, fmt.Errorf("the VM stopped before the console showed %q", re)
		case <-c.grew:
		case <-time.After(time.Second):
		}
	}
}

// contains reports whether any line so far matches re.
func (c *console) contains(re *regexp.Regexp) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if re.MatchString(l) {
			return l
		}
	}
	return ""
}

// vm is one QEMU run of the image.
type vm struct {
	cmd     *exec.Cmd
	console *console
	exited  chan struct{} // closed when QEMU has exited
	err     error         // QEMU's exit, once exited is closed
	monitor string        // QEMU's human monitor socket
}

// screen saves what QEMU's display shows (the monitor's screendump: the
// guest's scanout, as a monitor would show it) as a PNG at path, and
// returns it.
func (v *vm) screen(path string) (image.Image, error) {
	c, err := net.DialTimeout("unix", v.monitor, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("QEMU monitor: %w", err)
	}
	defer c.Close()
	ppm := strings.TrimSuffix(path, ".png") + ".ppm"
	os.Remove(ppm)
	if _, err := fmt.Fprintf(c, "screendump %s\n", ppm); err != nil {
		return nil, fmt.Errorf("QEMU monitor: %w", err)
	}
	// The monitor answers at once and writes the file; wait until it is whole.
	var img image.Image
	for i := 0; i < 50; i++ {
		time.Sleep(200 * time.Millisecond)
		if img, err = readPPM(ppm); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("screendump: %w", err)
	}
	os.Remove(ppm)
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return img, png.Encode(f, img)
}

// readPPM reads a binary PPM (P6, maxval 255), as QEMU's screendump writes.
func readPPM(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var w, h, maxval int
	r := bytes.NewReader(b)
	if _, err := fmt.Fscanf(r, "P6\n%d %d\n%d\n", &w, &h, &maxval); err != nil || maxval != 255 || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%s: not a P6 PPM with maxval 255 (%v)", path, err)
	}
	n := len(b) - r.Len()
	if len(b)-n < w*h*3 {
		return nil, fmt.Errorf("%s: %d bytes of pixels, want %d", path, len(b)-n, w*h*3)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2], img.Pix[i*4+3] = b[n+i*3], b[n+i*3+1], b[n+i*3+2], 255
	}
	return img, nil
}

// screenShowsPage reports whether img looks like a page and not a black,
// blank or console screen: mostly light (the kiosk's pages are), with a
// dozen or more colours (text, buttons, the toolbar).
func screenShowsPage(img image.Image) (bool, string) {
	colours := map[[3]uint8]bool{}
	light, total := 0, 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 3 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
			colours[c] = true
			if int(c[0])+int(c[1])+int(c[2]) > 3*200 {
				light++
			}
			total++
		}
	}
	what := fmt.Sprintf("%dx%d, %d colours, %d%% light", bnd.Dx(), bnd.Dy(), len(colours), 100*light/max(total, 1))
	return len(colours) >= 12 && light*100 >= total*30, what
}

// boot starts QEMU on disk with direct kernel boot, the serial console
// followed, user networking restricted to the guest forward of
// 10.0.2.100:8443 to fleetAddr on the host's loopback through socat
// (nothing else leaves the VM), and an i6300esb watchdog.
func boot(t testing.TB, disk, fleetAddr, logPath string) *vm {
	t.Helper()
	monitor := filepath.Join(t.TempDir(), "monitor.sock")
	kernel, initrd, cmdlineFile, err := target.bootFiles(build)
	if err != nil {
		t.Fatal(err)
	}
	cmdline, err := os.ReadFile(cmdlineFile)
	if err != nil {
		t.Fatal(err)
	}
	// The image's own command line without quiet and with the journal on
	// the serial console. The kiosk shows on QEMU's virtio-gpu display
	// through cage's DRM backend, as on a device; cage's GPU renderer has
	// no GPU to use there and crashes, so notify-relay's fallback to the
	// software renderer is what shows it (TestBoot reports which ran).
	args := strings.Fields(string(cmdline))
	var kept []string
	for _, a := range args {
		if a != "quiet" && !strings.HasPrefix(a, "loglevel=") && !strings.HasPrefix(a, "console=") {
			kept = append(kept, a)
		}
	}
	kept = append(kept, "console=tty0", "console="+target.console+",115200", "systemd.journald.forward_to_console=1",
		"panic=10",
		// Loaded by name: a first run found no DRM driver autoloaded in time.
		"modules-load=virtio_gpu")
	netdev := "user,id=n0,restrict=on"
	if fleetAddr != "" {
		// cmd: runs socat for every connection the guest opens (a tcp:
		// target would be one connection, made when QEMU starts).
		netdev += ",guestfwd=tcp:10.0.2.100:8443-cmd:socat STDIO TCP:" + fleetAddr
	}
	// Not niced: under emulation on a loaded host a starved guest hits its
	// own timeouts (soft lockups, journald start timeout), which is not
	// what this test is about.
	qemu := append(append([]string(nil), target.machine...),
		"-kernel", kernel, "-initrd", initrd,
		"-append", strings.Join(kept, " "),
		"-drive", "file="+disk+",format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
		"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
		"-device", "i6300esb", "-display", "none",
		"-serial", "stdio", "-monitor", "unix:"+monitor+",server,nowait", "-no-reboot",
	)
	cmd := exec.Command(target.qemu, qemu...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	v := &vm{cmd: cmd, console: newConsole(out, logf), exited: make(chan struct{}), monitor: monitor}
	go func() { v.err = cmd.Wait(); close(v.exited) }()
	t.Cleanup(v.powerOff)
	return v
}

// powerOff pulls the plug: SIGKILL, no shutdown, no sync in the guest.
func (v *vm) powerOff() {
	_ = v.cmd.Process.Kill()
	<-v.exited
}

// wait is console.wait that also gives up when QEMU exits.
func (v *vm) wait(ctx context.Context, re *regexp.Regexp) (string, time.Duration, error) {
	return v.console.waitUntil(ctx, re, v.exited)
}

var (
	reOverlay   = regexp.MustCompile(`accesskiosk: root is a RAM overlay`)
	reGraphical = regexp.MustCompile(`Reached target graphical\.target`)
	reKiosk     = regexp.MustCompile(`Started accesskiosk-kiosk\.service`)
	reAgent     = regexp.MustCompile(`Started accesskiosk-agent\.service`)
	reFirewall  = regexp.MustCompile(`Finished nftables\.service`)
	reWatchdog  = regexp.MustCompile(`(Using hardware watchdog|Watchdog running with a timeout)`)
	reFirstboot = regexp.MustCompile(`(Finished|Started) accesskiosk-firstboot\.service`)
	reHostname  = regexp.MustCompile(`bootconfig: hostname (\S+)`)
	reBadState  = regexp.MustCompile(`(Kernel panic|emergency mode|Failed to start|Dependency failed|You are in emergency)`)
	// The kiosk's own log line when it sends READY=1 (home painted).
	reKioskHome = regexp.MustCompile(`"home page shown; ready"`)
	// bootconfig copied the release root from the boot partition; the
	// agent laid the packaged programs down as the factory release.
	reRootCopied = regexp.MustCompile(`bootconfig: trusted root of signed releases from`)
	reFactory    = regexp.MustCompile(`factory release laid down as the current release`)
	reFallback   = regexp.MustCompile(`release-exec: no usable current release`)
	reInstalled  = regexp.MustCompile(`release installed and healthy`)
	// notify-relay ran cage again with the software renderer.
	reSoftRenderer = regexp.MustCompile(`running it again with WLR_RENDERER=pixman`)
)

// checkScreen saves boot n's display as bootN-screen.png in the build
// folder and fails the test unless it shows a page. The page may still be
// settling (home, then the offline page when the kiosk finds no internet),
// so a few dumps are allowed.
func checkScreen(t testing.TB, v *vm, n int) {
	t.Helper()
	path := filepath.Join(build, fmt.Sprintf("boot%d-screen.png", n))
	var what string
	for i := 0; i < 6; i++ {
		time.Sleep(5 * time.Second * target.slow)
		img, err := v.screen(path)
		if err != nil {
			t.Errorf("boot %d: %v", n, err)
			return
		}
		var ok bool
		if ok, what = screenShowsPage(img); ok {
			t.Logf("boot %d: the display shows a page (%s): %s", n, what, path)
			return
		}
	}
	t.Errorf("boot %d: the display shows no page (%s): %s", n, what, path)
}

// updateVersion is the release the boot test publishes on boot 2.
const updateVersion = "9.9.9+imagetest"

// firstbootFile is a first-boot file as `provision config` writes it.
func firstbootFile(fingerprint, token string) string {
	return fmt.Sprintf(`# Access Kiosk first-boot file. It holds a secret: keep it private.
version: 1
fleet:
  url: https://10.0.2.100:8443
  fingerprint: %s
token: %s
hostname_prefix: imgtest
ssh_authorized_keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYONLYFORTHEIMAGETESTxxxxxxxxxxxx imagetest@localhost
`, fingerprint, token)
}

// TestBoot boots the image three times under QEMU (software emulation),
// pulling the plug on each, with a signed update on the second, and checks
// every boot reaches the same state.
func TestBoot(t *testing.T) {
	for _, tool := range []string{target.qemu, "socat", "mcopy", "mtype"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (make deps)", tool)
		}
	}
	img := filepath.Join(build, target.file)
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("no image (make image-%s): %v", target.name, err)
	}
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.img")
	if out, err := exec.Command("cp", "--sparse=always", img, disk).CombinedOutput(); err != nil {
		t.Fatalf("copy image: %v\n%s", err, out)
	}

	// The fleet server on loopback, when it is built (make build).
	fleetAddr, fingerprint, token := "", strings.Repeat("00", 32), "ak1_imagetest_no_fleet"
	var fl *fleet
	if programInTree("fleet") {
		fl = startFleet(t)
		fleetAddr, fingerprint, token = fl.addr, fl.fingerprint, fl.token
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		fleetAddr = ln.Addr().String()
		ln.Close()
		t.Logf("fleet not in this tree yet: enrolment and reports not checked")
	}

	fb := filepath.Join(dir, "accesskiosk-firstboot.yaml")
	if err := os.WriteFile(fb, []byte(firstbootFile(fingerprint, token)), 0o600); err != nil {
		t.Fatal(err)
	}
	part := disk + "@@1M" // the boot partition starts at 1 MiB (images/common/disk.sh)
	if out, err := exec.Command("mcopy", "-o", "-i", part, fb, "::/accesskiosk-firstboot.yaml").CombinedOutput(); err != nil {
		t.Fatalf("mcopy first-boot file: %v\n%s", err, out)
	}
	if fl != nil {
		// The fleet's release root, as an IT admin puts it beside the
		// first-boot file (images/README.md, "Signed updates").
		if out, err := exec.Command("mcopy", "-o", "-i", part, fl.root, "::/accesskiosk-release-root.json").CombinedOutput(); err != nil {
			t.Fatalf("mcopy release root: %v\n%s", err, out)
		}
	}

	kiosk := programInTree("kiosk")
	agent := programInTree("agent")
	ready := reGraphical
	if kiosk {
		ready = reKiosk
	} else {
		t.Logf("kiosk not in this tree yet: ready means graphical.target reached")
	}
	update := fl != nil && kiosk && agent
	var deviceID, factory string
	for n := 1; n <= 3; n++ {
		if n == 3 && !update {
			break
		}
		t.Run(fmt.Sprintf("boot%d", n), func(t *testing.T) {
			logPath := filepath.Join(build, fmt.Sprintf("boot%d.log", n))
			started := time.Now()
			v := boot(t, disk, fleetAddr, logPath)
			t.Logf("console: %s", logPath)
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute*target.slow)
			defer cancel()
			// Every check waits on its own, so one failing (the kiosk under
			// emulation, say) does not hide the others.
			rc, rcancel := context.WithTimeout(ctx, 6*time.Minute*target.slow)
			line, at, err := v.wait(rc, ready)
			rcancel()
			if err != nil {
				t.Errorf("boot %d: %v", n, err)
			} else {
				t.Logf("boot %d: kiosk unit READY (power-on to READY=1) after %.1fs: %s", n, at.Seconds(), line)
			}
			if kiosk {
				// READY=1 is sent once home has painted; the kiosk says so too.
				if _, at, err := v.wait(ctx, reKioskHome); err != nil {
					t.Errorf("boot %d: %v", n, err)
				} else {
					t.Logf("boot %d: kiosk home page shown after %.1fs", n, at.Seconds())
					// And the screen shows it: the guest's display, read
					// from QEMU, not from inside the guest.
					checkScreen(t, v, n)
				}
				if l := v.console.contains(reSoftRenderer); l != "" {
					t.Logf("boot %d: cage's GPU renderer failed; the relay fell back to the software renderer: %s", n, l)
				}
			}
			want := []*regexp.Regexp{reOverlay, reFirewall, reWatchdog}
			if agent {
				want = append(want, reAgent)
				if n == 1 && fl != nil {
					want = append(want, reFirstboot, reRootCopied, reFactory)
				}
			}
			for _, re := range want {
				c, cancel := context.WithTimeout(ctx, 5*time.Minute*target.slow)
				if _, at, err := v.wait(c, re); err != nil {
					t.Errorf("boot %d: %v", n, err)
				} else {
					t.Logf("boot %d: %q after %.1fs", n, re, at.Seconds())
				}
				cancel()
			}
			if n >= 2 {
				m := reHostname.FindStringSubmatch(v.console.contains(reHostname))
				if m == nil || !strings.HasPrefix(m[1], "imgtest-") {
					t.Errorf("boot %d: no imgtest-XXXXXX hostname applied from the persistent partition (%q)", n, m)
				}
			}
			if fl != nil && agent {
				d, err := fl.waitReport(ctx, started, "")
				if err != nil {
					t.Errorf("boot %d: %v", n, err)
				} else {
					t.Logf("boot %d: device %s (%s) agent %s kiosk %s reported %.1fs after power-on", n, d.ID, d.Hostname, d.AgentVersion, d.KioskVersion, float64(d.LastSeenUnixMs-started.UnixMilli())/1000)
					switch n {
					case 1:
						deviceID, factory = d.ID, d.AgentVersion
					default:
						if d.ID != deviceID {
							t.Errorf("boot %d: device %s reported, boot 1 enrolled %s", n, d.ID, deviceID)
						}
					}
				}
			}
			if n >= 2 {
				// The factory release (or, on boot 3, the update) is laid
				// down: both units run their program from current.
				if l := v.console.contains(reFallback); l != "" {
					t.Errorf("boot %d: a unit ran its packaged program, not the current release's: %s", n, l)
				}
			}
			if n == 2 && update {
				// A signed release from the fleet: the agent installs it,
				// the units restart on it, the health gate passes.
				fl.publish(t, updateVersion)
				uctx, ucancel := context.WithTimeout(ctx, 15*time.Minute*target.slow)
				d, err := fl.waitReport(uctx, started, updateVersion)
				ucancel()
				if err != nil {
					t.Errorf("boot 2: update to %s: %v", updateVersion, err)
				} else {
					t.Logf("boot 2: updated from %s: agent %s kiosk %s reported %.1fs after power-on", factory, d.AgentVersion, d.KioskVersion, float64(d.LastSeenUnixMs-started.UnixMilli())/1000)
				}
				if _, _, err := v.wait(ctx, reInstalled); err != nil {
					t.Errorf("boot 2: %v", err)
				}
			}
			if n == 3 {
				// After a power cut the device comes back on the update.
				d, err := fl.waitReport(ctx, started, updateVersion)
				if err != nil {
					t.Errorf("boot 3: %v", err)
				} else {
					t.Logf("boot 3: after a power cut, agent %s kiosk %s reported %.1fs after power-on", d.AgentVersion, d.KioskVersion, float64(d.LastSeenUnixMs-started.UnixMilli())/1000)
				}
			}
			if bad := v.console.contains(reBadState); bad != "" {
				t.Errorf("boot %d: %s", n, bad)
			}
			// Let the system settle, then pull the plug mid-flight.
			time.Sleep(10 * time.Second)
			v.powerOff()
		})
	}

	// The token must be gone from the boot partition, the keys kept.
	out, err := exec.Command("mtype", "-i", part, "::/accesskiosk-firstboot.yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("mtype: %v\n%s", err, out)
	}
	if strings.Contains(string(out), token) {
		t.Errorf("the enrolment token is still on the boot partition:\n%s", out)
	}
	if !strings.Contains(string(out), "secrets_erased: true") || !strings.Contains(string(out), "ssh-ed25519") {
		t.Errorf("first-boot file after boot: want secrets_erased: true and the SSH key kept, got\n%s", out)
	}
}

// fleet is bin/fleet serving on loopback with a site and a one-use token.
type fleet struct {
	addr, fingerprint, token, apiToken string
	client                             *http.Client
	// data is the fleet's data directory; offline its release signing
	// keys; root the release root an image carries.
	data, offline, root string
}

func fleetCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("../../bin/fleet", args...).Output()
	if err != nil {
		t.Fatalf("fleet %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func startFleet(t testing.TB) *fleet {
	t.Helper()
	if _, err := os.Stat("../../bin/fleet"); err != nil {
		t.Fatalf("no bin/fleet (make build): %v", err)
	}
	data := t.TempDir()
	fleetCmd(t, "admin", "site", "--data", data, "--id", "imagetest")
	f := &fleet{token: fleetCmd(t, "admin", "enrol-token", "--data", data, "--site", "imagetest", "--uses", "1", "--expires", "2h")}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("image-test-password-1234"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleetCmd(t, "admin", "create", "--data", data, "--user", "it", "--password-file", pw)
	f.apiToken = fleetCmd(t, "admin", "api-token", "--data", data, "--user", "it")
	// Signed releases: keys, repository, and the root the kiosk must trust.
	f.data, f.offline, f.root = data, filepath.Join(t.TempDir(), "offline"), filepath.Join(t.TempDir(), "root.json")
	fleetCmd(t, "release", "keys", "generate", "--offline", f.offline)
	fleetCmd(t, "release", "init", "--data", data, "--offline", f.offline)
	fleetCmd(t, "release", "root", "--data", data, "--out", f.root)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command("../../bin/fleet", "serve", "--addr", f.addr, "--data", data)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(build, "fleet.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	fp := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if v, ok := strings.CutPrefix(sc.Text(), "fleet: TLS certificate SHA-256 fingerprint "); ok {
				fp <- strings.TrimSpace(v)
			}
		}
	}()
	select {
	case f.fingerprint = <-fp:
	case <-time.After(time.Minute):
		t.Fatal("fleet serve printed no certificate fingerprint")
	}
	f.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	t.Logf("fleet on %s, fingerprint %s", f.addr, f.fingerprint)
	return f
}

// waitReport waits until exactly one device is enrolled and has reported
// after since (running version, when not ""), and returns it.
func (f *fleet) waitReport(ctx context.Context, since time.Time, version string) (api.Device, error) {
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+f.addr+api.PathAdminDevices, nil)
		req.Header.Set("Authorization", "Bearer "+f.apiToken)
		resp, err := f.client.Do(req)
		if err == nil {
			var list api.DeviceList
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if err == nil {
				last = fmt.Sprintf("%d devices %+v", len(list.Devices), list.Devices)
				if len(list.Devices) > 1 {
					return api.Device{}, fmt.Errorf("the fleet has %s: the kiosk enrolled twice", last)
				}
				if len(list.Devices) == 1 && list.Devices[0].LastSeenUnixMs >= since.UnixMilli() &&
					(version == "" || list.Devices[0].AgentVersion == version && list.Devices[0].KioskVersion == version) {
					return list.Devices[0], nil
				}
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return api.Device{}, fmt.Errorf("no report from the kiosk since %s: %s", since.Format(time.TimeOnly), last)
		case <-time.After(5 * time.Second):
		}
	}
}

// publish builds release version (the kiosk and the agent stamped with
// it, for the image's architecture; their units), signs it with the fleet's offline keys and rolls it out
// to every device.
func (f *fleet) publish(t testing.TB, version string) {
	t.Helper()
	tree := t.TempDir()
	for _, prog := range []string{"agent", "kiosk"} {
		bin, _ := filepath.Abs(filepath.Join(tree, "bin", prog))
		cmd := exec.Command("images/deb/gobuild.sh", target.arch, prog, bin, version)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s %s for %s: %v\n%s", prog, version, target.arch, err, out)
		}
		unit, err := os.ReadFile(filepath.Join("../..", prog, "cmd", prog, prog+".service"))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(tree, "units"), 0o755)
		if err := os.WriteFile(filepath.Join(tree, "units", "accesskiosk-"+prog+".service"), unit, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := filepath.Join(t.TempDir(), "release.tar.zst")
	fleetCmd(t, "release", "bundle", "--version", version, "--arch", target.arch, "--out", b, tree)
	fleetCmd(t, "release", "add", "--data", f.data, "--offline", f.offline, b)
	fleetCmd(t, "release", "rollout", "start", "--data", f.data, "--id", "imagetest", "--release", version, "--ring", "everyone=all")
	t.Logf("published and rolled out %s", version)
}
