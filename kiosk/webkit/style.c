//go:build cgo && linux

// The look of the kiosk's native parts (GTK CSS).

#include "internal.h"


const char *ak_css =
	"#ak-toolbar { background: #0b0c0c; padding: 8px; }"
	// Large touch targets (at least 98x70 pixels), but narrow enough that
	// every button (End session above all) fits an 800-pixel portrait
	// screen with its label in Welsh or Polish (longer than in English).
	"#ak-toolbar button { min-height: 64px; min-width: 72px; padding: 0 10px; font-size: 20px; font-weight: bold;"
	"  margin: 0 4px; color: #0b0c0c; background: #ffffff; border-radius: 0; border: 3px solid #ffffff; }"
	"#ak-toolbar button:focus { border-color: #ffdd00; }"
	"#ak-toolbar #ak-end { background: #d4351c; color: #ffffff; border-color: #d4351c; }"
	"#ak-toolbar label.ak-title { color: #ffffff; font-size: 20px; font-weight: bold; margin: 0 8px; }"
	"#ak-banner { background: #ffdd00; padding: 16px; }"
	"#ak-banner label { color: #0b0c0c; font-size: 26px; font-weight: bold; }"
	"#ak-panel { background: rgba(11,12,12,0.92); }"
	"#ak-panel label { color: #ffffff; }"
	"#ak-panel label.ak-panel-title { font-size: 48px; font-weight: bold; }"
	"#ak-panel label.ak-panel-text { font-size: 32px; }"
	"#ak-panel button { min-height: 80px; min-width: 280px; font-size: 30px; font-weight: bold; margin: 16px;"
	"  background: #00703c; color: #ffffff; border-radius: 0; border: 3px solid #00703c; }"
	"#ak-panel button.ak-secondary { background: #f3f2f1; color: #0b0c0c; border-color: #f3f2f1; }"
	// A button's text is a label: without this the panel's white label colour wins (white on #f3f2f1).
	"#ak-panel button label { color: #ffffff; }"
	"#ak-panel button.ak-secondary label { color: #0b0c0c; }"
	// The split view's handle is a wide bar a finger can drag.
	"paned#ak-split > separator { min-width: 28px; min-height: 28px; background-color: #505a5f; border: 0;"
	"  background-size: 100% 100%; background-repeat: no-repeat; }"
	"paned#ak-split > separator:hover, paned#ak-split > separator:active { background-color: #1d70b8; }"
	// A grip down (or across) the middle of the bar says it can be dragged.
	"paned#ak-split.horizontal > separator { background-image: linear-gradient(to right,"
	"  transparent 11px, #ffffff 11px, #ffffff 13px, transparent 13px, transparent 15px, #ffffff 15px, #ffffff 17px, transparent 17px); }"
	"paned#ak-split.vertical > separator { background-image: linear-gradient(to bottom,"
	"  transparent 11px, #ffffff 11px, #ffffff 13px, transparent 13px, transparent 15px, #ffffff 15px, #ffffff 17px, transparent 17px); }"
	"#ak-guide-bar { background: #f3f2f1; padding: 6px 8px; border-bottom: 2px solid #b1b4b6; }"
	"#ak-guide-bar label { color: #0b0c0c; font-size: 20px; font-weight: bold; margin: 0 8px; }"
	"#ak-guide-bar button { min-height: 56px; min-width: 96px; padding: 0 14px; font-size: 20px; font-weight: bold;"
	"  color: #ffffff; background: #1d70b8; border-radius: 0; border: 3px solid #1d70b8;"
	"  background-image: none; box-shadow: none; text-shadow: none; -gtk-icon-shadow: none; }"
	"#ak-guide-bar button label { color: inherit; }"
	"#ak-guide-bar button:focus { border-color: #ffdd00; }"
	"#ak-keyboard { background: #dee0e2; padding: 6px; border-top: 3px solid #0b0c0c; }"
	// No minimum width and ellipsized labels: the keys share the row by
	// their grid columns, so the keyboard fits an 800-pixel portrait screen.
	"#ak-keyboard button { min-height: 58px; min-width: 0; padding: 0 2px; margin: 3px; font-size: 24px;"
	"  color: #0b0c0c; background: #ffffff; border-radius: 4px; border: 2px solid #b1b4b6;"
	"  background-image: none; box-shadow: none; text-shadow: none; }"
	"#ak-keyboard button:active { background: #ffdd00; }"
	"#ak-keyboard button.ak-key-fn { background: #b1b4b6; font-size: 18px; font-weight: bold; }"
	"#ak-keyboard button.ak-key-on { background: #1d70b8; color: #ffffff; border-color: #1d70b8; }"
	"#ak-keyboard button.ak-key-go { background: #00703c; color: #ffffff; border-color: #00703c; font-weight: bold; }"
	// High contrast (the session's choice on the accessibility page):
	// yellow and white on black, like the built-in pages.
	"window.ak-hc #ak-toolbar { background: #000000; border-bottom: 3px solid #ffdd00; }"
	"window.ak-hc #ak-toolbar button { background: #000000; color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc #ak-toolbar button:focus { border-color: #ffffff; }"
	"window.ak-hc #ak-toolbar #ak-end { background: #000000; color: #ffffff; border-color: #ffffff; }"
	"window.ak-hc #ak-guide-bar { background: #000000; border-bottom-color: #ffdd00; }"
	"window.ak-hc #ak-guide-bar label { color: #ffffff; }"
	"window.ak-hc #ak-guide-bar button { background: #000000; color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc paned#ak-split > separator { background-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard { background: #000000; border-top-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard button { background: #000000; color: #ffffff; border-color: #ffffff; }"
	"window.ak-hc #ak-keyboard button.ak-key-fn { color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard button.ak-key-on, window.ak-hc #ak-keyboard button:active { background: #ffdd00; color: #000000; }"
	"window.ak-hc #ak-keyboard button.ak-key-go { background: #000000; color: #ffdd00; border-color: #ffdd00; }";
