package debcopyright

// reviewed names the licence files that licensecheck cannot name, by the
// SHA-256 of their content, each read by a person. A new version of one of
// these files has another hash, so it fails the build until it is read
// again and listed here. "" marks a file that grants nothing by itself (its
// text is still copied into the copyright file).
var reviewed = map[string]struct{ licence, why string }{
	// github.com/hashicorp/go-retryablehttp v0.7.8 LICENSE: the MPL 2.0
	// text after a copyright line, which hides its first line from licensecheck.
	"d6b1a865f1c8c697d343bd4e0ce61025f91898486a1f00d727f32e8644af77d3": {"MPL-2.0", "MPL 2.0 text after a copyright line"},
	// github.com/ulikunitz/xz v0.5.15 LICENSE: BSD 3-clause whose third
	// clause names the author ("My name, Ulrich Kunitz, may not be used").
	"701cbcc144a7c865b072f27547e66ddbf17ac44a3bd21f71149ace02518f107c": {"BSD-3-clause", "BSD 3-clause, third clause naming the author"},
	// modernc.org/libc v1.79.0, modernc.org/mathutil v1.7.1 and
	// modernc.org/memory v1.12.1 LICENSE: BSD 3-clause worded "Neither the
	// names of the authors nor ...".
	"95ff867eb55a56935fa7492406cfa953fb7c13ca73f4c0a86ae05756b4605600": {"BSD-3-clause", "BSD 3-clause, 'names of the authors' wording"},
	"bfa9bf72a72ca009fd62a8f84fca3dca67e51d93af96352723646599898b6cf5": {"BSD-3-clause", "BSD 3-clause, 'names of the authors' wording"},
	"59895e669f48f168b6b858358f6005779cdf40a265f7828813061b56af67b496": {"BSD-3-clause", "BSD 3-clause, 'names of the authors' wording"},
	// modernc.org/memory v1.12.1 LICENSE-LOGO: the address of the logo's
	// page on Wikimedia Commons; the logo is not compiled into anything.
	"5ae5bee3072a841376451b48d8cfcec7188e10543926d5870828d36c8a750dc5": {"", "address of a logo that is not compiled in"},
	// modernc.org/sqlite v1.61.1 LICENSE-SQLITE: SQLite's dedication to
	// the public domain.
	"8438c9c89b849131ead81d5435cb97fcf052df5b0b286dda8a2d4c29e6cb3fd0": {"public-domain", "SQLite's public-domain dedication"},
}
