package console

import (
	"net/http"
	"strconv"

	"accesskiosk/fleet/store"
)

type auditData struct {
	Entries []store.AuditEntry
	Older   int64
}

// audit lists the audit log, newest first, 100 entries a page.
func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const n = 100
	entries, err := c.st.AuditLog(r.Context(), before, n)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := auditData{Entries: entries}
	if len(entries) == n {
		d.Older = entries[n-1].ID
	}
	c.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Data: d})
}
