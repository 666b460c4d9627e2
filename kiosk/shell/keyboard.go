package shell

import (
	"encoding/json"
	"strings"
	"time"

	"accesskiosk/kiosk/ui"
	"accesskiosk/kiosk/webkit"
)

// This file is the on-screen keyboard: native GTK keys (they never take
// the focus, so the field in the page keeps it) packed under the views,
// so that it takes its height from them instead of covering them; the
// page's user script (ui.UserScript) then scrolls the focused field back
// into view. It appears when an editable field gains focus in any page,
// the service's or the guide's, in any of its frames (the user script runs
// in every frame, so a payment form in a cross-origin iframe asks for it
// too), and hides when the field loses it. Each key press goes to the view
// that asked for the keyboard as a synthesized key event (typeInto), the
// way a physical keyboard's would: never through a script, so only the
// focused frame sees it. Nothing typed is logged or kept.
//
// It is on when ui.keyboard is "always", or "auto" (the default) and the
// display has a touchscreen; "never" turns it off (a physical keyboard).

// Keyboard key ids are kbBase + the key's index in the current layout.
const kbBase = 1000

// Keyboard layers.
const (
	layerLetters = iota
	layerShift   // capitals, for one letter
	layerSymbols // numbers and symbols
	layerAccents // the letters the session's language adds (Welsh, Polish), for one letter
)

// kbAccents are the letters a language adds to the UK keyboard's (lower
// case, at most 9, for the accents layer) and the label of the key that
// shows them; a language without any has no accents key.
var kbAccents = map[string]struct{ letters, label string }{
	"cy": {"âêîôûŵŷëï", "ŵŷ"},
	"pl": {"ąćęłńóśźż", "ąę"},
}

// kbKey is one key: what it types, or what it does.
type kbKey struct {
	label, name string
	text        string // typed as is (after shift)
	do          string // "Backspace", "Enter", "shift", "letters", "symbols", "accents", "hide"
	width       int
	style       webkit.KeyStyle
}

// keyboard is the keyboard's state (GTK thread).
type keyboard struct {
	enabled bool
	shown   bool
	mode    string // text, email, number, tel, url
	layer   int
	keys    []kbKey      // the layout on screen, by id-kbBase
	target  *webkit.View // the view whose field asked for the keyboard
	// A page decides when fields gain and lose focus, and each change of
	// the keyboard re-lays out the window: changes asked for sooner than
	// kbMinInterval after the last wait for then (the latest ask wins).
	last    time.Time    // when the keyboard last changed
	waiting bool         // an ask waits for its turn
	ask     *keyboardAsk // the latest ask
}

// keyboardAsk is a page's ask: show the keyboard for v in a mode, or hide it.
type keyboardAsk struct {
	v *webkit.View
	m pageMsg
}

// kbMinInterval bounds how often pages can make the keyboard change.
const kbMinInterval = 250 * time.Millisecond

// keyboardEnabled says whether the config (and the hardware) want the keyboard.
func keyboardEnabled(setting string) bool {
	switch setting {
	case ui.KeyboardAlways:
		return true
	case ui.KeyboardNever:
		return false
	}
	return webkit.HasTouchscreen()
}

// userScript is what every view runs at document start: the keyboard's
// focus watcher when the keyboard is on, nothing otherwise.
func (s *Shell) userScript() string {
	if !s.kb.enabled {
		return ""
	}
	return ui.UserScript()
}

func letter(c string) kbKey { return kbKey{label: c, name: c, text: c, width: 2} }

func letters(row string) []kbKey {
	var out []kbKey
	for _, r := range row {
		out = append(out, letter(string(r)))
	}
	return out
}

// keyboardLayout lays out the keys for a field's mode and a layer, with
// labels and names in language lang, and lang's letters on the accents
// layer. Every row is 23 grid columns (a letter key is 2).
func keyboardLayout(lang, mode string, layer int) [][]kbKey {
	tr := func(key string, args ...any) string { return ui.Message(lang, key, args...) }
	backspace := kbKey{label: tr("kb.delete"), name: tr("kb.delete.name"), do: "Backspace", width: 3, style: webkit.KeyFunction}
	enter := kbKey{label: tr("kb.enter") + " ↵", name: tr("kb.enter"), do: "Enter", width: 4, style: webkit.KeyGo}
	hide := kbKey{label: tr("kb.hide.short") + " ⌄", name: tr("kb.hide"), do: "hide", width: 4, style: webkit.KeyFunction}
	gap := func(n int) kbKey { return kbKey{width: n} }
	accents := kbAccents[lang].letters
	if accents == "" && layer == layerAccents {
		layer = layerLetters
	}
	var rows [][]kbKey
	switch layer {
	case layerAccents:
		lower := letters(accents)
		upper := letters(strings.ToUpper(accents))
		for i := range upper {
			upper[i].name = tr("kb.capital", upper[i].text)
		}
		row1 := append(lower, gap(23-2*len(lower)-3), backspace)
		row2 := append([]kbKey{gap(1)}, upper...)
		if n := 23 - 1 - 2*len(upper) - 4; n > 0 {
			row2 = append(row2, gap(n))
		}
		rows = [][]kbKey{
			row1,
			append(row2, enter),
			append(append([]kbKey{gap(3)}, letters("'-,.?!")...), gap(8)),
		}
	case layerSymbols:
		rows = [][]kbKey{
			append(letters("1234567890"), backspace),
			append(append([]kbKey{gap(1)}, letters("@#£&*()'\"")...), enter),
			append(append([]kbKey{gap(2)}, letters("-/:;!?,._")...), gap(3)),
		}
	default:
		row1, row2, row3 := letters("qwertyuiop"), letters("asdfghjkl"), letters("zxcvbnm,.")
		if layer == layerShift {
			for _, r := range [][]kbKey{row1, row2, row3} {
				for i := range r {
					if u := strings.ToUpper(r[i].text); u != r[i].text {
						r[i] = letter(u)
						r[i].name = tr("kb.capital", u)
					}
				}
			}
		}
		shift := kbKey{label: "⇧ " + tr("kb.shift"), name: tr("kb.shift.name"), do: "shift", width: 3, style: webkit.KeyFunction}
		if layer == layerShift {
			shift.style = webkit.KeyOn
		}
		last := gap(2)
		if accents != "" {
			// The language's own letters, a tap away: "ŵŷ" in Welsh, "ąę" in Polish.
			last = kbKey{label: kbAccents[lang].label, name: tr("kb.accents"), do: "accents", width: 2, style: webkit.KeyFunction}
		}
		rows = [][]kbKey{
			append(row1, backspace),
			append(append([]kbKey{gap(1)}, row2...), enter),
			append(append([]kbKey{shift}, row3...), last),
		}
	}
	switchKey := kbKey{label: "123", name: tr("kb.symbols"), do: "symbols", width: 4, style: webkit.KeyFunction}
	if layer == layerSymbols || layer == layerAccents {
		switchKey = kbKey{label: "ABC", name: tr("kb.letters"), do: "letters", width: 4, style: webkit.KeyFunction}
	}
	space := func(w int) kbKey {
		return kbKey{label: strings.ToLower(tr("kb.space")), name: tr("kb.space"), text: " ", width: w, style: webkit.KeyFunction}
	}
	// suffix is a key that types a domain ending: ".co.uk" is said "dot co dot uk".
	suffix := func(text string, w int) kbKey {
		name := strings.TrimSpace(strings.ReplaceAll(text, ".", " "+tr("kb.dot")+" "))
		return kbKey{label: text, name: name, text: text, width: w}
	}
	at := kbKey{label: "@", name: tr("kb.at"), text: "@", width: 2}
	dot := kbKey{label: ".", name: tr("kb.dot"), text: ".", width: 2}
	var last []kbKey
	switch mode {
	case "email":
		last = []kbKey{switchKey, at, dot, space(4), suffix(".com", 3), suffix(".co.uk", 4), hide}
	case "url":
		last = []kbKey{switchKey, {label: "/", name: tr("kb.slash"), text: "/", width: 2},
			dot, space(4), suffix(".com", 3), suffix(".gov.uk", 4), hide}
	default:
		last = []kbKey{switchKey, at, space(13), hide}
	}
	return append(rows, last)
}

// startLayer is the layer a field's mode starts on: numbers for number and phone fields.
func startLayer(mode string) int {
	if mode == "number" || mode == "tel" {
		return layerSymbols
	}
	return layerLetters
}

// renderKeyboard puts the current layout on the native keyboard.
func (s *Shell) renderKeyboard() {
	rows := keyboardLayout(s.lang(), s.kb.mode, s.kb.layer)
	s.kb.keys = s.kb.keys[:0]
	var out [][]webkit.Key
	for _, row := range rows {
		var r []webkit.Key
		for _, k := range row {
			id := 0
			if k.text != "" || k.do != "" {
				id = kbBase + len(s.kb.keys)
				s.kb.keys = append(s.kb.keys, k)
			}
			r = append(r, webkit.Key{ID: id, Label: k.label, Name: k.name, Width: k.width, Style: k.style})
		}
		out = append(out, r)
	}
	s.win.SetKeyboard(out)
}

// keyboardMessage handles {action:"keyboard", show, mode} from view v's user script.
func (s *Shell) keyboardMessage(v *webkit.View, m pageMsg) {
	if !s.kb.enabled || s.closed {
		return
	}
	s.kb.ask = &keyboardAsk{v: v, m: m}
	if s.kb.waiting {
		return
	}
	wait := time.Until(s.kb.last.Add(kbMinInterval))
	if wait <= 0 {
		s.keyboardAsked()
		return
	}
	s.kb.waiting = true
	time.AfterFunc(wait, func() {
		webkit.Invoke(func() {
			s.kb.waiting = false
			if !s.closed {
				s.keyboardAsked()
			}
		})
	})
}

// keyboardAsked does the latest ask of a page's focus watcher.
func (s *Shell) keyboardAsked() {
	a := s.kb.ask
	s.kb.ask = nil
	if a == nil || a.v == nil || !s.viewAlive(a.v) {
		return
	}
	v, m := a.v, a.m
	shown, mode := s.kb.shown, s.kb.mode
	defer func() {
		if s.kb.shown != shown || s.kb.mode != mode {
			s.kb.last = time.Now()
		}
	}()
	if !m.Show {
		if s.kb.target == v {
			s.hideKeyboard()
		}
		return
	}
	switch m.Mode {
	case "email", "number", "tel", "url":
	default:
		m.Mode = "text"
	}
	s.kb.target = v
	if !s.kb.shown || s.kb.mode != m.Mode {
		s.kb.mode, s.kb.layer = m.Mode, startLayer(m.Mode)
		s.renderKeyboard()
	}
	if !s.kb.shown {
		s.kb.shown = true
		s.win.ShowKeyboard(true)
	}
}

// hideKeyboard hides the keyboard and forgets its target.
func (s *Shell) hideKeyboard() {
	s.kb.target = nil
	if s.kb.shown {
		s.kb.shown = false
		s.win.ShowKeyboard(false)
	}
}

// KeyboardShown reports whether the on-screen keyboard is up.
func (s *Shell) KeyboardShown() bool { return s.kb.shown }

// keyboardButton handles a key press; false if id is not a key.
func (s *Shell) keyboardButton(id int) bool {
	i := id - kbBase
	if i < 0 || i >= len(s.kb.keys) {
		return false
	}
	if !s.kb.shown {
		return true
	}
	k := s.kb.keys[i]
	switch k.do {
	case "shift":
		if s.kb.layer == layerShift {
			s.kb.layer = layerLetters
		} else {
			s.kb.layer = layerShift
		}
		s.renderKeyboard()
	case "symbols":
		s.kb.layer = layerSymbols
		s.renderKeyboard()
	case "letters":
		s.kb.layer = layerLetters
		s.renderKeyboard()
	case "accents":
		s.kb.layer = layerAccents
		s.renderKeyboard()
	case "hide":
		s.hideKeyboard()
	case "Backspace":
		s.typeInto("", webkit.Backspace)
	case "Enter":
		s.typeInto("", webkit.Enter)
	default:
		s.typeInto(k.text, 0)
		if s.kb.layer == layerShift || s.kb.layer == layerAccents {
			s.kb.layer = layerLetters // shift and accents are for one letter
			s.renderKeyboard()
		}
	}
	return true
}

// typeInto passes one key to the view whose field asked for the keyboard:
// text as characters, or an editing key. It goes as synthesized key
// events through WebKit's own input path (webkit.View.Type), exactly as a
// physical keyboard's would, so it lands in the focused field of whichever
// frame has the focus, a cross-origin payment form in an iframe included,
// and no script of another frame (nor the page around it) sees it.
// Nothing typed is logged or kept.
func (s *Shell) typeInto(text string, key webkit.EditKey) {
	v := s.kb.target
	if v == nil || !s.viewAlive(v) {
		s.hideKeyboard()
		return
	}
	s.countKeyboard()
	if key != 0 {
		v.Press(key)
		return
	}
	if text == "" || len(text) > 64 {
		return
	}
	v.Type(text)
}

// viewAlive reports whether v is one of the session's views on screen.
func (s *Shell) viewAlive(v *webkit.View) bool {
	return s.cur != nil && (v == s.cur.view || v == s.cur.guide || (s.cur.sheet != nil && v == s.cur.sheet.view))
}

// pageMsg is the focus watcher's message: {action: "keyboard", show, mode}.
type pageMsg struct {
	Action string `json:"action"`
	Show   bool   `json:"show"`
	Mode   string `json:"mode"`
}

// keyboardMsg parses {action:"keyboard", ...}; false for any other message.
func keyboardMsg(body string) (pageMsg, bool) {
	if !strings.Contains(body, `"keyboard"`) {
		return pageMsg{}, false
	}
	var m pageMsg
	if json.Unmarshal([]byte(body), &m) != nil || m.Action != "keyboard" {
		return pageMsg{}, false
	}
	return m, true
}
