// Package insights is the figures layer of the fleet console's Insights
// page (issue 20): it turns counts of kiosk sessions, which the store adds
// up per site and clock hour and per site, day and identifier (Input),
// into protected figures (Figures), and draws those as server-rendered
// SVG charts with a sentence and a table each, CSV and JSON exports, and
// a printable monthly report. It does no database work and keeps no
// state; the console calls Build, then a Render or Write method.
//
// # The small-number rule
//
// Every figure passes through one rule, applied once, in Build; the
// charts, tables, exports and report only ever see its result (Count and
// Rate values, which do not hold the true numbers). With K from config
// (default 5; 3 to 100):
//
//  1. A count under K, including 0, is shown only as "fewer than K"
//     ("<5" in CSV, {"fewer_than": 5} in JSON).
//  2. Every other count is shown as a multiple of K, never below K:
//     counts that are not totals are rounded to the nearest multiple of K
//     (halves up).
//  3. A total (a figure that is the sum of others that are also shown:
//     the sessions of a page are the sum of its heat-map cells, of its
//     time buckets, of in and out of opening hours, of its sites and of
//     its months; assisted sessions the sum of outcomes and of kinds of
//     help; a quarter's cell the sum of its months'; all sites' cell the
//     sum of each site's) is rounded to a multiple of K too, but with an
//     offset chosen so that the interval of true values its shown value
//     stands for never starts exactly at the largest sum its parts allow.
//     (Were it to start there, the reader would know every part is at
//     its largest, and a hidden part would be exactly K-1.) When no
//     offset of base K will do, a base of 2K, 3K, ... is used. The choice
//     depends only on what is shown of the parts, so it reveals nothing
//     itself. (A total whose parts could only add up to K exactly would be
//     "withheld"; the figures Build makes cannot produce one.)
//  4. Shares, rates per opening hour, rankings, shading, bar lengths,
//     which hours the heat map shows and every sentence are worked out
//     from the shown values only. A share whose count is hidden is shown
//     as "under N%", N worked out from the shown base. Identifiers (tiles,
//     guides, services, features, languages, kinds of help) are listed
//     only when shown; smaller ones are not listed at all, so that no
//     list says "used, but rarely", while a grid (the heat map, the time
//     series, the outcomes, the sites) shows every cell, so "fewer than
//     K" there covers 0 as well.
//  5. Periods are calendar months, quarters of the financial year, or
//     financial years, counted from months that have ended; time series
//     step through days 1-7, 8-14, 15-21 and 22 to the end of a month, or
//     through months. Sites are one site or all sites. So any two sets of
//     sessions the figures describe either nest or do not meet, and the
//     same figure is the same on every page.
//  6. Usage counts (pages printed, print jobs, pages scanned, files
//     uploaded and downloaded, remote-help sessions and minutes) are not
//     counts of sessions: one session may print 30 pages. Each is shown
//     only when at least K sessions used what it counts (its feature,
//     UsageFeatures, is shown), otherwise "withheld" whatever its size;
//     shown, it is rounded as a total of its sites and months (rules 2
//     and 3). Whether it is withheld follows from shown figures only.
//
// # What the rule guarantees
//
//   - No output (page, CSV, JSON, report, or a PDF printed from it)
//     contains a count under K, nor any count that is not a multiple of
//     K (TestNoSmallNumberInAnyOutput reads every output back).
//   - Outputs are a function of the shown figures: changing a hidden
//     count to another hidden value, all else equal, changes no byte of
//     any output (TestHiddenValuesDoNotShow).
//   - Subtraction: for any one relation a reader can see (a total and
//     its parts on one page, a page's figure and the same figure of each
//     site or each month below it), a total minus the shown parts never
//     leaves a hidden count with a single possible value from 1 to K-1.
//     It can at most narrow it: to "at least 1", say, or "0 to 2". This
//     is proved for every combination of up to five parts and K of 3 to 6
//     (TestOneRelationNeverRevealsExhaustive), and checked on every
//     relation of a year's pages of seeded councils
//     (TestSubtractionNeverRevealsSmallCount).
//   - Differencing: two periods either nest (a month in its quarter) or do
//     not overlap, so subtracting periods gives another period's figures,
//     which are protected in their own right; a month is only shown once
//     it has ended, so its figures do not grow day by day. The same holds
//     for one site against all sites.
//
// # What it does not guarantee
//
//   - A reader who combines many relations at once (a two-way table of
//     buckets against outcomes, or of sites against months, across many
//     pages, solved as a system) can sometimes narrow a hidden count to a
//     single value, when several rounded figures all sit at the edges of
//     their intervals together. TestPropagation measures this with an
//     attacker that narrows every interval with every relation until
//     nothing changes: in 40 seeded councils of one to four quiet sites
//     (a year of pages each), with K = 5 it pinned 6 of 406,753 hidden
//     counts; with K = 10, none. A larger K makes it rarer.
//   - Knowing that a hidden count is at least 1 (someone did it) is
//     sometimes possible; knowing it is 0 sometimes too.
//   - Figures can change after a month ends if a kiosk's report arrives
//     late (agents queue reports while offline); comparing a page before
//     and after gives the late sessions' figures, rounded.
//   - Someone who already knows what every other resident did at a site
//     learns what the last one did: no rounding defends against that.
//   - The rule protects counts. What is counted (identifiers from the
//     kiosk's configuration, never a URL or anything typed) is the
//     kiosk's and the store's business (issue 20, items 1 and 2).
package insights
