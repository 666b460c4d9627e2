// Shared between the binding's C files; not part of the API Go calls
// (native.h is).
#ifndef AK_INTERNAL_H
#define AK_INTERNAL_H

#include "native.h"

// ak_emit hands an event to Go (akDispatch) and returns its verdict.
int ak_emit(uintptr_t h, int kind, const char *uri, const char *str, int flags, int num);

// ak_split_dragging is set while a finger or the mouse holds the split
// view's handle (loop.c watches the events; split.c reads it).
extern int ak_split_dragging;

// ak_frame_print_script keeps window.print() to the top frame (print.c).
extern const char *ak_frame_print_script;

// ak_css styles the window (style.c).
extern const char *ak_css;

struct akWindow {
	GtkWidget *win, *toolbar, *title, *banner, *banner_label, *content, *panel, *panel_title, *panel_text, *panel_buttons;
	// overlay holds everything but the sharing bar (assist.c moves it into a
	// box under that bar): panels over the window go in it.
	GtkWidget *overlay;
	// Split view: content holds paned; paned's first child is the service
	// slot, its second the guide pane (a header with a Close button over
	// the guide slot), hidden when no guide is shown.
	GtkWidget *paned, *service_slot, *guide_pane, *guide_title, *guide_close, *guide_slot;
	// On-screen keyboard: rows of buttons that never take focus, packed
	// under content so that it takes space from the views.
	GtkWidget *keyboard;
	// The sheet: a view shown in place of the paned (service and guide),
	// which stays alive, hidden, under it (Window.SetSheet).
	GtkWidget *sheet_slot;
	int vertical;     // the paned is stacked (portrait)
	int want_split;   // the split needs positioning at the next allocation
	guint relayout;   // idle source re-laying out the split
	double share;     // the service's share of the paned
	int last_size;    // the paned's size (along its orientation) last seen
	int placing;      // the handle is being set by the code, not dragged
	// The toolbar's More button and panel (toolbar.c); the panel is made
	// on first use.
	GtkWidget *more_button, *more;
	int more_syncing; // ak_more_button_sync is pressing or releasing More
	GtkGesture *more_outside; // closes the panel on a tap elsewhere
	char *more_title_text, *more_close_text;
	uintptr_t h;
};

void ak_name(GtkWidget *w, const char *name);
void ak_button_clicked(GtkButton *b, gpointer data);
void ak_slot_set(GtkWidget *slot, WebKitWebView *v);
void ak_split_build(akWindow *w);
void ak_split_watch(akWindow *w);
void ak_split_unwatch(akWindow *w);
void ak_toolbar_build(akWindow *w, const char *title);
void ak_toolbar_free(akWindow *w);
void ak_toolbar_add_tool(akWindow *w, GtkWidget *b, int end);
GtkWidget *ak_toolbar_find(akWindow *w, int id);
void ak_more_sync(akWindow *w);

#endif
