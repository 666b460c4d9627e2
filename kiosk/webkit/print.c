//go:build cgo && linux

// Printing without GTK's print dialog: a page's window.print() is handed to
// Go (view.c's "print" handler), and a view's main frame is rendered to a
// PDF file with WebKit's own print operation and GTK's file printer.

#include <string.h>
#include "internal.h"

// The page-world script that makes window.print() do nothing in every frame
// but the top one (NewView adds it when the view takes print requests).
// WebKit's "print" signal does not say which frame asked, and the panel
// prints the top document; a frame (an allow_frames payment page, say) may
// not open it. It runs at document start, before any script of the frame,
// in every document of every frame WebKit creates (about:blank and
// about:srcdoc ones included), and the property it leaves cannot be
// deleted or redefined.
const char *ak_frame_print_script =
	"if (window !== window.top) {"
	"  Object.defineProperty(window, 'print', {value: function print() {}, writable: false, configurable: false, enumerable: true});"
	"}";

typedef struct {
	uintptr_t h;
	char *error;
} akPrintJob;

static void ak_print_failed(WebKitPrintOperation *op, GError *err, gpointer data) {
	akPrintJob *j = data;
	if (j->error == NULL) j->error = g_strdup(err != NULL && err->message != NULL ? err->message : "print failed");
}

static void ak_print_finished(WebKitPrintOperation *op, gpointer data) {
	akPrintJob *j = data;
	g_signal_handlers_disconnect_matched(op, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, j);
	akEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = AK_PRINT_DONE;
	ev.str = j->error;
	ev.flags = j->error != NULL;
	akDispatch(j->h, &ev);
	g_free(j->error);
	g_free(j);
	g_object_unref(op);
}

// ak_file_printer is the name of GTK's "Print to File" printer as GTK
// itself names it: the file print backend translates the name with GTK's
// own catalogue, so a kiosk running in Welsh finds it too.
static const char *ak_file_printer(void) { return g_dgettext("gtk30", "Print to File"); }

// ak_view_print_pdf renders v's main frame (print media, A4 portrait) into
// a PDF at file_uri (file:///...) with no dialog, and reports to h with
// AK_PRINT_DONE (str: the error, or NULL). Only GTK's file backend is
// loaded (ak_init), so nothing can reach a real printer this way.
void ak_view_print_pdf(WebKitWebView *v, const char *file_uri, uintptr_t h) {
	WebKitPrintOperation *op = webkit_print_operation_new(v);
	GtkPrintSettings *s = gtk_print_settings_new();
	gtk_print_settings_set_printer(s, ak_file_printer());
	gtk_print_settings_set(s, GTK_PRINT_SETTINGS_OUTPUT_FILE_FORMAT, "pdf");
	gtk_print_settings_set(s, GTK_PRINT_SETTINGS_OUTPUT_URI, file_uri);
	gtk_print_settings_set_n_copies(s, 1);
	GtkPageSetup *ps = gtk_page_setup_new();
	GtkPaperSize *a4 = gtk_paper_size_new(GTK_PAPER_NAME_A4);
	gtk_page_setup_set_paper_size_and_default_margins(ps, a4);
	gtk_page_setup_set_orientation(ps, GTK_PAGE_ORIENTATION_PORTRAIT);
	gtk_print_settings_set_paper_size(s, a4);
	gtk_paper_size_free(a4);
	webkit_print_operation_set_print_settings(op, s);
	webkit_print_operation_set_page_setup(op, ps);
	g_object_unref(s);
	g_object_unref(ps);
	akPrintJob *j = g_new0(akPrintJob, 1);
	j->h = h;
	g_signal_connect(op, "failed", G_CALLBACK(ak_print_failed), j);
	g_signal_connect(op, "finished", G_CALLBACK(ak_print_finished), j);
	webkit_print_operation_print(op);
}
