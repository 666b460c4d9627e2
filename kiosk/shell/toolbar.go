package shell

import "accesskiosk/kiosk/webkit"

// This file says which toolbar buttons give way when the bar is too
// narrow for all of them: a portrait screen (800 pixels wide) with every
// button shown (Print, Get help, Volunteer, "Your files" once the session
// has a file) in English, and more so in Welsh or Polish. The buttons of
// lowest priority leave the bar, lowest first, and the More button
// (webkit's toolbar.c) offers them in a native panel under the toolbar,
// inside the window: every action stays a tap or two away, with the same
// label, accessible name and id (a tap in the panel reaches button like a
// tap on the bar).

// toolPriority is each toolbar button's priority (webkit.ToolPinned: never
// leaves the bar). End session and Home are how a resident gets out of
// anything; Back and text size are used on every page; Your files and
// Print while the resident works on their own things; Get help is also a
// tile on the home page; Volunteer is for the volunteer, who knows where
// More is.
var toolPriority = []struct{ id, priority int }{
	{toolEnd, webkit.ToolPinned},
	{toolHome, webkit.ToolPinned},
	{toolBack, 60},
	{toolText, 50},
	{toolFiles, 40},
	{toolPrint, 30},
	{toolAssist, 20},
	{toolVolunteer, 10},
}

// setupToolbar gives the toolbar's buttons their priorities. From Start,
// once every button is added.
func (s *Shell) setupToolbar() {
	for _, p := range toolPriority {
		s.win.SetToolPriority(p.id, p.priority) // false for a button this kiosk has not got
	}
}
