package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"accesskiosk/fleet/release/bundle"
	"accesskiosk/fleet/release/target"
)

// obtainTar produces the verified uncompressed tar of the release in
// staging: rebuilt from a delta against the running release's tar when the
// repository signed one and this device has that base, otherwise
// decompressed from the full bundle. Either way it is checked against the
// signed TarSHA256 and TarLength.
func (u *Updater) obtainTar(ctx context.Context, up *updater.Updater, cur string, tf *metadata.TargetFiles, c target.Custom, res *Result) (string, error) {
	out := u.stagedTar(c.Version)
	if st, err := os.Stat(out); err == nil && st.Size() == c.TarLength {
		return out, nil // rebuilt and verified before an interruption
	}
	if !u.cfg.NoDelta && cur != "" {
		err := u.tryDelta(ctx, up, cur, c, out, res)
		if err == nil {
			res.Delta = true
			return out, nil
		}
		if ReasonOf(err) == ReasonCancelled {
			return "", err
		}
		if !errors.Is(err, errNoDelta) {
			u.log.WithError(err).Warn("delta update failed; downloading the full bundle")
		}
	}
	u.phase(PhaseDownload)
	file, err := u.download(ctx, target.BundleTarget(c.Arch, c.Version), tf)
	res.Fetched += u.fetched(tf.Length)
	if err != nil {
		return "", err
	}
	in, err := os.Open(file)
	if err != nil {
		return "", fail(ReasonLocal, err)
	}
	defer in.Close()
	zr, err := bundle.NewDecoder(in)
	if err != nil {
		return "", fail(ReasonBadBundle, err)
	}
	defer zr.Close()
	if err := u.writeTar(out, zr, c); err != nil {
		return "", err
	}
	return out, nil
}

// fetched estimates bytes fetched by the last download: its length less
// what an earlier process had already.
func (u *Updater) fetched(length int64) int64 { return length - u.resumedFrom }

var errNoDelta = errors.New("no delta for this update")

func (u *Updater) tryDelta(ctx context.Context, up *updater.Updater, cur string, c target.Custom, out string, res *Result) error {
	base := filepath.Join(u.cfg.Dir, basesDir, cur+".tar")
	st, err := os.Stat(base)
	if err != nil || st.Size() > u.cfg.MaxDeltaBase {
		return errNoDelta
	}
	curCustom, err := u.installedCustom(cur)
	if err != nil || curCustom.TarSHA256 == "" || curCustom.TarLength != st.Size() {
		return errNoDelta
	}
	name := target.DeltaTarget(c.Arch, cur, c.Version)
	dtf, err := up.GetTargetInfo(name)
	if err != nil {
		return errNoDelta
	}
	dc, err := target.ParseCustom(dtf)
	if err != nil || dc.Kind != target.KindDelta || dc.From != cur || dc.Version != c.Version || dc.TarSHA256 != c.TarSHA256 {
		return fail(ReasonBadBundle, fmt.Errorf("delta %s: custom metadata does not match the release", name))
	}
	oldTar, err := os.ReadFile(base)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	if sum := sha256.Sum256(oldTar); hex.EncodeToString(sum[:]) != curCustom.TarSHA256 {
		return fail(ReasonLocal, fmt.Errorf("delta base %s is damaged", base))
	}
	u.phase(PhaseDownload)
	file, err := u.download(ctx, name, dtf)
	res.Fetched += u.fetched(dtf.Length)
	if err != nil {
		return err
	}
	in, err := os.Open(file)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	defer in.Close()
	rc, err := target.DecodeDelta(in, oldTar)
	if err != nil {
		return fail(ReasonBadBundle, err)
	}
	defer rc.Close()
	return u.writeTar(out, rc, c)
}

// writeTar streams r into out (through a temp file), checking the signed
// length and SHA-256 of the tar.
func (u *Updater) writeTar(out string, r io.Reader, c target.Custom) error {
	u.phase(PhaseVerify)
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fail(ReasonLocal, err)
	}
	defer os.Remove(tmp)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h, hookWriter{u}), io.LimitReader(r, c.TarLength+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || isLocal(err) {
			return fail(ReasonLocal, err)
		}
		return fail(ReasonBadBundle, fmt.Errorf("decompress: %w", err))
	}
	if n != c.TarLength {
		return failf(ReasonLengthMismatch, "bundle tar is %d bytes, signed length is %d", n, c.TarLength)
	}
	if !bytes.Equal([]byte(hex.EncodeToString(h.Sum(nil))), []byte(c.TarSHA256)) {
		return failf(ReasonHashMismatch, "bundle tar SHA-256 differs from the signed one")
	}
	if err := os.Rename(tmp, out); err != nil {
		return fail(ReasonLocal, err)
	}
	return nil
}

func isLocal(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe)
}

type hookWriter struct{ u *Updater }

func (h hookWriter) Write(p []byte) (int, error) {
	h.u.hook("verify:tar")
	return len(p), nil
}

// InstallFile installs a bundle file without the repository: it unpacks it
// and makes it the current release (no health gate, no units restarted).
// Images use it to lay down the first release; it refuses when a release is
// already current.
func (u *Updater) InstallFile(ctx context.Context, bundlePath string) (string, error) {
	u.run.Lock()
	defer u.run.Unlock()
	if cur, err := u.Current(); err != nil || cur != "" {
		return "", fmt.Errorf("install %s: a release is already current (%q, %v)", bundlePath, cur, err)
	}
	m, err := bundle.ReadFileManifest(bundlePath)
	if err != nil {
		return "", fmt.Errorf("install %s: %w", bundlePath, err)
	}
	in, err := os.Open(bundlePath)
	if err != nil {
		return "", err
	}
	defer in.Close()
	zr, err := bundle.NewDecoder(in)
	if err != nil {
		return "", err
	}
	defer zr.Close()
	h := sha256.New()
	tmp := u.stagedTar(m.Version) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(io.MultiWriter(f, h), zr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("install %s: %w", bundlePath, err)
	}
	c := target.Custom{Kind: target.KindBundle, Version: m.Version, Arch: m.Arch, TarSHA256: hex.EncodeToString(h.Sum(nil)), TarLength: n, UnpackedBytes: m.Size()}
	if err := os.Rename(tmp, u.stagedTar(m.Version)); err != nil {
		return "", err
	}
	if err := u.unpack(u.stagedTar(m.Version), u.releaseDir(m.Version), c); err != nil {
		return "", err
	}
	if err := u.pointLink(currentLink, m.Version); err != nil {
		return "", err
	}
	u.cleanup(m.Version, "")
	return m.Version, nil
}
