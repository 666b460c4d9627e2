//go:build cgo && linux

// The kiosk window: toolbar, banner, content slots, panel, lookups for
// tests and screen readers, and screenshots.

#include "internal.h"
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

// ---- window -------------------------------------------------------------

static gboolean ak_delete_event(GtkWidget *w, GdkEvent *e, gpointer data) {
	return TRUE; // close requests are ignored
}

void ak_button_clicked(GtkButton *b, gpointer data) {
	uintptr_t h = (uintptr_t)data;
	int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "ak-id"));
	ak_emit(h, AK_BUTTON, NULL, NULL, 0, id);
}

void ak_name(GtkWidget *w, const char *name) {
	AtkObject *a = gtk_widget_get_accessible(w);
	if (a != NULL) atk_object_set_name(a, name);
}

static GtkWidget *ak_find_id(GtkWidget *parent, int id) {
	if (GTK_IS_BUTTON(parent) && GPOINTER_TO_INT(g_object_get_data(G_OBJECT(parent), "ak-id")) == id) return parent;
	if (!GTK_IS_CONTAINER(parent)) return NULL;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(parent));
	GtkWidget *found = NULL;
	for (GList *l = kids; l != NULL && found == NULL; l = l->next) found = ak_find_id(GTK_WIDGET(l->data), id);
	g_list_free(kids);
	return found;
}

static GtkWidget *ak_find_mapped(GtkWidget *parent, int id) {
	if (!gtk_widget_get_mapped(parent)) return NULL;
	if (GTK_IS_BUTTON(parent) && GPOINTER_TO_INT(g_object_get_data(G_OBJECT(parent), "ak-id")) == id) return parent;
	if (!GTK_IS_CONTAINER(parent)) return NULL;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(parent));
	GtkWidget *found = NULL;
	for (GList *l = kids; l != NULL && found == NULL; l = l->next) found = ak_find_mapped(GTK_WIDGET(l->data), id);
	g_list_free(kids);
	return found;
}

// ak_find_shown is the button with id that is on the screen (a toolbar
// button off the bar has its twin in the More panel while it shows), else
// any button with id; NULL for none.
static GtkWidget *ak_find_shown(akWindow *w, int id) {
	GtkWidget *b = ak_find_mapped(w->win, id);
	if (b != NULL) return b;
	b = ak_toolbar_find(w, id);
	return b != NULL ? b : ak_find_id(w->win, id);
}

// ak_widget_rect is a widget's rectangle in root (screen) coordinates; 0 when it is not shown.
static int ak_widget_rect(akWindow *w, GtkWidget *wd, int *x, int *y, int *width, int *height) {
	if (wd == NULL || !gtk_widget_get_mapped(wd)) return 0;
	int tx = 0, ty = 0, ox = 0, oy = 0;
	if (!gtk_widget_translate_coordinates(wd, w->win, 0, 0, &tx, &ty)) return 0;
	GdkWindow *gw = gtk_widget_get_window(w->win);
	if (gw != NULL) gdk_window_get_origin(gw, &ox, &oy);
	GtkAllocation a;
	gtk_widget_get_allocation(wd, &a);
	if (a.width <= 1 || a.height <= 1) return 0; // not laid out yet
	*x = ox + tx; *y = oy + ty; *width = a.width; *height = a.height;
	return 1;
}

// ak_window_rect: part 0 the service slot, 1 the guide slot, 2 the
// keyboard, 3 the toolbar, 4 the button (keyboard key, toolbar, guide
// close) with id, 5 the sheet, 7 the toolbar's More panel, 8 the banner.
int ak_window_rect(akWindow *w, int part, int id, int *x, int *y, int *width, int *height) {
	GtkWidget *wd = NULL;
	switch (part) {
	case 0: wd = w->service_slot; break;
	case 1: wd = w->guide_slot; break;
	case 2: wd = w->keyboard; break;
	case 3: wd = w->toolbar; break;
	case 4: wd = ak_find_shown(w, id); break;
	case 5: wd = w->sheet_slot; break;
	case 7: wd = w->more; break;
	case 8: wd = w->banner; break;
	}
	return ak_widget_rect(w, wd, x, y, width, height);
}

// ak_window_accessible is a part's accessible object (parts as in
// ak_window_rect, and 6 the panel); NULL for none.
static AtkObject *ak_window_accessible(akWindow *w, int part, int id) {
	GtkWidget *wd = NULL;
	switch (part) {
	case 0: wd = w->service_slot; break;
	case 1: wd = w->guide_pane; break;
	case 2: wd = w->keyboard; break;
	case 3: wd = w->toolbar; break;
	case 4: wd = ak_find_shown(w, id); break;
	case 6: wd = w->panel; break;
	case 7: wd = w->more; break;
	}
	if (wd == NULL) return NULL;
	return gtk_widget_get_accessible(wd);
}

// ak_window_accessible_name is what a screen reader (AT-SPI, through ATK)
// says for a part of the window; NULL for none.
const char *ak_window_accessible_name(akWindow *w, int part, int id) {
	AtkObject *a = ak_window_accessible(w, part, id);
	return a == NULL ? NULL : atk_object_get_name(a);
}

// ak_window_accessible_about is a part's accessible description and role
// (ATK's name for it); NULLs for none.
void ak_window_accessible_about(akWindow *w, int part, int id, const char **description, const char **role) {
	AtkObject *a = ak_window_accessible(w, part, id);
	*description = a == NULL ? NULL : atk_object_get_description(a);
	*role = a == NULL ? NULL : atk_role_get_name(atk_object_get_role(a));
}

// ak_window_set_tool changes the label, accessible name and tooltip of
// the button with id (a toolbar button); 0 when there is none.
int ak_window_set_tool(akWindow *w, int id, const char *label, const char *name) {
	GtkWidget *b = ak_toolbar_find(w, id);
	if (b == NULL) b = ak_find_id(w->win, id);
	if (b == NULL) return 0;
	gtk_button_set_label(GTK_BUTTON(b), label);
	ak_name(b, name);
	gtk_widget_set_tooltip_text(b, name);
	ak_more_sync(w); // its twin in the More panel too
	return 1;
}

// ak_window_set_names sets the accessible names of the window's own parts
// (the toolbar, the split view, the guide pane, the keyboard) and the
// guide pane's Close button's tooltip, in the session's language.
void ak_window_set_names(akWindow *w, const char *toolbar, const char *split, const char *guide, const char *keyboard, const char *close_tip) {
	ak_name(w->toolbar, toolbar);
	ak_name(w->paned, split);
	ak_name(w->guide_pane, guide);
	ak_name(w->keyboard, keyboard);
	gtk_widget_set_tooltip_text(w->guide_close, close_tip);
	AtkObject *a = gtk_widget_get_accessible(w->guide_close);
	if (a != NULL) atk_object_set_description(a, close_tip);
}

// ak_window_guide_bar changes the guide pane's title and its Close
// button's label (and name), leaving the view in it alone.
void ak_window_guide_bar(akWindow *w, const char *title, const char *close_label) {
	gtk_label_set_text(GTK_LABEL(w->guide_title), title);
	gtk_button_set_label(GTK_BUTTON(w->guide_close), close_label);
	ak_name(w->guide_close, close_label);
}

// ak_window_label is the text a part shows (parts as in ak_window_rect):
// 1 the guide bar's title, 4 the label of the button with id; NULL for none.
const char *ak_window_label(akWindow *w, int part, int id) {
	switch (part) {
	case 1: return gtk_label_get_text(GTK_LABEL(w->guide_title));
	case 4: {
		GtkWidget *b = ak_find_shown(w, id);
		return b == NULL ? NULL : gtk_button_get_label(GTK_BUTTON(b));
	}
	}
	return NULL;
}

// ak_window_tooltip is the tooltip of the button with id; NULL for none.
const char *ak_window_tooltip(akWindow *w, int id) {
	GtkWidget *b = ak_find_shown(w, id);
	if (b == NULL) return NULL;
	return gtk_widget_get_tooltip_text(b); // owned by the caller
}

// ak_window_press clicks the keyboard key (or any button) with id, as a
// tap would (a toolbar button off the bar: as a tap on it in More would).
int ak_window_press(akWindow *w, int id) {
	GtkWidget *b = ak_find_shown(w, id);
	if (b == NULL || !gtk_widget_is_sensitive(b)) return 0;
	gtk_button_clicked(GTK_BUTTON(b));
	return 1;
}

void ak_window_set_high_contrast(akWindow *w, int on) {
	GtkStyleContext *sc = gtk_widget_get_style_context(w->win);
	if (on) gtk_style_context_add_class(sc, "ak-hc");
	else gtk_style_context_remove_class(sc, "ak-hc");
}

int ak_window_high_contrast(akWindow *w) {
	return gtk_style_context_has_class(gtk_widget_get_style_context(w->win), "ak-hc");
}

void ak_window_resize(akWindow *w, int width, int height) {
	gtk_window_resize(GTK_WINDOW(w->win), width, height);
}

// ak_window_size is the window's size and the size of the monitor it is
// on (0s before it is on one).
void ak_window_size(akWindow *w, int *width, int *height, int *screen_width, int *screen_height) {
	*width = *height = *screen_width = *screen_height = 0;
	GdkWindow *gw = gtk_widget_get_window(w->win);
	if (gw == NULL) return;
	*width = gdk_window_get_width(gw);
	*height = gdk_window_get_height(gw);
	GdkMonitor *m = gdk_display_get_monitor_at_window(gdk_window_get_display(gw), gw);
	if (m == NULL) return;
	GdkRectangle r;
	gdk_monitor_get_geometry(m, &r);
	*screen_width = r.width;
	*screen_height = r.height;
}

// ak_has_touchscreen reports whether the default seat has a touch device.
int ak_has_touchscreen(void) {
	GdkDisplay *d = gdk_display_get_default();
	if (d == NULL) return 0;
	GdkSeat *seat = gdk_display_get_default_seat(d);
	if (seat == NULL) return 0;
	return (gdk_seat_get_capabilities(seat) & GDK_SEAT_CAPABILITY_TOUCH) != 0;
}

// ak_overlay_position places the panels that hang under the bars (the
// toolbar's More panel, Your files) at every layout of the window: at the
// right, under the toolbar and under the banner while it shows, so that a
// banner appearing or going while one is open (volunteer mode starting or
// ending) moves it instead of covering it or leaving a gap. Their margins
// (8 px above, 12 at the right) are inside the rectangle. Every other
// overlay child is GtkOverlay's to place.
static gboolean ak_overlay_position(GtkOverlay *o, GtkWidget *child, GdkRectangle *r, gpointer data) {
	akWindow *w = data;
	if (child != w->more && child != g_object_get_data(G_OBJECT(w->win), "ak-files")) return FALSE;
	// Allocations of widgets without a window of their own (the overlay,
	// its box, the bars) share one origin.
	GtkAllocation ov, bar;
	gtk_widget_get_allocation(GTK_WIDGET(o), &ov);
	gtk_widget_get_allocation(gtk_widget_get_visible(w->banner) ? w->banner : w->toolbar, &bar);
	int top = MAX(bar.y + bar.height - ov.y, 0);
	int min_w, nat_w, min_h, nat_h;
	gtk_widget_get_preferred_width(child, &min_w, &nat_w);
	r->width = MIN(MAX(nat_w, min_w), ov.width);
	gtk_widget_get_preferred_height_for_width(child, r->width, &min_h, &nat_h);
	r->x = ov.width - r->width;
	r->y = top;
	r->height = MAX(MIN(nat_h, ov.height - top), min_h);
	return TRUE;
}

akWindow *ak_window_new(uintptr_t h, const char *title, int fullscreen, int width, int height) {
	akWindow *w = g_new0(akWindow, 1);
	w->h = h;
	GtkCssProvider *css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, ak_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);

	w->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	g_object_set_data(G_OBJECT(w->win), "ak-own", GINT_TO_POINTER(1)); // see ak_on_map
	gtk_window_set_title(GTK_WINDOW(w->win), title);
	gtk_window_set_decorated(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_deletable(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_default_size(GTK_WINDOW(w->win), width, height);
	g_signal_connect(w->win, "delete-event", G_CALLBACK(ak_delete_event), NULL);

	GtkWidget *overlay = gtk_overlay_new();
	w->overlay = overlay;
	g_signal_connect(overlay, "get-child-position", G_CALLBACK(ak_overlay_position), w);
	gtk_container_add(GTK_CONTAINER(w->win), overlay);
	GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_container_add(GTK_CONTAINER(overlay), vbox);

	ak_toolbar_build(w, title); // toolbar.c
	gtk_box_pack_start(GTK_BOX(vbox), w->toolbar, FALSE, FALSE, 0);

	w->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_name(w->banner, "ak-banner");
	w->banner_label = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(w->banner_label), TRUE);
	gtk_box_pack_start(GTK_BOX(w->banner), w->banner_label, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), w->banner, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(w->banner, TRUE);

	w->content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_pack_start(GTK_BOX(vbox), w->content, TRUE, TRUE, 0);
	ak_split_build(w);

	w->keyboard = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_widget_set_name(w->keyboard, "ak-keyboard");
	ak_name(w->keyboard, "On-screen keyboard");
	gtk_box_pack_start(GTK_BOX(vbox), w->keyboard, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(w->keyboard, TRUE);
	ak_split_watch(w);

	w->panel = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	gtk_widget_set_name(w->panel, "ak-panel");
	gtk_widget_set_halign(w->panel, GTK_ALIGN_FILL);
	gtk_widget_set_valign(w->panel, GTK_ALIGN_FILL);
	GtkWidget *inner = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	gtk_widget_set_valign(inner, GTK_ALIGN_CENTER);
	gtk_widget_set_halign(inner, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(w->panel), inner, TRUE, FALSE, 0);
	w->panel_title = gtk_label_new("");
	gtk_style_context_add_class(gtk_widget_get_style_context(w->panel_title), "ak-panel-title");
	gtk_label_set_line_wrap(GTK_LABEL(w->panel_title), TRUE);
	w->panel_text = gtk_label_new("");
	gtk_style_context_add_class(gtk_widget_get_style_context(w->panel_text), "ak-panel-text");
	gtk_label_set_line_wrap(GTK_LABEL(w->panel_text), TRUE);
	gtk_label_set_justify(GTK_LABEL(w->panel_text), GTK_JUSTIFY_CENTER);
	w->panel_buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_halign(w->panel_buttons, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(inner), w->panel_title, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(inner), w->panel_text, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(inner), w->panel_buttons, FALSE, FALSE, 0);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), w->panel);
	gtk_widget_set_no_show_all(w->panel, TRUE);

	gtk_widget_show_all(w->win);
	if (fullscreen) gtk_window_fullscreen(GTK_WINDOW(w->win));
	return w;
}

static GtkWidget *ak_make_button(akWindow *w, const char *label, const char *name, const char *widget_name, int id) {
	GtkWidget *b = gtk_button_new_with_label(label);
	if (widget_name != NULL && widget_name[0] != 0) gtk_widget_set_name(b, widget_name);
	ak_name(b, name);
	gtk_widget_set_tooltip_text(b, name);
	gtk_widget_set_can_focus(b, TRUE);
	g_object_set_data(G_OBJECT(b), "ak-id", GINT_TO_POINTER(id));
	g_signal_connect(b, "clicked", G_CALLBACK(ak_button_clicked), (gpointer)w->h);
	return b;
}

void ak_window_add_tool(akWindow *w, const char *label, const char *name, const char *widget_name, int id, int end) {
	GtkWidget *b = ak_make_button(w, label, name, widget_name, id);
	ak_toolbar_add_tool(w, b, end);
	gtk_widget_show(b);
}

void ak_slot_set(GtkWidget *slot, WebKitWebView *v) {
	GList *kids = gtk_container_get_children(GTK_CONTAINER(slot));
	for (GList *l = kids; l != NULL; l = l->next) gtk_container_remove(GTK_CONTAINER(slot), GTK_WIDGET(l->data));
	g_list_free(kids);
	if (v != NULL) {
		gtk_box_pack_start(GTK_BOX(slot), GTK_WIDGET(v), TRUE, TRUE, 0);
		gtk_widget_show(GTK_WIDGET(v));
	}
}

void ak_window_set_view(akWindow *w, WebKitWebView *v) {
	ak_slot_set(w->service_slot, v);
	if (v != NULL) gtk_widget_grab_focus(GTK_WIDGET(v));
}

// ak_window_set_sheet shows v in place of the service and the guide (the
// toolbar, banner, keyboard and panel stay where they are); the views it
// covers stay alive with their documents, hidden. NULL puts them back and
// gives the service view the focus again.
void ak_window_set_sheet(akWindow *w, WebKitWebView *v) {
	ak_slot_set(w->sheet_slot, v);
	if (v != NULL) {
		gtk_widget_hide(w->paned);
		gtk_widget_show(w->sheet_slot);
		gtk_widget_grab_focus(GTK_WIDGET(v));
		return;
	}
	gtk_widget_hide(w->sheet_slot);
	gtk_widget_show(w->paned);
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->service_slot));
	if (kids != NULL) gtk_widget_grab_focus(GTK_WIDGET(kids->data));
	g_list_free(kids);
}

int ak_window_sheet_shown(akWindow *w) { return gtk_widget_get_visible(w->sheet_slot); }

void ak_window_banner(akWindow *w, const char *text) {
	if (text == NULL || text[0] == 0) { gtk_widget_hide(w->banner); return; }
	gtk_label_set_text(GTK_LABEL(w->banner_label), text);
	gtk_widget_show(w->banner_label);
	gtk_widget_show(w->banner);
}

void ak_window_panel_clear(akWindow *w) {
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->panel_buttons));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_destroy(GTK_WIDGET(l->data));
	g_list_free(kids);
	gtk_widget_hide(w->panel);
}

void ak_window_panel_show(akWindow *w, const char *title, const char *text) {
	gtk_label_set_text(GTK_LABEL(w->panel_title), title);
	gtk_label_set_text(GTK_LABEL(w->panel_text), text);
	// The panel is no-show-all (so the window's show_all leaves it hidden),
	// which also makes show_all on it a no-op: show its children, then it.
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->panel));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_show_all(GTK_WIDGET(l->data));
	g_list_free(kids);
	GList *btns = gtk_container_get_children(GTK_CONTAINER(w->panel_buttons));
	// For a screen reader the panel is named by its title and described
	// by its text. With buttons it is an alert (the first button takes the
	// focus, and the alert's text is read with it); without (nothing to
	// focus: "One moment") a notification, which screen readers read out
	// when it shows.
	AtkObject *a = gtk_widget_get_accessible(w->panel);
	if (a != NULL) {
		atk_object_set_name(a, title);
		atk_object_set_description(a, text);
		atk_object_set_role(a, btns != NULL ? ATK_ROLE_ALERT : ATK_ROLE_NOTIFICATION);
	}
	gtk_widget_show(w->panel);
	if (btns != NULL) gtk_widget_grab_focus(GTK_WIDGET(btns->data));
	g_list_free(btns);
}

void ak_window_panel_text(akWindow *w, const char *text) {
	gtk_label_set_text(GTK_LABEL(w->panel_text), text);
}

void ak_window_panel_button(akWindow *w, const char *label, int id, int secondary) {
	GtkWidget *b = ak_make_button(w, label, label, NULL, id);
	if (secondary) gtk_style_context_add_class(gtk_widget_get_style_context(b), "ak-secondary");
	gtk_box_pack_start(GTK_BOX(w->panel_buttons), b, FALSE, FALSE, 0);
	gtk_widget_show(b);
}

int ak_window_panel_visible(akWindow *w) { return gtk_widget_get_visible(w->panel); }

const char *ak_window_banner_text(akWindow *w) {
	if (!gtk_widget_get_visible(w->banner)) return "";
	return gtk_label_get_text(GTK_LABEL(w->banner_label));
}

void ak_window_destroy(akWindow *w) {
	ak_split_unwatch(w);
	gtk_widget_destroy(w->win);
	ak_toolbar_free(w);
	g_free(w);
}

// Screenshot of the window into a PNG file; 1 on success. On X11 the
// pixels are read from the screen where the window is, so what lies over
// it (a tooltip, a drop-down list) is in the picture as it is on the
// screen: read from the window itself, the part another window covers is
// undefined (Xvfb gave back old content of the window there). Elsewhere
// (Wayland), or when the window is partly off the screen, the window's
// own pixels.
int ak_window_snapshot(akWindow *w, const char *path) {
	GdkWindow *gw = gtk_widget_get_window(w->win);
	if (gw == NULL) return 0;
	int width = gdk_window_get_width(gw), height = gdk_window_get_height(gw);
	GdkWindow *src = gw;
	int x = 0, y = 0;
#ifdef GDK_WINDOWING_X11
	if (GDK_IS_X11_DISPLAY(gdk_window_get_display(gw))) {
		GdkWindow *root = gdk_screen_get_root_window(gdk_window_get_screen(gw));
		int ox = 0, oy = 0;
		gdk_window_get_origin(gw, &ox, &oy);
		if (root != NULL && ox >= 0 && oy >= 0 && ox + width <= gdk_window_get_width(root) && oy + height <= gdk_window_get_height(root)) {
			src = root;
			x = ox;
			y = oy;
		}
	}
#endif
	GdkPixbuf *pb = gdk_pixbuf_get_from_window(src, x, y, width, height);
	if (pb == NULL) return 0;
	gboolean ok = gdk_pixbuf_save(pb, path, "png", NULL, NULL);
	g_object_unref(pb);
	return ok ? 1 : 0;
}
