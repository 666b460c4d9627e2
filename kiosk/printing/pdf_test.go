package printing

import "accesskiosk/internal/ipp/ipptest"

// makePDF writes a small, valid PDF of n pages. For tests only.
func makePDF(n int) []byte { return ipptest.PDF(n) }
