package webkit_test

import (
	"testing"
	"time"

	"accesskiosk/kiosk/webkit"
	"accesskiosk/kiosk/webkit/webkittest"
)

// onLoopUntil polls cond on the GTK loop every 20 ms until it holds or d passes.
func onLoopUntil(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		webkittest.Do(t, func() { ok = cond() })
		if ok || time.Now().After(deadline) {
			return ok
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestToolbarOverflow: a toolbar with more buttons than an 800-pixel wide
// window has room for keeps the window 800 pixels wide, keeps its pinned
// buttons on the bar, sends the lowest priorities to the More panel, and
// brings them back when the window is wide again. A button's twin in the
// panel has its label and name and reports its id.
func TestToolbarOverflow(t *testing.T) {
	pressed := make(chan int, 16)
	var w *webkit.Window
	webkittest.Do(t, func() {
		w = webkit.NewWindow(webkit.WindowOptions{Title: "Test Council", Width: 800, Height: 1280,
			Button: func(id int) { pressed <- id }})
		// The Polish labels: the longest of the three languages.
		w.AddTool(1, "Start", "Start: przejdź do strony startowej", webkit.ToolNormal, false)
		w.AddTool(2, "Wstecz", "Wstecz: wróć do poprzedniej strony", webkit.ToolNormal, false)
		w.AddTool(3, "Aa", "Rozmiar tekstu", webkit.ToolNormal, false)
		w.AddTool(4, "Twoje pliki", "Twoje pliki", webkit.ToolNormal, false)
		w.AddTool(9, "Zakończ sesję", "Zakończ sesję: usuń wszystko", webkit.ToolDanger, true)
		w.AddTool(5, "Drukuj", "Drukuj: wydrukuj tę stronę", webkit.ToolNormal, false)
		w.AddTool(6, "Pomoc", "Pomoc od rady", webkit.ToolNormal, true)
		w.AddTool(7, "Wolontariusz", "Wolontariusz: zaloguj się", webkit.ToolNormal, true)
		for id, p := range map[int]int{9: webkit.ToolPinned, 1: webkit.ToolPinned, 2: 60, 3: 50, 4: 40, 5: 30, 6: 20, 7: 10} {
			w.SetToolPriority(id, p)
		}
		w.SetNames(webkit.Names{Toolbar: "Pasek", More: "Więcej", MoreName: "Więcej: przyciski", MoreClose: "Zamknij"})
	})
	t.Cleanup(func() { webkittest.Do(t, func() { w.Destroy() }) })

	var minW, natW, width int
	if !onLoopUntil(t, 10*time.Second, func() bool {
		width, _, _, _ = w.Size()
		minW, natW = w.ToolbarWidth()
		_, ok := w.Rect(webkit.PartButton, webkit.ToolMore)
		return ok && width == 800
	}) {
		t.Fatalf("window %d px wide (toolbar minimum %d, natural %d), More on the bar: want 800 px and More shown", width, minW, natW)
	}
	t.Logf("toolbar: minimum %d px, natural %d px", minW, natW)
	if natW <= 800 {
		t.Fatalf("toolbar's natural width %d px fits 800 px: the test needs more buttons", natW)
	}
	places := map[int]webkit.ToolPlace{}
	webkittest.Do(t, func() {
		for id := 1; id <= 9; id++ {
			places[id] = w.ToolPlace(id)
		}
	})
	if places[1] != webkit.ToolOnBar || places[9] != webkit.ToolOnBar {
		t.Errorf("pinned buttons: Home %v, End %v; want both on the bar", places[1], places[9])
	}
	if places[7] != webkit.ToolInMore {
		t.Errorf("lowest priority (Volunteer) is %v, want in More", places[7])
	}
	// Priorities are kept in order: nothing on the bar is below anything in More.
	prio := map[int]int{2: 60, 3: 50, 4: 40, 5: 30, 6: 20, 7: 10}
	for a, pa := range prio {
		for b, pb := range prio {
			if places[a] == webkit.ToolInMore && places[b] == webkit.ToolOnBar && pb < pa {
				t.Errorf("button %d (priority %d) in More while %d (priority %d) is on the bar", a, pa, b, pb)
			}
		}
	}
	// Every button on the bar lies inside the window.
	webkittest.Do(t, func() {
		bar, _ := w.Rect(webkit.PartToolbar, 0)
		for id := 1; id <= 9; id++ {
			if r, ok := w.Rect(webkit.PartButton, id); ok && (r.X < bar.X || r.X+r.W > bar.X+800) {
				t.Errorf("button %d at %+v, outside the 800 px bar at x=%d", id, r, bar.X)
			}
		}
	})

	// More opens the panel with Volunteer's twin in it: same label, name; its tap reports 7.
	webkittest.Do(t, func() { w.Press(webkit.ToolMore) })
	if !onLoopUntil(t, 5*time.Second, func() bool {
		_, ok := w.Rect(webkit.PartButton, 7)
		return w.MoreShown() && ok
	}) {
		t.Fatal("More did not show Volunteer")
	}
	webkittest.Do(t, func() {
		if l, n := w.Label(webkit.PartButton, 7), w.AccessibleName(webkit.PartButton, 7); l != "Wolontariusz" || n != "Wolontariusz: zaloguj się" {
			t.Errorf("Volunteer in More: label %q, name %q", l, n)
		}
		if n := w.AccessibleName(webkit.PartMore, 0); n != "Więcej" {
			t.Errorf("More panel's name %q", n)
		}
		if _, role := w.AccessibleAbout(webkit.PartToolbar, 0); role != "tool bar" {
			t.Errorf("the toolbar's role is %q, want tool bar", role)
		}
		if n := w.AccessibleName(webkit.PartButton, webkit.ToolMore); n != "Więcej: przyciski" {
			t.Errorf("More's name %q", n)
		}
		if _, role := w.AccessibleAbout(webkit.PartButton, webkit.ToolMore); role != "toggle button" || !w.MorePressed() {
			t.Errorf("More with its panel open: role %q, pressed %v; want a pressed toggle button", role, w.MorePressed())
		}
		w.Press(7)
	})
	select {
	case id := <-pressed:
		if id != 7 {
			t.Errorf("tap on Volunteer in More reported %d", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tap on Volunteer in More reported nothing")
	}
	if !onLoopUntil(t, 5*time.Second, func() bool { return !w.MoreShown() }) {
		t.Error("More panel still open after a tap in it")
	}
	webkittest.Do(t, func() {
		if w.MorePressed() {
			t.Error("More still pressed for a screen reader with its panel closed")
		}
	})

	// While the panel shows, it follows the bar: a button relabelled (the
	// session's language) or hidden (Your files at the session's end).
	webkittest.Do(t, func() { w.ShowMore(true) })
	webkittest.Do(t, func() {
		w.SetTool(7, "Volunteer", "Volunteer: sign in")
		w.SetToolVisible(6, false)
	})
	if !onLoopUntil(t, 5*time.Second, func() bool {
		_, helpShown := w.Rect(webkit.PartButton, 6)
		return w.MoreShown() && w.Label(webkit.PartButton, 7) == "Volunteer" &&
			w.AccessibleName(webkit.PartButton, 7) == "Volunteer: sign in" && !helpShown && w.ToolPlace(6) == webkit.ToolHidden
	}) {
		t.Error("the More panel did not follow a relabelled and a hidden button")
	}
	webkittest.Do(t, func() { w.SetToolVisible(6, true); w.ShowMore(false) })

	// The panel hangs under the bars, whatever comes and goes while it is
	// open: the volunteer's banner appearing moves it down (it used to
	// stay where it opened, over the banner), going moves it back up.
	webkittest.Do(t, func() { w.ShowMore(true) })
	below := func(part webkit.Part) (webkit.Rect, webkit.Rect, bool) {
		more, ok1 := w.Rect(webkit.PartMore, 0)
		bar, ok2 := w.Rect(part, 0)
		return more, bar, ok1 && ok2 && more.Y >= bar.Y+bar.H && more.Y <= bar.Y+bar.H+8
	}
	var more, bar webkit.Rect
	var under bool
	if !onLoopUntil(t, 5*time.Second, func() bool { more, bar, under = below(webkit.PartToolbar); return under }) {
		t.Errorf("More panel at %+v, not just under the toolbar at %+v", more, bar)
	}
	webkittest.Do(t, func() { w.Banner("Wolontariusz Sam pomaga w tej sesji") })
	if !onLoopUntil(t, 5*time.Second, func() bool { more, bar, under = below(webkit.PartBanner); return under }) {
		t.Errorf("with the banner shown, the More panel at %+v, not just under the banner at %+v", more, bar)
	}
	webkittest.Do(t, func() { w.Banner("") })
	if !onLoopUntil(t, 5*time.Second, func() bool { more, bar, under = below(webkit.PartToolbar); return under }) {
		t.Errorf("with the banner gone, the More panel at %+v, not back under the toolbar at %+v", more, bar)
	}
	webkittest.Do(t, func() { w.ShowMore(false) })

	// Wide again: every button back on the bar, no More.
	webkittest.Do(t, func() { w.Resize(1280, 800) })
	if !onLoopUntil(t, 10*time.Second, func() bool {
		_, more := w.Rect(webkit.PartButton, webkit.ToolMore)
		width, _, _, _ = w.Size()
		return width == 1280 && !more && w.ToolPlace(7) == webkit.ToolOnBar && w.ToolPlace(4) == webkit.ToolOnBar
	}) {
		t.Error("at 1280 px, not every button came back on the bar")
	}
}
