package webkit

// RecentlyUsed is recentlyUsed, for the external tests.
var RecentlyUsed = recentlyUsed
