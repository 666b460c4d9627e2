// Package assist is the kiosk's side of remote help (issue 17): council
// staff see the kiosk's screen and point at it, never type or click, and
// only while the resident agrees. It has no cgo and imports no shell code:
// the shell feeds it frames and shows what it asks for.
//
//   - Session is one share's state machine: offered → asking (the consent
//     prompt) → sharing → ended, with the end reasons of fleet/assist/wire
//     (stop, session_end, time_limit after 30 minutes, staff_closed,
//     agent_gone, fleet_gone, refused, no_answer, ...).
//   - HelpCode is the 6-digit code a resident reads out: 10 minutes, used
//     once, only its salted hash ever leaves the screen.
//   - Masks, Paint and Tracker black out password fields, the configured
//     selectors (from MaskScript's reports in every frame, iframes of any
//     origin included, failing closed) and, while a masked field has the
//     focus, the on-screen keyboard, in the captured pixels before anything
//     else looks at them.
//   - Differ finds the 32-pixel tiles that changed since the frame the
//     viewer has; Encoder sends them as PNG (flat regions) or JPEG.
//   - Controller adapts frame rate and JPEG quality to the viewer's
//     end-to-end acks: at most wire.Window frames in flight, drop rather
//     than queue.
//   - PointGate checks staff's pointer events (inside the frame, a short
//     cleaned note, rate-limited) before the shell draws a ring.
//   - Sharer ties them to the agent's socket (kiosk/assist/link): the API
//     the shell calls.
//
// Nothing here writes to disk; log lines carry reasons, counts and
// durations only.
package assist
