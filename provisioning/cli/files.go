package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"accesskiosk/internal/atomicfile"
	"accesskiosk/internal/confile"
	"accesskiosk/internal/diskimage"
	"accesskiosk/internal/pin"
	"accesskiosk/provisioning/bootfile"
)

// Synopses of the file commands.
const (
	configSynopsis = "--fleet URL --fingerprint FP --token TOKEN [--wifi-ssid SSID (--wifi-psk-file FILE | --wifi-open)] [--wifi-hidden] [--ssh-key FILE]... [--hostname-prefix PREFIX] [--out FILE]"
	writeSynopsis  = "--config FILE (--image FILE.img | --device /dev/sdX) [--partition N]"
)

func config(_ context.Context, args []string, env Env) error {
	fs := flagSet("config", configSynopsis)
	fleetURL := fs.String("fleet", "", "the fleet server's `URL`, https://HOST[:PORT] (required)")
	fp := fs.String("fingerprint", "", "the SHA-256 fingerprint `FP` of the fleet's TLS certificate, as `fleet serve` printed it (required)")
	token := fs.String("token", "", "enrolment `TOKEN` from `provision token create` (required)")
	ssid := fs.String("wifi-ssid", "", "Wi-Fi network name `SSID` (leave out for wired networks)")
	pskFile := fs.String("wifi-psk-file", "", "`FILE` holding the Wi-Fi passphrase (never given on the command line)")
	open := fs.Bool("wifi-open", false, "the Wi-Fi network has no passphrase")
	hidden := fs.Bool("wifi-hidden", false, "the Wi-Fi network does not broadcast its name")
	var sshKeys multi
	fs.Var(&sshKeys, "ssh-key", "OpenSSH public key `FILE` allowing SSH logins (repeatable); without one the kiosk runs no SSH")
	prefix := fs.String("hostname-prefix", bootfile.DefaultHostnamePrefix, "kiosks are named `PREFIX`-XXXXXX")
	out := fs.String("out", bootfile.FileName, "the first-boot `FILE` to write (mode 0600)")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	f := &bootfile.File{Version: bootfile.Version}
	switch {
	case *fleetURL == "":
		return confile.FlagError("fleet", "missing: want the fleet server's https:// address")
	case *fp == "":
		return confile.FlagError("fingerprint", "missing: want the SHA-256 fingerprint `fleet serve` printed (devices trust exactly that certificate)")
	case *token == "":
		return confile.FlagError("token", "missing: want an enrolment token from `provision token create`")
	}
	if err := bootfile.CheckFleetURL(*fleetURL); err != nil {
		return confile.FlagError("fleet", "%v", err)
	}
	norm, err := pin.Parse(*fp)
	if err != nil {
		return confile.FlagError("fingerprint", "%v", err)
	}
	if err := bootfile.CheckToken(*token); err != nil {
		return confile.FlagError("token", "%v", err)
	}
	if err := bootfile.CheckHostnamePrefix(*prefix); err != nil {
		return confile.FlagError("hostname-prefix", "%v", err)
	}
	f.Fleet = bootfile.Fleet{URL: strings.TrimSuffix(*fleetURL, "/"), Fingerprint: norm.Hex()}
	f.Token = *token
	if *prefix != bootfile.DefaultHostnamePrefix {
		f.HostnamePrefix = *prefix
	}

	switch {
	case *ssid == "" && (*pskFile != "" || *open || *hidden):
		return confile.FlagError("wifi-ssid", "missing: the other --wifi flags need the network's name")
	case *ssid != "":
		w := &bootfile.WiFi{SSID: *ssid, Open: *open, Hidden: *hidden}
		if len(*ssid) > 32 {
			return confile.FlagError("wifi-ssid", "is %d bytes; a Wi-Fi network name is at most 32", len(*ssid))
		}
		switch {
		case *open && *pskFile != "":
			return confile.FlagError("wifi-open", "an open network has no passphrase: drop --wifi-psk-file or --wifi-open")
		case !*open && *pskFile == "":
			return confile.FlagError("wifi-psk-file", "missing: give the file holding the passphrase, or --wifi-open for a network without one")
		case *pskFile != "":
			b, err := os.ReadFile(*pskFile)
			if err != nil {
				return confile.FlagError("wifi-psk-file", "cannot read: %v", err)
			}
			psk := strings.TrimRight(string(b), "\r\n")
			if err := bootfile.CheckPSK(psk); err != nil {
				return confile.FlagError("wifi-psk-file", "%s: %v", *pskFile, err)
			}
			w.PSK = psk
		}
		f.WiFi = w
	}
	for _, p := range sshKeys {
		b, err := os.ReadFile(p)
		if err != nil {
			return confile.FlagError("ssh-key", "cannot read: %v", err)
		}
		n := 0
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := bootfile.CheckSSHKey(line); err != nil {
				return confile.FlagError("ssh-key", "%s:%d: %v", p, i+1, err)
			}
			f.SSHAuthorizedKeys = append(f.SSHAuthorizedKeys, line)
			n++
		}
		if n == 0 {
			return confile.FlagError("ssh-key", "%s holds no public key", p)
		}
	}
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(*out, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (mode 0600; it holds the enrolment token%s)\nNext: provision write --config %s --image FILE.img (or --device /dev/sdX)\n",
		*out, map[bool]string{true: " and the Wi-Fi passphrase"}[f.WiFi != nil && f.WiFi.PSK != ""], *out)
	return nil
}

func write(_ context.Context, args []string, env Env) error {
	fs := flagSet("write", writeSynopsis)
	cfg := fs.String("config", "", "first-boot `FILE` made by `provision config` (required)")
	image := fs.String("image", "", "disk image `FILE` to write into")
	device := fs.String("device", "", "card or disk block `DEVICE` to write onto, e.g. /dev/sdb (needs root; unmount it first)")
	part := fs.Int("partition", 0, "number `N` of the FAT boot partition (default: the first FAT partition)")
	if err := fs.Parse(args, env.Stdout); err != nil {
		return err
	}
	if *cfg == "" {
		return confile.FlagError("config", "missing: want the first-boot file from `provision config`")
	}
	if (*image == "") == (*device == "") {
		return confile.FlagError("image", "give exactly one of --image FILE.img or --device /dev/sdX")
	}
	if *part < 0 || *part > 128 {
		return confile.FlagError("partition", "want a partition number from 1, got %d", *part)
	}
	data, err := os.ReadFile(*cfg)
	if err != nil {
		return confile.FlagError("config", "cannot read: %v", err)
	}
	f, err := bootfile.Parse(*cfg, data)
	if err != nil {
		return err
	}
	if f.SecretsErased {
		return confile.FlagError("config", "%s comes from a kiosk that has enrolled (its token is erased); make a new one with provision config", *cfg)
	}
	target, flagName := *image, "image"
	if *device != "" {
		target, flagName = *device, "device"
	}
	st, err := os.Stat(target)
	if err != nil {
		return confile.FlagError(flagName, "%v", errors.Unwrap(err))
	}
	isDev := st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0
	switch {
	case flagName == "device" && !isDev:
		return confile.FlagError("device", "%s is not a block device (for an image file use --image)", target)
	case flagName == "image" && !st.Mode().IsRegular():
		return confile.FlagError("image", "%s is not a regular file (for a card use --device)", target)
	}
	im, err := diskimage.Open(target, *part)
	if err != nil {
		if errors.Is(err, diskimage.ErrNoFAT) {
			return confile.FlagError(flagName, "%v", err)
		}
		return err
	}
	if err := im.WriteFile(bootfile.FileName, data); err != nil {
		im.Close()
		return err
	}
	where := im.String()
	if err := im.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s onto %s\n", bootfile.FileName, where)
	return nil
}
