// Package target is the release format an agent reads, apart from the
// bundle itself (package bundle): how a release repository (fleet/release)
// names its TUF targets, the custom metadata signed with each, and the
// delta format. It imports no deployable, so the agent's updater
// (agent/update) reads releases without the fleet's signing code.
//
// A release VERSION for ARCH is the target "ARCH/VERSION.tar.zst" (a
// bundle). When the repository held a previous release FROM of the same
// architecture, it also signs a delta "ARCH/delta/FROM/VERSION.zst": the new
// tar compressed with zstd using FROM's tar as a raw dictionary
// (patch-from). A device holding FROM's tar rebuilds the new tar from it
// (DecodeDelta) and checks it against Custom.TarSHA256. Targets are served
// under consistent-snapshot names (TargetPath).
package target

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/klauspost/compress/zstd"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Target kinds in Custom.Kind.
const (
	KindBundle = "bundle"
	KindDelta  = "delta"
)

// Custom is the custom metadata signed with every target.
type Custom struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	// Serial increases by one with every release added to the repository.
	Serial int64 `json:"serial"`
	// TarSHA256 and TarLength describe the uncompressed bundle tar of
	// Version (for a delta: the tar it rebuilds).
	TarSHA256 string `json:"tar_sha256"`
	TarLength int64  `json:"tar_length"`
	// UnpackedBytes is the sum of the bundle's file sizes.
	UnpackedBytes int64 `json:"unpacked_bytes"`
	// From is the version a delta applies to.
	From string `json:"from,omitempty"`
}

// BundleTarget names the full bundle of version for arch.
func BundleTarget(arch, version string) string { return arch + "/" + version + ".tar.zst" }

// DeltaTarget names the delta from one version to another for arch.
func DeltaTarget(arch, from, to string) string { return arch + "/delta/" + from + "/" + to + ".zst" }

// TargetPath is the path, under the targets URL, where the target name
// with the given SHA-256 (hex) is served (TUF consistent snapshot naming).
func TargetPath(name, sha256hex string) string {
	return path.Join(path.Dir(name), sha256hex+"."+path.Base(name))
}

// ParseCustom decodes a target's custom metadata.
func ParseCustom(tf *metadata.TargetFiles) (Custom, error) {
	var c Custom
	if tf == nil || tf.Custom == nil {
		return c, errors.New("target has no custom metadata")
	}
	if err := json.Unmarshal(*tf.Custom, &c); err != nil {
		return c, fmt.Errorf("decode target custom metadata: %w", err)
	}
	return c, nil
}

// deltaWindow is the zstd window a delta uses: it must reach back over the
// whole dictionary (the old tar) for matches far apart to be found.
func deltaWindow(base int) int {
	w := zstd.MinWindowSize
	for w < base+(8<<20) && w < zstd.MaxWindowSize {
		w <<= 1
	}
	return w
}

// EncodeDelta compresses the new tar read from r to w with zstd, using
// oldTar as a raw dictionary (patch-from).
func EncodeDelta(w io.Writer, r io.Reader, oldTar []byte) error {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderDictRaw(1, oldTar), zstd.WithWindowSize(deltaWindow(len(oldTar))),
		zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return fmt.Errorf("encode delta: %w", err)
	}
	if _, err := io.Copy(zw, r); err != nil {
		zw.Close()
		return fmt.Errorf("encode delta: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encode delta: %w", err)
	}
	return nil
}

// DecodeDelta returns a reader of the tar a delta rebuilds from oldTar.
// Close it when done.
func DecodeDelta(r io.Reader, oldTar []byte) (io.ReadCloser, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderDictRaw(1, oldTar), zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(uint64(deltaWindow(len(oldTar)))))
	if err != nil {
		return nil, fmt.Errorf("decode delta: %w", err)
	}
	return zr.IOReadCloser(), nil
}
