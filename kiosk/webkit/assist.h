// Remote help's part of the binding (assist.c): what assist.go calls.
#ifndef AK_ASSIST_H
#define AK_ASSIST_H

#include "native.h"

// The mask reporters' channel: its own isolated script world, every frame
// of every document; no page's world has the handler.
#define AK_ASSIST_WORLD "accesskiosk-assist"
#define AK_ASSIST_HANDLER "assist"
// AK_ASSIST_MESSAGE is its event kind (str = the message as JSON), after
// native.h's kinds.
#define AK_ASSIST_MESSAGE 100

void ak_window_assist_setup(akWindow *w);
void ak_window_assist_bar(akWindow *w, const char *text, const char *stop_label, const char *stop_name, int stop_id);
const char *ak_window_assist_bar_text(akWindow *w);
const char *ak_window_assist_bar_name(akWindow *w, int which);
void ak_window_ring(akWindow *w, int show, int x, int y, const char *text);
int ak_window_ring_shown(akWindow *w, int *x, int *y);
const char *ak_window_panel_name(akWindow *w, const char *name);
int ak_window_view_place(akWindow *w, WebKitWebView *v, int *x, int *y, int *width, int *height);
int ak_window_keyboard_place(akWindow *w, int *x, int *y, int *width, int *height);
int ak_window_capture_size(akWindow *w, int *width, int *height);
int ak_window_capture(akWindow *w, unsigned char *buf, int width, int height, int stride);
void ak_view_assist_channel(WebKitWebView *v, uintptr_t h, const char *script, int rate);
guint64 ak_view_assist_dropped(WebKitWebView *v);

#endif
