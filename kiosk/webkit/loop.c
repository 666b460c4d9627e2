//go:build cgo && linux

// The GTK loop: initialisation, the one dispatch into Go, queued work, input
// counting for the idle timer and the clipboards.

#include <string.h>
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
	gtk_main_do_event(event);
}

guint64 ak_input_count_get(void) { return ak_input_count; }

int ak_init(void) {
	// Pages are painted on the CPU (hardware-acceleration-policy NEVER), so
	// the UI process needs no GL stack: without these GTK and WebKit's UI
	// process each load Mesa (and its LLVM, ~20 MiB of PSS) only to probe
	// it. The web process still has EGL for WebGL. Set only when unset, so
	// a unit file can override them.
	g_setenv("GDK_GL", "disable", FALSE);
	g_setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1", FALSE);
	g_setenv("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null", FALSE);
	if (!gtk_init_check(NULL, NULL)) return 0;
	gdk_event_handler_set(ak_event_handler, NULL, NULL);
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
