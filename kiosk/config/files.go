package config

import (
	"accesskiosk/internal/confile"
	"accesskiosk/kiosk/capture"
)

// Files limits the session's private files folder: the scans, photos and
// downloads a resident keeps during one session (kiosk/shell files.go),
// which live in memory (a tmpfs) and are wiped with the session.
type Files struct {
	// MaxDownloadSize bounds one download saved from an allowed page, e.g.
	// "20MB", between 100kB and 100MB; 0 means DefaultMaxDownloadSize. A
	// larger download is stopped and removed, and the resident told why.
	MaxDownloadSize capture.ByteSize `yaml:"max_download_size"`
	// MaxSessionSize bounds everything one session keeps (scans, photos,
	// downloads and the files made from them for forms), between 1MB and
	// 1GB; 0 means DefaultMaxSessionSize. It is memory: keep it well under
	// what the device can spare.
	MaxSessionSize capture.ByteSize `yaml:"max_session_size"`
}

// Defaults and bounds of Files.
const (
	DefaultMaxDownloadSize = 20 * 1000 * 1000
	DefaultMaxSessionSize  = 100 * 1000 * 1000
	minDownloadSize        = 100 * 1000
	maxDownloadSize        = 100 * 1000 * 1000
	minSessionSize         = 1000 * 1000
	maxSessionSize         = 1000 * 1000 * 1000
)

// Validate checks f and fills in its defaults; prefix is the key it sits
// under ("files").
func (f *Files) Validate(doc *confile.Doc, prefix string) error {
	if s := f.MaxDownloadSize; s != 0 && (s < minDownloadSize || s > maxDownloadSize) {
		return doc.Errorf(prefix+".max_download_size", "%v is out of range: between %v and %v (0 for the default, %v)",
			s, capture.ByteSize(minDownloadSize), capture.ByteSize(maxDownloadSize), capture.ByteSize(DefaultMaxDownloadSize))
	}
	if s := f.MaxSessionSize; s != 0 && (s < minSessionSize || s > maxSessionSize) {
		return doc.Errorf(prefix+".max_session_size", "%v is out of range: between %v and %v (0 for the default, %v)",
			s, capture.ByteSize(minSessionSize), capture.ByteSize(maxSessionSize), capture.ByteSize(DefaultMaxSessionSize))
	}
	if f.MaxDownloadSize == 0 {
		f.MaxDownloadSize = DefaultMaxDownloadSize
	}
	if f.MaxSessionSize == 0 {
		f.MaxSessionSize = DefaultMaxSessionSize
	}
	if f.MaxDownloadSize > f.MaxSessionSize {
		return doc.Errorf(prefix+".max_download_size", "%v is more than files.max_session_size (%v), which every download must fit in",
			f.MaxDownloadSize, f.MaxSessionSize)
	}
	return nil
}
