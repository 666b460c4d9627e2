//go:build cgo && linux

// The "Your files" panel: a small native panel over the top right of the
// content, under the toolbar, listing the session's files (what the shell
// gives it: names and a detail each) with a Close button; and showing or
// hiding a toolbar button (the one that opens it).

#include <string.h>
#include "internal.h"

static const char *ak_files_css =
	"#ak-files { background: #ffffff; border: 4px solid #0b0c0c; padding: 16px; }"
	"#ak-files label { color: #0b0c0c; }"
	"#ak-files label.ak-files-title { font-size: 30px; font-weight: bold; }"
	"#ak-files label.ak-files-status { font-size: 22px; font-weight: bold; background: #ffdd00; padding: 8px; }"
	"#ak-files label.ak-files-note { font-size: 18px; }"
	"#ak-files list { background: #ffffff; }"
	"#ak-files row { padding: 10px 4px; border-bottom: 2px solid #b1b4b6; }"
	"#ak-files label.ak-files-name { font-size: 22px; font-weight: bold; }"
	"#ak-files label.ak-files-detail { font-size: 18px; }"
	"#ak-files button { min-height: 64px; min-width: 160px; font-size: 22px; font-weight: bold; margin-top: 12px;"
	"  color: #ffffff; background: #1d70b8; border-radius: 0; border: 3px solid #1d70b8;"
	"  background-image: none; box-shadow: none; text-shadow: none; }"
	"#ak-files button label { color: inherit; }"
	"#ak-files button:focus { border-color: #ffdd00; }"
	"window.ak-hc #ak-files { background: #000000; border-color: #ffdd00; }"
	"window.ak-hc #ak-files label { color: #ffffff; }"
	"window.ak-hc #ak-files label.ak-files-status { color: #000000; background: #ffdd00; }"
	"window.ak-hc #ak-files list, window.ak-hc #ak-files row { background: #000000; border-bottom-color: #ffffff; }"
	"window.ak-hc #ak-files button { background: #000000; color: #ffdd00; border-color: #ffdd00; }";

// ak_files_panel is the window's files panel, made on first use.
static GtkWidget *ak_files_panel(akWindow *w) {
	GtkWidget *p = g_object_get_data(G_OBJECT(w->win), "ak-files");
	if (p != NULL) return p;
	GtkCssProvider *css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, ak_files_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);
	p = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_widget_set_name(p, "ak-files");
	gtk_widget_set_halign(p, GTK_ALIGN_END);
	gtk_widget_set_valign(p, GTK_ALIGN_START);
	gtk_widget_set_size_request(p, 440, -1);
	gtk_widget_set_margin_end(p, 12);
	gtk_widget_set_margin_top(p, 8); // under the bars: window.c's ak_overlay_position
	gtk_widget_set_no_show_all(p, TRUE);
	gtk_overlay_add_overlay(GTK_OVERLAY(w->overlay), p);
	g_object_set_data(G_OBJECT(w->win), "ak-files", p);
	return p;
}

static GtkWidget *ak_files_label(GtkWidget *box, const char *text, const char *cls) {
	GtkWidget *l = gtk_label_new(text);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 34);
	gtk_style_context_add_class(gtk_widget_get_style_context(l), cls);
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
	return l;
}

// ak_window_files_show fills and shows the panel: title, status (may be
// empty), note, the rows ("name\tdetail\n" each; empty shows the empty
// text), the list's accessible name and the Close button (close_id).
void ak_window_files_show(akWindow *w, const char *title, const char *status, const char *note, const char *empty,
		const char *list_name, const char *rows, const char *close_label, int close_id) {
	GtkWidget *p = ak_files_panel(w);
	GList *kids = gtk_container_get_children(GTK_CONTAINER(p));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_destroy(GTK_WIDGET(l->data));
	g_list_free(kids);
	ak_name(p, title);
	ak_files_label(p, title, "ak-files-title");
	if (status != NULL && status[0] != 0) {
		GtkWidget *s = ak_files_label(p, status, "ak-files-status");
		AtkObject *a = gtk_widget_get_accessible(s);
		if (a != NULL) atk_object_set_role(a, ATK_ROLE_NOTIFICATION);
	}
	GtkWidget *list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(list), GTK_SELECTION_NONE);
	ak_name(list, list_name);
	int n = 0;
	char **lines = g_strsplit(rows != NULL ? rows : "", "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (**line == 0) continue;
		char **f = g_strsplit(*line, "\t", 2);
		GtkWidget *row = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
		ak_files_label(row, f[0], "ak-files-name");
		if (f[1] != NULL) ak_files_label(row, f[1], "ak-files-detail");
		gtk_list_box_insert(GTK_LIST_BOX(list), row, -1);
		GtkWidget *lr = gtk_widget_get_parent(row);
		char *name = g_strdup_printf("%s, %s", f[0], f[1] != NULL ? f[1] : "");
		ak_name(lr, name);
		g_free(name);
		g_strfreev(f);
		n++;
	}
	g_strfreev(lines);
	if (n == 0) ak_files_label(p, empty, "ak-files-note");
	else gtk_box_pack_start(GTK_BOX(p), list, FALSE, FALSE, 0);
	ak_files_label(p, note, "ak-files-note");
	GtkWidget *b = gtk_button_new_with_label(close_label);
	ak_name(b, close_label);
	g_object_set_data(G_OBJECT(b), "ak-id", GINT_TO_POINTER(close_id));
	g_signal_connect(b, "clicked", G_CALLBACK(ak_button_clicked), (gpointer)w->h);
	gtk_widget_set_halign(b, GTK_ALIGN_END);
	gtk_box_pack_start(GTK_BOX(p), b, FALSE, FALSE, 0);
	if (n == 0) gtk_widget_destroy(list);
	kids = gtk_container_get_children(GTK_CONTAINER(p));
	for (GList *l = kids; l != NULL; l = l->next) gtk_widget_show_all(GTK_WIDGET(l->data));
	g_list_free(kids);
	gtk_widget_show(p);
	gtk_widget_grab_focus(b);
}

void ak_window_files_hide(akWindow *w) {
	GtkWidget *p = g_object_get_data(G_OBJECT(w->win), "ak-files");
	if (p != NULL) gtk_widget_hide(p);
}

int ak_window_files_visible(akWindow *w) {
	GtkWidget *p = g_object_get_data(G_OBJECT(w->win), "ak-files");
	return p != NULL && gtk_widget_get_visible(p);
}

// ak_window_files_text is what the panel shows, label by label
// ("\n"-separated; tests and screen-reader checks); the caller frees it.
static void ak_collect_labels(GtkWidget *wd, GString *out) {
	if (GTK_IS_LABEL(wd) && gtk_widget_get_visible(wd)) {
		g_string_append(out, gtk_label_get_text(GTK_LABEL(wd)));
		g_string_append_c(out, '\n');
		return;
	}
	if (!GTK_IS_CONTAINER(wd)) return;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(wd));
	for (GList *l = kids; l != NULL; l = l->next) ak_collect_labels(GTK_WIDGET(l->data), out);
	g_list_free(kids);
}

char *ak_window_files_text(akWindow *w) {
	GString *out = g_string_new(NULL);
	GtkWidget *p = g_object_get_data(G_OBJECT(w->win), "ak-files");
	if (p != NULL && gtk_widget_get_visible(p)) ak_collect_labels(p, out);
	return g_string_free(out, FALSE);
}

// ak_window_files_names is what a screen reader says for the panel, its
// list and each row ("\n"-separated); the caller frees it.
char *ak_window_files_names(akWindow *w) {
	GString *out = g_string_new(NULL);
	GtkWidget *p = g_object_get_data(G_OBJECT(w->win), "ak-files");
	if (p == NULL || !gtk_widget_get_visible(p)) return g_string_free(out, FALSE);
	AtkObject *a = gtk_widget_get_accessible(p);
	g_string_append_printf(out, "%s\n", a ? atk_object_get_name(a) : "");
	GList *kids = gtk_container_get_children(GTK_CONTAINER(p));
	for (GList *l = kids; l != NULL; l = l->next) {
		if (!GTK_IS_LIST_BOX(l->data)) continue;
		AtkObject *la = gtk_widget_get_accessible(GTK_WIDGET(l->data));
		g_string_append_printf(out, "%s\n", la ? atk_object_get_name(la) : "");
		GList *rows = gtk_container_get_children(GTK_CONTAINER(l->data));
		for (GList *r = rows; r != NULL; r = r->next) {
			AtkObject *ra = gtk_widget_get_accessible(GTK_WIDGET(r->data));
			g_string_append_printf(out, "%s\n", ra ? atk_object_get_name(ra) : "");
		}
		g_list_free(rows);
	}
	g_list_free(kids);
	return g_string_free(out, FALSE);
}

// ak_window_tool_visible shows or hides the toolbar button with id; 0
// when there is none.
int ak_window_tool_visible(akWindow *w, int id, int visible) {
	GtkWidget *b = ak_toolbar_find(w, id);
	if (b == NULL) return 0;
	gtk_widget_set_visible(b, visible);
	ak_more_sync(w);
	return 1;
}
