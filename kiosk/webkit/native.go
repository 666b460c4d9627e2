//go:build cgo && linux

package webkit

// The C half of the binding lives in the .c files beside this one (built
// with the package, under the same constraint); native.h is what Go calls.

// #cgo pkg-config: webkit2gtk-4.1 gtk+-3.0
// #include "native.h"
import "C"
