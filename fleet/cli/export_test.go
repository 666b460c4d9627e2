package cli

// ServeOptionsForTest returns the options of `fleet serve --data dir`.
func ServeOptionsForTest(dir string) ServeOptions {
	return ServeOptions{Store: storeFlags{data: dir}}
}
