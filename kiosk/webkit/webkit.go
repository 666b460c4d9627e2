// Package webkit is the kiosk's binding to WebKitGTK 4.1 and the few GTK 3
// pieces the shell needs: the main loop, a full-screen window with a native
// toolbar, a banner and a modal panel, and web views on ephemeral web
// contexts with every navigation, new-window and response decision, load
// event, permission request, crash and script message handed to Go.
//
// It is the only cgo in the repository. The real implementation builds with
// `cgo && linux`; elsewhere a stub with the same API makes Init and
// NewContext fail with ErrUnavailable, so the rest of the tree vets and
// builds with CGO_ENABLED=0.
//
// Threading: GTK is single-threaded. Init, Run and every method of Window,
// Context and View must be called on the main OS thread (the kiosk's main
// package locks it in init; tests run the loop from TestMain). Other
// goroutines hand work to the loop with Invoke. Callbacks set in the option
// structs run on the loop too.
//
// Callbacks from C reach Go through exactly one exported function,
// akDispatch, which receives a runtime/cgo.Handle naming the Go object (a
// Window, Context, View or queued func) and a small event struct. C never
// keeps a Go pointer; a handle whose object is gone is ignored.
package webkit

import (
	"errors"
	"net/http"
)

// ErrUnavailable is returned where the binding was built without cgo or off Linux.
var ErrUnavailable = errors.New("webkit: this kiosk binary was built without WebKitGTK (needs cgo on Linux)")

// DecisionKind says what a Decision is about.
type DecisionKind int

const (
	// Navigation is a navigation of the main frame or of a subframe (WebKit
	// does not say which before the request; see Response).
	Navigation DecisionKind = iota + 1
	// NewWindowRequest is a request to open a new window (window.open, target=_blank).
	NewWindowRequest
	// Response is a response about to be shown; MainFrame says whether it is
	// the main frame's document.
	Response
)

func (k DecisionKind) String() string {
	switch k {
	case Navigation:
		return "navigation"
	case NewWindowRequest:
		return "new_window"
	case Response:
		return "response"
	}
	return "unknown"
}

// NavigationType is how a navigation was caused (WebKitNavigationType).
type NavigationType int

// Navigation types, in WebKit's order.
const (
	LinkClicked NavigationType = iota
	FormSubmitted
	BackForward
	Reload
	FormResubmitted
	OtherNavigation
)

// Decision is one policy question WebKit asks before loading or showing something.
type Decision struct {
	Kind        DecisionKind
	URI         string // the request's URI (Response: the response's final URI)
	Method      string // HTTP method (navigations only)
	Redirect    bool   // the navigation is a server redirect hop
	UserGesture bool
	Navigation  NavigationType
	// Response only:
	MainFrame     bool // the main frame's main resource
	MIMESupported bool // WebKit can show it (false: it would be a download)
	Attachment    bool // Content-Disposition: attachment
	Status        int  // HTTP status
}

// LoadEvent is a step of a main-frame load (WebKitLoadEvent).
type LoadEvent int

// Load events, in WebKit's order.
const (
	LoadStarted LoadEvent = iota
	LoadRedirected
	LoadCommitted
	LoadFinished
)

// TerminationReason says why a web process ended (WebKitWebProcessTerminationReason).
type TerminationReason int

// Termination reasons, in WebKit's order.
const (
	Crashed TerminationReason = iota
	ExceededMemoryLimit
	TerminatedByAPI
)

func (r TerminationReason) String() string {
	switch r {
	case Crashed:
		return "crashed"
	case ExceededMemoryLimit:
		return "exceeded_memory_limit"
	case TerminatedByAPI:
		return "terminated_by_api"
	}
	return "unknown"
}

// Permission is the kind of a page's permission request.
type Permission int

// Permission kinds.
const (
	PermissionOther Permission = iota
	PermissionGeolocation
	PermissionNotification
	PermissionMedia // camera, microphone, screen
	PermissionPointerLock
	PermissionMediaKeys
	PermissionDeviceInfo
	PermissionClipboard
	PermissionWebsiteData
)

func (p Permission) String() string {
	return [...]string{"other", "geolocation", "notification", "media", "pointer_lock", "media_keys",
		"device_info", "clipboard", "website_data"}[p]
}

// CacheModel is WebKit's cache model.
type CacheModel int

// Cache models, in WebKit's order.
const (
	CacheDocumentViewer CacheModel = iota // smallest memory; no in-memory page cache
	CacheWebBrowser
	CacheDocumentBrowser
)

// ContextOptions configure a new ephemeral web context.
type ContextOptions struct {
	// Scheme is a custom URI scheme (such as "kiosk") served by SchemeHandler
	// from Go; "" for none. The handler runs on the GTK thread and must be quick.
	Scheme        string
	SchemeHandler http.Handler
	CacheModel    CacheModel
	// Download is called after a download was started and cancelled; nil ignores.
	Download func()
}

// ViewOptions configure a new web view. Nil callbacks refuse: a nil Decide
// ignores every decision, a nil Permission denies every request.
type ViewOptions struct {
	// MessageHandler names window.webkit.messageHandlers.NAME; "" for none.
	MessageHandler string
	// UserScript runs at document start in every frame (iframes of any
	// origin included), in each frame's own page world; "" for none.
	UserScript string
	Decide     func(Decision) (use bool)
	Load       func(ev LoadEvent, uri string)
	LoadFailed func(uri, msg string, cancelled bool)
	Terminated func(TerminationReason)
	Message    func(body string)
	Permission func(p Permission, pageURI string) (allow bool)
	// Refused is told about things refused outright: "file_chooser", "print".
	Refused func(what string)
}

// WindowOptions configure the kiosk window.
type WindowOptions struct {
	Title         string
	Fullscreen    bool
	Width, Height int // default size when not full screen
	// Button is called with the id of a clicked toolbar or panel button.
	Button func(id int)
}

// ToolStyle is how a toolbar button looks.
type ToolStyle int

// Toolbar button styles.
const (
	ToolNormal ToolStyle = iota
	ToolDanger           // red: End session
)

// PanelButton is a button on the full-screen panel.
type PanelButton struct {
	ID        int
	Label     string
	Secondary bool
}

// KeyStyle is how an on-screen keyboard key looks.
type KeyStyle int

// Key styles.
const (
	KeyPlain    KeyStyle = iota
	KeyFunction          // shift, numbers, backspace, space
	KeyOn                // a function key that is on (shift)
	KeyGo                // Enter
)

// Key is one key of the on-screen keyboard. ID 0 is a gap of Width.
type Key struct {
	ID    int
	Label string // what the key shows
	Name  string // what a screen reader says
	Width int    // in grid columns; a letter key is 2
	Style KeyStyle
}

// EditKey is a key View.Press presses: one that is not a character.
type EditKey int

// Editing keys.
const (
	Backspace EditKey = iota + 1 // delete the character before the caret
	Enter                        // a new line in a text area; submits a form's field
)

// Part names a part of the window for Rect.
type Part int

// Window parts.
const (
	PartService  Part = iota // the service view's slot
	PartGuide                // the guide view's slot
	PartKeyboard             // the on-screen keyboard
	PartToolbar              // the toolbar
	PartButton               // the button with an id (keyboard key, toolbar button)
)

// Rect is a rectangle in screen pixels.
type Rect struct{ X, Y, W, H int }

// Bottom is the rectangle's bottom edge (exclusive).
func (r Rect) Bottom() int { return r.Y + r.H }

// Names are what a screen reader says for the window's own parts (set
// with Window.SetNames in the session's language).
type Names struct {
	Toolbar    string // the toolbar
	Split      string // the service and the guide side by side
	Guide      string // the guide pane
	Keyboard   string // the on-screen keyboard
	CloseGuide string // what the guide pane's Close button does (its tooltip and description)
}
