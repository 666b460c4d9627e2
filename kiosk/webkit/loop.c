//go:build cgo && linux

// The GTK loop: initialisation, the one dispatch into Go, queued work, input
// counting for the idle timer and the clipboards.

#include <string.h>
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include "internal.h"

// ---- dispatch helpers ---------------------------------------------------

int ak_emit(uintptr_t h, int kind, const char *uri, const char *str, int flags, int num) {
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.uri = uri;
	ev.str = str;
	ev.flags = flags;
	ev.num = num;
	return akDispatch(h, &ev);
}

static gboolean ak_idle_cb(gpointer data) {
	ak_emit((uintptr_t)data, AK_INVOKE, NULL, NULL, 0, 0);
	return G_SOURCE_REMOVE;
}

void ak_invoke(uintptr_t h) {
	// Always queued for the main loop. g_main_context_invoke would call it
	// at once on whichever thread can acquire the context, e.g. a quit
	// before gtk_main started, which was then lost and gtk_main never ended.
	g_idle_add_full(G_PRIORITY_DEFAULT, ak_idle_cb, (gpointer)h, NULL);
}

// ---- input activity (for the idle timer) ---------------------------------

static volatile guint64 ak_input_count = 0;

// ak_split_dragging is set while a finger or the mouse holds the split
// view's handle (the paned's own input window).
int ak_split_dragging = 0;

static int ak_on_split(GdkEvent *event) {
	gpointer wd = NULL;
	if (event->any.window == NULL) return 0;
	gdk_window_get_user_data(event->any.window, &wd);
	return wd != NULL && GTK_IS_PANED(wd) && g_strcmp0(gtk_widget_get_name(GTK_WIDGET(wd)), "ak-split") == 0;
}

// ak_emoji_key says whether a key event would open GTK's emoji chooser
// (Ctrl+. and Ctrl+; in a text field, and Ctrl+Shift+E): a popover outside
// the page that saves the emoji picked as "recent" in GSettings. The kiosk
// swallows them.
static int ak_emoji_key(GdkEvent *event) {
	if (event->type != GDK_KEY_PRESS && event->type != GDK_KEY_RELEASE) return 0;
	if (!(event->key.state & GDK_CONTROL_MASK)) return 0;
	switch (event->key.keyval) {
	case GDK_KEY_period:
	case GDK_KEY_semicolon:
		return 1;
	case GDK_KEY_e:
	case GDK_KEY_E:
		return (event->key.state & GDK_SHIFT_MASK) != 0;
	}
	return 0;
}

static void ak_event_handler(GdkEvent *event, gpointer data) {
	switch (event->type) {
	case GDK_BUTTON_PRESS:
	case GDK_TOUCH_BEGIN:
		if (ak_on_split(event)) ak_split_dragging = 1;
		break;
	case GDK_BUTTON_RELEASE:
	case GDK_TOUCH_END:
	case GDK_TOUCH_CANCEL:
		ak_split_dragging = 0;
		break;
	default:
		break;
	}
	switch (event->type) {
	case GDK_KEY_PRESS:
	case GDK_BUTTON_PRESS:
	case GDK_TOUCH_BEGIN:
	case GDK_TOUCH_UPDATE:
	case GDK_SCROLL:
		ak_input_count++;
		break;
	default:
		break;
	}
	if (ak_emoji_key(event)) return;
	gtk_main_do_event(event);
}

guint64 ak_input_count_get(void) { return ak_input_count; }

// ---- windows (the one-window rule) ------------------------------------------

// ak_shown records every top-level GtkWindow and every GtkPopover mapped
// since ak_init, as "TYPE:title", so that a test sees one that came and went
// between two looks.
static GPtrArray *ak_shown = NULL;

static guint ak_refused_windows = 0;

static gboolean ak_hide_later(gpointer data) {
	gtk_widget_hide(GTK_WIDGET(data));
	g_object_unref(data);
	return G_SOURCE_REMOVE;
}

// ak_on_map records what is mapped and, as a last line behind the specific
// refusals (colour chooser, emoji keys), hides at once any top-level window
// or popover that is not the kiosk's own window.
static gboolean ak_on_map(GSignalInvocationHint *hint, guint n, const GValue *params, gpointer data) {
	GObject *o = g_value_get_object(&params[0]);
	int other = 0;
	if (GTK_IS_WINDOW(o) && gtk_window_get_window_type(GTK_WINDOW(o)) == GTK_WINDOW_TOPLEVEL) {
		const char *title = gtk_window_get_title(GTK_WINDOW(o));
		g_ptr_array_add(ak_shown, g_strdup_printf("%s:%s", G_OBJECT_TYPE_NAME(o), title ? title : ""));
		other = g_object_get_data(o, "ak-own") == NULL;
	} else if (GTK_IS_POPOVER(o)) {
		g_ptr_array_add(ak_shown, g_strdup_printf("%s:", G_OBJECT_TYPE_NAME(o)));
		other = 1;
	}
	if (other) {
		ak_refused_windows++;
		g_idle_add_full(G_PRIORITY_HIGH, ak_hide_later, g_object_ref(o), NULL);
	}
	return TRUE; // stay connected
}

guint ak_windows_refused(void) { return ak_refused_windows; }

int ak_windows_shown(void) { return ak_shown == NULL ? 0 : (int)ak_shown->len; }
const char *ak_window_shown(int i) { return (const char *)g_ptr_array_index(ak_shown, i); }

// ak_toplevels_visible counts the top-level windows (not menus or
// tooltips) that are showing now.
int ak_toplevels_visible(void) {
	GList *all = gtk_window_list_toplevels();
	int n = 0;
	for (GList *l = all; l != NULL; l = l->next) {
		GtkWindow *w = GTK_WINDOW(l->data);
		if (gtk_window_get_window_type(w) == GTK_WINDOW_TOPLEVEL && gtk_widget_get_visible(GTK_WIDGET(w))) n++;
	}
	g_list_free(all);
	return n;
}

// ak_settings_backend names GSettings' backend in this process.
const char *ak_settings_backend(void) {
	return G_OBJECT_TYPE_NAME(g_settings_backend_get_default());
}

int ak_init(void) {
	// Pages are painted on the CPU (hardware-acceleration-policy NEVER), so
	// the UI process needs no GL stack: without these GTK and WebKit's UI
	// process each load Mesa (and its LLVM, ~20 MiB of PSS) only to probe
	// it. The web process still has EGL for WebGL. Set only when unset, so
	// a unit file can override them.
	g_setenv("GDK_GL", "disable", FALSE);
	g_setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1", FALSE);
	g_setenv("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null", FALSE);
	// GSettings in memory, always: nothing GTK or WebKit might save (the
	// emoji chooser's recent emoji, a colour chooser's custom colours)
	// reaches dconf, which would keep it on disk for the next resident.
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
	if (!gtk_init_check(NULL, NULL)) return 0;
	// GTK's file printer only: the kiosk renders pages to PDF through it
	// (print.c) and prints over IPP itself; GTK never enumerates or talks
	// to CUPS or a real printer.
	GtkSettings *gs = gtk_settings_get_default();
	if (gs != NULL && g_object_class_find_property(G_OBJECT_GET_CLASS(gs), "gtk-print-backends") != NULL)
		g_object_set(gs, "gtk-print-backends", "file", NULL);
	// No recently used files: GTK's print operation adds the PDF it writes
	// (a page printed, in the session's files folder) to
	// $XDG_DATA_HOME/recently-used.xbel, which would outlive the session.
	// Disabled, GTK still writes the file, always empty.
	if (gs != NULL && g_object_class_find_property(G_OBJECT_GET_CLASS(gs), "gtk-recent-files-enabled") != NULL)
		g_object_set(gs, "gtk-recent-files-enabled", FALSE, "gtk-recent-files-max-age", 0, NULL);
	gdk_event_handler_set(ak_event_handler, NULL, NULL);
	ak_shown = g_ptr_array_new_with_free_func(g_free);
	g_signal_add_emission_hook(g_signal_lookup("map", GTK_TYPE_WIDGET), 0, ak_on_map, NULL, NULL);
	return 1;
}

// ---- clipboard ----------------------------------------------------------

void ak_clear_clipboards(void) {
	GdkAtom atoms[2] = { GDK_SELECTION_CLIPBOARD, GDK_SELECTION_PRIMARY };
	for (int i = 0; i < 2; i++) {
		GtkClipboard *cb = gtk_clipboard_get(atoms[i]);
		gtk_clipboard_set_text(cb, "", 0);
		gtk_clipboard_clear(cb);
	}
}

// ak_recently_used says whether GTK's recently-used list holds uri (for
// the tests: printing must leave nothing there).
int ak_recently_used(const char *uri) {
	return gtk_recent_manager_has_item(gtk_recent_manager_get_default(), uri) ? 1 : 0;
}
