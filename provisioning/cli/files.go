package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"accesskiosk/internal/confile"
	"accesskiosk/internal/diskimage"
	"accesskiosk/provisioning/bootfile"
)

// writeSynopsis is `provision write`'s flags.
const writeSynopsis = "--config FILE (--image FILE.img | --device /dev/sdX) [--partition N]"

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
