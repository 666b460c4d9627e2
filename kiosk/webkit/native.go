//go:build cgo && linux

package webkit

/*
#cgo pkg-config: webkit2gtk-4.1 gtk+-3.0
#include "native.h"
#include <string.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

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
	// Always queued for the main loop. g_main_context_invoke would call it
	// at once on whichever thread can acquire the context, e.g. a quit
	// before gtk_main started, which was then lost and gtk_main never ended.
	g_idle_add_full(G_PRIORITY_DEFAULT, ak_idle_cb, (gpointer)h, NULL);
}

// ---- input activity (for the idle timer) ------------------------------

static volatile gint64 ak_last_input_us = 0;
static volatile guint64 ak_input_count = 0;

// ak_split_dragging is set while a finger or the mouse holds the split
// view's handle (the paned's own input window).
static int ak_split_dragging = 0;

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
		WebKitUserScript *us = webkit_user_script_new(user_script, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
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

// ---- script evaluation --------------------------------------------------

static void ak_eval_done(GObject *src, GAsyncResult *res, gpointer data) {
	GError *err = NULL;
	JSCValue *val = webkit_web_view_evaluate_javascript_finish(WEBKIT_WEB_VIEW(src), res, &err);
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_JS_RESULT;
	char *s = NULL;
	if (val == NULL) {
		ev.flags = 1;
		ev.str = err ? err->message : "evaluation failed";
	} else {
		s = jsc_value_to_json(val, 0);
		ev.str = s ? s : "null";
	}
	akDispatch((uintptr_t)data, &ev);
	g_free(s);
	if (val) g_object_unref(val);
	if (err) g_error_free(err);
}

// ak_view_eval runs js in the view's main frame; with h != 0, the result
// (as JSON) or the error reaches Go as AK_JS_RESULT for h.
void ak_view_eval(WebKitWebView *v, const char *js, uintptr_t h) {
	webkit_web_view_evaluate_javascript(v, js, -1, NULL, NULL, NULL, h ? ak_eval_done : NULL, (gpointer)h);
}

// ---- typing (the on-screen keyboard) -------------------------------------

// ak_key_event sends one synthesized key event to the view as the window
// would pass on a physical key: WebKit's input method filter, then its web
// process, which delivers it to whatever element of whichever frame has
// the focus. The text never passes through a script.
static void ak_key_event(GtkWidget *wd, GdkEventType type, guint keyval) {
	GdkWindow *win = gtk_widget_get_window(wd);
	if (win == NULL) return;
	GdkDisplay *d = gdk_window_get_display(win);
	GdkEvent *ev = gdk_event_new(type);
	ev->key.window = g_object_ref(win);
	ev->key.send_event = FALSE;
	ev->key.time = GDK_CURRENT_TIME;
	ev->key.keyval = keyval;
	ev->key.state = 0;
	// The hardware key a physical keyboard would use for keyval (none for
	// a character the keymap lacks, such as £ on a US map), with shift
	// held when the keymap puts the character on the shifted level.
	GdkKeymapKey *keys = NULL;
	gint n = 0;
	if (gdk_keymap_get_entries_for_keyval(gdk_keymap_get_for_display(d), keyval, &keys, &n) && n > 0) {
		ev->key.hardware_keycode = keys[0].keycode;
		ev->key.group = keys[0].group;
		if (keys[0].level == 1) ev->key.state |= GDK_SHIFT_MASK;
	}
	g_free(keys);
	GdkSeat *seat = gdk_display_get_default_seat(d);
	if (seat != NULL && gdk_seat_get_keyboard(seat) != NULL) gdk_event_set_device(ev, gdk_seat_get_keyboard(seat));
	gtk_widget_event(wd, ev);
	gdk_event_free(ev);
}

static void ak_key_tap(GtkWidget *wd, guint keyval) {
	ak_key_event(wd, GDK_KEY_PRESS, keyval);
	ak_key_event(wd, GDK_KEY_RELEASE, keyval);
}

// ak_view_type types text (UTF-8) into the view, one key per character;
// key, when not 0, is a key to press after it (GDK_KEY_BackSpace,
// GDK_KEY_Return). The view takes the keyboard focus first, if it lost it,
// so the keys reach the field it had focused and never a toolbar button.
// 0 when the view is not in a window.
int ak_view_type(WebKitWebView *v, const char *text, guint key) {
	GtkWidget *wd = GTK_WIDGET(v);
	if (!gtk_widget_get_realized(wd) || gtk_widget_get_window(wd) == NULL) return 0;
	if (!gtk_widget_has_focus(wd)) gtk_widget_grab_focus(wd);
	for (const char *p = text; p != NULL && *p != 0; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) break;
		ak_key_tap(wd, gdk_unicode_to_keyval(c));
	}
	if (key != 0) ak_key_tap(wd, key);
	return 1;
}

void ak_context_destroy(WebKitWebContext *ctx) {
	g_signal_handlers_disconnect_matched(ctx, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_download_started, NULL);
	g_object_unref(ctx);
}


// ---- window -------------------------------------------------------------

static const char *ak_css =
	"#ak-toolbar { background: #0b0c0c; padding: 8px; }"
	// Large touch targets (at least 98x70 pixels), but narrow enough that
	// every button (End session above all) fits an 800-pixel portrait
	// screen with its label in Welsh or Polish (longer than in English).
	"#ak-toolbar button { min-height: 64px; min-width: 72px; padding: 0 10px; font-size: 20px; font-weight: bold;"
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
	"#ak-panel button.ak-secondary { background: #f3f2f1; color: #0b0c0c; border-color: #f3f2f1; }"
	// The split view's handle is a wide bar a finger can drag.
	"paned#ak-split > separator { min-width: 28px; min-height: 28px; background-color: #505a5f; border: 0;"
	"  background-size: 100% 100%; background-repeat: no-repeat; }"
	"paned#ak-split > separator:hover, paned#ak-split > separator:active { background-color: #1d70b8; }"
	// A grip down (or across) the middle of the bar says it can be dragged.
	"paned#ak-split.horizontal > separator { background-image: linear-gradient(to right,"
	"  transparent 11px, #ffffff 11px, #ffffff 13px, transparent 13px, transparent 15px, #ffffff 15px, #ffffff 17px, transparent 17px); }"
	"paned#ak-split.vertical > separator { background-image: linear-gradient(to bottom,"
	"  transparent 11px, #ffffff 11px, #ffffff 13px, transparent 13px, transparent 15px, #ffffff 15px, #ffffff 17px, transparent 17px); }"
	"#ak-guide-bar { background: #f3f2f1; padding: 6px 8px; border-bottom: 2px solid #b1b4b6; }"
	"#ak-guide-bar label { color: #0b0c0c; font-size: 20px; font-weight: bold; margin: 0 8px; }"
	"#ak-guide-bar button { min-height: 56px; min-width: 96px; padding: 0 14px; font-size: 20px; font-weight: bold;"
	"  color: #ffffff; background: #1d70b8; border-radius: 0; border: 3px solid #1d70b8;"
	"  background-image: none; box-shadow: none; text-shadow: none; -gtk-icon-shadow: none; }"
	"#ak-guide-bar button label { color: inherit; }"
	"#ak-guide-bar button:focus { border-color: #ffdd00; }"
	"#ak-keyboard { background: #dee0e2; padding: 6px; border-top: 3px solid #0b0c0c; }"
	// No minimum width and ellipsized labels: the keys share the row by
	// their grid columns, so the keyboard fits an 800-pixel portrait screen.
	"#ak-keyboard button { min-height: 58px; min-width: 0; padding: 0 2px; margin: 3px; font-size: 24px;"
	"  color: #0b0c0c; background: #ffffff; border-radius: 4px; border: 2px solid #b1b4b6;"
	"  background-image: none; box-shadow: none; text-shadow: none; }"
	"#ak-keyboard button:active { background: #ffdd00; }"
	"#ak-keyboard button.ak-key-fn { background: #b1b4b6; font-size: 18px; font-weight: bold; }"
	"#ak-keyboard button.ak-key-on { background: #1d70b8; color: #ffffff; border-color: #1d70b8; }"
	"#ak-keyboard button.ak-key-go { background: #00703c; color: #ffffff; border-color: #00703c; font-weight: bold; }"
	// High contrast (the session's choice on the accessibility page):
	// yellow and white on black, like the built-in pages.
	"window.ak-hc #ak-toolbar { background: #000000; border-bottom: 3px solid #ffdd00; }"
	"window.ak-hc #ak-toolbar button { background: #000000; color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc #ak-toolbar button:focus { border-color: #ffffff; }"
	"window.ak-hc #ak-toolbar #ak-end { background: #000000; color: #ffffff; border-color: #ffffff; }"
	"window.ak-hc #ak-guide-bar { background: #000000; border-bottom-color: #ffdd00; }"
	"window.ak-hc #ak-guide-bar label { color: #ffffff; }"
	"window.ak-hc #ak-guide-bar button { background: #000000; color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc paned#ak-split > separator { background-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard { background: #000000; border-top-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard button { background: #000000; color: #ffffff; border-color: #ffffff; }"
	"window.ak-hc #ak-keyboard button.ak-key-fn { color: #ffdd00; border-color: #ffdd00; }"
	"window.ak-hc #ak-keyboard button.ak-key-on, window.ak-hc #ak-keyboard button:active { background: #ffdd00; color: #000000; }"
	"window.ak-hc #ak-keyboard button.ak-key-go { background: #000000; color: #ffdd00; border-color: #ffdd00; }";

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
	// Split view: content holds paned; paned's first child is the service
	// slot, its second the guide pane (a header with a Close button over
	// the guide slot), hidden when no guide is shown.
	GtkWidget *paned, *service_slot, *guide_pane, *guide_title, *guide_close, *guide_slot;
	// On-screen keyboard: rows of buttons that never take focus, packed
	// under content so that it takes space from the views.
	GtkWidget *keyboard;
	int vertical;     // the paned is stacked (portrait)
	int want_split;   // the split needs positioning at the next allocation
	guint relayout;   // idle source re-laying out the split
	double share;     // the service's share of the paned
	int last_size;    // the paned's size (along its orientation) last seen
	int placing;      // the handle is being set by the code, not dragged
	uintptr_t h;
};

static void ak_name(GtkWidget *w, const char *name) {
	AtkObject *a = gtk_widget_get_accessible(w);
	if (a != NULL) atk_object_set_name(a, name);
}

// ---- split view -----------------------------------------------------------

static void ak_slot_set(GtkWidget *slot, WebKitWebView *v);

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

static void ak_split_build(akWindow *w) {
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

void ak_window_set_split_position(akWindow *w, int pos) {
	gtk_paned_set_position(GTK_PANED(w->paned), pos);
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

static GtkWidget *ak_find_id(GtkWidget *parent, int id) {
	if (GTK_IS_BUTTON(parent) && GPOINTER_TO_INT(g_object_get_data(G_OBJECT(parent), "ak-id")) == id) return parent;
	if (!GTK_IS_CONTAINER(parent)) return NULL;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(parent));
	GtkWidget *found = NULL;
	for (GList *l = kids; l != NULL && found == NULL; l = l->next) found = ak_find_id(GTK_WIDGET(l->data), id);
	g_list_free(kids);
	return found;
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
// close) with id.
int ak_window_rect(akWindow *w, int part, int id, int *x, int *y, int *width, int *height) {
	GtkWidget *wd = NULL;
	switch (part) {
	case 0: wd = w->service_slot; break;
	case 1: wd = w->guide_slot; break;
	case 2: wd = w->keyboard; break;
	case 3: wd = w->toolbar; break;
	case 4: wd = ak_find_id(w->win, id); break;
	}
	return ak_widget_rect(w, wd, x, y, width, height);
}

// ak_window_accessible_name is what a screen reader (AT-SPI, through ATK)
// says for a part of the window (parts as in ak_window_rect); NULL for none.
const char *ak_window_accessible_name(akWindow *w, int part, int id) {
	GtkWidget *wd = NULL;
	switch (part) {
	case 0: wd = w->service_slot; break;
	case 1: wd = w->guide_pane; break;
	case 2: wd = w->keyboard; break;
	case 3: wd = w->toolbar; break;
	case 4: wd = ak_find_id(w->win, id); break;
	}
	if (wd == NULL) return NULL;
	AtkObject *a = gtk_widget_get_accessible(wd);
	return a == NULL ? NULL : atk_object_get_name(a);
}

// ak_window_set_tool changes the label, accessible name and tooltip of
// the button with id (a toolbar button); 0 when there is none.
int ak_window_set_tool(akWindow *w, int id, const char *label, const char *name) {
	GtkWidget *b = ak_find_id(w->win, id);
	if (b == NULL) return 0;
	gtk_button_set_label(GTK_BUTTON(b), label);
	ak_name(b, name);
	gtk_widget_set_tooltip_text(b, name);
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
		GtkWidget *b = ak_find_id(w->win, id);
		return b == NULL ? NULL : gtk_button_get_label(GTK_BUTTON(b));
	}
	}
	return NULL;
}

// ak_window_tooltip is the tooltip of the button with id; NULL for none.
const char *ak_window_tooltip(akWindow *w, int id) {
	GtkWidget *b = ak_find_id(w->win, id);
	if (b == NULL) return NULL;
	return gtk_widget_get_tooltip_text(b); // owned by the caller
}

// ak_window_press clicks the keyboard key (or any button) with id, as a tap would.
int ak_window_press(akWindow *w, int id) {
	GtkWidget *b = ak_find_id(w->win, id);
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

// ak_has_touchscreen reports whether the default seat has a touch device.
int ak_has_touchscreen(void) {
	GdkDisplay *d = gdk_display_get_default();
	if (d == NULL) return 0;
	GdkSeat *seat = gdk_display_get_default_seat(d);
	if (seat == NULL) return 0;
	return (gdk_seat_get_capabilities(seat) & GDK_SEAT_CAPABILITY_TOUCH) != 0;
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
	ak_split_build(w);

	w->keyboard = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_widget_set_name(w->keyboard, "ak-keyboard");
	ak_name(w->keyboard, "On-screen keyboard");
	gtk_box_pack_start(GTK_BOX(vbox), w->keyboard, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(w->keyboard, TRUE);
	g_signal_connect(w->win, "size-allocate", G_CALLBACK(ak_window_allocated), w);

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

static void ak_slot_set(GtkWidget *slot, WebKitWebView *v) {
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
	if (w->relayout != 0) g_source_remove(w->relayout);
	g_signal_handlers_disconnect_matched(w->win, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_window_allocated, NULL);
	g_signal_handlers_disconnect_matched(w->paned, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_paned_allocated, NULL);
	g_signal_handlers_disconnect_matched(w->paned, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_paned_moved, NULL);
	gtk_widget_destroy(w->win);
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
*/
import "C"
