//go:build cgo && linux

// The window's next frame, and work that goes before the loop's other work
// (frame.go).

#include <string.h>
#include "internal.h"

typedef struct {
	uintptr_t h;
	gulong id;
} akPaintWait;

static void ak_after_paint(GdkFrameClock *fc, gpointer data) {
	akPaintWait *p = data;
	uintptr_t h = p->h;
	g_signal_handler_disconnect(fc, p->id); // frees p (ak_paint_wait_free)
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_INVOKE;
	akDispatch(h, &ev);
}

static void ak_paint_wait_free(gpointer data, GClosure *c) { g_free(data); }

// ak_window_after_paint queues the function with handle h (as Invoke
// does) to run once the window has painted its next frame, and asks for
// that frame. Without a frame clock (the window is not realized) it is
// queued at once.
void ak_window_after_paint(akWindow *w, uintptr_t h) {
	GdkFrameClock *fc = gtk_widget_get_frame_clock(w->win);
	if (fc == NULL) {
		ak_invoke(h);
		return;
	}
	akPaintWait *p = g_new0(akPaintWait, 1);
	p->h = h;
	p->id = g_signal_connect_data(fc, "after-paint", G_CALLBACK(ak_after_paint), p, ak_paint_wait_free, 0);
	gtk_widget_queue_draw(w->win);
}

static gboolean ak_urgent_cb(gpointer data) {
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_INVOKE;
	akDispatch((uintptr_t)data, &ev);
	return G_SOURCE_REMOVE;
}

// ak_invoke_urgent queues the function with handle h for the main loop
// ahead of the loop's ordinary work (WebKit's messages, input, Invoke),
// and ahead of its redraws.
void ak_invoke_urgent(uintptr_t h) {
	g_idle_add_full(G_PRIORITY_HIGH, ak_urgent_cb, (gpointer)h, NULL);
}
