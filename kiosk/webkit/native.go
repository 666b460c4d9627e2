//go:build cgo && linux

package webkit

/*
#cgo pkg-config: webkit2gtk-4.1 gtk+-3.0
#include "native.h"
#include <string.h>

// ---- dispatch helpers ---------------------------------------------------

static int ak_emit(uintptr_t h, int kind, const char *uri, const char *str, int flags, int num) {
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
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, ak_idle_cb, (gpointer)h, NULL);
}

// ---- input activity (for the idle timer) ------------------------------

static volatile gint64 ak_last_input_us = 0;
static volatile guint64 ak_input_count = 0;

static void ak_event_handler(GdkEvent *event, gpointer data) {
	switch (event->type) {
	case GDK_KEY_PRESS:
	case GDK_BUTTON_PRESS:
	case GDK_TOUCH_BEGIN:
	case GDK_TOUCH_UPDATE:
	case GDK_SCROLL:
		ak_last_input_us = g_get_monotonic_time();
		ak_input_count++;
		break;
	default:
		break;
	}
	gtk_main_do_event(event);
}

guint64 ak_input_count_get(void) { return ak_input_count; }
gint64 ak_idle_us(void) {
	if (ak_last_input_us == 0) return -1;
	return g_get_monotonic_time() - ak_last_input_us;
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

char *ak_clipboard_text(void) {
	return gtk_clipboard_wait_for_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD));
}

// ---- web context --------------------------------------------------------

static void ak_scheme_cb(WebKitURISchemeRequest *req, gpointer data) {
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_SCHEME;
	ev.uri = webkit_uri_scheme_request_get_uri(req);
	ev.str = webkit_uri_scheme_request_get_http_method(req);
	ev.ptr = req;
	akDispatch((uintptr_t)data, &ev);
}

void ak_scheme_finish(WebKitURISchemeRequest *req, int status, const char *ctype, const void *body, gsize len) {
	GBytes *bytes = g_bytes_new(body, len);
	GInputStream *in = g_memory_input_stream_new_from_bytes(bytes);
	WebKitURISchemeResponse *resp = webkit_uri_scheme_response_new(in, (gint64)len);
	webkit_uri_scheme_response_set_status(resp, status, NULL);
	webkit_uri_scheme_response_set_content_type(resp, ctype);
	SoupMessageHeaders *h = soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
	soup_message_headers_append(h, "Cache-Control", "no-store");
	webkit_uri_scheme_response_set_http_headers(resp, h);
	webkit_uri_scheme_request_finish_with_response(req, resp);
	g_object_unref(resp);
	g_object_unref(in);
	g_bytes_unref(bytes);
}

static void ak_download_started(WebKitWebContext *ctx, WebKitDownload *dl, gpointer data) {
	webkit_download_cancel(dl);
	ak_emit((uintptr_t)data, AK_DOWNLOAD, NULL, NULL, 0, 0);
}

WebKitWebContext *ak_context_new(uintptr_t h, const char *scheme, int cache_model) {
	WebKitWebsiteDataManager *dm = webkit_website_data_manager_new_ephemeral();
	WebKitWebContext *ctx = webkit_web_context_new_with_website_data_manager(dm);
	g_object_unref(dm);
	webkit_web_context_set_sandbox_enabled(ctx, TRUE);
	webkit_web_context_set_cache_model(ctx, (WebKitCacheModel)cache_model);
	webkit_web_context_set_spell_checking_enabled(ctx, FALSE);
	if (scheme != NULL && scheme[0] != 0) {
		webkit_web_context_register_uri_scheme(ctx, scheme, ak_scheme_cb, (gpointer)h, NULL);
		WebKitSecurityManager *sm = webkit_web_context_get_security_manager(ctx);
		webkit_security_manager_register_uri_scheme_as_secure(sm, scheme);
	}
	g_signal_connect(ctx, "download-started", G_CALLBACK(ak_download_started), (gpointer)h);
	return ctx;
}

int ak_context_ephemeral(WebKitWebContext *ctx) {
	return webkit_website_data_manager_is_ephemeral(webkit_web_context_get_website_data_manager(ctx));
}

int ak_context_sandboxed(WebKitWebContext *ctx) {
	return webkit_web_context_get_sandbox_enabled(ctx);
}

// ---- web view -----------------------------------------------------------

static gboolean ak_decide_policy(WebKitWebView *v, WebKitPolicyDecision *d, WebKitPolicyDecisionType type, gpointer data) {
	uintptr_t h = (uintptr_t)data;
	int verdict = AK_IGNORE;
	switch (type) {
	case WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION:
	case WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION: {
		WebKitNavigationAction *a = webkit_navigation_policy_decision_get_navigation_action(WEBKIT_NAVIGATION_POLICY_DECISION(d));
		WebKitURIRequest *r = webkit_navigation_action_get_request(a);
		int flags = 0;
		if (webkit_navigation_action_is_redirect(a)) flags |= AK_FLAG_REDIRECT;
		if (webkit_navigation_action_is_user_gesture(a)) flags |= AK_FLAG_USER_GESTURE;
		int kind = type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION ? AK_DECIDE_NAVIGATION : AK_DECIDE_NEW_WINDOW;
		verdict = ak_emit(h, kind, webkit_uri_request_get_uri(r), webkit_uri_request_get_http_method(r), flags,
			(int)webkit_navigation_action_get_navigation_type(a));
		break;
	}
	case WEBKIT_POLICY_DECISION_TYPE_RESPONSE: {
		WebKitResponsePolicyDecision *rd = WEBKIT_RESPONSE_POLICY_DECISION(d);
		WebKitURIRequest *r = webkit_response_policy_decision_get_request(rd);
		WebKitURIResponse *resp = webkit_response_policy_decision_get_response(rd);
		int flags = 0;
		if (webkit_response_policy_decision_is_main_frame_main_resource(rd)) flags |= AK_FLAG_MAIN_FRAME;
		if (webkit_response_policy_decision_is_mime_type_supported(rd)) flags |= AK_FLAG_MIME_SUPPORTED;
		SoupMessageHeaders *hdrs = webkit_uri_response_get_http_headers(resp);
		if (hdrs != NULL) {
			const char *cd = soup_message_headers_get_one(hdrs, "Content-Disposition");
			if (cd != NULL && g_ascii_strncasecmp(cd, "attachment", 10) == 0) flags |= AK_FLAG_ATTACHMENT;
		}
		const char *ruri = webkit_uri_response_get_uri(resp);
		verdict = ak_emit(h, AK_DECIDE_RESPONSE, ruri ? ruri : webkit_uri_request_get_uri(r), NULL, flags,
			(int)webkit_uri_response_get_status_code(resp));
		break;
	}
	default:
		verdict = AK_IGNORE;
	}
	if (verdict == AK_USE) webkit_policy_decision_use(d);
	else webkit_policy_decision_ignore(d);
	return TRUE;
}

static void ak_load_changed(WebKitWebView *v, WebKitLoadEvent e, gpointer data) {
	ak_emit((uintptr_t)data, AK_LOAD_CHANGED, webkit_web_view_get_uri(v), NULL, 0, (int)e);
}

static gboolean ak_load_failed(WebKitWebView *v, WebKitLoadEvent e, gchar *uri, GError *err, gpointer data) {
	int cancelled = g_error_matches(err, WEBKIT_NETWORK_ERROR, WEBKIT_NETWORK_ERROR_CANCELLED) ||
		g_error_matches(err, WEBKIT_POLICY_ERROR, WEBKIT_POLICY_ERROR_FRAME_LOAD_INTERRUPTED_BY_POLICY_CHANGE);
	return ak_emit((uintptr_t)data, AK_LOAD_FAILED, uri, err ? err->message : "", cancelled ? AK_FLAG_CANCELLED : 0, err ? err->code : 0) != 0;
}

static void ak_terminated(WebKitWebView *v, WebKitWebProcessTerminationReason reason, gpointer data) {
	ak_emit((uintptr_t)data, AK_TERMINATED, NULL, NULL, 0, (int)reason);
}

static gboolean ak_true(void) { return TRUE; }

static gboolean ak_context_menu(WebKitWebView *v, WebKitContextMenu *m, GdkEvent *e, WebKitHitTestResult *h, gpointer data) {
	return TRUE; // no context menu, ever
}

static gboolean ak_file_chooser(WebKitWebView *v, WebKitFileChooserRequest *r, gpointer data) {
	webkit_file_chooser_request_cancel(r);
	ak_emit((uintptr_t)data, AK_REFUSED, NULL, "file_chooser", 0, 0);
	return TRUE;
}

static gboolean ak_print(WebKitWebView *v, WebKitPrintOperation *op, gpointer data) {
	ak_emit((uintptr_t)data, AK_REFUSED, NULL, "print", 0, 0);
	return TRUE;
}

static gboolean ak_enter_fullscreen(WebKitWebView *v, gpointer data) {
	return TRUE; // a page may not cover the toolbar
}

static gboolean ak_permission(WebKitWebView *v, WebKitPermissionRequest *r, gpointer data) {
	int kind = AK_PERM_OTHER;
	if (WEBKIT_IS_GEOLOCATION_PERMISSION_REQUEST(r)) kind = AK_PERM_GEOLOCATION;
	else if (WEBKIT_IS_NOTIFICATION_PERMISSION_REQUEST(r)) kind = AK_PERM_NOTIFICATION;
	else if (WEBKIT_IS_USER_MEDIA_PERMISSION_REQUEST(r)) kind = AK_PERM_MEDIA;
	else if (WEBKIT_IS_POINTER_LOCK_PERMISSION_REQUEST(r)) kind = AK_PERM_POINTER_LOCK;
	else if (WEBKIT_IS_MEDIA_KEY_SYSTEM_PERMISSION_REQUEST(r)) kind = AK_PERM_MEDIA_KEYS;
	else if (WEBKIT_IS_DEVICE_INFO_PERMISSION_REQUEST(r)) kind = AK_PERM_DEVICE_INFO;
	else if (WEBKIT_IS_CLIPBOARD_PERMISSION_REQUEST(r)) kind = AK_PERM_CLIPBOARD;
	else if (WEBKIT_IS_WEBSITE_DATA_ACCESS_PERMISSION_REQUEST(r)) kind = AK_PERM_WEBSITE_DATA;
	const char *origin = webkit_web_view_get_uri(v);
	if (ak_emit((uintptr_t)data, AK_PERMISSION, origin, NULL, 0, kind) == AK_USE) webkit_permission_request_allow(r);
	else webkit_permission_request_deny(r);
	return TRUE;
}

static void ak_script_message(WebKitUserContentManager *m, WebKitJavascriptResult *res, gpointer data) {
	JSCValue *val = webkit_javascript_result_get_js_value(res);
	char *s = jsc_value_is_string(val) ? jsc_value_to_string(val) : jsc_value_to_json(val, 0);
	uintptr_t h = (uintptr_t)data;
	ak_emit(h, AK_SCRIPT_MESSAGE, NULL, s, 0, 0);
	g_free(s);
}

static GtkWidget *ak_create(WebKitWebView *v, WebKitNavigationAction *a, gpointer data) {
	// window.open reaches here without a NEW_WINDOW_ACTION decision. Never
	// a second window: Go decides, and may load an allowed target in this view.
	WebKitURIRequest *r = webkit_navigation_action_get_request(a);
	int flags = webkit_navigation_action_is_user_gesture(a) ? AK_FLAG_USER_GESTURE : 0;
	ak_emit((uintptr_t)data, AK_DECIDE_NEW_WINDOW, webkit_uri_request_get_uri(r), webkit_uri_request_get_http_method(r),
		flags, (int)webkit_navigation_action_get_navigation_type(a));
	return NULL;
}

WebKitWebView *ak_view_new(WebKitWebContext *ctx, uintptr_t h, const char *msg_handler, const char *user_script) {
	WebKitUserContentManager *ucm = webkit_user_content_manager_new();
	if (msg_handler != NULL && msg_handler[0] != 0) {
		char *sig = g_strdup_printf("script-message-received::%s", msg_handler);
		g_signal_connect(ucm, sig, G_CALLBACK(ak_script_message), (gpointer)h);
		g_free(sig);
		webkit_user_content_manager_register_script_message_handler(ucm, msg_handler);
	}
	if (user_script != NULL && user_script[0] != 0) {
		WebKitUserScript *us = webkit_user_script_new(user_script, WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
			WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, NULL, NULL);
		webkit_user_content_manager_add_script(ucm, us);
		webkit_user_script_unref(us);
	}
	WebKitSettings *s = webkit_settings_new();
	g_object_set(s,
		"enable-developer-extras", FALSE,
		"enable-write-console-messages-to-stdout", FALSE,
		"javascript-can-open-windows-automatically", FALSE,
		"javascript-can-access-clipboard", FALSE,
		"allow-file-access-from-file-urls", FALSE,
		"allow-universal-access-from-file-urls", FALSE,
		"allow-top-navigation-to-data-urls", FALSE,
		"enable-dns-prefetching", FALSE,
		"enable-media-stream", FALSE,
		"enable-mediasource", TRUE,
		"enable-webrtc", FALSE,
		"enable-back-forward-navigation-gestures", FALSE,
		"enable-fullscreen", FALSE,
		"enable-caret-browsing", FALSE,
		"hardware-acceleration-policy", WEBKIT_HARDWARE_ACCELERATION_POLICY_NEVER,
		NULL);
	WebKitWebView *v = WEBKIT_WEB_VIEW(g_object_new(WEBKIT_TYPE_WEB_VIEW,
		"web-context", ctx,
		"user-content-manager", ucm,
		"settings", s,
		NULL));
	g_object_unref(s);
	g_object_unref(ucm);
	g_object_ref_sink(v);
	gpointer d = (gpointer)h;
	g_signal_connect(v, "decide-policy", G_CALLBACK(ak_decide_policy), d);
	g_signal_connect(v, "load-changed", G_CALLBACK(ak_load_changed), d);
	g_signal_connect(v, "load-failed", G_CALLBACK(ak_load_failed), d);
	g_signal_connect(v, "web-process-terminated", G_CALLBACK(ak_terminated), d);
	g_signal_connect(v, "context-menu", G_CALLBACK(ak_context_menu), d);
	g_signal_connect(v, "run-file-chooser", G_CALLBACK(ak_file_chooser), d);
	g_signal_connect(v, "print", G_CALLBACK(ak_print), d);
	g_signal_connect(v, "enter-fullscreen", G_CALLBACK(ak_enter_fullscreen), d);
	g_signal_connect(v, "permission-request", G_CALLBACK(ak_permission), d);
	g_signal_connect(v, "create", G_CALLBACK(ak_create), d);
	g_signal_connect(v, "show-notification", G_CALLBACK(ak_true), d);
	g_signal_connect(v, "close", G_CALLBACK(ak_true), d);
	return v;
}

void ak_view_destroy(WebKitWebView *v) {
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_decide_policy, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_load_changed, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_load_failed, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_terminated, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_permission, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_file_chooser, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_print, NULL);
	WebKitUserContentManager *ucm = webkit_web_view_get_user_content_manager(v);
	g_signal_handlers_disconnect_matched(ucm, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_script_message, NULL);
	gtk_widget_destroy(GTK_WIDGET(v));
	g_object_unref(v);
}

void ak_context_destroy(WebKitWebContext *ctx) {
	g_signal_handlers_disconnect_matched(ctx, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_download_started, NULL);
	g_object_unref(ctx);
}


// ---- window -------------------------------------------------------------

static const char *ak_css =
	"#ak-toolbar { background: #0b0c0c; padding: 8px; }"
	// Large touch targets, but narrow enough that every button (End session
	// above all) fits on a 1280-pixel screen with the built-in pages' extra tools.
	"#ak-toolbar button { min-height: 64px; min-width: 96px; padding: 0 14px; font-size: 20px; font-weight: bold;"
	"  margin: 0 4px; color: #0b0c0c; background: #ffffff; border-radius: 0; border: 3px solid #ffffff; }"
	"#ak-toolbar button:focus { border-color: #ffdd00; }"
	"#ak-toolbar #ak-end { background: #d4351c; color: #ffffff; border-color: #d4351c; }"
	"#ak-toolbar label.ak-title { color: #ffffff; font-size: 20px; font-weight: bold; margin: 0 8px; }"
	"#ak-banner { background: #ffdd00; padding: 16px; }"
	"#ak-banner label { color: #0b0c0c; font-size: 26px; font-weight: bold; }"
	"#ak-panel { background: rgba(11,12,12,0.92); }"
	"#ak-panel label { color: #ffffff; }"
	"#ak-panel label.ak-panel-title { font-size: 48px; font-weight: bold; }"
	"#ak-panel label.ak-panel-text { font-size: 32px; }"
	"#ak-panel button { min-height: 80px; min-width: 280px; font-size: 30px; font-weight: bold; margin: 16px;"
	"  background: #00703c; color: #ffffff; border-radius: 0; border: 3px solid #00703c; }"
	"#ak-panel button.ak-secondary { background: #f3f2f1; color: #0b0c0c; border-color: #f3f2f1; }";

static gboolean ak_delete_event(GtkWidget *w, GdkEvent *e, gpointer data) {
	return TRUE; // close requests are ignored
}

static void ak_button_clicked(GtkButton *b, gpointer data) {
	uintptr_t h = (uintptr_t)data;
	int id = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "ak-id"));
	ak_emit(h, AK_BUTTON, NULL, NULL, 0, id);
}

struct akWindow {
	GtkWidget *win, *toolbar, *title, *banner, *banner_label, *content, *panel, *panel_title, *panel_text, *panel_buttons;
	uintptr_t h;
};

static void ak_name(GtkWidget *w, const char *name) {
	AtkObject *a = gtk_widget_get_accessible(w);
	if (a != NULL) atk_object_set_name(a, name);
}

akWindow *ak_window_new(uintptr_t h, const char *title, int fullscreen, int width, int height) {
	akWindow *w = g_new0(akWindow, 1);
	w->h = h;
	GtkCssProvider *css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, ak_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(), GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);

	w->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(w->win), title);
	gtk_window_set_decorated(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_deletable(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_default_size(GTK_WINDOW(w->win), width, height);
	g_signal_connect(w->win, "delete-event", G_CALLBACK(ak_delete_event), NULL);

	GtkWidget *overlay = gtk_overlay_new();
	gtk_container_add(GTK_CONTAINER(w->win), overlay);
	GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_container_add(GTK_CONTAINER(overlay), vbox);

	w->toolbar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_name(w->toolbar, "ak-toolbar");
	ak_name(w->toolbar, "Kiosk toolbar");
	gtk_box_pack_start(GTK_BOX(vbox), w->toolbar, FALSE, FALSE, 0);
	w->title = gtk_label_new(title);
	gtk_style_context_add_class(gtk_widget_get_style_context(w->title), "ak-title");
	gtk_label_set_ellipsize(GTK_LABEL(w->title), PANGO_ELLIPSIZE_END);
	gtk_box_pack_start(GTK_BOX(w->toolbar), w->title, TRUE, TRUE, 0);

	w->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_name(w->banner, "ak-banner");
	w->banner_label = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(w->banner_label), TRUE);
	gtk_box_pack_start(GTK_BOX(w->banner), w->banner_label, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(vbox), w->banner, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(w->banner, TRUE);

	w->content = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_box_pack_start(GTK_BOX(vbox), w->content, TRUE, TRUE, 0);

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
	if (end) gtk_box_pack_end(GTK_BOX(w->toolbar), b, FALSE, FALSE, 0);
	else gtk_box_pack_start(GTK_BOX(w->toolbar), b, FALSE, FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(w->toolbar), w->title, -1);
	gtk_widget_show(b);
}

void ak_window_set_view(akWindow *w, WebKitWebView *v) {
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->content));
	for (GList *l = kids; l != NULL; l = l->next) gtk_container_remove(GTK_CONTAINER(w->content), GTK_WIDGET(l->data));
	g_list_free(kids);
	if (v != NULL) {
		gtk_box_pack_start(GTK_BOX(w->content), GTK_WIDGET(v), TRUE, TRUE, 0);
		gtk_widget_show(GTK_WIDGET(v));
		gtk_widget_grab_focus(GTK_WIDGET(v));
	}
}

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
	gtk_widget_show(w->panel);
	GList *btns = gtk_container_get_children(GTK_CONTAINER(w->panel_buttons));
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
	gtk_widget_destroy(w->win);
	g_free(w);
}

// Screenshot of the window into a PNG file; 1 on success.
int ak_window_snapshot(akWindow *w, const char *path) {
	GdkWindow *gw = gtk_widget_get_window(w->win);
	if (gw == NULL) return 0;
	int width = gdk_window_get_width(gw), height = gdk_window_get_height(gw);
	GdkPixbuf *pb = gdk_pixbuf_get_from_window(gw, 0, 0, width, height);
	if (pb == NULL) return 0;
	gboolean ok = gdk_pixbuf_save(pb, path, "png", NULL, NULL);
	g_object_unref(pb);
	return ok ? 1 : 0;
}
*/
import "C"
