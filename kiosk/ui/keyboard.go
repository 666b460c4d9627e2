package ui

import (
	_ "embed"
)

// UserScript is the script the shell has WebKit inject into every page
// (every frame, iframes of any origin included, at document start, in the
// isolated world of webkit.ViewOptions.WatchScript) for the on-screen
// keyboard: each frame's copy posts {action:"keyboard", show, mode} to the
// "watch" message handler when an editable field in that frame gains or
// loses focus (a tap back outside the frame hides it too), and keeps the
// focused field in view when the keyboard shrinks the page. It types
// nothing and gives the page nothing to call: the shell's native keyboard
// sends key events to the view, which reach the focused field in any
// frame. See web/userscript.js.
func UserScript() string { return userScript }

//go:embed web/userscript.js
var userScript string

// BridgeScript is the script that opens the kiosk's privileged channel in
// its own pages: the shell has WebKit inject it (webkit.ViewOptions.
// BridgeScript) at document start into the top frame of kiosk:// documents
// only (kiosk/webkit checks the document), in an isolated world where alone
// the "kiosk" handler exists. The
// pages post through it by dispatching a cancelable CustomEvent
// "accesskiosk-message" (detail: the message as a JSON string) on their
// document. See web/bridge.js.
func BridgeScript() string { return bridgeScript }

//go:embed web/bridge.js
var bridgeScript string

// FileWatchScript is the script the shell has WebKit inject into every
// frame beside UserScript (same isolated world and "watch" handler): when
// an <input type=file> is clicked it posts {action: "file", url, origin,
// top, accept, multiple} about its own frame, which the shell pairs with
// the file chooser request that follows. See web/filewatch.js.
func FileWatchScript() string { return fileWatchScript }

//go:embed web/filewatch.js
var fileWatchScript string
