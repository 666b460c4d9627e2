package shell

import (
	"strings"
	"testing"
	"time"

	"accesskiosk/kiosk/bus"
	"accesskiosk/kiosk/webkit/webkittest"
)

// TestSheetOwners: one sheet at a time, owned by one surface (the print
// panel, the file picker); it shows its owner's pages only, the service
// view and a page cannot open them, another owner cannot take it or close
// it; Back, Home and the session's end take it away and tell its owner
// once; the page under it is untouched.
func TestSheetOwners(t *testing.T) {
	fs := startFormServer(t, "127.0.0.1", "")
	cfg := pickerConfig(t, []string{fs.URL()}, nil, false, false)
	ts := startPickerShell(t, cfg, Options{})
	key(t, "shift") // a session
	form := fs.URL() + "/form?accept=" + urlq("application/pdf")
	loadForm := func() {
		t.Helper()
		ts.load(t, form)
		if !waitFor(10*time.Second, func() bool {
			return ts.uri(t) == form && evalTry(t, ts.service, `document.readyState === "complete" && !!document.getElementById("f")`) == "true"
		}) {
			t.Fatalf("the form did not load (view on %q)", ts.uri(t))
		}
	}
	gone := 0
	openPrint := func() {
		t.Helper()
		var ok bool
		webkittest.Do(t, func() { ok = ts.s.openSheet(ts.s.cur, printOwner, "kiosk://print", func() { gone++ }) })
		if !ok || !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.sheetURI(t), "kiosk://print") }) {
			t.Fatalf("the print sheet did not open (%v, %q)", ok, ts.sheetURI(t))
		}
	}
	shown := func() (bool, string) {
		var on, win bool
		var owner string
		webkittest.Do(t, func() { on, owner = ts.s.SheetShown(); win = ts.s.win.SheetShown() })
		if on != win {
			t.Errorf("the shell says sheet %v, the window %v", on, win)
		}
		return on, owner
	}

	loadForm()
	webkittest.Do(t, func() {
		if ts.s.openSheet(ts.s.cur, printOwner, "kiosk://picker", nil) || ts.s.openSheet(ts.s.cur, pickerOwner, "kiosk://print", nil) ||
			ts.s.openSheet(ts.s.cur, printOwner, "kiosk://home", nil) || ts.s.openSheet(ts.s.cur, "", "kiosk://print", nil) {
			t.Error("a sheet opened on a page that is not its owner's")
		}
	})
	openPrint()
	webkittest.Do(t, func() {
		if ts.s.openSheet(ts.s.cur, pickerOwner, "kiosk://picker", nil) {
			t.Error("the picker took the print panel's sheet")
		}
		ts.s.closeSheet(ts.s.cur, pickerOwner)
	})
	if on, owner := shown(); !on || owner != printOwner || gone != 0 {
		t.Fatalf("another owner closed the sheet: %v %q, gone %d", on, owner, gone)
	}

	// A tap on the form's file input (a user gesture) while the print
	// panel is up: refused, no picker.
	before := ts.refusals(t)
	evalIn(t, ts.service, `document.getElementById("f").click(), true`)
	if !waitFor(10*time.Second, func() bool { return ts.refusals(t) > before }) {
		t.Fatal("a file chooser request under the print sheet was not refused")
	}
	if ts.pickerOpen(t) {
		t.Fatal("the picker opened over the print panel")
	}

	// The sheet shows its owner's pages only; the service view cannot open
	// sheet pages.
	formGets := fs.count("GET /form")
	evalIn(t, ts.sheet, `location.href = `+jsQuote(form)+`, true`)
	ts.load(t, "kiosk://picker")
	time.Sleep(500 * time.Millisecond) // what is refused never shows: nothing to wait for
	if u := ts.sheetURI(t); !strings.HasPrefix(u, "kiosk://print") || fs.count("GET /form") != formGets {
		t.Errorf("the sheet left its page: on %q, %d form requests", u, fs.count("GET /form")-formGets)
	}
	if u := ts.uri(t); u != form {
		t.Errorf("the service view went to %q", u)
	}

	// Back closes the sheet only: the page under it is as it was.
	evalIn(t, ts.service, `document.querySelector("label").textContent = "kept", true`)
	webkittest.Do(t, func() { ts.s.button(toolBack) })
	if on, _ := shown(); on || gone != 1 {
		t.Fatalf("Back: sheet %v, owner told %d times", on, gone)
	}
	if ts.uri(t) != form || evalTry(t, ts.service, `document.querySelector("label").textContent`) != `"kept"` {
		t.Errorf("Back went back under the sheet: %q", ts.uri(t))
	}

	// Home closes it and goes home.
	openPrint()
	webkittest.Do(t, func() { ts.s.button(toolHome) })
	if on, _ := shown(); on || gone != 2 {
		t.Fatalf("Home: sheet %v, owner told %d times", on, gone)
	}
	if !waitFor(10*time.Second, func() bool { return strings.HasPrefix(ts.uri(t), "kiosk://home") }) {
		t.Errorf("Home: view on %q", ts.uri(t))
	}

	// The picker's sheet: print may not take it; the session's end takes
	// it away, the picker is told (cancelled) and the next session has no
	// sheet.
	loadForm()
	ts.openPicker(t)
	webkittest.Do(t, func() {
		if ts.s.openSheet(ts.s.cur, printOwner, "kiosk://print", nil) {
			t.Error("the print panel took the picker's sheet")
		}
	})
	var old *tab
	webkittest.Do(t, func() { old = ts.s.cur; ts.s.endSession(bus.ReasonToolbar) })
	if ts.pickerOpen(t) {
		t.Error("the picker outlived its session")
	}
	webkittest.Do(t, func() {
		if old.sheet != nil || (ts.s.cur != nil && ts.s.cur.sheet != nil) {
			t.Error("a sheet outlived its session")
		}
	})
	if on, _ := shown(); on {
		t.Error("a sheet is shown after the session's end")
	}
}
