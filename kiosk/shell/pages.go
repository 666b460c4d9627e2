package shell

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"accesskiosk/kiosk/config"
)

// SchemeAdapter serves kiosk:// requests from h as ordinary HTTP requests:
// kiosk://NAME/rest?query reaches h as GET /NAME/rest?query, so that the
// built-in pages can be an http.Handler (an http.ServeMux) like any web app.
func SchemeAdapter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := *r.URL
		u.Path = "/" + u.Host + u.Path
		u.RawPath = ""
		u.Scheme, u.Host = "", ""
		r2 := r.Clone(r.Context())
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		h.ServeHTTP(w, r2)
	})
}

// builtinPages is a minimal stand-in for the full built-in pages (kiosk/ui):
// home with the council's tiles, block and offline.
func builtinPages(c *config.Config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Home", homeTmpl, c)
	})
	mux.HandleFunc("GET /block", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Not available on this kiosk", blockTmpl, struct {
			Site  string
			Phone string
		}{siteParam(r), c.Council.Phone})
	})
	mux.HandleFunc("GET /offline", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Cannot reach this service", offlineTmpl, struct{ Site string }{siteParam(r)})
	})
	return mux
}

// siteParam is the site shown on a block page: a host name only, never a
// path, and nothing that is not a plausible host.
func siteParam(r *http.Request) string {
	s := r.URL.Query().Get("site")
	if len(s) > 253 {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return ""
		}
	}
	return s
}

func page(w http.ResponseWriter, title string, body *template.Template, data any) {
	var b strings.Builder
	if err := body.Execute(&b, data); err != nil {
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, pageHead, template.HTMLEscapeString(title))
	fmt.Fprint(w, b.String())
	fmt.Fprint(w, "</main></body></html>")
}

const pageHead = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:22px;margin:0;color:#0b0c0c;background:#fff}
main{max-width:1100px;margin:0 auto;padding:32px}
h1{font-size:44px;margin:0 0 24px}
ul.tiles{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:24px}
ul.tiles a{display:block;padding:24px;border:3px solid #1d70b8;color:#1d70b8;text-decoration:none;min-height:120px}
ul.tiles a strong{display:block;font-size:28px;margin-bottom:8px}
ul.tiles a span{color:#0b0c0c}
ul.tiles a:focus{background:#ffdd00;outline:3px solid #0b0c0c}
.button{display:inline-block;font-size:26px;padding:16px 32px;margin:8px 16px 8px 0;background:#00703c;color:#fff;border:0;text-decoration:none}
.button.secondary{background:#f3f2f1;color:#0b0c0c}
</style></head><body><main>`

var homeTmpl = template.Must(template.New("home").Parse(`<h1>{{.Council.Name}}</h1>
<p>Choose a service. Everything you do is cleared when you press <strong>End session</strong>.</p>
<ul class="tiles">{{range .Tiles}}<li><a href="{{.URL}}"><strong>{{.Title}}</strong><span>{{.Description}}</span></a></li>{{end}}</ul>`))

var blockTmpl = template.Must(template.New("block").Parse(`<h1>This kiosk only opens council and support services</h1>
{{if .Site}}<p><strong>{{.Site}}</strong> is not one of them.</p>{{end}}
<p>Ask a member of staff if you need this website{{if .Phone}}, or call {{.Phone}}{{end}}.</p>
<p><button class="button secondary" onclick="history.back()">Back</button><a class="button" href="kiosk://home">Home</a></p>`))

var offlineTmpl = template.Must(template.New("offline").Parse(`<h1>This service cannot be reached right now</h1>
{{if .Site}}<p><strong>{{.Site}}</strong> did not answer.</p>{{end}}
<p>Please try again in a few minutes, or ask a member of staff.</p>
<p><button class="button secondary" onclick="history.back()">Back</button><a class="button" href="kiosk://home">Home</a></p>`))
