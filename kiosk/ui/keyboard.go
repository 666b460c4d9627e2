package ui

import (
	_ "embed"
)

// UserScript is the script the shell injects into every page (every frame,
// iframes of any origin included, at document start) for the on-screen
// keyboard: each frame's copy posts {action:"keyboard", show, mode} to the
// "kiosk" message handler when an editable field in that frame gains or
// loses focus (a tap back outside the frame hides it too), and keeps the
// focused field in view when the keyboard shrinks the page. It types
// nothing and gives the page nothing to call: the shell's native keyboard
// sends key events to the view, which reach the focused field in any
// frame. See web/userscript.js.
func UserScript() string { return userScript }

//go:embed web/userscript.js
var userScript string
