package console

// kiosksTitle is the kiosk list's title, which says what it is filtered
// by: each view of the list has a title of its own (WCAG 2.4.2).
func kiosksTitle(d kiosksData) string {
	t := "Kiosks"
	if st, ok := map[string]string{stAttention: "needing attention", stOffline: "offline", stSession: "in a session",
		stIdle: "online and idle", stNever: "that never reported"}[d.State]; ok {
		t += " " + st
	}
	for _, s := range d.Sites {
		if s.ID == d.Site {
			t += " at " + s.Name
		}
	}
	if d.Q != "" {
		t += " matching “" + d.Q + "”"
	}
	return t
}
