// nogl is an EGL vendor library for libglvnd with one display and nothing
// to draw with: no configs, no contexts, no surfaces. The kiosk's web
// processes load it instead of Mesa when WebGL is off (kiosk.yaml's
// `webgl`, default false; kiosk/webkit's NoGL says how).
//
// Why: pages are painted on the CPU (hardware-acceleration-policy NEVER),
// yet WebKitGTK's web process opens a surfaceless EGL display when it
// starts and aborts without one. Debian's only EGL is Mesa, whose driver
// links LLVM: every web process then maps about 43 MiB of LLVM (8 MiB of it
// relocated, so private to each process) and 4 MiB of driver, to paint
// nothing. With this display WebKit starts, paints on the CPU as before,
// and a page asking for WebGL gets null from getContext, as on a machine
// without GPU support, and carries on. That is WebKitGTK 2.50 (Debian 12);
// 2.54 (Debian 13) opens no EGL display in the web process when
// acceleration is off, and never loads this library.
//
// Every function a page could reach fails cleanly with an EGL error; none
// allocates. Built by the Makefile and the kiosk package as
// libEGL_accesskiosk_nogl.so (gcc -shared -fPIC); it needs only the C
// library and libglvnd's vendor ABI header.

#include <string.h>
#include <glvnd/libeglabi.h>

static _Thread_local EGLint last_error = EGL_SUCCESS;

// The one display: any address of ours will do as its handle.
static const int display_tag;
#define DISPLAY ((EGLDisplay)&display_tag)

static EGLBoolean fail(EGLint e) {
	last_error = e;
	return EGL_FALSE;
}

static EGLBoolean succeed(void) {
	last_error = EGL_SUCCESS;
	return EGL_TRUE;
}

// checked fails with EGL_BAD_DISPLAY unless d is ours, else with e.
static EGLBoolean checked(EGLDisplay d, EGLint e) { return fail(d == DISPLAY ? e : EGL_BAD_DISPLAY); }

static EGLint nogl_GetError(void) {
	EGLint e = last_error;
	last_error = EGL_SUCCESS;
	return e;
}

static EGLBoolean nogl_Initialize(EGLDisplay d, EGLint *major, EGLint *minor) {
	if (d != DISPLAY) return fail(EGL_BAD_DISPLAY);
	if (major != NULL) *major = 1;
	if (minor != NULL) *minor = 5;
	return succeed();
}

static EGLBoolean nogl_Terminate(EGLDisplay d) { return d == DISPLAY ? succeed() : fail(EGL_BAD_DISPLAY); }

static const char *nogl_QueryString(EGLDisplay d, EGLint name) {
	if (d == EGL_NO_DISPLAY && name == EGL_EXTENSIONS) {
		last_error = EGL_SUCCESS;
		return "EGL_EXT_platform_base EGL_MESA_platform_surfaceless";
	}
	if (d != DISPLAY) {
		last_error = EGL_BAD_DISPLAY;
		return NULL;
	}
	last_error = EGL_SUCCESS;
	switch (name) {
	case EGL_VENDOR:
		return "Access Kiosk (no GL)";
	case EGL_VERSION:
		return "1.5 no GL";
	case EGL_EXTENSIONS:
	case EGL_CLIENT_APIS:
		return "";
	}
	last_error = EGL_BAD_PARAMETER;
	return NULL;
}

// No configs: the answer to every query, whatever it asked for.
static EGLBoolean nogl_GetConfigs(EGLDisplay d, EGLConfig *configs, EGLint size, EGLint *num) {
	if (d != DISPLAY) return fail(EGL_BAD_DISPLAY);
	if (num == NULL) return fail(EGL_BAD_PARAMETER);
	*num = 0;
	return succeed();
}

static EGLBoolean nogl_ChooseConfig(EGLDisplay d, const EGLint *attribs, EGLConfig *configs, EGLint size, EGLint *num) {
	return nogl_GetConfigs(d, configs, size, num);
}

static EGLBoolean nogl_GetConfigAttrib(EGLDisplay d, EGLConfig c, EGLint attrib, EGLint *value) {
	return checked(d, EGL_BAD_CONFIG);
}

static EGLContext nogl_CreateContext(EGLDisplay d, EGLConfig c, EGLContext share, const EGLint *attribs) {
	checked(d, EGL_BAD_CONFIG);
	return EGL_NO_CONTEXT;
}

static EGLBoolean nogl_DestroyContext(EGLDisplay d, EGLContext c) { return checked(d, EGL_BAD_CONTEXT); }

static EGLBoolean nogl_QueryContext(EGLDisplay d, EGLContext c, EGLint attrib, EGLint *value) {
	return checked(d, EGL_BAD_CONTEXT);
}

static EGLBoolean nogl_MakeCurrent(EGLDisplay d, EGLSurface draw, EGLSurface read, EGLContext c) {
	if (d != DISPLAY) return fail(EGL_BAD_DISPLAY);
	// Releasing the current context is the one thing that works: there
	// never is one.
	if (c == EGL_NO_CONTEXT && draw == EGL_NO_SURFACE && read == EGL_NO_SURFACE) return succeed();
	return fail(EGL_BAD_CONTEXT);
}

static EGLSurface no_surface(EGLDisplay d) {
	checked(d, EGL_BAD_CONFIG);
	return EGL_NO_SURFACE;
}

static EGLSurface nogl_CreateWindowSurface(EGLDisplay d, EGLConfig c, EGLNativeWindowType w, const EGLint *attribs) {
	return no_surface(d);
}

static EGLSurface nogl_CreatePixmapSurface(EGLDisplay d, EGLConfig c, EGLNativePixmapType p, const EGLint *attribs) {
	return no_surface(d);
}

static EGLSurface nogl_CreatePbufferSurface(EGLDisplay d, EGLConfig c, const EGLint *attribs) { return no_surface(d); }

static EGLSurface nogl_CreatePbufferFromClientBuffer(EGLDisplay d, EGLenum type, EGLClientBuffer b, EGLConfig c,
	const EGLint *attribs) {
	return no_surface(d);
}

static EGLSurface nogl_CreatePlatformWindowSurface(EGLDisplay d, EGLConfig c, void *w, const EGLAttrib *attribs) {
	return no_surface(d);
}

static EGLSurface nogl_CreatePlatformPixmapSurface(EGLDisplay d, EGLConfig c, void *p, const EGLAttrib *attribs) {
	return no_surface(d);
}

static EGLBoolean nogl_DestroySurface(EGLDisplay d, EGLSurface s) { return checked(d, EGL_BAD_SURFACE); }

static EGLBoolean nogl_QuerySurface(EGLDisplay d, EGLSurface s, EGLint attrib, EGLint *value) {
	return checked(d, EGL_BAD_SURFACE);
}

static EGLBoolean nogl_SurfaceAttrib(EGLDisplay d, EGLSurface s, EGLint attrib, EGLint value) {
	return checked(d, EGL_BAD_SURFACE);
}

static EGLBoolean nogl_BindTexImage(EGLDisplay d, EGLSurface s, EGLint buffer) { return checked(d, EGL_BAD_SURFACE); }

static EGLBoolean nogl_ReleaseTexImage(EGLDisplay d, EGLSurface s, EGLint buffer) { return checked(d, EGL_BAD_SURFACE); }

static EGLBoolean nogl_SwapBuffers(EGLDisplay d, EGLSurface s) { return checked(d, EGL_BAD_SURFACE); }

static EGLBoolean nogl_CopyBuffers(EGLDisplay d, EGLSurface s, EGLNativePixmapType p) { return checked(d, EGL_BAD_SURFACE); }

static EGLBoolean nogl_SwapInterval(EGLDisplay d, EGLint interval) { return checked(d, EGL_BAD_CONTEXT); }

static EGLBoolean nogl_BindAPI(EGLenum api) {
	if (api != EGL_OPENGL_ES_API && api != EGL_OPENGL_API) return fail(EGL_BAD_PARAMETER);
	return succeed();
}

static EGLBoolean nogl_ReleaseThread(void) { return succeed(); }
static EGLBoolean nogl_WaitClient(void) { return succeed(); }
static EGLBoolean nogl_WaitGL(void) { return succeed(); }
static EGLBoolean nogl_WaitNative(EGLint engine) { return succeed(); }

static EGLSync nogl_CreateSync(EGLDisplay d, EGLenum type, const EGLAttrib *attribs) {
	checked(d, EGL_BAD_MATCH); // syncs need a current context
	return EGL_NO_SYNC;
}

static EGLBoolean nogl_DestroySync(EGLDisplay d, EGLSync s) { return checked(d, EGL_BAD_PARAMETER); }

static EGLint nogl_ClientWaitSync(EGLDisplay d, EGLSync s, EGLint flags, EGLTime timeout) {
	checked(d, EGL_BAD_PARAMETER);
	return EGL_FALSE;
}

static EGLBoolean nogl_WaitSync(EGLDisplay d, EGLSync s, EGLint flags) { return checked(d, EGL_BAD_PARAMETER); }

static EGLBoolean nogl_GetSyncAttrib(EGLDisplay d, EGLSync s, EGLint attrib, EGLAttrib *value) {
	return checked(d, EGL_BAD_PARAMETER);
}

static EGLImage nogl_CreateImage(EGLDisplay d, EGLContext c, EGLenum target, EGLClientBuffer b, const EGLAttrib *attribs) {
	checked(d, EGL_BAD_PARAMETER);
	return EGL_NO_IMAGE;
}

static EGLBoolean nogl_DestroyImage(EGLDisplay d, EGLImage image) { return checked(d, EGL_BAD_PARAMETER); }

// ---- the vendor ABI -------------------------------------------------------

static EGLDisplay get_platform_display(EGLenum platform, void *native, const EGLAttrib *attribs) {
	// The default surfaceless display, which is what WebKit's web process
	// asks for; anything else (X11, Wayland, GBM, a device) is not ours.
	if ((platform == EGL_PLATFORM_SURFACELESS_MESA || platform == EGL_NONE) && native == EGL_DEFAULT_DISPLAY)
		return DISPLAY;
	return EGL_NO_DISPLAY;
}

static EGLBoolean get_supports_api(EGLenum api) { return api == EGL_OPENGL_ES_API || api == EGL_OPENGL_API; }

static const char *get_vendor_string(int name) {
	return name == __EGL_VENDOR_STRING_PLATFORM_EXTENSIONS ? "EGL_MESA_platform_surfaceless" : NULL;
}

#define FN(name) {"egl" #name, (void *)nogl_##name}
static const struct {
	const char *name;
	void *fn;
} functions[] = {
	FN(GetError), FN(Initialize), FN(Terminate), FN(QueryString), FN(GetConfigs), FN(ChooseConfig),
	FN(GetConfigAttrib), FN(CreateContext), FN(DestroyContext), FN(QueryContext), FN(MakeCurrent),
	FN(CreateWindowSurface), FN(CreatePixmapSurface), FN(CreatePbufferSurface), FN(CreatePbufferFromClientBuffer),
	FN(CreatePlatformWindowSurface), FN(CreatePlatformPixmapSurface), FN(DestroySurface), FN(QuerySurface),
	FN(SurfaceAttrib), FN(BindTexImage), FN(ReleaseTexImage), FN(SwapBuffers), FN(CopyBuffers), FN(SwapInterval),
	FN(BindAPI), FN(ReleaseThread), FN(WaitClient), FN(WaitGL), FN(WaitNative), FN(CreateSync), FN(DestroySync),
	FN(ClientWaitSync), FN(WaitSync), FN(GetSyncAttrib), FN(CreateImage), FN(DestroyImage),
};

// get_proc_address gives the core EGL functions; extensions are not ours
// (NULL: libglvnd then says the extension is missing).
static void *get_proc_address(const char *name) {
	for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
		if (strcmp(functions[i].name, name) == 0) return functions[i].fn;
	return NULL;
}

static void *get_dispatch_address(const char *name) { return NULL; }
static void set_dispatch_index(const char *name, int index) {}

__attribute__((visibility("default"))) EGLBoolean __egl_Main(uint32_t version, const __EGLapiExports *exports,
	__EGLvendorInfo *vendor, __EGLapiImports *imports) {
	if (EGL_VENDOR_ABI_GET_MAJOR_VERSION(version) != EGL_VENDOR_ABI_MAJOR_VERSION) return EGL_FALSE;
	imports->getPlatformDisplay = get_platform_display;
	imports->getSupportsAPI = get_supports_api;
	imports->getVendorString = get_vendor_string;
	imports->getProcAddress = get_proc_address;
	imports->getDispatchAddress = get_dispatch_address;
	imports->setDispatchIndex = set_dispatch_index;
	return EGL_TRUE;
}
