package ui

import (
	"net/http"
	"strings"

	_ "embed"
)

// UserScript is the script the shell injects into every page (every frame,
// iframes of any origin included, at document start) for the on-screen
// keyboard: each frame's copy posts {action:"keyboard", show, mode} to the
// "kiosk" message handler when an editable field in that frame gains or
// loses focus (a tap back outside the frame hides it too), and keeps the
// focused field in view when the keyboard shrinks the page. It also
// defines window.__accessKiosk.type(text) and .key("Backspace"|"Enter"|"Tab")
// for an adapter that shows the web keyboard page (kiosk://keyboard) and
// passes its keys on with TypeScript; that path reaches the top frame only.
// The kiosk shell does not use it: its native keyboard sends key events to
// the view, which reach the focused field in any frame. See web/userscript.js.
func UserScript() string { return userScript }

//go:embed web/userscript.js
var userScript string

// TypeScript returns the JavaScript the shell evaluates in the page to pass
// on one message from the keyboard page: {action:"type", text} or
// {action:"key", key}. ok is false for anything else (the shell then drops
// the message). The text is JSON-quoted, so nothing typed can run as code.
func TypeScript(action, arg string) (js string, ok bool) {
	switch action {
	case "type":
		if arg == "" || len(arg) > 64 {
			return "", false
		}
		return "window.__accessKiosk && window.__accessKiosk.type(" + jsString(arg) + ")", true
	case "key":
		switch arg {
		case "Backspace", "Enter", "Tab":
			return "window.__accessKiosk && window.__accessKiosk.key(" + jsString(arg) + ")", true
		}
	}
	return "", false
}

// jsString quotes s as a JavaScript string literal, escaping everything
// outside printable ASCII.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f && r != '<' && r != '>':
			b.WriteRune(r)
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(hex4(uint32(r)))
		default:
			r -= 0x10000
			b.WriteString(`\u` + hex4(0xd800+uint32(r>>10)) + `\u` + hex4(0xdc00+uint32(r&0x3ff)))
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hex4(n uint32) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>12&0xf], digits[n>>8&0xf], digits[n>>4&0xf], digits[n&0xf]})
}

// Keyboard layouts: QWERTY letters (UK), numbers and symbols, and a row of
// the letters a language adds.
var (
	kbLetters = [][]string{split("qwertyuiop"), split("asdfghjkl'"), split("zxcvbnm,-")}
	kbSymbols = [][]string{split("1234567890"), split("-/:;()£&\"'"), split(",?!_+=#%*")}
	kbAccents = map[string][]string{
		"cy": split("âêîôûŵŷëï"),
		"pl": split("ąćęłńóśźż"),
	}
)

func split(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

type keyboardData struct {
	Mode    string // text, email, number, tel, url
	Letters [][]string
	Symbols [][]string
	Accents []string
}

// keyboard serves kiosk://keyboard?mode=email, the on-screen keyboard.
func (p *Pages) keyboard(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r, "keyboard", "kb.title")
	v.Bare = true
	mode := r.URL.Query().Get("mode")
	switch mode {
	case "email", "number", "tel", "url":
	default:
		mode = "text"
	}
	v.Data = keyboardData{Mode: mode, Letters: kbLetters, Symbols: kbSymbols, Accents: kbAccents[v.lang]}
	p.render(w, http.StatusOK, v)
}
