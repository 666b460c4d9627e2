package firstboot

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"time"

	"accesskiosk/agent/enrol"
	"accesskiosk/internal/clock"
	"accesskiosk/internal/cmdline"
	"accesskiosk/provisioning/bootfile"
)

// fail logs err and shows msg on the kiosk's screen.
func (r *runner) fail(ctx context.Context, err error, msg string) {
	r.log.WithError(err).Error("first boot stopped: " + msg)
	r.show(ctx, msg, 10*time.Minute)
}

// show puts msg on the kiosk's screen, waiting up to KioskWait for the
// kiosk to come up.
func (r *runner) show(ctx context.Context, msg string, d time.Duration) {
	if r.Kiosk == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.KioskWait)
	defer cancel()
	for waited := false; ; waited = true {
		err := r.Kiosk.ShowMessage(ctx, msg, d)
		if err == nil {
			return
		}
		if !waited {
			r.log.WithError(err).Infof("no kiosk on its bus yet; waiting up to %s (--kiosk-wait) to show the message on its screen", cmdline.FormatDuration(r.KioskWait))
		}
		if clock.Sleep(ctx, nil, time.Second) != nil {
			r.log.WithError(err).Warnf("no kiosk appeared within %s (--kiosk-wait): the message is in this log only", cmdline.FormatDuration(r.KioskWait))
			return
		}
	}
}

// erase rewrites the boot file without secrets and checks the result.
func (r *runner) erase(f *bootfile.File, deviceID string) error {
	out, err := f.Erased(deviceID).Marshal()
	if err != nil {
		return fmt.Errorf("erase secrets: %w", err)
	}
	if err := r.Boot.WriteFile(bootfile.FileName, out); err != nil {
		return fmt.Errorf("erase secrets from %s: %w", r.Boot, err)
	}
	back, err := r.Boot.ReadFile(bootfile.FileName)
	if err != nil {
		return fmt.Errorf("check erased first-boot file: %w", err)
	}
	if strings.Contains(string(back), f.Token) || (f.WiFi != nil && f.WiFi.PSK != "" && strings.Contains(string(back), f.WiFi.PSK)) {
		return fmt.Errorf("erase secrets from %s: the secrets are still there after rewriting", r.Boot)
	}
	return nil
}

// deviceKey returns the device's Ed25519 key, making and storing it on the
// first run.
func (r *runner) deviceKey() (ed25519.PrivateKey, error) {
	k, made, err := enrol.DeviceKey(r.StateDir)
	if made {
		r.log.Info("device key made")
	}
	return k, err
}
