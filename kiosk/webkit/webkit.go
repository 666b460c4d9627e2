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
// # The bridge
//
// The kiosk's privileged channel from its own pages to the shell answers
// only documents of the context's custom scheme (kiosk://) in a view's top
// frame, as WebKit knows each document when it creates it. The channel is
// a script message handler ("kiosk") registered only in an isolated script
// world of its own ("accesskiosk-bridge"), not in the pages' world: no page
// script of any origin, the kiosk's own included, can see
// window.webkit.messageHandlers, nor reach that world's objects. The only
// code that ever runs in that world is ViewOptions.BridgeScript, which
// WebKit injects at document start into the top frame only, wrapped so
// that it does nothing unless its own document is a SCHEME: one (it reads
// the document's URL in its world, where no page can change what it sees;
// a user script allow list would say the same, but WebKit's URL patterns
// need a path and kiosk://home has none). So code that can post exists
// exactly in the kiosk's own top-level documents; it relays what the page
// gives it (kiosk/ui's web/bridge.js: a string in a DOM event on the
// document, which no other origin can reach). The scheme is also
// registered as local, so no other origin can frame, fetch or navigate to
// its pages at all.
//
// Why this and not a check per message: WebKitGTK 4.1 hands a script
// message to the UI process with no sending frame or origin (the frame
// info WKScriptMessage carries on Apple's ports is not exposed), and the
// view's URI changes before the old document is gone, so any check made
// when the message arrives is a guess about who sent it, which a page
// posting in a loop while the view moves wins. Here nothing is guessed:
// a message on the channel can only come from code WebKit injected into a
// kiosk:// top document, which cannot be raced.
//
// A second channel, the watcher (ViewOptions.WatchScript, handler "watch"
// in world "accesskiosk-watch"), runs in every frame of every document for
// the on-screen keyboard; it carries nothing privileged. Both channels are
// bounded per second per view (excess dropped in C and counted).
//
// # Printing
//
// No GTK print dialog ever shows. A page's window.print() reaches
// ViewOptions.Print (bounded per second, the rest dropped in C and
// counted); a view without Print refuses it. WebKit's "print" signal does
// not say which frame asked, so window.print() is made to do nothing in
// every frame but the top one (a page-world script at document start in
// each frame's every document; the property cannot be deleted or
// redefined): a frame of an allow_frames origin cannot ask. View.PrintPDF
// renders the top document to a PDF file with WebKit's print operation
// and GTK's file printer, the only GTK print backend the kiosk loads, so
// nothing reaches a printer but what the kiosk sends itself.
//
// Callbacks from C reach Go through exactly one exported function,
// akDispatch, which receives a runtime/cgo.Handle naming the Go object (a
// Window, Context, View or queued func) and a small event struct. C never
// keeps a Go pointer; a handle whose object is gone is ignored.
package webkit

import (
	"errors"
	"net/http"
	"strconv"
)

// privileged wraps the bridge script so that it runs only in a top-level
// document of scheme: WebKit injects it into every top frame, in the
// bridge's isolated world, at the document's start, and this check reads
// that document's own URL from that world (a page's scripts cannot reach
// the world's objects, so nothing of theirs can change what it sees).
func privileged(scheme, script string) string {
	return "if (window === window.top && location.protocol === " + strconv.Quote(scheme+":") + ") {\n" + script + "\n}\n"
}

// ErrUnavailable is returned where the binding was built without cgo or off Linux.
var ErrUnavailable = errors.New("webkit: this kiosk binary was built without WebKitGTK (needs cgo on Linux)")

// ErrNoResult is wrapped in View.Eval's error when WebKit had no value to
// return for the script ("Unsupported result type"): its completion value
// has no serialised form (a Promise, a DOM node, a function), or there was
// none because the document was replaced or torn down while the evaluation
// was on its way (a navigation): a script polling a page that is loading
// meets the second, and should ask again.
var ErrNoResult = errors.New("webkit: the script's result could not be returned")

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
	// from Go; "" for none. The handler runs on the GTK thread and must be
	// quick. The scheme is registered as secure and local: only documents
	// of the scheme itself (and the shell's own loads) may load, frame,
	// fetch or navigate to its URLs. Its documents are the only ones the
	// bridge answers (see the package doc).
	Scheme        string
	SchemeHandler http.Handler
	CacheModel    CacheModel
	// Download is called after a download was started and cancelled (no
	// view took it, see ViewOptions.Download); nil ignores.
	Download func()
}

// ViewOptions configure a new web view. Nil callbacks refuse: a nil Decide
// ignores every decision, a nil Permission denies every request.
type ViewOptions struct {
	// Bridge receives what the kiosk's own pages post on the privileged
	// channel (see the package doc, "The bridge"); BridgeScript is the
	// script that opens it in each such page. Nil or "": no bridge.
	Bridge       func(body string)
	BridgeScript string
	// Watch receives what WatchScript posts to
	// window.webkit.messageHandlers.watch; WatchScript runs at document
	// start in every frame of every document (iframes of any origin
	// included), in an isolated script world of its own: it sees the DOM
	// (focus, layout), the page's scripts see neither it nor the handler.
	// Nil or "": none.
	Watch       func(body string)
	WatchScript string
	// BridgeRate and WatchRate bound the messages each channel hands to Go
	// per second (0: DefaultRate); the rest are dropped before any work in
	// Go and counted (View.Dropped).
	BridgeRate, WatchRate int
	// Assist receives what AssistScript posts to
	// window.webkit.messageHandlers.assist: remote help's mask reports
	// (kiosk/assist MaskScript). Like the watcher it runs at document start
	// in every frame of every document, in an isolated world of its own
	// (no page's scripts see it or the handler), at most AssistRate
	// messages a second (0: DefaultRate; the rest dropped and counted,
	// View.AssistDropped). v is the view the message came to. Nil or "":
	// none.
	Assist       func(v *View, body string)
	AssistScript string
	AssistRate   int
	Decide       func(Decision) (use bool)
	Load         func(ev LoadEvent, uri string)
	LoadFailed   func(uri, msg string, cancelled bool)
	Terminated   func(TerminationReason)
	Permission   func(p Permission, pageURI string) (allow bool)
	// Print is called when a page in the view asks to print
	// (window.print()), on the loop once WebKit's own handling of the
	// request is over (so Print may print the view with PrintPDF), at most
	// PrintRate times a second (0: DefaultPrintRate;
	// the rest are dropped and counted, View.PrintsDropped). GTK's print
	// dialog never shows. Only the top frame can ask: in every other frame
	// window.print() does nothing (WebKit does not say which frame asked,
	// and what the kiosk prints is the top document; see View.PrintPDF).
	// Nil refuses every request (Refused("print")).
	Print     func()
	PrintRate int
	// Refused is told about things refused outright: "file_chooser",
	// "color_chooser", "print".
	Refused func(what string)
	// FileChooser is asked when an <input type=file> of some frame in the
	// view asks for files (WebKit's run-file-chooser; WebKitGTK does not
	// say which frame). True keeps the request: answer it later on the
	// loop with Choose or Cancel, exactly once. False (or nil) cancels it
	// at once and tells Refused("file_chooser"). GTK's file chooser never
	// opens.
	FileChooser func(*FileChooser) bool
	// DecideDownload is asked instead of Decide about a response WebKit
	// would download (a type it cannot show, or Content-Disposition:
	// attachment): true lets the download start (Download then decides
	// where it goes); nil asks Decide, as for any response.
	DecideDownload func(Decision) bool
	// Download is asked when the view started a download (after
	// DecideDownload, or a link with a download attribute): true keeps it,
	// having called Download.Accept; false (or nil) cancels it.
	Download func(*Download) bool
}

// DownloadOptions say where a download goes and how large it may be.
type DownloadOptions struct {
	// Destination is given the file name the server suggests and returns
	// the path to write to, which must not exist (WebKit never overwrites
	// here); "" cancels the download.
	Destination func(suggested string) string
	// MaxBytes bounds the download: one the server announces larger, or
	// that grows larger, is stopped (ErrDownloadTooLarge).
	MaxBytes int64
	// Done is called once on the loop when the download ended: err is nil
	// when the file at path is complete; ErrDownloadTooLarge,
	// ErrDownloadCancelled, or the failure otherwise. WebKit removes a
	// partial file; remove what is left of path on an error anyway.
	Done func(path string, err error)
}

// FilesPanel is the "Your files" panel: a small native panel over the top
// right of the content listing the session's files. Every text is in the
// session's language; Title is also the panel's accessible name, ListName
// the list's, and each row's is its name and detail.
type FilesPanel struct {
	Title    string
	Status   string // a line above the list ("Saved to your files: ..."); "" for none
	Note     string
	Empty    string // shown instead of the list when there are no rows
	ListName string
	Rows     []FileRow
	Close    string // the Close button's label
	CloseID  int
}

// FileRow is one file in the panel.
type FileRow struct {
	Name   string // the file's name
	Detail string // e.g. "Download, 120 kB"
}

// Errors a download ends with.
var (
	ErrDownloadTooLarge  = errors.New("webkit: download larger than allowed")
	ErrDownloadCancelled = errors.New("webkit: download cancelled")
)

// DefaultPrintRate is how many print requests per second a view hands to
// Go when ViewOptions leave PrintRate 0.
const DefaultPrintRate = 2

// DefaultRate is how many messages per second a channel of a view hands to
// Go when ViewOptions leave it 0: far more than a person tapping causes.
const DefaultRate = 20

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

// Toolbar priorities and the More button's ids (Window.SetToolPriority).
const (
	ToolPinned    = 1 << 30 // never leaves the bar
	ToolMore      = -2      // the More button (Rect, AccessibleName, Press)
	ToolMoreClose = -3      // the More panel's Close button
)

// ToolPlace is where a toolbar button is (Window.ToolPlace).
type ToolPlace int

// Toolbar button places.
const (
	ToolNone   ToolPlace = iota // no such button
	ToolOnBar                   // on the bar
	ToolInMore                  // off the bar, offered by the More panel
	ToolHidden                  // hidden by the shell (Your files with no files)
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

// NoGLLibrary is the file name of kiosk/webkit/nogl built: an EGL vendor
// library for libglvnd with one display and nothing to draw with (NoGL).
const NoGLLibrary = "libEGL_accesskiosk_nogl.so"

// NoGLEnv names the no-GL library bin/kiosk uses instead of the installed
// one: tests (webkittest builds one), and bin/kiosk run from the tree.
const NoGLEnv = "ACCESSKIOSK_NOGL"

// Part names a part of the window for Rect.
type Part int

// Window parts.
const (
	PartService  Part = iota // the service view's slot
	PartGuide                // the guide view's slot
	PartKeyboard             // the on-screen keyboard
	PartToolbar              // the toolbar
	PartButton               // the button with an id (keyboard key, toolbar button)
	PartSheet                // the sheet shown in place of the service (Window.SetSheet)
	PartPanel                // the panel (Window.ShowPanel; AccessibleName only)
	PartMore                 // the toolbar's More panel (Rect, AccessibleName)
	PartBanner               // the banner under the toolbar (Window.Banner; Rect)
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
	More       string // the toolbar's More button's label (the More panel's title)
	MoreName   string // what the More button does (its accessible name and tooltip)
	MoreClose  string // the More panel's Close button
}
