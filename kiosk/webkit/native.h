// C side of the kiosk/webkit binding: what the Go files call. Every callback
// from GTK or WebKit into Go goes through akDispatch (exported from loop.go) with a
// runtime/cgo.Handle as its first argument; C never keeps a Go pointer.
#ifndef AK_NATIVE_H
#define AK_NATIVE_H

#include <stdint.h>
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

enum {
	AK_INVOKE = 1,          // a function queued with Invoke
	AK_DECIDE_NAVIGATION,   // uri, str=method, flags, num=navigation type; returns a verdict
	AK_DECIDE_NEW_WINDOW,   // same fields; returns a verdict
	AK_DECIDE_RESPONSE,     // uri (final, after redirects), flags, num=HTTP status; returns a verdict
	AK_LOAD_CHANGED,        // uri, num=WebKitLoadEvent
	AK_LOAD_FAILED,         // uri, str=message, flags, num=error code
	AK_TERMINATED,          // num=termination reason
	AK_BRIDGE_MESSAGE,      // str=message from a kiosk-scheme top document (string or JSON)
	AK_WATCH_MESSAGE,       // str=message from the watcher script in any frame (string or JSON)
	AK_PERMISSION,          // uri=page, num=permission kind; returns a verdict
	AK_REFUSED,             // str=what was refused (file_chooser, color_chooser, print)
	AK_DOWNLOAD,            // a download was started and cancelled
	AK_SCHEME,              // uri, str=method, ptr=WebKitURISchemeRequest*
	AK_BUTTON,              // num=button id
	AK_JS_RESULT,           // str=result as JSON (or the error), flags=1 on error
	AK_FILE_CHOOSER,        // str=accepted MIME types (comma-separated), flags=1 multiple, ptr=WebKitFileChooserRequest*; returns a verdict
	AK_DECIDE_DOWNLOAD,     // a response WebKit would download: fields as AK_DECIDE_RESPONSE; returns a verdict
	AK_DOWNLOAD_START,      // to a view: uri=request, ptr=WebKitDownload*; returns a verdict (Go called ak_download_accept)
	AK_DOWNLOAD_DEST,       // to a download: str=suggested file name; returns a verdict (Go set the destination)
	AK_DOWNLOAD_DONE,       // to a download: str=error or NULL, flags: 1 failed, 2 too large, 4 cancelled
	AK_PRINT_REQUEST,       // a page in the view asked to print (window.print() in its top frame)
	AK_PRINT_DONE           // a PDF render ended; str=the error or NULL, flags=1 on error
};

enum { AK_IGNORE = 0, AK_USE = 1 };

// The two script message channels (view.c): the privileged bridge, open
// only to documents of the context's own scheme in a view's top frame, and
// the watcher of every frame. Each lives in its own isolated script world;
// neither exists in a page's world.
#define AK_BRIDGE_WORLD "accesskiosk-bridge"
#define AK_BRIDGE_HANDLER "kiosk"
#define AK_WATCH_WORLD "accesskiosk-watch"
#define AK_WATCH_HANDLER "watch"

enum {
	AK_FLAG_REDIRECT = 1,
	AK_FLAG_USER_GESTURE = 2,
	AK_FLAG_MAIN_FRAME = 4,
	AK_FLAG_MIME_SUPPORTED = 8,
	AK_FLAG_ATTACHMENT = 16,
	AK_FLAG_CANCELLED = 32
};

enum {
	AK_PERM_OTHER = 0,
	AK_PERM_GEOLOCATION,
	AK_PERM_NOTIFICATION,
	AK_PERM_MEDIA,
	AK_PERM_POINTER_LOCK,
	AK_PERM_MEDIA_KEYS,
	AK_PERM_DEVICE_INFO,
	AK_PERM_CLIPBOARD,
	AK_PERM_WEBSITE_DATA
};

typedef struct {
	int kind;
	const char *uri;
	const char *str;
	int flags;
	int num;
	void *ptr;
} akEvent;

typedef struct akWindow akWindow;

extern int akDispatch(uintptr_t h, akEvent *ev);

int ak_init(void);
void ak_invoke(uintptr_t h);
guint64 ak_input_count_get(void);
void ak_clear_clipboards(void);
int ak_windows_shown(void);
const char *ak_window_shown(int i);
int ak_toplevels_visible(void);
guint ak_windows_refused(void);
const char *ak_settings_backend(void);

WebKitWebContext *ak_context_new(uintptr_t h, const char *scheme, int cache_model);
void ak_context_destroy(WebKitWebContext *ctx);
void ak_scheme_finish(WebKitURISchemeRequest *req, int status, const char *ctype, const char *headers, const void *body, gsize len);

WebKitWebView *ak_view_new(WebKitWebContext *ctx, uintptr_t h, const char *bridge, const char *watch, int bridge_rate, int watch_rate, int print_rate);
void ak_view_dropped(WebKitWebView *v, guint64 *bridge, guint64 *watch, guint64 *print);
void ak_view_print_pdf(WebKitWebView *v, const char *file_uri, uintptr_t h);
void ak_view_destroy(WebKitWebView *v);

akWindow *ak_window_new(uintptr_t h, const char *title, int fullscreen, int width, int height);
void ak_window_add_tool(akWindow *w, const char *label, const char *name, const char *widget_name, int id, int end);
void ak_window_set_view(akWindow *w, WebKitWebView *v);
void ak_window_set_sheet(akWindow *w, WebKitWebView *v);
int ak_window_sheet_shown(akWindow *w);
void ak_window_banner(akWindow *w, const char *text);
void ak_window_panel_clear(akWindow *w);
void ak_window_panel_show(akWindow *w, const char *title, const char *text);
void ak_window_panel_text(akWindow *w, const char *text);
void ak_window_panel_button(akWindow *w, const char *label, int id, int secondary);
int ak_window_panel_visible(akWindow *w);
const char *ak_window_banner_text(akWindow *w);
void ak_window_destroy(akWindow *w);
void ak_window_set_guide(akWindow *w, WebKitWebView *v, const char *title, const char *close_label, int close_id);
void ak_window_split(akWindow *w, int *shown, int *vertical, int *pos);
void ak_window_kb_clear(akWindow *w);
void ak_window_kb_row(akWindow *w);
void ak_window_kb_key(akWindow *w, const char *label, const char *name, int id, int width, int style);
void ak_window_kb_show(akWindow *w, int show);
int ak_window_kb_visible(akWindow *w);
int ak_window_rect(akWindow *w, int part, int id, int *x, int *y, int *width, int *height);
int ak_window_press(akWindow *w, int id);
const char *ak_window_accessible_name(akWindow *w, int part, int id);
void ak_window_accessible_about(akWindow *w, int part, int id, const char **description, const char **role);
int ak_window_set_tool(akWindow *w, int id, const char *label, const char *name);
void ak_window_set_names(akWindow *w, const char *toolbar, const char *split, const char *guide, const char *keyboard, const char *close_tip);
void ak_window_guide_bar(akWindow *w, const char *title, const char *close_label);
const char *ak_window_label(akWindow *w, int part, int id);
const char *ak_window_tooltip(akWindow *w, int id);
void ak_window_set_high_contrast(akWindow *w, int on);
int ak_window_high_contrast(akWindow *w);
void ak_window_resize(akWindow *w, int width, int height);
int ak_has_touchscreen(void);
void ak_view_eval(WebKitWebView *v, const char *js, uintptr_t h);
int ak_view_type(WebKitWebView *v, const char *text, guint key);
int ak_window_snapshot(akWindow *w, const char *path);
void ak_window_after_paint(akWindow *w, uintptr_t h);
void ak_invoke_urgent(uintptr_t h);
int ak_share_network_process(const char *dir);
void ak_sandbox_add(const char *path);
void ak_sandbox_apply(WebKitWebContext *ctx);
const char *ak_egl_vendor_check(const char *path);

int ak_recently_used(const char *uri);

// Files from and to pages (files.c): the file chooser's answer, downloads.
gboolean ak_file_chooser(WebKitWebView *v, WebKitFileChooserRequest *r, gpointer data);
void ak_file_chooser_answer(WebKitFileChooserRequest *r, const char *paths);
void ak_download_started(WebKitWebContext *ctx, WebKitDownload *dl, gpointer data);
void ak_download_accept(WebKitDownload *dl, uintptr_t h, gint64 max);
void ak_download_set_destination(WebKitDownload *dl, const char *path);
void ak_download_cancel(WebKitDownload *dl);
enum { AK_DL_FAILED = 1, AK_DL_TOO_LARGE = 2, AK_DL_CANCELLED = 4 };
void ak_window_files_show(akWindow *w, const char *title, const char *status, const char *note, const char *empty,
	const char *list_name, const char *rows, const char *close_label, int close_id);
void ak_window_files_hide(akWindow *w);
int ak_window_files_visible(akWindow *w);
char *ak_window_files_text(akWindow *w);
char *ak_window_files_names(akWindow *w);
int ak_window_tool_visible(akWindow *w, int id, int visible);

// The toolbar's overflow (toolbar.c): priorities, the More button (id
// AK_TOOL_MORE) and its panel (Close: AK_TOOL_MORE_CLOSE).
enum { AK_PINNED = 1 << 30, AK_TOOL_MORE = -2, AK_TOOL_MORE_CLOSE = -3 };
int ak_window_tool_priority(akWindow *w, int id, int priority);
int ak_window_tool_place(akWindow *w, int id);
void ak_window_toolbar_width(akWindow *w, int *minimum, int *natural);
void ak_window_more_names(akWindow *w, const char *label, const char *name, const char *close_label);
void ak_window_more_show(akWindow *w, int show);
int ak_window_more_visible(akWindow *w);
int ak_window_more_pressed(akWindow *w);
int ak_window_focused(akWindow *w, int *in_more);
void ak_window_size(akWindow *w, int *width, int *height, int *screen_width, int *screen_height);

#endif
