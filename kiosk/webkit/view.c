//go:build cgo && linux

// Web views: policy decisions, load events, crashes, refusals, script
// messages, script evaluation and typing.

#include <string.h>
#include "internal.h"

// ---- web view -----------------------------------------------------------

// akRate is one channel's budget: at most limit messages in each second;
// the rest are dropped (and counted) here, before any work in Go.
typedef struct {
	gint64 window_us;
	int used;
	int limit;
	guint64 dropped;
} akRate;

typedef struct {
	uintptr_t h;
	akRate bridge, watch, print; // print.limit 0: print requests refused
} akViewData;

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
		// A response WebKit cannot show, or one the server says to save,
		// is a download: a question of its own, answered "download" or not.
		int download = !(flags & AK_FLAG_MIME_SUPPORTED) || (flags & AK_FLAG_ATTACHMENT);
		verdict = ak_emit(h, download ? AK_DECIDE_DOWNLOAD : AK_DECIDE_RESPONSE, ruri ? ruri : webkit_uri_request_get_uri(r), NULL, flags,
			(int)webkit_uri_response_get_status_code(resp));
		if (download) {
			if (verdict == AK_USE) webkit_policy_decision_download(d);
			else webkit_policy_decision_ignore(d);
			return TRUE;
		}
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

// A page asked to print (window.print(): in the top frame only, see
// ak_frame_print_script). GTK's print dialog never shows: returning TRUE
// ends WebKit's own handling. A view that takes print requests hands them
// to Go, at most print.limit a second (a page calling window.print() in a
// loop costs Go nothing past that); other views refuse them.
static int ak_rate_take(akRate *r);

static gboolean ak_print(WebKitWebView *v, WebKitPrintOperation *op, gpointer data) {
	akViewData *vd = g_object_get_data(G_OBJECT(v), "ak-data");
	if (vd == NULL || vd->print.limit <= 0) {
		ak_emit((uintptr_t)data, AK_REFUSED, NULL, "print", 0, 0);
		return TRUE;
	}
	if (ak_rate_take(&vd->print)) ak_emit((uintptr_t)data, AK_PRINT_REQUEST, NULL, NULL, 0, 0);
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

// ---- the two message channels -------------------------------------------
//
// Neither channel exists in a page's own script world: a page's scripts
// cannot see window.webkit.messageHandlers at all. Each channel's handler is
// registered only in an isolated script world of its own, where only the
// kiosk's user script for that world runs (package doc, "The bridge").


static int ak_rate_take(akRate *r) {
	gint64 now = g_get_monotonic_time();
	if (now - r->window_us >= G_USEC_PER_SEC) {
		r->window_us = now;
		r->used = 0;
	}
	if (r->used >= r->limit) {
		r->dropped++;
		return 0;
	}
	r->used++;
	return 1;
}

static void ak_channel_message(akViewData *vd, akRate *r, int kind, WebKitJavascriptResult *res) {
	if (!ak_rate_take(r)) return;
	JSCValue *val = webkit_javascript_result_get_js_value(res);
	char *s = jsc_value_is_string(val) ? jsc_value_to_string(val) : jsc_value_to_json(val, 0);
	ak_emit(vd->h, kind, NULL, s, 0, 0);
	g_free(s);
}

static void ak_bridge_message(WebKitUserContentManager *m, WebKitJavascriptResult *res, gpointer data) {
	akViewData *vd = data;
	ak_channel_message(vd, &vd->bridge, AK_BRIDGE_MESSAGE, res);
}

static void ak_watch_message(WebKitUserContentManager *m, WebKitJavascriptResult *res, gpointer data) {
	akViewData *vd = data;
	ak_channel_message(vd, &vd->watch, AK_WATCH_MESSAGE, res);
}

// ak_view_dropped reports how many messages each channel dropped.
void ak_view_dropped(WebKitWebView *v, guint64 *bridge, guint64 *watch, guint64 *print) {
	akViewData *vd = g_object_get_data(G_OBJECT(v), "ak-data");
	*bridge = vd ? vd->bridge.dropped : 0;
	*watch = vd ? vd->watch.dropped : 0;
	*print = vd ? vd->print.dropped : 0;
}

// ak_channels sets up the view's content manager: the bridge (handler
// AK_BRIDGE_HANDLER in world AK_BRIDGE_WORLD, its script injected at
// document start into the top frame only; the script, wrapped by NewView,
// does nothing unless its document is one of the scheme's) and the watcher
// (handler AK_WATCH_HANDLER in world AK_WATCH_WORLD, its script in every
// frame of every document). The bridge script has no allow list: WebKit's
// URL patterns need a path, and kiosk://home has none (it never matched).
static void ak_channels(WebKitUserContentManager *ucm, akViewData *vd, const char *bridge, const char *watch) {
	if (bridge != NULL && bridge[0] != 0) {
		g_signal_connect(ucm, "script-message-received::" AK_BRIDGE_HANDLER, G_CALLBACK(ak_bridge_message), vd);
		webkit_user_content_manager_register_script_message_handler_in_world(ucm, AK_BRIDGE_HANDLER, AK_BRIDGE_WORLD);
		WebKitUserScript *us = webkit_user_script_new_for_world(bridge, WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
			WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, AK_BRIDGE_WORLD, NULL, NULL);
		webkit_user_content_manager_add_script(ucm, us);
		webkit_user_script_unref(us);
	}
	if (watch != NULL && watch[0] != 0) {
		g_signal_connect(ucm, "script-message-received::" AK_WATCH_HANDLER, G_CALLBACK(ak_watch_message), vd);
		webkit_user_content_manager_register_script_message_handler_in_world(ucm, AK_WATCH_HANDLER, AK_WATCH_WORLD);
		WebKitUserScript *us = webkit_user_script_new_for_world(watch, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
			WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, AK_WATCH_WORLD, NULL, NULL);
		webkit_user_content_manager_add_script(ucm, us);
		webkit_user_script_unref(us);
	}
}

// No GTK dialog from a page: the colour chooser is refused like the file
// chooser (the input keeps its value).
static gboolean ak_color_chooser(WebKitWebView *v, WebKitColorChooserRequest *r, gpointer data) {
	webkit_color_chooser_request_cancel(r);
	ak_emit((uintptr_t)data, AK_REFUSED, NULL, "color_chooser", 0, 0);
	return TRUE;
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

WebKitWebView *ak_view_new(WebKitWebContext *ctx, uintptr_t h, const char *bridge, const char *watch, int bridge_rate, int watch_rate, int print_rate) {
	WebKitUserContentManager *ucm = webkit_user_content_manager_new();
	akViewData *vd = g_new0(akViewData, 1);
	vd->h = h;
	vd->bridge.limit = bridge_rate;
	vd->watch.limit = watch_rate;
	vd->print.limit = print_rate;
	ak_channels(ucm, vd, bridge, watch);
	if (print_rate > 0) {
		// In the pages' own world, every frame: see ak_frame_print_script.
		WebKitUserScript *us = webkit_user_script_new(ak_frame_print_script, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
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
	g_object_set_data_full(G_OBJECT(v), "ak-data", vd, g_free);
	g_object_set_data(G_OBJECT(v), "ak-h", (gpointer)h); // downloads find their view's Go object (files.c)
	gpointer d = (gpointer)h;
	g_signal_connect(v, "decide-policy", G_CALLBACK(ak_decide_policy), d);
	g_signal_connect(v, "load-changed", G_CALLBACK(ak_load_changed), d);
	g_signal_connect(v, "load-failed", G_CALLBACK(ak_load_failed), d);
	g_signal_connect(v, "web-process-terminated", G_CALLBACK(ak_terminated), d);
	g_signal_connect(v, "context-menu", G_CALLBACK(ak_context_menu), d);
	g_signal_connect(v, "run-file-chooser", G_CALLBACK(ak_file_chooser), d);
	g_signal_connect(v, "run-color-chooser", G_CALLBACK(ak_color_chooser), d);
	g_signal_connect(v, "print", G_CALLBACK(ak_print), d);
	g_signal_connect(v, "enter-fullscreen", G_CALLBACK(ak_enter_fullscreen), d);
	g_signal_connect(v, "permission-request", G_CALLBACK(ak_permission), d);
	g_signal_connect(v, "create", G_CALLBACK(ak_create), d);
	g_signal_connect(v, "show-notification", G_CALLBACK(ak_true), d);
	g_signal_connect(v, "close", G_CALLBACK(ak_true), d);
	return v;
}

void ak_view_destroy(WebKitWebView *v) {
	g_object_set_data(G_OBJECT(v), "ak-h", NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_decide_policy, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_load_changed, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_load_failed, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_terminated, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_permission, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_file_chooser, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_print, NULL);
	g_signal_handlers_disconnect_matched(v, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_color_chooser, NULL);
	WebKitUserContentManager *ucm = webkit_web_view_get_user_content_manager(v);
	g_signal_handlers_disconnect_matched(ucm, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_bridge_message, NULL);
	g_signal_handlers_disconnect_matched(ucm, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_watch_message, NULL);
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
		// 2: WebKit had no value to return (WEBKIT_JAVASCRIPT_ERROR_INVALID_RESULT,
		// "Unsupported result type"): one with no serialised form, or none
		// because the document went away while the script ran. 1: anything
		// else (the script threw).
		ev.flags = err && g_error_matches(err, WEBKIT_JAVASCRIPT_ERROR, WEBKIT_JAVASCRIPT_ERROR_INVALID_RESULT) ? 2 : 1;
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
