package scan

import (
	"bufio"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// deviceOptions is what a device says it can do, from `scanimage -A`.
// SANE names its well-known options (mode, resolution, depth, source) the
// same in every backend, but their values differ: "Color", "24bit Color",
// "True Gray", resolutions as a list or a range.
type deviceOptions struct {
	modes       []string // as the device spells them; nil when it has no mode option
	resList     []int    // the resolutions it offers, or
	resMin      int      // a range resMin..resMax
	resMax      int
	depths      []int
	depthNow    int // the current depth, 0 when unknown
	sources     []string
	optionsRead bool
}

// optionLine matches "    --mode Gray|Color [Gray]" and
// "    --resolution 1..1200dpi (in steps of 1) [50]".
var optionLine = regexp.MustCompile(`^\s+--(mode|resolution|depth|source)\s+(.+?)\s+\[([^\]]*)\]\s*$`)

// parseOptions reads `scanimage --all-options` output.
func parseOptions(out string) deviceOptions {
	o := deviceOptions{optionsRead: true}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := optionLine.FindStringSubmatch(sc.Text())
		if m == nil || m[3] == "inactive" {
			continue
		}
		name, constraint, current := m[1], m[2], m[3]
		switch name {
		case "mode":
			o.modes = strings.Split(constraint, "|")
		case "source":
			o.sources = strings.Split(constraint, "|")
		case "depth":
			o.depths = parseInts(constraint)
			o.depthNow, _ = strconv.Atoi(current)
		case "resolution":
			c := strings.TrimSpace(constraint)
			if i := strings.Index(c, " ("); i >= 0 { // "(in steps of 1)"
				c = c[:i]
			}
			c = strings.TrimSuffix(c, "dpi")
			if lo, hi, ok := strings.Cut(c, ".."); ok {
				o.resMin, _ = strconv.Atoi(strings.TrimSpace(lo))
				o.resMax, _ = strconv.Atoi(strings.TrimSpace(hi))
			} else {
				o.resList = parseInts(c)
			}
		}
	}
	return o
}

func parseInts(s string) []int {
	var out []int
	for f := range strings.SplitSeq(strings.TrimSuffix(s, "dpi"), "|") {
		f = strings.TrimSuffix(strings.TrimSpace(f), "dpi")
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// modeName is the device's name for colour or grey scanning, or "" when it
// has none (then the scan is colour, or whatever the device does, and a
// grey page is made from it). Among names that fit, the shortest wins:
// "Color" over "24bit Color[Fast]", "True Gray" over "Gray[Error Diffusion]".
func (o deviceOptions) modeName(m Mode) string {
	words := []string{"color", "colour"}
	if m == Grey {
		words = []string{"gray", "grey"}
	}
	best := ""
	for _, name := range o.modes {
		l := strings.ToLower(name)
		if !slices.ContainsFunc(words, func(w string) bool { return strings.Contains(l, w) }) {
			continue
		}
		if best == "" || len(name) < len(best) {
			best = name
		}
	}
	return best
}

// resolution is the device's resolution nearest to want.
func (o deviceOptions) resolution(want int) int {
	if o.resMax > 0 {
		return min(max(want, o.resMin), o.resMax)
	}
	if len(o.resList) == 0 {
		return want
	}
	best := o.resList[0]
	for _, r := range o.resList {
		if abs(r-want) < abs(best-want) || (abs(r-want) == abs(best-want) && r > best) {
			best = r
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// args are scanimage's arguments for one page to stdout as JPEG, with
// progress on stderr.
func (o deviceOptions) args(device string, m Mode, res int, source string) []string {
	a := []string{"--device-name=" + device, "--format=jpeg", "--progress"}
	if name := o.modeName(m); name != "" {
		a = append(a, "--mode="+name)
	} else if m == Grey && len(o.modes) > 0 {
		if c := o.modeName(Colour); c != "" {
			a = append(a, "--mode="+c)
		}
	}
	if o.depthNow != 0 && o.depthNow != 8 && slices.Contains(o.depths, 8) {
		a = append(a, "--depth=8")
	}
	a = append(a, "--resolution="+strconv.Itoa(o.resolution(res)))
	if source != "" {
		a = append(a, "--source="+source)
	}
	return a
}
