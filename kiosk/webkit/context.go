//go:build cgo && linux

package webkit

// #include "native.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/cgo"
	"strings"
	"unsafe"
)

// Context is an ephemeral WebKit web context: its website data manager keeps
// cookies, storage, caches and service workers in memory only, and
// destroying the context throws them away. WebKit's web-process sandbox
// (bubblewrap) is on.
type Context struct {
	c    *C.WebKitWebContext
	h    cgo.Handle
	opts ContextOptions
}

// NewContext makes an ephemeral web context. Call on the GTK thread after Init.
func NewContext(o ContextOptions) (*Context, error) {
	if !initialised.Load() {
		return nil, errors.New("webkit: NewContext before Init")
	}
	if o.Scheme != "" && o.SchemeHandler == nil {
		return nil, fmt.Errorf("webkit: scheme %q without a handler", o.Scheme)
	}
	ctx := &Context{opts: o}
	ctx.h = cgo.NewHandle(ctx)
	s := cstr(o.Scheme)
	defer free(s)
	ctx.c = C.ak_context_new(C.uintptr_t(ctx.h), s, C.int(o.CacheModel))
	if ctx.c == nil {
		ctx.h.Delete()
		return nil, errors.New("webkit: cannot create web context")
	}
	return ctx, nil
}

// Destroy releases the context and its website data. Views made on it must
// be destroyed first.
func (c *Context) Destroy() {
	if c.c == nil {
		return
	}
	C.ak_context_destroy(c.c)
	c.c = nil
	c.h.Delete()
}

func (c *Context) dispatch(ev *C.akEvent) {
	switch ev.kind {
	case C.AK_DOWNLOAD:
		if c.opts.Download != nil {
			c.opts.Download()
		}
	case C.AK_SCHEME:
		c.serveScheme((*C.WebKitURISchemeRequest)(ev.ptr), gostr(ev.uri), gostr(ev.str))
	}
}

// serveScheme answers a custom-scheme request from the context's http.Handler.
func (c *Context) serveScheme(req *C.WebKitURISchemeRequest, uri, method string) {
	rec := &recorder{header: http.Header{}, status: 0}
	u, err := url.Parse(uri)
	if err != nil {
		rec.status = http.StatusBadRequest
		rec.body.WriteString("bad URI")
	} else {
		if method == "" {
			method = http.MethodGet
		}
		r := &http.Request{Method: method, URL: u, Host: u.Host, RequestURI: u.RequestURI(),
			Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
		c.opts.SchemeHandler.ServeHTTP(rec, r)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	ctype := rec.header.Get("Content-Type")
	if ctype == "" {
		ctype = http.DetectContentType(rec.body.Bytes())
	}
	rec.header.Set("Content-Type", ctype)
	cs := cstr(ctype)
	defer free(cs)
	hs := cstr(headerLines(rec.header))
	defer free(hs)
	body := rec.body.Bytes()
	var p unsafe.Pointer
	if len(body) > 0 {
		p = unsafe.Pointer(&body[0])
	}
	C.ak_scheme_finish(req, C.int(rec.status), cs, hs, p, C.gsize(len(body)))
}

// headerLines is h as "Name: value\n" lines for ak_scheme_finish, without
// any value that would break a line. Content-Type must be among them:
// WebKit takes the type from these headers once they are set, and without
// it a script sent with nosniff is refused.
func headerLines(h http.Header) string {
	var b strings.Builder
	for name, vs := range h {
		for _, v := range vs {
			if strings.ContainsAny(name+v, "\r\n\x00") {
				continue
			}
			b.WriteString(name + ": " + v + "\n")
		}
	}
	return b.String()
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
