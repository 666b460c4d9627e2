//go:build cgo && linux

// Files between pages and the kiosk: WebKit's file chooser requests, handed
// to Go instead of GTK's dialog, and downloads, saved where Go says and no
// larger than it says, or cancelled.

#include <string.h>
#include "internal.h"

// ---- file chooser --------------------------------------------------------

// ak_file_chooser is a view's run-file-chooser: never GTK's dialog. Go
// gets the request (a reference it keeps until it answers with
// ak_file_chooser_answer); a request Go does not take is cancelled here
// and reported refused.
gboolean ak_file_chooser(WebKitWebView *v, WebKitFileChooserRequest *r, gpointer data) {
	GString *acc = g_string_new(NULL);
	const gchar *const *types = webkit_file_chooser_request_get_mime_types(r);
	for (int i = 0; types != NULL && types[i] != NULL; i++) {
		if (acc->len > 0) g_string_append_c(acc, ',');
		g_string_append(acc, types[i]);
	}
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_FILE_CHOOSER;
	ev.str = acc->str;
	ev.flags = webkit_file_chooser_request_get_select_multiple(r) ? 1 : 0;
	ev.ptr = r;
	g_object_ref(r);
	int verdict = akDispatch((uintptr_t)data, &ev);
	g_string_free(acc, TRUE);
	if (verdict != AK_USE) {
		webkit_file_chooser_request_cancel(r);
		g_object_unref(r);
		ak_emit((uintptr_t)data, AK_REFUSED, NULL, "file_chooser", 0, 0);
	}
	return TRUE;
}

// ak_file_chooser_answer answers a request Go took: the files at paths
// ("\n"-separated) go to the input that asked, NULL or "" cancels.
void ak_file_chooser_answer(WebKitFileChooserRequest *r, const char *paths) {
	if (paths == NULL || paths[0] == 0) {
		webkit_file_chooser_request_cancel(r);
	} else {
		char **files = g_strsplit(paths, "\n", -1);
		webkit_file_chooser_request_select_files(r, (const gchar *const *)files);
		g_strfreev(files);
	}
	g_object_unref(r);
}

// ---- downloads -----------------------------------------------------------

// akDownload is what the binding keeps with a download Go accepted.
typedef struct {
	uintptr_t h;  // the Go *Download
	gint64 max;   // bytes it may have
	int flags;    // AK_DL_*
	char *error;  // the failure's message
	int done;     // AK_DOWNLOAD_DONE was sent
} akDownload;

static void ak_download_free(gpointer p) {
	akDownload *d = p;
	g_free(d->error);
	g_free(d);
}

static akDownload *ak_dl(WebKitDownload *dl) { return g_object_get_data(G_OBJECT(dl), "ak-download"); }

static void ak_download_too_large(WebKitDownload *dl, akDownload *d) {
	if (d->flags & AK_DL_TOO_LARGE) return;
	d->flags |= AK_DL_TOO_LARGE;
	webkit_download_cancel(dl);
}

static gboolean ak_download_decide(WebKitDownload *dl, gchar *suggested, gpointer data) {
	akDownload *d = ak_dl(dl);
	if (d == NULL) return FALSE;
	WebKitURIResponse *resp = webkit_download_get_response(dl);
	if (resp != NULL && (gint64)webkit_uri_response_get_content_length(resp) > d->max) {
		ak_download_too_large(dl, d);
		return TRUE;
	}
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_DOWNLOAD_DEST;
	ev.str = suggested;
	ev.ptr = dl;
	if (akDispatch(d->h, &ev) != AK_USE) {
		d->flags |= AK_DL_CANCELLED;
		webkit_download_cancel(dl);
	}
	return TRUE;
}

static void ak_download_received(WebKitDownload *dl, guint64 len, gpointer data) {
	akDownload *d = ak_dl(dl);
	if (d != NULL && (gint64)webkit_download_get_received_data_length(dl) > d->max) ak_download_too_large(dl, d);
}

static void ak_download_failed(WebKitDownload *dl, GError *err, gpointer data) {
	akDownload *d = ak_dl(dl);
	if (d == NULL) return;
	d->flags |= AK_DL_FAILED;
	if (g_error_matches(err, WEBKIT_DOWNLOAD_ERROR, WEBKIT_DOWNLOAD_ERROR_CANCELLED_BY_USER)) d->flags |= AK_DL_CANCELLED;
	if (d->error == NULL && err != NULL) d->error = g_strdup(err->message);
}

static void ak_download_finished(WebKitDownload *dl, gpointer data) {
	akDownload *d = ak_dl(dl);
	if (d == NULL || d->done) return;
	d->done = 1;
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_DOWNLOAD_DONE;
	ev.flags = d->flags;
	ev.str = d->error;
	ev.ptr = dl;
	akDispatch(d->h, &ev);
}

// ak_download_started is the context's download-started: the view that
// started the download decides (a download without one is cancelled); one
// it does not take is cancelled and reported to the context.
void ak_download_started(WebKitWebContext *ctx, WebKitDownload *dl, gpointer data) {
	WebKitWebView *v = webkit_download_get_web_view(dl);
	uintptr_t vh = v != NULL ? (uintptr_t)g_object_get_data(G_OBJECT(v), "ak-h") : 0;
	int verdict = AK_IGNORE;
	if (vh != 0) {
		WebKitURIRequest *r = webkit_download_get_request(dl);
		akEvent ev;
		memset(&ev, 0, sizeof ev);
		ev.kind = AK_DOWNLOAD_START;
		ev.uri = r != NULL ? webkit_uri_request_get_uri(r) : NULL;
		ev.ptr = dl;
		verdict = akDispatch(vh, &ev);
	}
	if (verdict != AK_USE || ak_dl(dl) == NULL) {
		webkit_download_cancel(dl);
		ak_emit((uintptr_t)data, AK_DOWNLOAD, NULL, NULL, 0, 0);
	}
}

// ak_download_accept keeps a download for Go's h, at most max bytes: its
// destination is asked of h (AK_DOWNLOAD_DEST) and its end told
// (AK_DOWNLOAD_DONE). Never over an existing file.
void ak_download_accept(WebKitDownload *dl, uintptr_t h, gint64 max) {
	akDownload *d = g_new0(akDownload, 1);
	d->h = h;
	d->max = max;
	g_object_set_data_full(G_OBJECT(dl), "ak-download", d, ak_download_free);
	webkit_download_set_allow_overwrite(dl, FALSE);
	g_signal_connect(dl, "decide-destination", G_CALLBACK(ak_download_decide), NULL);
	g_signal_connect(dl, "received-data", G_CALLBACK(ak_download_received), NULL);
	g_signal_connect(dl, "failed", G_CALLBACK(ak_download_failed), NULL);
	g_signal_connect(dl, "finished", G_CALLBACK(ak_download_finished), NULL);
	g_object_ref(dl); // until Go lets go of it (AK_DOWNLOAD_DONE)
}

void ak_download_set_destination(WebKitDownload *dl, const char *path) {
	webkit_download_set_destination(dl, path);
}

void ak_download_cancel(WebKitDownload *dl) {
	akDownload *d = ak_dl(dl);
	if (d != NULL) d->flags |= AK_DL_CANCELLED;
	webkit_download_cancel(dl);
}
