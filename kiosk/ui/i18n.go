package ui

import (
	"fmt"
	"sort"
)

// A catalog maps message keys to text in one language. English is complete;
// any other language may lack keys, and each missing key falls back to
// English on its own (a page half in Welsh beats a page all in English).
type catalog map[string]string

// language is one language the pages are translated into.
type language struct {
	Code string  // BCP 47: en, cy, pl
	Name string  // in the language itself: "Cymraeg"
	Msgs catalog // may lack keys; see lookup
}

// languages lists the translations, English first.
var languages = []language{
	{"en", "English", messagesEN},
	{"cy", "Cymraeg", messagesCY},
	{"pl", "Polski", messagesPL},
}

// Languages returns the codes of every language the built-in pages are
// translated into, English first.
func Languages() []string {
	out := make([]string, len(languages))
	for i, l := range languages {
		out[i] = l.Code
	}
	return out
}

func known(code string) bool {
	_, ok := languageByCode(code)
	return ok
}

func languageByCode(code string) (language, bool) {
	for _, l := range languages {
		if l.Code == code {
			return l, true
		}
	}
	return language{}, false
}

// missingMarker wraps a key that has no English text, so that a test can
// find it in rendered pages.
const missingMarker = "⟦%s⟧"

// lookup returns key's text in lang, else in English, and whether it fell
// back. A key missing in English too comes back as ⟦key⟧.
func lookup(cats map[string]catalog, lang, key string) (text string, fellBack bool) {
	if s, ok := cats[lang][key]; ok && s != "" {
		return s, false
	}
	if s, ok := cats["en"][key]; ok {
		return s, lang != "en"
	}
	return fmt.Sprintf(missingMarker, key), true
}

var catalogs = func() map[string]catalog {
	m := map[string]catalog{}
	for _, l := range languages {
		m[l.Code] = l.Msgs
	}
	return m
}()

// translator renders messages for one request.
type translator struct {
	lang string
	cats map[string]catalog
}

// T returns key's text; with args, the text is a fmt format.
func (t translator) T(key string, args ...any) string {
	s, _ := lookup(t.cats, t.lang, key)
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Message returns key's text in lang for the kiosk shell's native parts (the
// toolbar, the guide bar, the on-screen keyboard and the panels), from the
// same catalogs as the pages and with the same English fallback per string;
// an unknown lang is English. With args, the text is a fmt format.
func Message(lang, key string, args ...any) string {
	return translator{lang: lang, cats: catalogs}.T(key, args...)
}

// Lang returns the language key's text is really in, for a lang attribute
// on a string that fell back to English.
func (t translator) Lang(key string) string {
	if _, fell := lookup(t.cats, t.lang, key); fell {
		return "en"
	}
	return t.lang
}

func sortedKeys(c catalog) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
