//go:build cgo && linux

// One network process for every ephemeral context (network.go).

#include "internal.h"

static WebKitWebsiteDataManager *ak_network_anchor;

// ak_share_network_process makes the anchor: a persistent website data
// manager that no view ever uses, with its directories under dir. WebKit
// makes a manager's data store only when first asked about it; setting
// credential storage off (nothing may ever be stored in a keyring anyway)
// makes it now. 1 when the anchor exists.
int ak_share_network_process(const char *dir) {
	if (ak_network_anchor != NULL) return 1;
	ak_network_anchor = webkit_website_data_manager_new("base-data-directory", dir, "base-cache-directory", dir, NULL);
	if (ak_network_anchor == NULL) return 0;
	webkit_website_data_manager_set_persistent_credential_storage_enabled(ak_network_anchor, FALSE);
	return 1;
}
