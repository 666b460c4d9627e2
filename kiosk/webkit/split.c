//go:build cgo && linux

// The split view (a guide beside or under the service, with a handle a
// finger can drag) and the on-screen keyboard's rows of keys.

#include "internal.h"

// ---- split view -----------------------------------------------------------

#define AK_TITLE_MIN_WIDTH 1000

// The handle keeps a share of the paned for the service: 60% of the width
// side by side, 55% of the height stacked, until someone drags it. The
// share (not a pixel position) is kept when the paned changes size, so
// turning the screen, the keyboard coming and going, or the window
// changing size keep the split where it was.
static double ak_split_default(akWindow *w) { return w->vertical ? 0.55 : 0.60; }

static int ak_split_size(akWindow *w) {
	GtkAllocation a;
	gtk_widget_get_allocation(w->paned, &a);
	return w->vertical ? a.height : a.width;
}

static void ak_split_place(akWindow *w) {
	int size = ak_split_size(w);
	if (size <= 1) return;
	w->placing = 1;
	gtk_paned_set_position(GTK_PANED(w->paned), (int)(size * w->share));
	w->placing = 0;
	w->want_split = 0;
}

static gboolean ak_split_relayout(gpointer data) {
	akWindow *w = data;
	w->relayout = 0;
	GtkAllocation a;
	gtk_widget_get_allocation(w->win, &a);
	// On a narrow (portrait) screen the toolbar's buttons need all the
	// width; the council's name, which every built-in page shows anyway,
	// is left out rather than shown as a lone "…".
	gboolean title = a.width >= AK_TITLE_MIN_WIDTH;
	if (gtk_widget_get_visible(w->title) != title) gtk_widget_set_visible(w->title, title);
	int vertical = a.height > a.width;
	if (vertical != w->vertical) {
		w->vertical = vertical;
		gtk_orientable_set_orientation(GTK_ORIENTABLE(w->paned), vertical ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
		w->share = ak_split_default(w);
		w->want_split = 1;
	}
	if (w->want_split && gtk_widget_get_visible(w->guide_pane)) ak_split_place(w);
	return G_SOURCE_REMOVE;
}

static void ak_split_queue(akWindow *w) {
	if (w->relayout == 0) w->relayout = g_idle_add(ak_split_relayout, w);
}

// The window's shape decides the split: stacked when portrait. The change
// is made from an idle callback, never inside size-allocate itself.
static void ak_window_allocated(GtkWidget *win, GdkRectangle *a, gpointer data) {
	akWindow *w = data;
	int vertical = a->height > a->width;
	gboolean title = a->width >= AK_TITLE_MIN_WIDTH;
	if (vertical != w->vertical || w->want_split || gtk_widget_get_visible(w->title) != title) ak_split_queue(w);
}

// The paned got a new size: put the handle back at its share.
static void ak_paned_allocated(GtkWidget *paned, GdkRectangle *a, gpointer data) {
	akWindow *w = data;
	int size = w->vertical ? a->height : a->width;
	if (size != w->last_size) {
		w->last_size = size;
		w->want_split = 1;
		ak_split_queue(w);
	}
}

// The handle moved. Dragged: remember the new share. Moved by GTK itself
// (it may recompute the position from the children's sizes when the pane
// comes back): put it back at the share.
static void ak_paned_moved(GObject *paned, GParamSpec *ps, gpointer data) {
	akWindow *w = data;
	if (w->placing || !gtk_widget_get_visible(w->guide_pane)) return;
	int size = ak_split_size(w);
	if (size <= 1) return;
	if (!ak_split_dragging) {
		if (gtk_paned_get_position(GTK_PANED(w->paned)) == (int)(size * w->share)) return;
		w->want_split = 1;
		ak_split_queue(w);
		return;
	}
	double share = (double)gtk_paned_get_position(GTK_PANED(w->paned)) / size;
	double clamped = share < 0.2 ? 0.2 : share > 0.8 ? 0.8 : share;
	w->share = clamped;
	if (clamped != share) ak_split_place(w);
}

void ak_split_build(akWindow *w) {
	w->paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_widget_set_name(w->paned, "ak-split");
	gtk_paned_set_wide_handle(GTK_PANED(w->paned), TRUE);
	w->share = 0.60;
	g_signal_connect(w->paned, "size-allocate", G_CALLBACK(ak_paned_allocated), w);
	g_signal_connect(w->paned, "notify::position", G_CALLBACK(ak_paned_moved), w);
	ak_name(w->paned, "Service and guide, side by side");
	gtk_box_pack_start(GTK_BOX(w->content), w->paned, TRUE, TRUE, 0);

	w->service_slot = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	// shrink TRUE: a web view's size request can follow its last size,
	// which would pin the handle; the share is kept between 20% and 80%
	// in ak_paned_moved instead.
	gtk_paned_pack1(GTK_PANED(w->paned), w->service_slot, TRUE, TRUE);

	w->guide_pane = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	ak_name(w->guide_pane, "Guide");
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_name(bar, "ak-guide-bar");
	w->guide_title = gtk_label_new("Guide");
	gtk_label_set_ellipsize(GTK_LABEL(w->guide_title), PANGO_ELLIPSIZE_END);
	gtk_label_set_xalign(GTK_LABEL(w->guide_title), 0);
	gtk_box_pack_start(GTK_BOX(bar), w->guide_title, TRUE, TRUE, 0);
	w->guide_close = gtk_button_new_with_label("Close guide");
	ak_name(w->guide_close, "Close guide");
	gtk_widget_set_tooltip_text(w->guide_close, "Close the guide; the service stays open");
	g_signal_connect(w->guide_close, "clicked", G_CALLBACK(ak_button_clicked), (gpointer)w->h);
	gtk_box_pack_end(GTK_BOX(bar), w->guide_close, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(w->guide_pane), bar, FALSE, FALSE, 0);
	w->guide_slot = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_pack_start(GTK_BOX(w->guide_pane), w->guide_slot, TRUE, TRUE, 0);
	gtk_paned_pack2(GTK_PANED(w->paned), w->guide_pane, TRUE, TRUE);
	gtk_widget_set_no_show_all(w->guide_pane, TRUE);

	w->sheet_slot = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_pack_start(GTK_BOX(w->content), w->sheet_slot, TRUE, TRUE, 0);
	gtk_widget_set_no_show_all(w->sheet_slot, TRUE);
}

// ak_split_watch follows the window's shape (from ak_window_new, once the
// window is built).
void ak_split_watch(akWindow *w) {
	g_signal_connect(w->win, "size-allocate", G_CALLBACK(ak_window_allocated), w);
}

// ak_split_unwatch stops everything ak_split_build and ak_split_watch set
// going (before the window is destroyed).
void ak_split_unwatch(akWindow *w) {
	if (w->relayout != 0) g_source_remove(w->relayout);
	w->relayout = 0;
	g_signal_handlers_disconnect_matched(w->win, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_window_allocated, NULL);
	g_signal_handlers_disconnect_matched(w->paned, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_paned_allocated, NULL);
	g_signal_handlers_disconnect_matched(w->paned, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_paned_moved, NULL);
}

// ak_window_set_guide shows v in the guide pane beside (or under) the
// service, with title in its bar and close_id on its Close button; a NULL
// v hides the pane and gives the service the whole width.
void ak_window_set_guide(akWindow *w, WebKitWebView *v, const char *title, const char *close_label, int close_id) {
	ak_slot_set(w->guide_slot, v);
	if (v == NULL) {
		gtk_widget_hide(w->guide_pane);
		return;
	}
	gtk_label_set_text(GTK_LABEL(w->guide_title), title);
	gtk_button_set_label(GTK_BUTTON(w->guide_close), close_label);
	ak_name(w->guide_close, close_label);
	g_object_set_data(G_OBJECT(w->guide_close), "ak-id", GINT_TO_POINTER(close_id));
	int was = gtk_widget_get_visible(w->guide_pane);
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->guide_pane));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_show_all(GTK_WIDGET(l->data));
	g_list_free(kids);
	gtk_widget_show(w->guide_pane);
	if (!was) {
		w->share = ak_split_default(w);
		w->want_split = 1;
		ak_split_place(w);
		ak_split_queue(w);
	}
}

// ak_window_split reports the split: guide shown, stacked, handle position.
void ak_window_split(akWindow *w, int *shown, int *vertical, int *pos) {
	*shown = gtk_widget_get_visible(w->guide_pane);
	*vertical = gtk_orientable_get_orientation(GTK_ORIENTABLE(w->paned)) == GTK_ORIENTATION_VERTICAL;
	*pos = gtk_paned_get_position(GTK_PANED(w->paned));
}

// ---- on-screen keyboard -------------------------------------------------

void ak_window_kb_clear(akWindow *w) {
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->keyboard));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_destroy(GTK_WIDGET(l->data));
	g_list_free(kids);
}

void ak_window_kb_row(akWindow *w) {
	GtkWidget *row = gtk_grid_new();
	gtk_grid_set_column_homogeneous(GTK_GRID(row), TRUE);
	gtk_widget_set_halign(row, GTK_ALIGN_FILL);
	g_object_set_data(G_OBJECT(row), "ak-next", GINT_TO_POINTER(0));
	gtk_box_pack_start(GTK_BOX(w->keyboard), row, FALSE, FALSE, 0);
	gtk_widget_show(row);
}

// ak_window_kb_key adds a key to the last row: width is in grid columns
// (a letter key is 2, so rows can be offset by half a key); style 0 plain,
// 1 function key, 2 a function key that is on (shift), 3 the go key
// (Enter). Keys never take the keyboard focus, so the field in the page
// keeps it.
void ak_window_kb_key(akWindow *w, const char *label, const char *name, int id, int width, int style) {
	GList *rows = gtk_container_get_children(GTK_CONTAINER(w->keyboard));
	GList *last = g_list_last(rows);
	if (last == NULL) { g_list_free(rows); return; }
	GtkWidget *row = GTK_WIDGET(last->data);
	g_list_free(rows);
	int col = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(row), "ak-next"));
	if (width < 1) width = 1;
	g_object_set_data(G_OBJECT(row), "ak-next", GINT_TO_POINTER(col + width));
	if (id == 0) return; // a gap
	GtkWidget *b = gtk_button_new_with_label(label);
	gtk_widget_set_can_focus(b, FALSE);
	gtk_widget_set_focus_on_click(b, FALSE);
	ak_name(b, name);
	g_object_set_data(G_OBJECT(b), "ak-id", GINT_TO_POINTER(id));
	GtkStyleContext *sc = gtk_widget_get_style_context(b);
	if (style == 1 || style == 2) gtk_style_context_add_class(sc, "ak-key-fn");
	if (style == 2) gtk_style_context_add_class(sc, "ak-key-on");
	if (style == 3) gtk_style_context_add_class(sc, "ak-key-go");
	g_signal_connect(b, "clicked", G_CALLBACK(ak_button_clicked), (gpointer)w->h);
	GtkWidget *lbl = gtk_bin_get_child(GTK_BIN(b));
	if (GTK_IS_LABEL(lbl)) gtk_label_set_ellipsize(GTK_LABEL(lbl), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(b, TRUE);
	gtk_grid_attach(GTK_GRID(row), b, col, 0, width, 1);
	gtk_widget_show(b);
}

void ak_window_kb_show(akWindow *w, int show) {
	if (show) gtk_widget_show(w->keyboard);
	else gtk_widget_hide(w->keyboard);
}

int ak_window_kb_visible(akWindow *w) { return gtk_widget_get_visible(w->keyboard); }

