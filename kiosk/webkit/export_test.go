package webkit

// RecentlyUsed is recentlyUsed, for the external tests.
var RecentlyUsed = recentlyUsed

// CheckVendor is checkVendor, for the external tests.
var CheckVendor = checkVendor
