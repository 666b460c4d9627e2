package webkit_test

import (
	"errors"
	"testing"
	"time"

	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// eval runs js in v and waits for its answer.
func eval(t *testing.T, v *webkit.View, js string) (string, error) {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	webkittest.Do(t, func() { v.Eval(js, func(s string, err error) { ch <- res{s, err} }) })
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(30 * time.Second):
		t.Fatalf("evaluate %q: no answer within 30s", js)
	}
	return "", nil
}

// TestEvalErrors: a value WebKit cannot return (a Promise), and any
// script while the view has no web process to run it (between a crash or a
// termination and the next load), are ErrNoResult; a script that throws is
// an error that is not. A page's readiness polled at the wrong moment meets
// the second (TestNativeLabelsFollowLanguage did under load).
func TestEvalErrors(t *testing.T) {
	pv := newPrintView(t)
	base := serve(t, "127.0.0.1", map[string]string{"/": `<!doctype html><title>a</title><p id="p">a</p>`})
	webkittest.Do(t, func() { pv.view.LoadURI(base + "/") })
	select {
	case <-pv.loaded:
	case <-time.After(30 * time.Second):
		t.Fatal("page not loaded")
	}
	if s, err := eval(t, pv.view, `document.readyState === "complete" && !!document.querySelector("#p")`); err != nil || s != "true" {
		t.Fatalf("boolean: %q, %v", s, err)
	}
	if s, err := eval(t, pv.view, `void 0`); err != nil || s != "null" {
		t.Errorf("undefined: %q, %v; want \"null\"", s, err)
	}
	if _, err := eval(t, pv.view, `Promise.resolve(1)`); !errors.Is(err, webkit.ErrNoResult) {
		t.Errorf("a Promise result: %v, want ErrNoResult", err)
	}
	if _, err := eval(t, pv.view, `throw new Error("boom")`); err == nil || errors.Is(err, webkit.ErrNoResult) {
		t.Errorf("a script that throws: %v, want an error that is not ErrNoResult", err)
	}
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	webkittest.Do(t, func() {
		pv.view.TerminateWebProcess()
		pv.view.Eval(`document.readyState === "complete"`, func(s string, err error) { ch <- res{s, err} })
	})
	select {
	case r := <-ch:
		if !errors.Is(r.err, webkit.ErrNoResult) {
			t.Errorf("with no web process: %q, %v; want ErrNoResult", r.s, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("with no web process: no answer within 30s")
	}
	webkittest.Do(t, func() { pv.view.LoadURI(base + "/") })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s, err := eval(t, pv.view, `document.readyState === "complete" && !!document.querySelector("#p")`)
		if s == "true" {
			break
		}
		if err != nil && !errors.Is(err, webkit.ErrNoResult) || time.Now().After(deadline) {
			t.Fatalf("after a new load: %q, %v", s, err)
		}
	}
}
