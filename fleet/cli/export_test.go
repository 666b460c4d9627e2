package cli

// ServeOptionsForTest returns the options of `fleet serve --data dir`.
func ServeOptionsForTest(dir string) ServeOptions {
	return ServeOptions{Store: storeFlags{data: dir}}
}

// ServeOptionsForTestDB returns the options of `fleet serve --data dir --db dsn`.
func ServeOptionsForTestDB(dir, dsn string) ServeOptions {
	return ServeOptions{Store: storeFlags{data: dir, db: dsn}}
}

// ServeOptionsForTestReplica returns the options of `fleet serve --data
// dir --db dsn --internal-addr internal`.
func ServeOptionsForTestReplica(dir, dsn, internal string) ServeOptions {
	return ServeOptions{Store: storeFlags{data: dir, db: dsn}, InternalAddr: internal}
}
