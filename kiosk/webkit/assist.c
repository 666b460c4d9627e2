//go:build cgo && linux

// Remote help (issue 17): the window's pixels captured into memory, the
// bar that says the screen is shared (above everything, no page and no
// panel can cover it), the ring staff point with, the consent prompt's
// accessible name, the views' and the keyboard's places in the window,
// and the mask reporters' channel (its own isolated script world, every
// frame of every document).

#include <string.h>
#include "internal.h"
#include "assist.h"

static const char *ak_assist_css =
	"#ak-assist-bar { background: #ffdd00; padding: 8px 12px; border-bottom: 4px solid #0b0c0c; }"
	"#ak-assist-bar label { color: #0b0c0c; font-size: 24px; font-weight: bold; }"
	"#ak-assist-bar button { min-height: 64px; min-width: 200px; padding: 0 16px; font-size: 24px; font-weight: bold;"
	"  color: #ffffff; background: #d4351c; border-radius: 0; border: 3px solid #0b0c0c;"
	"  background-image: none; box-shadow: none; text-shadow: none; }"
	"#ak-assist-bar button label { color: #ffffff; }"
	"#ak-assist-bar button:focus { border-color: #0b0c0c; outline: 3px solid #0b0c0c; }"
	"window.ak-hc #ak-assist-bar { background: #000000; border-bottom-color: #ffdd00; }"
	"window.ak-hc #ak-assist-bar label { color: #ffdd00; }"
	"window.ak-hc #ak-assist-bar button { background: #000000; border-color: #ffdd00; }"
	"window.ak-hc #ak-assist-bar button label { color: #ffffff; }";

// ---- the window's parts -------------------------------------------------

typedef struct {
	GtkWidget *bar, *label, *stop; // the sharing bar, above the overlay
	GtkWidget *ring;               // a drawing area over everything, input passes through
	int ring_shown, ring_x, ring_y; // in the ring layer's coordinates
	int win_x, win_y;               // as asked, in the window's
	char *ring_text;
	int hc;
} akAssist;

static akAssist *ak_assist_get(akWindow *w);

static void ak_assist_free(gpointer p) {
	akAssist *a = p;
	g_free(a->ring_text);
	g_free(a);
}

static void ak_ring_outline(cairo_t *cr, double x, double y, double r) {
	cairo_new_sub_path(cr);
	cairo_arc(cr, x, y, r, 0, 2 * G_PI);
}

// ak_ring_draw draws the ring: a thick yellow circle between two black
// ones (seen on any page), and the note in a black box beside it.
static gboolean ak_ring_draw(GtkWidget *wd, cairo_t *cr, gpointer data) {
	akAssist *a = data;
	if (!a->ring_shown) return FALSE;
	double x = a->ring_x, y = a->ring_y;
	cairo_set_line_width(cr, 14);
	cairo_set_source_rgb(cr, 0.043, 0.047, 0.047);
	ak_ring_outline(cr, x, y, 34);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 8);
	cairo_set_source_rgb(cr, 1.0, 0.867, 0.0);
	ak_ring_outline(cr, x, y, 34);
	cairo_stroke(cr);
	if (a->ring_text == NULL || a->ring_text[0] == 0) return FALSE;
	PangoLayout *l = gtk_widget_create_pango_layout(wd, a->ring_text);
	PangoFontDescription *fd = pango_font_description_from_string("Sans Bold 22");
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	int tw = 0, th = 0;
	pango_layout_get_pixel_size(l, &tw, &th);
	int W = gtk_widget_get_allocated_width(wd), H = gtk_widget_get_allocated_height(wd);
	double bx = x + 48, by = y - th / 2.0 - 8;
	if (bx + tw + 24 > W) bx = x - 48 - tw - 24; // left of the ring near the right edge
	if (bx < 0) bx = 0;
	if (by < 0) by = 0;
	if (by + th + 16 > H) by = H - th - 16;
	cairo_set_source_rgb(cr, 0.043, 0.047, 0.047);
	cairo_rectangle(cr, bx, by, tw + 24, th + 16);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 1.0, 0.867, 0.0);
	cairo_move_to(cr, bx + 12, by + 8);
	pango_cairo_show_layout(cr, l);
	g_object_unref(l);
	return FALSE;
}

// ak_window_assist_setup makes the window's remote-help parts (once,
// before any view is in the window: the window's overlay moves into a new
// box): the bar goes above the overlay, so neither a page nor the
// full-screen panel ever covers it, and the ring over everything inside it.
void ak_window_assist_setup(akWindow *w) { ak_assist_get(w); }

// ak_ring_realize gives the ring's windows an empty input shape: a tap
// on the ring goes to what is under it.
static void ak_ring_realize(GtkWidget *wd, gpointer data) {
	cairo_region_t *none = cairo_region_create();
	GdkWindow *gw = gtk_widget_get_window(wd);
	if (gw != NULL) gdk_window_input_shape_combine_region(gw, none, 0, 0);
	cairo_region_destroy(none);
}

static akAssist *ak_assist_get(akWindow *w) {
	akAssist *a = g_object_get_data(G_OBJECT(w->win), "ak-assist");
	if (a != NULL) return a;
	a = g_new0(akAssist, 1);
	g_object_set_data_full(G_OBJECT(w->win), "ak-assist", a, ak_assist_free);

	GtkCssProvider *css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, ak_assist_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
	g_object_unref(css);

	// win > overlay > vbox  becomes  win > outer(bar, overlay > vbox).
	GtkWidget *overlay = gtk_bin_get_child(GTK_BIN(w->win));
	g_object_ref(overlay);
	gtk_container_remove(GTK_CONTAINER(w->win), overlay);
	GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_container_add(GTK_CONTAINER(w->win), outer);
	a->bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_name(a->bar, "ak-assist-bar");
	gtk_widget_set_no_show_all(a->bar, TRUE);
	a->label = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(a->label), TRUE);
	gtk_label_set_xalign(GTK_LABEL(a->label), 0);
	gtk_box_pack_start(GTK_BOX(a->bar), a->label, TRUE, TRUE, 0);
	a->stop = gtk_button_new_with_mnemonic("");
	gtk_widget_set_can_focus(a->stop, TRUE);
	g_signal_connect(a->stop, "clicked", G_CALLBACK(ak_button_clicked), (gpointer)w->h);
	gtk_box_pack_end(GTK_BOX(a->bar), a->stop, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(outer), a->bar, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(outer), overlay, TRUE, TRUE, 0);
	g_object_unref(overlay);

	a->ring = gtk_drawing_area_new();
	g_signal_connect(a->ring, "realize", G_CALLBACK(ak_ring_realize), NULL);
	gtk_widget_set_halign(a->ring, GTK_ALIGN_FILL);
	gtk_widget_set_valign(a->ring, GTK_ALIGN_FILL);
	g_signal_connect(a->ring, "draw", G_CALLBACK(ak_ring_draw), a);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), a->ring);
	gtk_overlay_set_overlay_pass_through(GTK_OVERLAY(overlay), a->ring, TRUE);
	gtk_widget_show(outer);
	gtk_widget_set_no_show_all(a->ring, TRUE); // shown only while a ring is
	return a;
}

void ak_window_assist_bar(akWindow *w, const char *text, const char *stop_label, const char *stop_name, int stop_id) {
	akAssist *a = ak_assist_get(w);
	if (text == NULL || text[0] == 0) {
		gtk_widget_hide(a->bar);
		return;
	}
	gtk_label_set_text(GTK_LABEL(a->label), text);
	gtk_button_set_label(GTK_BUTTON(a->stop), stop_label);
	gtk_button_set_use_underline(GTK_BUTTON(a->stop), TRUE);
	g_object_set_data(G_OBJECT(a->stop), "ak-id", GINT_TO_POINTER(stop_id));
	ak_name(a->stop, stop_name);
	gtk_widget_set_tooltip_text(a->stop, stop_name);
	ak_name(a->bar, text);
	AtkObject *acc = gtk_widget_get_accessible(a->bar);
	if (acc != NULL) atk_object_set_role(acc, ATK_ROLE_ALERT);
	gtk_widget_show(a->label);
	gtk_widget_show(a->stop);
	gtk_widget_show(a->bar);
}

const char *ak_window_assist_bar_text(akWindow *w) {
	akAssist *a = g_object_get_data(G_OBJECT(w->win), "ak-assist");
	if (a == NULL || !gtk_widget_get_visible(a->bar)) return "";
	return gtk_label_get_text(GTK_LABEL(a->label));
}

// ak_window_assist_bar_name is what a screen reader says for the bar (0)
// or its Stop button (1).
const char *ak_window_assist_bar_name(akWindow *w, int which) {
	akAssist *a = g_object_get_data(G_OBJECT(w->win), "ak-assist");
	if (a == NULL) return NULL;
	AtkObject *acc = gtk_widget_get_accessible(which == 0 ? a->bar : a->stop);
	return acc == NULL ? NULL : atk_object_get_name(acc);
}

// ak_window_ring shows (or hides) the ring at x, y in window coordinates
// (the capture's grid), drawn in the ring layer's own.
void ak_window_ring(akWindow *w, int show, int x, int y, const char *text) {
	akAssist *a = ak_assist_get(w);
	int rx = x, ry = y;
	// The ring layer fills the window's overlay (its parent, always shown).
	if (show && !gtk_widget_translate_coordinates(w->win, gtk_widget_get_parent(a->ring), x, y, &rx, &ry)) show = 0;
	a->ring_shown = show;
	a->win_x = x;
	a->win_y = y;
	a->ring_x = rx;
	a->ring_y = ry;
	g_free(a->ring_text);
	a->ring_text = g_strdup(text != NULL ? text : "");
	if (show) gtk_widget_show(a->ring);
	else gtk_widget_hide(a->ring);
	gtk_widget_queue_draw(a->ring);
}

int ak_window_ring_shown(akWindow *w, int *x, int *y) {
	akAssist *a = g_object_get_data(G_OBJECT(w->win), "ak-assist");
	if (a == NULL || !a->ring_shown) return 0;
	*x = a->win_x;
	*y = a->win_y;
	return 1;
}

// ak_window_panel_name names the full-screen panel for screen readers
// (an alert: the consent prompt is read out as it appears); NULL reads
// the name back.
const char *ak_window_panel_name(akWindow *w, const char *name) {
	AtkObject *acc = gtk_widget_get_accessible(w->panel);
	if (acc == NULL) return NULL;
	if (name != NULL) {
		atk_object_set_name(acc, name);
		atk_object_set_role(acc, name[0] != 0 ? ATK_ROLE_ALERT : ATK_ROLE_PANEL);
	}
	return atk_object_get_name(acc);
}

// ak_window_where is where a widget is inside the window (window
// coordinates, the capture's grid); 0 when it is not shown.
static int ak_window_where(akWindow *w, GtkWidget *wd, int *x, int *y, int *width, int *height) {
	if (wd == NULL || !gtk_widget_get_mapped(wd)) return 0;
	int tx = 0, ty = 0;
	if (!gtk_widget_translate_coordinates(wd, w->win, 0, 0, &tx, &ty)) return 0;
	GtkAllocation al;
	gtk_widget_get_allocation(wd, &al);
	if (al.width <= 1 || al.height <= 1) return 0;
	*x = tx; *y = ty; *width = al.width; *height = al.height;
	return 1;
}

int ak_window_view_place(akWindow *w, WebKitWebView *v, int *x, int *y, int *width, int *height) {
	return ak_window_where(w, GTK_WIDGET(v), x, y, width, height);
}

int ak_window_keyboard_place(akWindow *w, int *x, int *y, int *width, int *height) {
	return ak_window_where(w, w->keyboard, x, y, width, height);
}

// ak_window_capture_size is the window's size in pixels (the capture's
// grid); 0 when it is not shown.
int ak_window_capture_size(akWindow *w, int *width, int *height) {
	if (!gtk_widget_get_realized(w->win) || !gtk_widget_get_mapped(w->win)) return 0;
	*width = gtk_widget_get_allocated_width(w->win);
	*height = gtk_widget_get_allocated_height(w->win);
	return *width > 1 && *height > 1;
}

// ak_window_capture draws the whole window (bar, toolbar, views, keyboard,
// panel, ring) into buf, a width x height image with stride bytes a row,
// as GTK draws it on the screen, without reading the screen: nothing
// another program shows is ever in it, and it works the same under X11 and
// Wayland. buf gets cairo's RGB24 (B, G, R, unused on a little-endian
// machine); it is the caller's memory and not kept.
int ak_window_capture(akWindow *w, unsigned char *buf, int width, int height, int stride) {
	// A window whose layout changed (the bar just came up) is drawn after
	// its next allocation, not before (GTK refuses to draw it half laid out).
	// A part that changed since GTK last laid the window out (a label's
	// text, the bar appearing) is laid out now, as GTK would do at its next
	// frame: gtk_widget_draw refuses a window waiting for its allocation.
	gtk_container_check_resize(GTK_CONTAINER(w->win));
	// GTK 3 has no public "allocation needed": a part that is shown but
	// not yet placed (mapped with a real size) means a layout is pending.
	akAssist *a = g_object_get_data(G_OBJECT(w->win), "ak-assist");
	if (a != NULL && gtk_widget_get_visible(a->bar) &&
		(!gtk_widget_get_mapped(a->bar) || gtk_widget_get_allocated_height(a->bar) <= 1)) return -1;
	if (stride != cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, width)) return 0;
	cairo_surface_t *s = cairo_image_surface_create_for_data(buf, CAIRO_FORMAT_RGB24, width, height, stride);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(s);
		return 0;
	}
	cairo_t *cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	gtk_widget_draw(w->win, cr);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	return 1;
}

// ---- the mask reporters' channel ----------------------------------------

typedef struct {
	uintptr_t h;
	gint64 window_us;
	int used, limit;
	guint64 dropped;
} akAssistChannel;

static void ak_assist_message(WebKitUserContentManager *m, WebKitJavascriptResult *res, gpointer data) {
	akAssistChannel *c = data;
	gint64 now = g_get_monotonic_time();
	if (now - c->window_us >= G_USEC_PER_SEC) {
		c->window_us = now;
		c->used = 0;
	}
	if (c->used >= c->limit) {
		c->dropped++;
		return;
	}
	c->used++;
	JSCValue *val = webkit_javascript_result_get_js_value(res);
	char *s = jsc_value_is_string(val) ? jsc_value_to_string(val) : jsc_value_to_json(val, 0);
	ak_emit(c->h, AK_ASSIST_MESSAGE, NULL, s, 0, 0);
	g_free(s);
}

// ak_view_assist_channel opens the mask reporters' channel on a view that
// has not loaded anything yet: handler AK_ASSIST_HANDLER in world
// AK_ASSIST_WORLD (no page's world has it), script injected at document
// start into every frame of every document, at most rate messages a
// second (the rest dropped here and counted).
void ak_view_assist_channel(WebKitWebView *v, uintptr_t h, const char *script, int rate) {
	WebKitUserContentManager *ucm = webkit_web_view_get_user_content_manager(v);
	akAssistChannel *c = g_new0(akAssistChannel, 1);
	c->h = h;
	c->limit = rate;
	// The channel lives as long as the content manager that calls it.
	g_object_set_data_full(G_OBJECT(ucm), "ak-assist-channel", c, g_free);
	g_signal_connect(ucm, "script-message-received::" AK_ASSIST_HANDLER, G_CALLBACK(ak_assist_message), c);
	webkit_user_content_manager_register_script_message_handler_in_world(ucm, AK_ASSIST_HANDLER, AK_ASSIST_WORLD);
	WebKitUserScript *us = webkit_user_script_new_for_world(script, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
		WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, AK_ASSIST_WORLD, NULL, NULL);
	webkit_user_content_manager_add_script(ucm, us);
	webkit_user_script_unref(us);
}

guint64 ak_view_assist_dropped(WebKitWebView *v) {
	akAssistChannel *c = g_object_get_data(G_OBJECT(webkit_web_view_get_user_content_manager(v)), "ak-assist-channel");
	return c == NULL ? 0 : c->dropped;
}
