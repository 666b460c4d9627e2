// What the web processes draw GL with (gl.go): the vendor check, and the
// paths every context's sandbox gets so that they can load it.
#include <dlfcn.h>
#include "native.h"

static GPtrArray *sandbox_paths;

void ak_sandbox_add(const char *path) {
	if (sandbox_paths == NULL) sandbox_paths = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(sandbox_paths, g_strdup(path));
}

void ak_sandbox_apply(WebKitWebContext *ctx) {
	if (sandbox_paths == NULL) return;
	for (guint i = 0; i < sandbox_paths->len; i++)
		webkit_web_context_add_path_to_sandbox(ctx, g_ptr_array_index(sandbox_paths, i), TRUE);
}

// ak_egl_vendor_check loads the library at path as libglvnd would and
// looks for its entry point: NULL when it is an EGL vendor this process
// can load, else why not (a static string or dlerror's, valid until the
// next dl call).
const char *ak_egl_vendor_check(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return dlerror();
	const char *why = dlsym(h, "__egl_Main") == NULL ? "no __egl_Main: not an EGL vendor library" : NULL;
	dlclose(h);
	return why;
}
