package shell

import (
	"encoding/json"
	"time"

	"github.com/sirupsen/logrus"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// The bridge is the one checked path from the kiosk's own pages to the
// shell. Every privileged surface takes its messages from here and from
// nowhere else: volunteer PIN and code entry and the volunteer screens
// (volunteer.go), the session's prefs, "open" a service with its guide,
// the guide pane (ui.go, split.go); and, as they come, the file picker,
// the print panel and the remote-help consent.
//
// # What a handler can rely on
//
// A message reaches a handler only when all of this holds, and nothing in
// the handler needs checking again:
//
//   - it was posted by a kiosk:// document in the top frame of one of the
//     current session's own views (the service view, or the pane beside
//     it), as WebKit knows each document when it creates it: the handler
//     exists only in an isolated script world no page script can reach,
//     whose one script runs in top frames only and does nothing unless its
//     own document is kiosk:// (kiosk/webkit's package doc, "The bridge",
//     says why this cannot be raced). A remote page, a frame of any origin
//     (allow_frames ones included) or a kiosk:// page framed by one has no
//     way to post;
//   - it is a JSON object of at most maxBridgeMessage bytes with a known
//     "action" (anything else is dropped and counted);
//   - its view posts at most bridgeRate messages a second (the excess is
//     dropped in C, before any work here, and counted);
//   - it runs on the GTK loop, for the session on screen (s.cur).
//
// A handler must not hold the GTK loop for more than a frame: slow work
// (a PIN derivation, a scan, talking to a printer) goes to a goroutine
// and comes back with webkit.Invoke, checking that the session it was for
// is still the one on screen (s.sessionGen).
//
// # Plugging in a surface
//
// In a setup function called from Start (see setupBridge), register one
// handler per action:
//
//	s.bridge.on("print", func(m bridgeMsg) {
//		if m.from != fromService { return } // the print panel is the service's
//		var req struct{ Copies int `json:"copies"` }
//		if json.Unmarshal(m.raw, &req) != nil { return }
//		...
//	})
//
// and have the surface's page post {action: "print", ...} with post() as
// kiosk/ui's web/kiosk.js does. Nothing else is needed: the origin check,
// the rate bound and the counting stay here, and a page that is not the
// kiosk's own never reaches the handler.

// from says which of the session's views a bridge message came from.
type from int

const (
	fromService from = iota // the service view (the main one)
	fromPane                // the pane beside it (guides, the volunteer's picker)
	fromSheet               // the sheet over the service (sheet.go: the file picker, the print panel)
)

func (f from) String() string {
	switch f {
	case fromPane:
		return "pane"
	case fromSheet:
		return "sheet"
	}
	return "service"
}

// bridgeMsg is a message as a handler gets it.
type bridgeMsg struct {
	action string
	from   from
	raw    []byte // the whole JSON object as posted
	tab    *tab   // the session's tab (s.cur)
}

// bridgeHandler handles one action; see the rules above.
type bridgeHandler func(m bridgeMsg)

// Bounds of the bridge.
const (
	maxBridgeMessage = 4096 // bytes of one message
	bridgeRate       = 20   // messages a second per view
	watchRate        = 20   // focus watcher messages a second per view
)

// bridge holds the handlers and the counts of what it dropped.
type bridge struct {
	handlers map[string]bridgeHandler
	refused  uint64 // malformed, unknown action, or not the session's view
	// dropped is what the views' channels dropped over their rate, as last
	// seen (see countDropped); logged at most every dropLogEvery.
	dropped, logged uint64
	lastLog         time.Time
}

// dropLogEvery bounds how often a flood is logged.
const dropLogEvery = 10 * time.Second

// on registers h for action. Each action has one handler.
func (b *bridge) on(action string, h bridgeHandler) {
	if b.handlers == nil {
		b.handlers = map[string]bridgeHandler{}
	}
	if _, dup := b.handlers[action]; dup {
		panic("shell: two bridge handlers for " + action)
	}
	b.handlers[action] = h
}

// bridgeMessage is the webkit.ViewOptions.Bridge callback of tab t's
// service view (f fromService) or pane (fromPane).
func (s *Shell) bridgeMessage(t *tab, f from, body string) {
	if s.closed || t != s.cur || (f == fromPane && t.guide == nil) || (f == fromSheet && t.sheet == nil) || len(body) > maxBridgeMessage {
		s.bridge.refused++
		return
	}
	var m struct {
		Action string `json:"action"`
	}
	if json.Unmarshal([]byte(body), &m) != nil {
		s.bridge.refused++
		return
	}
	h := s.bridge.handlers[m.Action]
	if h == nil {
		s.bridge.refused++
		return
	}
	h(bridgeMsg{action: m.Action, from: f, raw: []byte(body), tab: t})
}

// channels are the channels every view of a tab opens: the bridge
// (kiosk:// top documents only) and the focus watcher (every frame).
func (s *Shell) channels(t *tab, f from, o *webkit.ViewOptions) {
	o.BridgeScript = ui.BridgeScript()
	o.Bridge = func(body string) { s.bridgeMessage(t, f, body) }
	o.BridgeRate = bridgeRate
	o.WatchScript = s.userScript() + ui.FileWatchScript()
	if o.WatchScript != "" {
		o.Watch = func(body string) { s.watchMessage(t, f, body) }
	}
	o.WatchRate = watchRate
	s.assistChannel(t, f, o)
}

// watchMessage is what the focus watcher posts (keyboard.go): from any
// page, nothing privileged.
func (s *Shell) watchMessage(t *tab, f from, body string) {
	if s.closed || t != s.cur {
		return
	}
	if fileClickMsg(body) {
		s.fileClicked(t, f, body) // picker.go
		return
	}
	m, ok := keyboardMsg(body)
	if !ok {
		return
	}
	v := t.view
	switch {
	case f == fromPane:
		v = t.guide
	case f == fromSheet && t.sheet != nil:
		v = t.sheet.view
	}
	if v != nil {
		s.keyboardMessage(v, m)
	}
}

// countDropped logs (counts only) what the views' channels dropped since
// the last look. On the GTK loop, from tick.
func (s *Shell) countDropped() {
	var n uint64
	for _, t := range []*tab{s.cur, s.spare} {
		if t == nil {
			continue
		}
		views := []*webkit.View{t.view, t.guide}
		if t.sheet != nil {
			views = append(views, t.sheet.view)
		}
		for _, v := range views {
			if v != nil {
				b, w := v.Dropped()
				n += b + w
			}
		}
	}
	b := &s.bridge
	if n < b.dropped { // views were destroyed: count from here
		b.logged = n
	}
	b.dropped = n
	if n > b.logged && time.Since(b.lastLog) >= dropLogEvery {
		s.log.WithFields(logrus.Fields{"dropped": n - b.logged, "refused": b.refused}).Warn("page messages over the rate dropped")
		b.logged, b.lastLog = n, time.Now()
	}
}
