//go:build !cgo || !linux

package webkit

// This file gives the package its API where WebKitGTK cannot be used. Init
// and NewContext fail with ErrUnavailable, so no Window, Context or View can
// be used; their methods do nothing.

// Init fails: there is no WebKitGTK in this build.
func Init() error { return ErrUnavailable }

// Run returns at once.
func Run() {}

// Quit does nothing.
func Quit() {}

// Invoke runs nothing: there is no loop to run it on.
func Invoke(f func()) {}

// InputCount is always 0.
func InputCount() uint64 { return 0 }

// WindowsShown is empty.
func WindowsShown() []string { return nil }

// WindowsRefused is 0.
func WindowsRefused() int { return 0 }

// ToplevelsVisible is 0.
func ToplevelsVisible() int { return 0 }

// SettingsBackend is "".
func SettingsBackend() string { return "" }

// ClearClipboards does nothing.
func ClearClipboards() {}

// Context is unusable in this build.
type Context struct{}

// NewContext fails with ErrUnavailable.
func NewContext(o ContextOptions) (*Context, error) { return nil, ErrUnavailable }

// Destroy does nothing.
func (c *Context) Destroy() {}

// View is unusable in this build.
type View struct{}

// NewView returns an unusable view.
func NewView(ctx *Context, o ViewOptions) *View { return &View{} }

// LoadURI does nothing.
func (v *View) LoadURI(uri string) {}

// URI is "".
func (v *View) URI() string { return "" }

// Title is "".
func (v *View) Title() string { return "" }

// CanGoBack is false.
func (v *View) CanGoBack() bool { return false }

// GoBack does nothing.
func (v *View) GoBack() {}

// Reload does nothing.
func (v *View) Reload() {}

// SetZoom does nothing.
func (v *View) SetZoom(level float64) {}

// Zoom is 1.
func (v *View) Zoom() float64 { return 1 }

// TerminateWebProcess does nothing.
func (v *View) TerminateWebProcess() {}

// Dropped is 0, 0.
func (v *View) Dropped() (bridge, watch uint64) { return 0, 0 }

// Destroy does nothing.
func (v *View) Destroy() {}

// Window is unusable in this build.
type Window struct{}

// NewWindow returns an unusable window.
func NewWindow(o WindowOptions) *Window { return &Window{} }

// AddTool does nothing.
func (w *Window) AddTool(id int, label, accessibleName string, style ToolStyle, atEnd bool) {}

// SetView does nothing.
func (w *Window) SetView(v *View) {}

// Banner does nothing.
func (w *Window) Banner(text string) {}

// ShowPanel does nothing.
func (w *Window) ShowPanel(title, text string, buttons []PanelButton) {}

// SetPanelText does nothing.
func (w *Window) SetPanelText(text string) {}

// HidePanel does nothing.
func (w *Window) HidePanel() {}

// PanelVisible is false.
func (w *Window) PanelVisible() bool { return false }

// BannerText is "".
func (w *Window) BannerText() string { return "" }

// Snapshot fails with ErrUnavailable.
func (w *Window) Snapshot(path string) error { return ErrUnavailable }

// Destroy does nothing.
func (w *Window) Destroy() {}

// Type types nothing.
func (v *View) Type(text string) bool { return false }

// Press presses nothing.
func (v *View) Press(k EditKey) bool { return false }

// Eval calls done with ErrUnavailable.
func (v *View) Eval(js string, done func(result string, err error)) {
	if done != nil {
		done("", ErrUnavailable)
	}
}

// SetGuide does nothing without WebKitGTK.
func (w *Window) SetGuide(v *View, title, closeLabel string, closeID int) {}

// Split reports no split.
func (w *Window) Split() (shown, stacked bool, position int) { return false, false, 0 }

// SetSplitPosition does nothing without WebKitGTK.
func (w *Window) SetSplitPosition(px int) {}

// SetKeyboard does nothing without WebKitGTK.
func (w *Window) SetKeyboard(rows [][]Key) {}

// ShowKeyboard does nothing without WebKitGTK.
func (w *Window) ShowKeyboard(show bool) {}

// KeyboardVisible is false without WebKitGTK.
func (w *Window) KeyboardVisible() bool { return false }

// Rect is never known without WebKitGTK.
func (w *Window) Rect(p Part, id int) (r Rect, ok bool) { return Rect{}, false }

// Press is false without WebKitGTK.
func (w *Window) Press(id int) bool { return false }

// SetHighContrast does nothing without WebKitGTK.
func (w *Window) SetHighContrast(on bool) {}

// HighContrast is false without WebKitGTK.
func (w *Window) HighContrast() bool { return false }

// Resize does nothing without WebKitGTK.
func (w *Window) Resize(width, height int) {}

// HasTouchscreen is false without WebKitGTK.
func HasTouchscreen() bool { return false }

// AccessibleName is "" without WebKitGTK.
func (w *Window) AccessibleName(p Part, id int) string { return "" }

// SetTool is false without WebKitGTK.
func (w *Window) SetTool(id int, label, accessibleName string) bool { return false }

// SetNames does nothing without WebKitGTK.
func (w *Window) SetNames(n Names) {}

// SetGuideBar does nothing without WebKitGTK.
func (w *Window) SetGuideBar(title, closeLabel string) {}

// Label is "" without WebKitGTK.
func (w *Window) Label(p Part, id int) string { return "" }

// Tooltip is "" without WebKitGTK.
func (w *Window) Tooltip(id int) string { return "" }

// ShareNetworkProcess fails with ErrUnavailable.
func ShareNetworkProcess(dir string) error { return ErrUnavailable }

// InvokeUrgent runs nothing: there is no loop to run it on.
func InvokeUrgent(f func()) {}

// AccessibleAbout is "", "" without WebKitGTK.
func (w *Window) AccessibleAbout(p Part, id int) (description, role string) { return "", "" }

// AfterPaint never calls f: there is no window.
func (w *Window) AfterPaint(f func()) {}

// FileChooser is a page's request for files; never made without WebKitGTK.
type FileChooser struct {
	MIMETypes []string
	Multiple  bool
}

// Answered is true without WebKitGTK.
func (f *FileChooser) Answered() bool { return true }

// Choose does nothing without WebKitGTK.
func (f *FileChooser) Choose(paths []string) {}

// Cancel does nothing without WebKitGTK.
func (f *FileChooser) Cancel() {}

// Download is a download a view started; never made without WebKitGTK.
type Download struct {
	URI string
}

// Accept does nothing without WebKitGTK.
func (d *Download) Accept(o DownloadOptions) {}

// Cancel does nothing without WebKitGTK.
func (d *Download) Cancel() {}

// PrintsDropped is 0.
func (v *View) PrintsDropped() uint64 { return 0 }

// PrintPDF calls done with ErrUnavailable.
func (v *View) PrintPDF(path string, done func(err error)) {
	if done != nil {
		done(ErrUnavailable)
	}
}

// SetSheet does nothing without WebKitGTK.
func (w *Window) SetSheet(v *View) {}

// SheetShown is false without WebKitGTK.
func (w *Window) SheetShown() bool { return false }

func recentlyUsed(path string) bool { return false }

// ShowFiles does nothing without WebKitGTK.
func (w *Window) ShowFiles(p FilesPanel) {}

// HideFiles does nothing without WebKitGTK.
func (w *Window) HideFiles() {}

// FilesShown is false without WebKitGTK.
func (w *Window) FilesShown() bool { return false }

// FilesText is nil without WebKitGTK.
func (w *Window) FilesText() []string { return nil }

// FilesNames is nil without WebKitGTK.
func (w *Window) FilesNames() []string { return nil }

// SetToolVisible is false without WebKitGTK.
func (w *Window) SetToolVisible(id int, visible bool) bool { return false }

// SetToolPriority is false without WebKitGTK.
func (w *Window) SetToolPriority(id int, priority int) bool { return false }

// ToolPlace is ToolNone without WebKitGTK.
func (w *Window) ToolPlace(id int) ToolPlace { return ToolNone }

// ToolbarWidth is 0s without WebKitGTK.
func (w *Window) ToolbarWidth() (minimum, natural int) { return 0, 0 }

// ShowMore does nothing without WebKitGTK.
func (w *Window) ShowMore(show bool) {}

// MoreShown is false without WebKitGTK.
func (w *Window) MoreShown() bool { return false }

// MorePressed is false without WebKitGTK.
func (w *Window) MorePressed() bool { return false }

// Size is 0s without WebKitGTK.
func (w *Window) Size() (width, height, screenWidth, screenHeight int) { return 0, 0, 0, 0 }

// FocusedButton is nothing without WebKitGTK.
func (w *Window) FocusedButton() (id int, inMore, ok bool) { return 0, false, false }

// NoGL fails with ErrUnavailable.
func NoGL(lib, dir string) error { return ErrUnavailable }

func checkVendor(lib string) error { return ErrUnavailable }
