// Package printing is the kiosk's printer back end (issue 16): PDF page
// counting and previews, per-session and per-day page limits, a job rate
// limit, held printing with a release code, and cancelling what a session
// left in the queue when it ends. It talks to the printer through
// internal/ipp, the IPP client it shares with the agent's printer health
// check. It has no cgo and does not import the shell.
//
// The pieces, each usable alone:
//
//   - Config: the `printing:` section of the kiosk config, with Validate
//     giving "FILE:LINE: printing.KEY: what is wrong".
//   - Document: a PDF in memory with its page count from poppler's pdfinfo,
//     and page previews (PNG) from pdftoppm, both run as child processes
//     with a time and memory limit.
//   - Service and Session: the kiosk's printing. Service holds the printer,
//     the day's page count (a date and a number in the kiosk's state
//     directory) and the kiosk-wide jobs-per-minute limit; a Session holds
//     one resident's jobs, pages and release code.
//   - ipp.HealthWarnings and ipp.CheckHealth: printer-state and
//     printer-state-reasons as warnings for IT staff (printer_offline,
//     printer_needs_paper, printer_toner_low, printer_jammed, ...).
//
// How the shell uses it (kiosk/shell/print.go):
//
//	svc, err := printing.New(cfg.Printing, printing.Options{DayCountFile: stateDir + "/print-count.json", Log: log})
//	go svc.Run(ctx)                         // retries cancels a dead printer refused
//	sess := svc.StartSession()              // when a session starts
//	doc, err := printing.OpenDocument(ctx, pdfPath, printing.DocumentOptions{})
//	png, err := doc.Preview(ctx, 1, 0)      // the panel's preview of page 1
//	caps, err := svc.Capabilities(ctx)      // colour? copies? printer state
//	left := sess.PagesLeft()                // "pages left today"
//	job, err := sess.Print(ctx, doc, printing.PrintOptions{Copies: 1})
//	receipt, err := sess.CancelPending(ctx) // when the session ends: receipt's print_jobs
//
// Privacy: nothing here logs, keeps or reports anything about a document
// (no title, file name, URL or text); logs and receipts carry counts, job
// ids and states. Job names and the requesting user are the kiosk's own
// (Config.JobName, Config.User). Documents and previews stay in memory.
package printing
