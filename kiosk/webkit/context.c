//go:build cgo && linux

// Ephemeral web contexts and the custom scheme they serve from Go.

#include <string.h>
#include "internal.h"

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

// ak_scheme_finish answers a scheme request: headers are the response's
// header lines ("Name: value\n" each), all passed on to WebKit (the
// Content-Security-Policy with frame-ancestors among them), plus
// Cache-Control: no-store.
void ak_scheme_finish(WebKitURISchemeRequest *req, int status, const char *ctype, const char *headers, const void *body, gsize len) {
	GBytes *bytes = g_bytes_new(body, len);
	GInputStream *in = g_memory_input_stream_new_from_bytes(bytes);
	WebKitURISchemeResponse *resp = webkit_uri_scheme_response_new(in, (gint64)len);
	webkit_uri_scheme_response_set_status(resp, status, NULL);
	webkit_uri_scheme_response_set_content_type(resp, ctype);
	SoupMessageHeaders *h = soup_message_headers_new(SOUP_MESSAGE_HEADERS_RESPONSE);
	char **lines = g_strsplit(headers != NULL ? headers : "", "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		char *colon = strchr(*l, ':');
		if (colon == NULL || colon == *l) continue;
		*colon = 0;
		soup_message_headers_append(h, *l, g_strstrip(colon + 1));
	}
	g_strfreev(lines);
	soup_message_headers_replace(h, "Cache-Control", "no-store");
	webkit_uri_scheme_response_set_http_headers(resp, h);
	webkit_uri_scheme_request_finish_with_response(req, resp);
	g_object_unref(resp);
	g_object_unref(in);
	g_bytes_unref(bytes);
}

WebKitWebContext *ak_context_new(uintptr_t h, const char *scheme, int cache_model) {
	WebKitWebsiteDataManager *dm = webkit_website_data_manager_new_ephemeral();
	WebKitWebContext *ctx = webkit_web_context_new_with_website_data_manager(dm);
	g_object_unref(dm);
	webkit_web_context_set_sandbox_enabled(ctx, TRUE);
	ak_sandbox_apply(ctx); // what its processes may read besides the system's (gl.c)
	webkit_web_context_set_cache_model(ctx, (WebKitCacheModel)cache_model);
	webkit_web_context_set_spell_checking_enabled(ctx, FALSE);
	if (scheme != NULL && scheme[0] != 0) {
		webkit_web_context_register_uri_scheme(ctx, scheme, ak_scheme_cb, (gpointer)h, NULL);
		WebKitSecurityManager *sm = webkit_web_context_get_security_manager(ctx);
		webkit_security_manager_register_uri_scheme_as_secure(sm, scheme);
		// Local: WebKit lets only documents of a local scheme (the kiosk's
		// own pages) load, frame, fetch or navigate to its URLs; the shell's
		// own loads (the API) still may.
		webkit_security_manager_register_uri_scheme_as_local(sm, scheme);
	}
	g_signal_connect(ctx, "download-started", G_CALLBACK(ak_download_started), (gpointer)h);
	return ctx;
}

void ak_context_destroy(WebKitWebContext *ctx) {
	g_signal_handlers_disconnect_matched(ctx, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, ak_download_started, NULL);
	g_object_unref(ctx);
}
