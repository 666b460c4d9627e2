package imagecheck

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// tnode is a device tree node for tests: properties in order.
type tnode struct {
	name  string
	props [][2]string // name, value ("" for an empty property); compatible as "a\x00b"
	kids  []tnode
}

// buildFDT serialises a tree as a flattened device tree (version 17), as dtc
// writes one.
func buildFDT(root tnode) []byte {
	be := binary.BigEndian
	var st, strs []byte
	strOff := map[string]int{}
	u32 := func(b []byte, v uint32) []byte { return be.AppendUint32(b, v) }
	pad := func(b []byte) []byte {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	var walk func(n tnode)
	walk = func(n tnode) {
		st = u32(st, fdtBeginNode)
		st = pad(append(append(st, n.name...), 0))
		for _, p := range n.props {
			off, ok := strOff[p[0]]
			if !ok {
				off = len(strs)
				strOff[p[0]] = off
				strs = append(append(strs, p[0]...), 0)
			}
			val := []byte(p[1])
			if p[1] != "" {
				val = append(val, 0)
			}
			st = u32(u32(u32(st, fdtProp), uint32(len(val))), uint32(off))
			st = pad(append(st, val...))
		}
		for _, k := range n.kids {
			walk(k)
		}
		st = u32(st, fdtEndNode)
	}
	walk(root)
	st = u32(st, fdtEnd)
	const hdr = 40
	rsv := make([]byte, 16)
	offRsv := hdr
	offStruct := offRsv + len(rsv)
	offStrings := offStruct + len(st)
	total := offStrings + len(strs)
	var h []byte
	for _, v := range []int{fdtMagic, total, offStruct, offStrings, offRsv, 17, 16, 0, len(strs), len(st)} {
		h = u32(h, uint32(v))
	}
	return append(append(append(h, rsv...), st...), strs...)
}

func TestParseFDT(t *testing.T) {
	dtb := buildFDT(tnode{name: "", props: [][2]string{{"compatible", "raspberrypi,5-model-b\x00brcm,bcm2712"}, {"model", "Raspberry Pi 5"}}, kids: []tnode{
		{name: "soc@107c000000", props: [][2]string{{"compatible", "simple-bus"}, {"ranges", ""}}, kids: []tnode{
			{name: "mmc@fff000", props: [][2]string{{"compatible", "brcm,bcm2712-sdhci\x00brcm,sdhci-brcmstb"}}},
			{name: "mmc@1100000", props: [][2]string{{"compatible", "brcm,bcm2712-sdhci"}, {"status", "disabled"}}},
		}},
	}})
	nodes, err := ParseFDT(dtb)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, n := range nodes {
		paths = append(paths, n.Path)
	}
	want := []string{"/", "/soc@107c000000", "/soc@107c000000/mmc@fff000", "/soc@107c000000/mmc@1100000"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
	if n := nodes[0]; n.Model != "Raspberry Pi 5" || !slices.Equal(n.Compatible, []string{"raspberrypi,5-model-b", "brcm,bcm2712"}) {
		t.Errorf("root: %+v", n)
	}
	if !nodes[2].Enabled() || nodes[3].Enabled() {
		t.Errorf("status: %+v %+v", nodes[2], nodes[3])
	}
	if !slices.Equal(nodes[2].Compatible, []string{"brcm,bcm2712-sdhci", "brcm,sdhci-brcmstb"}) {
		t.Errorf("compatible: %q", nodes[2].Compatible)
	}
}

// A damaged or hostile .dtb is refused with an error, never a panic or a
// loop: every truncation of a real tree, and bytes flipped in it.
func TestParseFDTDamaged(t *testing.T) {
	dtb := buildFDT(tnode{props: [][2]string{{"compatible", "a,b"}}, kids: []tnode{{name: "x", props: [][2]string{{"status", "okay"}}}}})
	for n := 0; n < len(dtb); n++ {
		if _, err := ParseFDT(dtb[:n]); err == nil {
			t.Errorf("the first %d of %d bytes parsed without an error", n, len(dtb))
		}
	}
	for i := 0; i < len(dtb); i++ {
		b := slices.Clone(dtb)
		b[i] ^= 0xff
		ParseFDT(b) // must return
	}
	if _, err := ParseFDT([]byte(strings.Repeat("\x00", 64))); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("zeros: %v", err)
	}
}

func FuzzParseFDT(f *testing.F) {
	f.Add(buildFDT(tnode{props: [][2]string{{"compatible", "a,b\x00c"}}, kids: []tnode{{name: "n@1", props: [][2]string{{"status", "disabled"}}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		nodes, err := ParseFDT(b)
		if err == nil && len(nodes) == 0 {
			t.Fatal("no error and no root node")
		}
	})
}
