// Package version holds the version string stamped into every binary at
// build time (make build sets it from git describe).
package version

// Version is the build's version; "dev" when built without make.
var Version = "dev"
