//go:build cgo && linux

// The toolbar: a bar of buttons that never asks the window for more width
// than its pinned buttons (Home, End session) and a More button need.
// When every button does not fit (a portrait screen, a long language),
// the buttons of lowest priority leave the bar and are offered instead in
// the More panel: a native panel inside the window, under the toolbar (no
// popover, menu or second window, which could escape the one window).
//
// AkToolbar is a GtkContainer laid out like a horizontal GtkBox: buttons
// packed at the start left to right, the title (the council's name, which
// split.c hides below 1000 pixels) taking the room left, the buttons
// packed at the end right to left, and the More button to the left of
// those. A button that does not fit is made child-invisible
// (unmapped, so neither drawn, focused nor showing for a screen reader)
// in size_allocate, which never queues a resize; its twin in the More
// panel carries the same id, label, accessible name and tooltip, and a
// tap on it clicks the button on the bar, so the shell sees one id
// whichever was tapped.

#include <string.h>
#include "internal.h"

typedef struct {
	GtkWidget *wd;
	int end;      // packed at the end
	int priority; // the lowest leaves the bar first; AK_PINNED never
	int kept;     // on the bar at the last allocation
} akItem;

typedef struct {
	GtkContainer parent;
	GList *items; // akItem*, in the order added; not the title or More
	GtkWidget *title, *more;
	akWindow *w;
	int overflow;   // how many buttons the last allocation sent to More
	guint sync;     // idle source refreshing the More panel
	GString *kept;  // ids on the bar at the last allocation, to see a change
} AkToolbar;

typedef struct {
	GtkContainerClass parent_class;
} AkToolbarClass;

G_DEFINE_TYPE(AkToolbar, ak_toolbar, GTK_TYPE_CONTAINER)

#define AK_TOOLBAR(o) ((AkToolbar *)(o))

static void ak_more_sync_now(akWindow *w);

static void ak_toolbar_init(AkToolbar *t) {
	gtk_widget_set_has_window(GTK_WIDGET(t), FALSE);
	t->kept = g_string_new(NULL);
}

// ak_toolbar_pad is the bar's CSS padding plus border.
static GtkBorder ak_toolbar_pad(GtkWidget *wd) {
	GtkStyleContext *sc = gtk_widget_get_style_context(wd);
	GtkStateFlags st = gtk_style_context_get_state(sc);
	GtkBorder p, b;
	gtk_style_context_get_padding(sc, st, &p);
	gtk_style_context_get_border(sc, st, &b);
	GtkBorder r = {p.left + b.left, p.right + b.right, p.top + b.top, p.bottom + b.bottom};
	return r;
}

static int ak_shown(GtkWidget *wd) { return wd != NULL && gtk_widget_get_visible(wd); }

static int ak_optional(AkToolbar *t) {
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (it->priority != AK_PINNED && ak_shown(it->wd)) return 1;
	}
	return 0;
}

static void ak_toolbar_get_preferred_width(GtkWidget *wd, gint *minimum, gint *natural) {
	AkToolbar *t = AK_TOOLBAR(wd);
	GtkBorder pad = ak_toolbar_pad(wd);
	int min = pad.left + pad.right, nat = min;
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (!ak_shown(it->wd)) continue;
		int cm, cn;
		gtk_widget_get_preferred_width(it->wd, &cm, &cn);
		nat += cn;
		if (it->priority == AK_PINNED) min += cn;
	}
	if (ak_shown(t->title)) {
		int cm, cn;
		gtk_widget_get_preferred_width(t->title, &cm, &cn);
		min += cm;
		nat += cn;
	}
	if (ak_shown(t->more) && ak_optional(t)) {
		int cm, cn;
		gtk_widget_get_preferred_width(t->more, &cm, &cn);
		min += cn;
	}
	*minimum = min;
	*natural = nat > min ? nat : min;
}

static void ak_toolbar_get_preferred_height(GtkWidget *wd, gint *minimum, gint *natural) {
	AkToolbar *t = AK_TOOLBAR(wd);
	GtkBorder pad = ak_toolbar_pad(wd);
	int min = 0, nat = 0;
	GList *all = g_list_copy(t->items);
	for (GList *l = all; l != NULL; l = l->next) l->data = ((akItem *)l->data)->wd;
	all = g_list_prepend(all, t->title);
	all = g_list_prepend(all, t->more);
	for (GList *l = all; l != NULL; l = l->next) {
		if (!ak_shown(l->data)) continue;
		int cm, cn;
		gtk_widget_get_preferred_height(GTK_WIDGET(l->data), &cm, &cn);
		if (cm > min) min = cm;
		if (cn > nat) nat = cn;
	}
	g_list_free(all);
	*minimum = min + pad.top + pad.bottom;
	*natural = nat + pad.top + pad.bottom;
}

static void ak_toolbar_get_preferred_height_for_width(GtkWidget *wd, gint width, gint *minimum, gint *natural) {
	ak_toolbar_get_preferred_height(wd, minimum, natural);
}

static void ak_toolbar_get_preferred_width_for_height(GtkWidget *wd, gint height, gint *minimum, gint *natural) {
	ak_toolbar_get_preferred_width(wd, minimum, natural);
}

static GtkSizeRequestMode ak_toolbar_get_request_mode(GtkWidget *wd) { return GTK_SIZE_REQUEST_CONSTANT_SIZE; }

static gboolean ak_more_sync_idle(gpointer data) {
	AkToolbar *t = data;
	t->sync = 0;
	if (t->w != NULL) ak_more_sync_now(t->w);
	return G_SOURCE_REMOVE;
}

static void ak_toolbar_size_allocate(GtkWidget *wd, GtkAllocation *a) {
	AkToolbar *t = AK_TOOLBAR(wd);
	gtk_widget_set_allocation(wd, a);
	GtkBorder pad = ak_toolbar_pad(wd);
	int x0 = a->x + pad.left, x1 = a->x + a->width - pad.right;
	int y = a->y + pad.top, h = a->height - pad.top - pad.bottom;
	if (h < 1) h = 1;
	int room = x1 - x0;

	int title_min = 0, title_nat = 0, more_nat = 0, cm;
	if (ak_shown(t->title)) gtk_widget_get_preferred_width(t->title, &title_min, &title_nat);
	if (ak_shown(t->more)) gtk_widget_get_preferred_width(t->more, &cm, &more_nat);

	// Every shown button at its natural width, or the pinned ones, More
	// and then the others by priority for as long as they fit.
	int all = title_min, pinned = title_min + more_nat;
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		it->kept = 0;
		if (!ak_shown(it->wd)) continue;
		int cn;
		gtk_widget_get_preferred_width(it->wd, &cm, &cn);
		all += cn;
		if (it->priority == AK_PINNED) pinned += cn;
	}
	int overflow = 0;
	if (all <= room) {
		for (GList *l = t->items; l != NULL; l = l->next) ((akItem *)l->data)->kept = 1;
	} else {
		int budget = room - pinned;
		int stop = 0;
		// Highest priority first; among equals, the first added.
		for (;;) {
			akItem *best = NULL;
			for (GList *l = t->items; l != NULL; l = l->next) {
				akItem *it = l->data;
				if (it->kept != 0 || it->priority == AK_PINNED || !ak_shown(it->wd)) continue;
				if (best == NULL || it->priority > best->priority) best = it;
			}
			if (best == NULL) break;
			int cn;
			gtk_widget_get_preferred_width(best->wd, &cm, &cn);
			if (!stop && cn <= budget) {
				best->kept = 1;
				budget -= cn;
			} else {
				best->kept = -1; // goes to More, and so does every lower one
				stop = 1;
				overflow++;
			}
		}
		for (GList *l = t->items; l != NULL; l = l->next) {
			akItem *it = l->data;
			if (it->priority == AK_PINNED) it->kept = 1;
			else if (it->kept == -1) it->kept = 0;
		}
	}

	// Lay out: start buttons from the left, end buttons from the right,
	// More left of the end buttons, the title in between.
	GString *kept = g_string_new(NULL);
	int left = x0, right = x1;
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (!ak_shown(it->wd)) continue;
		int cn;
		gtk_widget_get_preferred_width(it->wd, &cm, &cn);
		GtkAllocation c = {0, y, cn, h};
		if (it->kept) {
			g_string_append_printf(kept, "%d,", GPOINTER_TO_INT(g_object_get_data(G_OBJECT(it->wd), "ak-id")));
			if (it->end) { right -= cn; c.x = right; } else { c.x = left; left += cn; }
		} else {
			c.x = x0;
		}
		gtk_widget_set_child_visible(it->wd, it->kept);
		gtk_widget_size_allocate(it->wd, &c);
	}
	if (ak_shown(t->more)) {
		GtkAllocation c = {x0, y, more_nat, h};
		if (overflow > 0) { right -= more_nat; c.x = right; }
		gtk_widget_set_child_visible(t->more, overflow > 0);
		gtk_widget_size_allocate(t->more, &c);
	}
	if (ak_shown(t->title)) {
		GtkAllocation c = {left, y, right - left, h};
		if (c.width < 1) { c.width = 1; }
		gtk_widget_size_allocate(t->title, &c);
	}
	t->overflow = overflow;
	if (strcmp(kept->str, t->kept->str) != 0) {
		g_string_assign(t->kept, kept->str);
		// The More panel (when it shows) lists what left the bar: refresh
		// it after this allocation, never inside it.
		if (t->w != NULL && t->sync == 0) t->sync = g_idle_add(ak_more_sync_idle, t);
	}
	g_string_free(kept, TRUE);
}

static gboolean ak_toolbar_draw(GtkWidget *wd, cairo_t *cr) {
	GtkStyleContext *sc = gtk_widget_get_style_context(wd);
	int width = gtk_widget_get_allocated_width(wd), height = gtk_widget_get_allocated_height(wd);
	gtk_render_background(sc, cr, 0, 0, width, height);
	gtk_render_frame(sc, cr, 0, 0, width, height);
	return GTK_WIDGET_CLASS(ak_toolbar_parent_class)->draw(wd, cr);
}

static void ak_toolbar_forall(GtkContainer *c, gboolean internals, GtkCallback cb, gpointer data) {
	AkToolbar *t = AK_TOOLBAR(c);
	// In the order a screen reader and the focus should meet them: the
	// start buttons, the title, More, the end buttons right to left
	// reversed (so left to right).
	GList *copy = NULL;
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (!it->end) copy = g_list_append(copy, it->wd);
	}
	if (t->title != NULL) copy = g_list_append(copy, t->title);
	if (t->more != NULL) copy = g_list_append(copy, t->more);
	for (GList *l = g_list_last(t->items); l != NULL; l = l->prev) {
		akItem *it = l->data;
		if (it->end) copy = g_list_append(copy, it->wd);
	}
	// cb may remove the child it is given: walk a copy.
	for (GList *l = copy; l != NULL; l = l->next) cb(GTK_WIDGET(l->data), data);
	g_list_free(copy);
}

static void ak_toolbar_remove(GtkContainer *c, GtkWidget *child) {
	AkToolbar *t = AK_TOOLBAR(c);
	gboolean was_visible = gtk_widget_get_visible(child);
	if (child == t->title) t->title = NULL;
	else if (child == t->more) t->more = NULL;
	else {
		for (GList *l = t->items; l != NULL; l = l->next) {
			akItem *it = l->data;
			if (it->wd == child) {
				t->items = g_list_delete_link(t->items, l);
				g_free(it);
				break;
			}
		}
	}
	gtk_widget_unparent(child);
	if (was_visible) gtk_widget_queue_resize(GTK_WIDGET(c));
}

static void ak_toolbar_add(GtkContainer *c, GtkWidget *child) {
	akItem *it = g_new0(akItem, 1);
	it->wd = child;
	AK_TOOLBAR(c)->items = g_list_append(AK_TOOLBAR(c)->items, it);
	gtk_widget_set_parent(child, GTK_WIDGET(c));
}

static GType ak_toolbar_child_type(GtkContainer *c) { return GTK_TYPE_WIDGET; }

// The window goes with its toolbar: no refresh of its More panel after.
static void ak_toolbar_destroy(GtkWidget *wd) {
	AkToolbar *t = AK_TOOLBAR(wd);
	if (t->sync != 0) g_source_remove(t->sync);
	t->sync = 0;
	t->w = NULL;
	GTK_WIDGET_CLASS(ak_toolbar_parent_class)->destroy(wd);
}

static void ak_toolbar_finalize(GObject *o) {
	AkToolbar *t = AK_TOOLBAR(o);
	if (t->sync != 0) g_source_remove(t->sync);
	g_string_free(t->kept, TRUE);
	G_OBJECT_CLASS(ak_toolbar_parent_class)->finalize(o);
}

static void ak_toolbar_class_init(AkToolbarClass *k) {
	GObjectClass *oc = G_OBJECT_CLASS(k);
	GtkWidgetClass *wc = GTK_WIDGET_CLASS(k);
	GtkContainerClass *cc = GTK_CONTAINER_CLASS(k);
	oc->finalize = ak_toolbar_finalize;
	wc->get_preferred_width = ak_toolbar_get_preferred_width;
	wc->get_preferred_height = ak_toolbar_get_preferred_height;
	wc->get_preferred_height_for_width = ak_toolbar_get_preferred_height_for_width;
	wc->get_preferred_width_for_height = ak_toolbar_get_preferred_width_for_height;
	wc->get_request_mode = ak_toolbar_get_request_mode;
	wc->size_allocate = ak_toolbar_size_allocate;
	wc->draw = ak_toolbar_draw;
	wc->destroy = ak_toolbar_destroy;
	cc->forall = ak_toolbar_forall;
	cc->add = ak_toolbar_add;
	cc->remove = ak_toolbar_remove;
	cc->child_type = ak_toolbar_child_type;
	gtk_widget_class_set_css_name(wc, "box");
	gtk_widget_class_set_accessible_role(wc, ATK_ROLE_TOOL_BAR);
}

// ---- the window's toolbar and More panel --------------------------------

static akItem *ak_toolbar_item(AkToolbar *t, int id) {
	for (GList *l = t->items; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (GPOINTER_TO_INT(g_object_get_data(G_OBJECT(it->wd), "ak-id")) == id) return it;
	}
	return NULL;
}

// ak_toolbar_find is the toolbar button with id (on the bar or not); NULL for none.
GtkWidget *ak_toolbar_find(akWindow *w, int id) {
	akItem *it = ak_toolbar_item(AK_TOOLBAR(w->toolbar), id);
	return it == NULL ? NULL : it->wd;
}

// More is a toggle button, pressed while its panel shows, so a screen
// reader says whether the panel is open ("toggle button, pressed").
// GTK runs a toggle button's own click handler first: b's state is the
// new one here.
static void ak_more_clicked(GtkButton *b, gpointer data) {
	akWindow *w = data;
	if (w->more_syncing) return; // ak_more_button_sync setting it
	ak_window_more_show(w, gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(b)));
}

// ak_more_button_sync presses More exactly while its panel shows.
static void ak_more_button_sync(akWindow *w) {
	if (w->more_button == NULL) return;
	w->more_syncing = 1;
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w->more_button), ak_window_more_visible(w));
	w->more_syncing = 0;
}

static void ak_more_close_clicked(GtkButton *b, gpointer data) {
	akWindow *w = data;
	ak_window_more_show(w, 0);
	if (w->more_button != NULL && gtk_widget_get_mapped(w->more_button)) gtk_widget_grab_focus(w->more_button);
}

// Escape in the More panel closes it, as its Close does.
static gboolean ak_more_key(GtkWidget *p, GdkEventKey *e, gpointer data) {
	if (e->keyval != GDK_KEY_Escape) return FALSE;
	ak_more_close_clicked(NULL, data);
	return TRUE;
}

// A tap on a button's twin in the More panel closes the panel and clicks
// the button itself (on the GTK loop, as a tap on the bar would).
static void ak_twin_clicked(GtkButton *b, gpointer data) {
	akWindow *w = data;
	int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "ak-id"));
	ak_window_more_show(w, 0);
	GtkWidget *orig = ak_toolbar_find(w, id);
	if (orig != NULL && gtk_widget_is_sensitive(orig)) gtk_button_clicked(GTK_BUTTON(orig));
}

// Any button on the bar closes the More panel.
static void ak_tool_clicked_close_more(GtkButton *b, gpointer data) {
	akWindow *w = data;
	if (ak_window_more_visible(w)) ak_window_more_show(w, 0);
}

// ak_inside says whether (x, y) in the window's coordinates is on wd.
static int ak_inside(akWindow *w, GtkWidget *wd, double x, double y) {
	if (wd == NULL || !gtk_widget_get_mapped(wd)) return 0;
	int wx = 0, wy = 0;
	if (!gtk_widget_translate_coordinates(wd, w->win, 0, 0, &wx, &wy)) return 0;
	return x >= wx && y >= wy && x < wx + gtk_widget_get_allocated_width(wd) && y < wy + gtk_widget_get_allocated_height(wd);
}

// A tap or click anywhere but on the More panel or More closes the panel
// (and goes on to whatever it landed on), as a resident expects of it.
static void ak_more_outside(GtkGestureMultiPress *g, gint n, gdouble x, gdouble y, gpointer data) {
	akWindow *w = data;
	if (!ak_window_more_visible(w)) return;
	if (ak_inside(w, w->more, x, y) || ak_inside(w, w->more_button, x, y)) return;
	ak_window_more_show(w, 0);
}

void ak_toolbar_build(akWindow *w, const char *title) {
	AkToolbar *t = g_object_new(ak_toolbar_get_type(), NULL);
	t->w = w;
	w->toolbar = GTK_WIDGET(t);
	gtk_widget_set_name(w->toolbar, "ak-toolbar");
	ak_name(w->toolbar, "Kiosk toolbar");

	w->title = gtk_label_new(title);
	gtk_style_context_add_class(gtk_widget_get_style_context(w->title), "ak-title");
	gtk_label_set_ellipsize(GTK_LABEL(w->title), PANGO_ELLIPSIZE_END);
	gtk_label_set_xalign(GTK_LABEL(w->title), 0.5);
	t->title = w->title;
	gtk_widget_set_parent(w->title, w->toolbar);

	w->more_button = gtk_toggle_button_new_with_label("More");
	gtk_widget_set_name(w->more_button, "ak-more-button");
	ak_name(w->more_button, "More: the buttons that do not fit on the bar");
	gtk_widget_set_tooltip_text(w->more_button, "More: the buttons that do not fit on the bar");
	gtk_widget_set_can_focus(w->more_button, TRUE);
	g_object_set_data(G_OBJECT(w->more_button), "ak-id", GINT_TO_POINTER(AK_TOOL_MORE));
	g_signal_connect(w->more_button, "clicked", G_CALLBACK(ak_more_clicked), w);
	t->more = w->more_button;
	gtk_widget_set_parent(w->more_button, w->toolbar);
	// Seen first by the window (capture phase), never claimed.
	w->more_outside = gtk_gesture_multi_press_new(w->win);
	gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(w->more_outside), GTK_PHASE_CAPTURE);
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(w->more_outside), 0);
	g_signal_connect(w->more_outside, "pressed", G_CALLBACK(ak_more_outside), w);
	w->more_title_text = g_strdup("More");
	w->more_close_text = g_strdup("Close");
}

void ak_toolbar_free(akWindow *w) {
	g_clear_object(&w->more_outside);
	g_free(w->more_title_text);
	g_free(w->more_close_text);
}

void ak_toolbar_add_tool(akWindow *w, GtkWidget *b, int end) {
	AkToolbar *t = AK_TOOLBAR(w->toolbar);
	akItem *it = g_new0(akItem, 1);
	it->wd = b;
	it->end = end;
	t->items = g_list_append(t->items, it);
	gtk_widget_set_parent(b, w->toolbar);
	g_signal_connect(b, "clicked", G_CALLBACK(ak_tool_clicked_close_more), w);
	gtk_widget_queue_resize(w->toolbar);
}

int ak_window_tool_priority(akWindow *w, int id, int priority) {
	akItem *it = ak_toolbar_item(AK_TOOLBAR(w->toolbar), id);
	if (it == NULL) return 0;
	it->priority = priority;
	gtk_widget_queue_resize(w->toolbar);
	return 1;
}

// ak_window_tool_place: 0 no such button, 1 on the bar, 2 in the More
// panel (off the bar, offered by More), 3 hidden (the shell hid it).
int ak_window_tool_place(akWindow *w, int id) {
	GtkWidget *b = ak_toolbar_find(w, id);
	if (b == NULL) return 0;
	if (!gtk_widget_get_visible(b)) return 3;
	return gtk_widget_get_child_visible(b) ? 1 : 2;
}

void ak_window_toolbar_width(akWindow *w, int *minimum, int *natural) {
	gtk_widget_get_preferred_width(w->toolbar, minimum, natural);
}

void ak_window_more_names(akWindow *w, const char *label, const char *name, const char *close_label) {
	gtk_button_set_label(GTK_BUTTON(w->more_button), label);
	ak_name(w->more_button, name);
	gtk_widget_set_tooltip_text(w->more_button, name);
	g_free(w->more_title_text);
	g_free(w->more_close_text);
	w->more_title_text = g_strdup(label);
	w->more_close_text = g_strdup(close_label);
	ak_more_sync_now(w);
}

static const char *ak_more_css =
	"#ak-more { background: #ffffff; border: 4px solid #0b0c0c; padding: 16px; }"
	"#ak-more label.ak-more-title { color: #0b0c0c; font-size: 30px; font-weight: bold; margin-bottom: 4px; }"
	"#ak-more button { min-height: 64px; min-width: 280px; padding: 0 16px; font-size: 22px; font-weight: bold;"
	"  color: #0b0c0c; background: #ffffff; border-radius: 0; border: 3px solid #0b0c0c;"
	"  background-image: none; box-shadow: none; text-shadow: none; }"
	"#ak-more button label { color: inherit; }"
	"#ak-more button:focus { border-color: #ffdd00; box-shadow: inset 0 0 0 3px #0b0c0c; }"
	"#ak-more button.ak-more-close { color: #ffffff; background: #1d70b8; border-color: #1d70b8; }"
	"window.ak-hc #ak-more { background: #000000; border-color: #ffdd00; }"
	"window.ak-hc #ak-more label.ak-more-title { color: #ffffff; }"
	"window.ak-hc #ak-more button, window.ak-hc #ak-more button.ak-more-close { background: #000000; color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc #ak-more button:focus { border-color: #ffffff; box-shadow: none; }";

// ak_more_panel is the window's More panel, made on first use: a box in
// the window's overlay, at the top right under the toolbar.
static GtkWidget *ak_more_panel(akWindow *w) {
	if (w->more != NULL) return w->more;
	GtkCssProvider *css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, ak_more_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);
	GtkWidget *p = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_widget_set_name(p, "ak-more");
	gtk_widget_set_halign(p, GTK_ALIGN_END);
	gtk_widget_set_valign(p, GTK_ALIGN_START);
	gtk_widget_set_margin_end(p, 12);
	gtk_widget_set_margin_top(p, 8); // under the bars: window.c's ak_overlay_position
	gtk_widget_set_no_show_all(p, TRUE);
	g_signal_connect(p, "key-press-event", G_CALLBACK(ak_more_key), w);
	AtkObject *a = gtk_widget_get_accessible(p);
	if (a != NULL) atk_object_set_role(a, ATK_ROLE_PANEL);
	gtk_overlay_add_overlay(GTK_OVERLAY(w->overlay), p);
	w->more = p;
	return p;
}

// ak_more_fill puts in the panel a twin of every button off the bar, in
// the bar's order, then Close.
static void ak_more_fill(akWindow *w) {
	AkToolbar *t = AK_TOOLBAR(w->toolbar);
	GtkWidget *p = ak_more_panel(w);
	GList *kids = gtk_container_get_children(GTK_CONTAINER(p));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_destroy(GTK_WIDGET(l->data));
	g_list_free(kids);
	ak_name(p, w->more_title_text);
	GtkWidget *title = gtk_label_new(w->more_title_text);
	gtk_label_set_xalign(GTK_LABEL(title), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(title), "ak-more-title");
	gtk_box_pack_start(GTK_BOX(p), title, FALSE, FALSE, 0);
	// The bar's order: start buttons left to right, then end buttons
	// right to left reversed (so left to right).
	GList *order = NULL;
	for (GList *l = t->items; l != NULL; l = l->next) if (!((akItem *)l->data)->end) order = g_list_append(order, l->data);
	for (GList *l = g_list_last(t->items); l != NULL; l = l->prev) if (((akItem *)l->data)->end) order = g_list_append(order, l->data);
	for (GList *l = order; l != NULL; l = l->next) {
		akItem *it = l->data;
		if (!gtk_widget_get_visible(it->wd) || gtk_widget_get_child_visible(it->wd)) continue;
		GtkWidget *b = gtk_button_new_with_label(gtk_button_get_label(GTK_BUTTON(it->wd)));
		const char *wn = gtk_widget_get_name(it->wd);
		if (wn != NULL && g_str_has_prefix(wn, "ak-")) gtk_widget_set_name(b, wn);
		AtkObject *oa = gtk_widget_get_accessible(it->wd);
		ak_name(b, oa != NULL ? atk_object_get_name(oa) : gtk_button_get_label(GTK_BUTTON(it->wd)));
		char *tip = gtk_widget_get_tooltip_text(it->wd);
		gtk_widget_set_tooltip_text(b, tip);
		g_free(tip);
		gtk_widget_set_sensitive(b, gtk_widget_get_sensitive(it->wd));
		gtk_widget_set_can_focus(b, TRUE);
		g_object_set_data(G_OBJECT(b), "ak-id", g_object_get_data(G_OBJECT(it->wd), "ak-id"));
		g_object_set_data(G_OBJECT(b), "ak-twin", GINT_TO_POINTER(1));
		g_signal_connect(b, "clicked", G_CALLBACK(ak_twin_clicked), w);
		gtk_box_pack_start(GTK_BOX(p), b, FALSE, FALSE, 0);
	}
	g_list_free(order);
	GtkWidget *c = gtk_button_new_with_label(w->more_close_text);
	gtk_style_context_add_class(gtk_widget_get_style_context(c), "ak-more-close");
	ak_name(c, w->more_close_text);
	gtk_widget_set_can_focus(c, TRUE);
	g_object_set_data(G_OBJECT(c), "ak-id", GINT_TO_POINTER(AK_TOOL_MORE_CLOSE));
	g_signal_connect(c, "clicked", G_CALLBACK(ak_more_close_clicked), w);
	gtk_box_pack_start(GTK_BOX(p), c, FALSE, FALSE, 0);
}

// ak_more_present fills the panel and shows it; focus: its first button
// takes the focus.
static void ak_more_present(akWindow *w, int focus) {
	ak_more_fill(w);
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->more));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_show_all(GTK_WIDGET(l->data));
	gtk_widget_show(w->more);
	// kids->data is the title.
	if (focus && kids != NULL && kids->next != NULL) gtk_widget_grab_focus(GTK_WIDGET(kids->next->data));
	g_list_free(kids);
}

void ak_window_more_show(akWindow *w, int show) {
	if (!show) {
		if (w->more != NULL && gtk_widget_get_visible(w->more)) {
			gtk_widget_hide(w->more);
			GList *kids = gtk_container_get_children(GTK_CONTAINER(w->more));
			for (GList *l = kids; l != NULL; l = l->next) gtk_widget_destroy(GTK_WIDGET(l->data));
			g_list_free(kids);
		}
	} else if (AK_TOOLBAR(w->toolbar)->overflow > 0) {
		ak_more_present(w, 1);
	}
	ak_more_button_sync(w);
}

int ak_window_more_pressed(akWindow *w) {
	if (w->more_button == NULL) return 0;
	AtkStateSet *st = atk_object_ref_state_set(gtk_widget_get_accessible(w->more_button));
	int on = atk_state_set_contains_state(st, ATK_STATE_CHECKED) || atk_state_set_contains_state(st, ATK_STATE_PRESSED);
	g_object_unref(st);
	return on;
}

int ak_window_more_visible(akWindow *w) { return w->more != NULL && gtk_widget_get_visible(w->more); }

// ak_more_sync_now refreshes the More panel when it shows: the buttons
// off the bar changed, or a label or name did (the focus stays in the
// panel when it was there). Nothing left off the bar closes it.
static void ak_more_sync_now(akWindow *w) {
	if (!ak_window_more_visible(w)) return;
	if (AK_TOOLBAR(w->toolbar)->overflow == 0) {
		ak_window_more_show(w, 0);
		return;
	}
	GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(w->win));
	int had = focus != NULL && gtk_widget_is_ancestor(focus, w->more);
	ak_more_present(w, had);
}

void ak_more_sync(akWindow *w) { ak_more_sync_now(w); }

// ak_window_focused is the id of the button with the keyboard focus (0
// for none); *in_more: it is a twin in the More panel.
int ak_window_focused(akWindow *w, int *in_more) {
	*in_more = 0;
	GtkWidget *f = gtk_window_get_focus(GTK_WINDOW(w->win));
	if (f == NULL || !GTK_IS_BUTTON(f) || !gtk_widget_has_focus(f)) return 0;
	*in_more = w->more != NULL && gtk_widget_is_ancestor(f, w->more);
	return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f), "ak-id"));
}
