package release

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
)

var metadataName = regexp.MustCompile(`^([0-9]{1,10}\.)?(root|targets|snapshot|timestamp)\.json$`)

// Handler serves the repository read-only: GET and HEAD of
// /metadata/NAME.json and /targets/PATH (mount it under a prefix with
// http.StripPrefix). Targets are served with http.ServeContent, so Range
// requests resume downloads; their consistent-snapshot names never change
// content, so they carry a long-lived cache header and a strong ETag.
// Before serving timestamp.json the handler re-signs snapshot and timestamp
// if they are near expiry (Refresh).
func (r *Repo) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := req.URL.Path
		switch {
		case strings.HasPrefix(p, "/metadata/"):
			name := strings.TrimPrefix(p, "/metadata/")
			if !metadataName.MatchString(name) {
				http.NotFound(w, req)
				return
			}
			if name == "timestamp.json" {
				if err := r.Refresh(); err != nil {
					r.opt.Log.WithError(err).Error("cannot re-sign timestamp; serving the current one")
				}
			}
			w.Header().Set("Cache-Control", "no-cache")
			r.serveFile(w, req, metaPrefix+name, "")
		case strings.HasPrefix(p, "/targets/"):
			rel := strings.TrimPrefix(p, "/targets/")
			if rel == "" || path.Clean(rel) != rel || strings.HasPrefix(rel, "../") || rel == ".." || strings.HasPrefix(path.Base(rel), ".") {
				http.NotFound(w, req)
				return
			}
			hash, _, _ := strings.Cut(path.Base(rel), ".")
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			r.serveFile(w, req, targetsPrefix+rel, `"`+hash+`"`)
		default:
			http.NotFound(w, req)
		}
	})
}

func (r *Repo) serveFile(w http.ResponseWriter, req *http.Request, name, etag string) {
	f, err := r.st.Open(req.Context(), name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && req.Context().Err() == nil {
			r.opt.Log.WithError(err).Error("release handler: open")
		}
		w.Header().Del("Cache-Control")
		http.NotFound(w, req)
		return
	}
	defer f.Close()
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	http.ServeContent(w, req, "", f.ModTime(), f)
}

// URLPath is where the fleet server mounts Handler: devices use
// FLEET_URL + URLPath as their repository URL.
const URLPath = "/release"
