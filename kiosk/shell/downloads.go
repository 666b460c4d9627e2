package shell

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"accesskiosk/kiosk/capture"
	"accesskiosk/kiosk/config"
	"accesskiosk/kiosk/webkit"
)

// This file is downloads and the "Your files" panel (issue 15).
//
// A download is kept only when it comes from a URL `allow` allows (never
// an allow_frames-only origin, never a kiosk:// page, never a blob: or
// data: URL, which the allow list refuses as navigations anyway), in the
// session on screen, and fits: at most files.max_download_size and what
// the session's folder may still hold (files.go), checked on the size the
// server announces and again as the bytes arrive. It is written by WebKit
// into a fresh folder of the session's own (never a Downloads directory),
// under the server's suggested name made safe, and listed among the
// session's files: the native "Your files" panel shows it at once, and the
// picker's "Files from this session" offers it to any later form in the
// same session. Downloads still running when the session ends are
// cancelled, and the folder goes with the wipe. Nothing about a download
// (its URL, name or size) is logged; the receipt counts downloads.

// Toolbar and panel button ids (after the ids in shell.go).
const (
	toolFiles  = 500 // "Your files" on the toolbar, shown while the session has files (print.go has 400, assist.go 600)
	filesClose = 501 // the panel's Close
)

// setupFilesPanel adds the "Your files" button, hidden until the session
// has a file. From Start.
func (s *Shell) setupFilesPanel() {
	s.win.AddTool(toolFiles, "Your files", "Your files", webkit.ToolNormal, false)
	s.win.SetToolVisible(toolFiles, false)
}

// filesButton handles the panel's buttons; false if id is not one.
func (s *Shell) filesButton(id int) bool {
	switch id {
	case toolFiles:
		if s.win.FilesShown() {
			s.win.HideFiles()
		} else {
			s.showFiles("")
		}
	case filesClose:
		s.win.HideFiles()
	default:
		return false
	}
	return true
}

// showFiles shows the panel with the session's files, status (translated
// already) above them.
func (s *Shell) showFiles(status string) {
	if s.closed || s.cur == nil {
		return
	}
	p := webkit.FilesPanel{Title: s.tr("files.title"), Status: status, Note: s.tr("files.note"), Empty: s.tr("files.empty"),
		ListName: s.tr("files.list"), Close: s.tr("files.close"), CloseID: filesClose}
	for _, f := range s.cur.files.List() {
		p.Rows = append(p.Rows, webkit.FileRow{Name: f.Name,
			Detail: s.tr("picker.kind."+string(f.Kind)) + ", " + capture.ByteSize(f.Size).String()})
	}
	s.win.SetToolVisible(toolFiles, len(p.Rows) > 0)
	s.win.ShowFiles(p)
}

// filesMessage tells the resident about a download that was not kept.
func (s *Shell) filesMessage(text string) {
	s.win.ShowPanel(s.tr("files.download.title"), text, []webkit.PanelButton{{ID: panelCancel, Label: s.tr("files.ok")}})
}

// decideDownload answers WebKit about a response it would download (a
// type it cannot show, or an attachment) in tab t's service view.
func (s *Shell) decideDownload(t *tab, d webkit.Decision) bool {
	if !s.downloadAllowed(t, d.URI) {
		s.refused(d, "download")
		return false
	}
	return true
}

func (s *Shell) downloadAllowed(t *tab, uri string) bool {
	return !s.closed && t == s.cur && s.reset == nil && !t.crashed &&
		!strings.HasPrefix(uri, "kiosk:") && s.cfg.AllowList.Decide(uri).Allow
}

// download takes a download tab t's service view started.
func (s *Shell) download(t *tab, d *webkit.Download) bool {
	if !s.downloadAllowed(t, d.URI) {
		s.log.WithField("what", "download").Info("refused")
		webkit.Invoke(func() {
			if t == s.cur && !s.closed {
				s.filesMessage(s.tr("files.refused"))
			}
		})
		return false
	}
	f := t.files
	limit := min(int64(s.cfg.Files.MaxDownloadSize), f.room())
	if s.cfg.Files.MaxDownloadSize == 0 {
		limit = min(config.DefaultMaxDownloadSize, f.room())
	}
	if limit <= 0 {
		webkit.Invoke(func() {
			if t == s.cur {
				s.filesMessage(s.tr("files.full"))
			}
		})
		return false
	}
	var dir string
	t.downloads = append(t.downloads, d)
	d.Accept(webkit.DownloadOptions{
		MaxBytes: limit,
		Destination: func(suggested string) string {
			dd, err := f.NewDir()
			if err != nil {
				return ""
			}
			dir = dd
			return filepath.Join(dd, safeFileName(suggested, KindDownload))
		},
		Done: func(path string, err error) { s.downloadDone(t, d, f, dir, path, limit, err) },
	})
	s.log.Info("download started into the session's folder")
	return true
}

// downloadDone lists a finished download among the session's files and
// shows it, or removes what is left and says why.
func (s *Shell) downloadDone(t *tab, d *webkit.Download, f *sessionFiles, dir, path string, limit int64, err error) {
	for i, x := range t.downloads {
		if x == d {
			t.downloads = append(t.downloads[:i], t.downloads[i+1:]...)
			break
		}
	}
	here := t == s.cur && !s.closed
	if err == nil {
		var sf SessionFile
		if sf, err = f.Adopt(KindDownload, path, sniffMIME(path), 0, nil); err == nil {
			f.count(FileCounts{Downloads: 1})
			s.log.Info("download kept in the session's folder")
			if here {
				s.showFiles(s.tr("files.saved", sf.Name))
			}
			return
		}
	}
	if dir != "" {
		f.Discard(dir)
	}
	s.log.WithError(noPath(err)).Info("download not kept")
	if !here || errors.Is(err, webkit.ErrDownloadCancelled) || errors.Is(err, errFilesWiped) {
		return
	}
	switch {
	case errors.Is(err, webkit.ErrDownloadTooLarge) && limit >= int64(s.cfg.Files.MaxDownloadSize):
		s.filesMessage(s.tr("files.toolarge", capture.ByteSize(limit).String()))
	case errors.Is(err, webkit.ErrDownloadTooLarge), errors.Is(err, errFilesFull):
		s.filesMessage(s.tr("files.full"))
	default:
		s.filesMessage(s.tr("files.failed"))
	}
}

// sniffMIME is a downloaded file's type, from its name or its first bytes.
func sniffMIME(path string) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(path))); t != "" {
		t, _, _ = strings.Cut(t, ";")
		return t
	}
	f, err := os.Open(path)
	if err != nil {
		return "application/octet-stream"
	}
	defer f.Close()
	b := make([]byte, 512)
	n, _ := io.ReadFull(f, b)
	t, _, _ := strings.Cut(http.DetectContentType(b[:n]), ";")
	return t
}

// endDownloads cancels tab t's downloads still running (the session ends)
// and takes the panel and its button away.
func (s *Shell) endDownloads(t *tab) {
	for _, d := range t.downloads {
		d.Cancel()
	}
	t.downloads = nil
	s.win.HideFiles()
	s.win.SetToolVisible(toolFiles, false)
}
